"""Events written by the services reach a partner's receiver through Redis and
a real Celery worker process, signed, each once."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import transaction

from config.celery import app as celery_app
from integrations.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from integrations.tasks import dispatch_webhooks
from outbox.services import emit
from tests.factories import CaseFactory
from tests.services import worker_database_url

from .conftest import verify_request

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(tmp_path):
    """A Celery worker subprocess on the test database and the Redis broker."""
    celery_app.control.purge()  # messages left by earlier runs would point at rows that are gone
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": os.environ["REDIS_URL"],
    }
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - the worker writes to it until stopped
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO", "--concurrency=2",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--hostname", f"e2e-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


def wait_until(condition, timeout=45.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
class TestEndToEnd:
    def test_events_reach_the_receiver_signed_and_once_through_a_real_worker(
            self, client_for, pe_caseworker, pe_agency, cl_agency, receiver, worker, tmp_path):
        response = client_for(pe_caseworker).post("/api/v1/webhooks/", {
            "url": receiver.url, "event_types": ["case.created", "handoff.created"],
        }, format="json")
        assert response.status_code == 201
        endpoint = WebhookEndpoint.objects.get(pk=response.json()["id"])
        secret = response.json()["secret"]

        receiver.answer(500)  # the first attempt fails and is retried
        with transaction.atomic():
            case = CaseFactory(owner_agency=pe_agency)
            created = emit("case.created", obj=case, case=case, agencies=[pe_agency])
            emit("case.updated", obj=case, case=case, agencies=[pe_agency])  # not subscribed
            handed = emit("handoff.created", obj=case, case=case, agencies=[pe_agency, cl_agency])
            emit("case.created", obj=case, case=case, agencies=[cl_agency])  # not visible to pe

        # The beat's job, sent through the broker; sent twice, as two beats would.
        dispatch_webhooks.delay()
        dispatch_webhooks.delay()
        assert wait_until(lambda: len(receiver.requests) == 2), (tmp_path / "worker.log").read_text()[-3000:]
        assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 2

        # The one that failed waits for its retry (about 5 s) and the next dispatch.
        def retried():
            dispatch_webhooks.delay()
            return WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 2

        assert wait_until(retried, timeout=60), (tmp_path / "worker.log").read_text()[-3000:]
        time.sleep(1)  # room for a duplicate to show up, if there were one

        ids = [request["headers"]["webhook-id"] for request in receiver.requests]
        assert set(ids) == {f"evt_{created.id}", f"evt_{handed.id}"} and len(ids) == 3  # one was retried
        assert all(verify_request(request, secret) for request in receiver.requests)
        attempts = sorted([a.response_status for a in delivery.attempts.all()]
                          for delivery in WebhookDelivery.objects.all())
        assert attempts == [[204], [500, 204]]
        endpoint.refresh_from_db()
        assert endpoint.active and endpoint.consecutive_failures == 0
