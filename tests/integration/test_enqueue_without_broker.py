"""``api_core.queueing.enqueue_on_commit`` with the broker down: the write
commits, the client is answered, the failure is logged (docs/reliability.md)."""
import logging

import pytest
from celery import shared_task
from django.db import transaction

from api_core.queueing import enqueue_on_commit
from cases.models import Agency
from config.celery import app

DEAD_BROKER = "redis://127.0.0.1:1/0"


@shared_task(name="tests.integration.nudge")
def nudge(agency_id):
    return agency_id


@pytest.fixture
def broker_down():
    """The Celery app's broker on a closed loopback port, with fresh connection pools."""
    saved = app.conf.broker_url, app.conf.broker_transport_options
    app.conf.broker_url, app.conf.broker_transport_options = DEAD_BROKER, {}
    app._pool = None  # pools are per broker URL, created on first use
    app.amqp._producer_pool = None
    yield
    app.conf.broker_url, app.conf.broker_transport_options = saved
    app._pool = None
    app.amqp._producer_pool = None


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_broker_failure_after_commit_is_logged_not_raised(broker_down, caplog):
    with caplog.at_level(logging.WARNING, logger="api_core.queueing"):
        with transaction.atomic():
            agency = Agency.objects.create(code="pe-nueva", name="Nueva", country="PE")
            enqueue_on_commit(nudge, agency.pk)
    assert Agency.objects.filter(code="pe-nueva").exists()  # committed, and nothing raised
    assert "Task tests.integration.nudge not queued (OperationalError)" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_nothing_is_queued_when_the_transaction_rolls_back(broker_down, caplog):
    with caplog.at_level(logging.WARNING, logger="api_core.queueing"):
        with pytest.raises(RuntimeError), transaction.atomic():
            agency = Agency.objects.create(code="pe-otra", name="Otra", country="PE")
            enqueue_on_commit(nudge, agency.pk)
            raise RuntimeError("the change fails")
    assert not Agency.objects.filter(code="pe-otra").exists()
    assert "not queued" not in caplog.text  # never even tried
