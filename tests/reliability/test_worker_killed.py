"""A Celery worker killed with SIGKILL in the middle of a webhook POST, with
the real worker process, the Redis broker, PostgreSQL and a receiver on
loopback. The contract is at least once with a stable ``webhook-id``: the
receiver may see the message twice and dedupes on it; Puente records one
success. (The reminder counterpart, killed mid-SMTP, is
``tests/integration/test_reminders_worker.py``.)"""
import datetime

import pytest
from django.utils import timezone

from integrations.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from integrations.services import claim_lease, webhooks_dispatch
from tests.integration.test_reminders_worker import Workers, broker  # noqa: F401  (fixture)
from tests.integrations.conftest import make_endpoint, make_event, receiver, webhook_settings  # noqa: F401
from tests.reminders.smtp import free_port, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def workers(tmp_path, broker):  # noqa: F811
    workers = Workers(tmp_path, smtp_port=free_port())  # no mail is sent here
    yield workers
    workers.stop_all()


def test_a_worker_killed_mid_post_leaves_one_recorded_success(
        pe_agency, make_endpoint, make_event, webhook_settings, receiver, workers):  # noqa: F811
    webhook_settings(WEBHOOK_RETRY_DELAYS=[1, 1, 1, 1, 1, 1, 1])
    endpoint = make_endpoint(pe_agency, url=receiver.url)
    event = make_event("case.created", pe_agency)
    receiver.delay = 60  # the first POST hangs until the worker is gone
    first = workers.start()
    assert webhooks_dispatch() == {"created": 1, "recovered": 0, "queued": 1}
    assert receiver.wait_for(1, timeout=30) == 1, workers.logs()
    delivery = WebhookDelivery.objects.get(endpoint=endpoint, event=event)
    assert delivery.status == DeliveryStatus.SENDING
    workers.kill(first)
    receiver.delay = 0

    # The claim stays until its lease has passed (CELERY_TASK_TIME_LIMIT + 60 s); let that time go by.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        claimed_at=timezone.now() - claim_lease() - datetime.timedelta(seconds=1))
    workers.start()
    assert webhooks_dispatch()["recovered"] == 1
    assert wait_for(lambda: webhooks_dispatch()["queued"], timeout=10)  # due again after the 1 s retry delay
    delivered = wait_for(lambda: WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SUCCEEDED)
                         .exists(), timeout=30)
    assert delivered, workers.logs()
    webhooks_dispatch()
    wait_for(lambda: len(receiver.requests) > 2, timeout=2)  # give a third copy the chance to show up

    ids = [request["headers"]["webhook-id"] for request in receiver.requests]
    assert ids == [f"evt_{event.pk}"] * 2  # at least once, under one id the receiver dedupes on
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count, delivery.claim) == (DeliveryStatus.SUCCEEDED, 2, None)
    attempts = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("attempted_at")
                    .values_list("succeeded", "error"))
    assert attempts == [(False, "no result: the worker stopped during the attempt"), (True, "")]
