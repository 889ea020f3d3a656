"""Sending one reminder: claim, re-check, send through a real SMTP server, record."""
import datetime

import psycopg
import pytest
import time_machine
from django.db import connection
from django.test import TestCase

from reminders.models import Reminder, ReminderStatus
from reminders.services import (
    Outcome,
    reminder_rules_set_active,
    reminders_retry,
    reminders_sweep,
    retry_delay,
)
from tests.services import worker_database_url

from .conftest import DEADLINE, send

H = datetime.timedelta(hours=1)


def due_reminder(moment=DEADLINE) -> Reminder:
    with time_machine.travel(moment, tick=False):
        result = reminders_sweep(enqueue=lambda ids: None)
    return Reminder.objects.get(pk__in=result.created)


@pytest.mark.django_db
class TestSend:
    def test_it_sends_once_and_records_sent_at(self, rules, make_handoff, smtp):
        make_handoff()
        reminder = due_reminder()
        assert send(reminder).outcome == Outcome.SENT
        assert (reminder.status, reminder.attempts, reminder.sent_at) == (ReminderStatus.SENT, 1, DEADLINE)
        assert reminder.claimed_until is None and reminder.last_error == ""
        assert [m["To"] for m in smtp.messages] == ["frontera@pdi.example"]
        assert smtp.messages[0]["Message-ID"] == f"<reminder-{reminder.pk}@puente.example.org>"
        assert smtp.messages[0]["Auto-Submitted"] == "auto-generated"

    def test_a_second_delivery_of_the_task_sends_nothing(self, rules, make_handoff, smtp):
        make_handoff()
        reminder = due_reminder()
        send(reminder)
        assert send(reminder).outcome == Outcome.NOT_CLAIMED
        assert (reminder.status, reminder.attempts) == (ReminderStatus.SENT, 1)
        assert len(smtp.messages) == 1

    def test_a_row_claimed_by_a_live_worker_is_not_taken(self, rules, make_handoff, smtp):
        make_handoff()
        reminder = due_reminder()
        Reminder.objects.filter(pk=reminder.pk).update(status=ReminderStatus.SENDING,
                                                       claimed_until=DEADLINE + datetime.timedelta(minutes=1))
        assert send(reminder).outcome == Outcome.NOT_CLAIMED
        assert reminder.status == ReminderStatus.SENDING and smtp.attempts == 0

    def test_a_row_whose_claim_ran_out_is_taken_and_sent(self, rules, make_handoff, smtp):
        make_handoff()
        reminder = due_reminder()
        Reminder.objects.filter(pk=reminder.pk).update(status=ReminderStatus.SENDING, attempts=1,
                                                       claimed_until=DEADLINE + datetime.timedelta(minutes=3))
        assert send(reminder, DEADLINE + datetime.timedelta(minutes=4)).outcome == Outcome.SENT
        assert (reminder.status, reminder.attempts) == (ReminderStatus.SENT, 2)
        assert len(smtp.messages) == 1

    @pytest.mark.parametrize("status", ["accepted", "rejected", "withdrawn"])
    def test_it_skips_a_handoff_resolved_after_the_row_was_written(self, rules, make_handoff, smtp, status):
        handoff = make_handoff()
        reminder = due_reminder()
        handoff.status = status
        handoff.save()
        assert send(reminder).outcome == Outcome.SKIPPED
        assert (reminder.status, reminder.last_error, reminder.sent_at) == (
            ReminderStatus.SKIPPED, "target no longer open", None)
        assert smtp.attempts == 0

    def test_it_skips_a_reminder_for_a_deadline_that_moved(self, rules, make_handoff, smtp):
        handoff = make_handoff()
        reminder = due_reminder(DEADLINE - 24 * H)
        handoff.response_due = DEADLINE + 24 * H
        handoff.save()
        assert send(reminder, DEADLINE - 24 * H).outcome == Outcome.SKIPPED
        assert (reminder.status, reminder.last_error) == (ReminderStatus.SKIPPED, "deadline moved")
        assert smtp.attempts == 0

    def test_it_skips_what_a_paused_rule_had_written(self, rules, make_handoff, smtp):
        make_handoff()
        reminder = due_reminder()
        reminder_rules_set_active(rule_ids=[reminder.rule_id], active=False)
        assert send(reminder).outcome == Outcome.SKIPPED
        assert (reminder.status, reminder.last_error) == (ReminderStatus.SKIPPED, "rule paused")
        assert smtp.attempts == 0

    def test_an_agency_without_an_address_fails_without_retrying(self, rules, make_handoff, santiago_agency, smtp):
        santiago_agency.contact_email = ""
        santiago_agency.save()
        make_handoff()
        reminder = due_reminder()
        assert send(reminder).outcome == Outcome.FAILED
        assert (reminder.status, reminder.last_error) == (ReminderStatus.FAILED, "recipient has no email address")
        assert smtp.attempts == 0


