"""``api_core.queueing`` with the broker down: the write commits, the client
is answered, the failure is logged (docs/reliability.md) — for a request's
task and for the reminders' sends alike."""
import datetime
import logging

import pytest
from celery import shared_task
from django.db import transaction
from django.utils import timezone

from api_core.queueing import enqueue_on_commit, publish_on_commit
from cases.models import Agency
from config.celery import app
from reminders.models import Reminder
from reminders.services import reminders_sweep

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
@pytest.mark.django_db(transaction=True)
def test_a_broker_failure_after_commit_is_logged_not_raised(broker_down, caplog):
    with caplog.at_level(logging.WARNING, logger="api_core.queueing"), transaction.atomic():
        agency = Agency.objects.create(code="pe-nueva", name="Nueva", country="PE")
        enqueue_on_commit(nudge, agency.pk)
    assert Agency.objects.filter(code="pe-nueva").exists()  # committed, and nothing raised
    assert "Task tests.integration.nudge not queued (OperationalError)" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_nothing_is_queued_when_the_transaction_rolls_back(broker_down, caplog):
    with caplog.at_level(logging.WARNING, logger="api_core.queueing"), \
            pytest.raises(RuntimeError), transaction.atomic():
        agency = Agency.objects.create(code="pe-otra", name="Otra", country="PE")
        enqueue_on_commit(nudge, agency.pk)
        raise RuntimeError("the change fails")
    assert not Agency.objects.filter(code="pe-otra").exists()
    assert "not queued" not in caplog.text  # never even tried


@pytest.fixture
def overdue_handoff_with_rules(db):
    from django.apps import apps

    from reminders.defaults import create_default_rules
    from tests.factories import HandoffFactory

    create_default_rules(apps, kinds=["handoff_response_due"])
    return HandoffFactory(response_due=timezone.now() - datetime.timedelta(minutes=5))


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_reminders_written_while_the_broker_is_down_stay_for_the_sweep(overdue_handoff_with_rules, broker_down,
                                                                       caplog):
    """The reminders' sends go through the same helper: the sweep's rows are
    committed, one warning names the task (no address, no id), and the rows
    wait for the requeue of a later sweep."""
    with caplog.at_level(logging.WARNING, logger="api_core.queueing"):
        created = reminders_sweep().created  # the real publisher, against the dead broker
    assert created
    assert Reminder.objects.filter(pk__in=created, status="pending").count() == len(created)
    warnings = [r.getMessage() for r in caplog.records if r.name == "api_core.queueing"]
    assert warnings == ["Task reminders.send not queued (OperationalError); the periodic sweep will pick the work up"]
    emails = Reminder.objects.filter(pk__in=created).values_list("email", flat=True)
    assert all(email not in caplog.text for email in emails if email)
    later = timezone.now() + datetime.timedelta(hours=1)
    assert sorted(reminders_sweep(now=later, enqueue=lambda ids: None).requeued) == sorted(created)


@pytest.mark.django_db(transaction=True)
def test_a_failing_publisher_does_not_stop_the_other_callbacks_of_the_commit(caplog):
    ran = []

    def broken():
        raise OSError("connection refused")

    with caplog.at_level(logging.WARNING, logger="api_core.queueing"), transaction.atomic():
        publish_on_commit("tests.broken", broken)
        transaction.on_commit(lambda: ran.append("next"))
    assert ran == ["next"]
    assert "Task tests.broken not queued (OSError)" in caplog.text