@pytest.mark.django_db
class TestSmtpFailures:
    def test_a_refused_attempt_is_retried_after_a_back_off_then_sent(self, rules, make_handoff, smtp):
        make_handoff()
        reminder = due_reminder()
        smtp.refuse = 1
        result = send(reminder)
        assert (result.outcome, result.retry_in) == (Outcome.RETRY, 30)
        assert (reminder.status, reminder.attempts) == (ReminderStatus.PENDING, 1)
        assert reminder.next_attempt_at == DEADLINE + datetime.timedelta(seconds=30)
        assert "451" in reminder.last_error and smtp.messages == []
        assert send(reminder, DEADLINE + datetime.timedelta(seconds=30)).outcome == Outcome.SENT
        assert (reminder.status, reminder.attempts, reminder.last_error) == (ReminderStatus.SENT, 2, "")
        assert len(smtp.messages) == 1

    def test_it_gives_up_after_the_last_attempt(self, rules, make_handoff, smtp, settings):
        settings.REMINDERS = {**settings.REMINDERS, "MAX_ATTEMPTS": 3}
        make_handoff()
        reminder = due_reminder()
        smtp.refuse = 10
        outcomes = [send(reminder).outcome for _ in range(4)]
        assert outcomes == [Outcome.RETRY, Outcome.RETRY, Outcome.FAILED, Outcome.NOT_CLAIMED]
        assert (reminder.status, reminder.attempts) == (ReminderStatus.FAILED, 3)
        assert smtp.attempts == 3 and smtp.messages == []

    def test_a_permanent_refusal_is_not_retried(self, rules, make_handoff, smtp):
        make_handoff()
        reminder = due_reminder()

        async def refuse(server, session, envelope):
            return "554 5.7.1 Rejected"

        smtp.handle_DATA = refuse
        assert send(reminder).outcome == Outcome.FAILED
        assert reminder.status == ReminderStatus.FAILED and "554" in reminder.last_error

    def test_an_unreachable_server_is_retried(self, rules, make_handoff, settings):
        from .smtp import free_port

        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens there
        make_handoff()
        reminder = due_reminder()
        assert send(reminder).outcome == Outcome.RETRY
        assert reminder.status == ReminderStatus.PENDING and "Connection" in reminder.last_error

    def test_the_back_off_doubles_and_stays_within_a_few_minutes(self, settings):
        settings.REMINDERS = {**settings.REMINDERS, "RETRY_BASE_SECONDS": 30, "RETRY_MAX_SECONDS": 300}
        assert [retry_delay(n) for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]


@pytest.mark.django_db
class TestRetryAction:
    def test_it_queues_failed_reminders_again_with_fresh_attempts(self, rules, make_handoff, smtp):
        make_handoff()
        reminder = due_reminder()
        Reminder.objects.filter(pk=reminder.pk).update(status=ReminderStatus.FAILED, attempts=6,
                                                       last_error="SMTPDataError: 451")
        queued = []
        with TestCase.captureOnCommitCallbacks(execute=True):
            assert reminders_retry(reminder_ids=[reminder.pk], enqueue=queued.extend) == [reminder.pk]
        assert queued == [reminder.pk]
        reminder.refresh_from_db()
        assert (reminder.status, reminder.attempts) == (ReminderStatus.PENDING, 0)
        assert send(reminder).outcome == Outcome.SENT
        assert len(smtp.messages) == 1

    @pytest.mark.parametrize("status", ["pending", "sending", "sent", "skipped"])
    def test_it_leaves_reminders_that_did_not_fail_alone(self, rules, make_handoff, status):
        make_handoff()
        reminder = due_reminder()
        Reminder.objects.filter(pk=reminder.pk).update(status=status, attempts=1)
        queued = []
        with TestCase.captureOnCommitCallbacks(execute=True):
            assert reminders_retry(reminder_ids=[reminder.pk], enqueue=queued.extend) == []
        assert queued == []
        reminder.refresh_from_db()
        assert (reminder.status, reminder.attempts) == (status, 1)


@pytest.mark.django_db(transaction=True)
def test_a_database_connection_lost_after_the_message_went_out_is_retried_not_resent(rules, make_handoff, smtp):
    """The window in which a reminder can go twice: accepted by SMTP, not yet recorded as sent."""
    make_handoff()
    reminder = due_reminder()
    connection.ensure_connection()
    backend = connection.connection.info.backend_pid

    def database_blinks():
        with psycopg.connect(worker_database_url(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [backend])

    smtp.on_accept = database_blinks
    assert send(reminder).outcome == Outcome.SENT
    assert connection.connection.info.backend_pid != backend  # the record went through a new connection
    assert (reminder.status, reminder.attempts, reminder.claimed_until) == (ReminderStatus.SENT, 1, None)
    assert len(smtp.messages) == 1
