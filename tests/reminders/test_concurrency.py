"""Races on PostgreSQL with real threads: two sweeps at once, two deliveries of one send task."""
import datetime
import threading

import pytest
import time_machine
from django.db import connection

from reminders.models import Reminder, ReminderStatus
from reminders.services import Outcome, reminder_send, reminders_sweep

from .conftest import DEADLINE

S = datetime.timedelta(seconds=1)
H = datetime.timedelta(hours=1)


def in_threads(count, work):
    """Run ``work(index)`` in ``count`` threads released together; returns their results."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def run(index):
        try:
            barrier.wait(timeout=10)
            results[index] = work(index)
        except Exception as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results


@pytest.mark.django_db(transaction=True)
class TestTwoSweepsAtOnce:
    def test_each_reminder_is_written_and_queued_once(self, rules, make_handoff, secretaries, settings):
        settings.REMINDERS = {**settings.REMINDERS, "BATCH_SIZE": 5}
        for index in range(30):
            make_handoff(response_due=DEADLINE - index * S)  # "at the deadline": one row each
        for index in range(10):
            make_handoff(response_due=DEADLINE - 24 * H - index * S)  # escalation: one row per secretary
        queued = [[], []]
        with time_machine.travel(DEADLINE, tick=False):
            results = in_threads(2, lambda index: reminders_sweep(enqueue=queued[index].extend))
        expected = 30 + 10 * len(secretaries)
        assert Reminder.objects.count() == expected
        created = [set(result.created) for result in results]
        assert created[0].isdisjoint(created[1])
        assert created[0] | created[1] == set(Reminder.objects.values_list("pk", flat=True))
        assert sorted(queued[0] + queued[1]) == sorted(created[0] | created[1])

    def test_meeting_and_action_item_reminders_are_written_once_too(self, rules, make_meeting, make_action_item,
                                                                    members, secretaries, settings):
        settings.REMINDERS = {**settings.REMINDERS, "BATCH_SIZE": 4}
        for index in range(10):
            make_meeting(starts_at=DEADLINE + 48 * H - index * S)  # two members each
            make_action_item(due_at=DEADLINE - 72 * H - index * S)  # escalation: one row per secretary
        with time_machine.travel(DEADLINE, tick=False):
            results = in_threads(3, lambda index: reminders_sweep(enqueue=lambda ids: None))
        expected = 10 * len(members) + 10 * len(secretaries)
        assert sum(len(result.created) for result in results) == expected
        assert Reminder.objects.count() == expected
        assert set(Reminder.objects.values_list("deadline_kind", flat=True)) == {"meeting_start", "action_item_due"}

    def test_four_sweeps_at_once_write_the_same_rows_as_one(self, rules, make_handoff, settings):
        settings.REMINDERS = {**settings.REMINDERS, "BATCH_SIZE": 3}
        for index in range(20):
            make_handoff(response_due=DEADLINE - index * S)
        with time_machine.travel(DEADLINE, tick=False):
            results = in_threads(4, lambda index: reminders_sweep(enqueue=lambda ids: None))
        assert sum(len(result.created) for result in results) == 20
        assert Reminder.objects.count() == 20
        assert Reminder.objects.values("target_id").distinct().count() == 20


@pytest.mark.django_db(transaction=True)
class TestTwoSendsForOneRow:
    def test_it_is_sent_once(self, rules, make_handoff, smtp):
        make_handoff()
        with time_machine.travel(DEADLINE, tick=False):
            reminder_id, = reminders_sweep(enqueue=lambda ids: None).created
        smtp.delay = 0.5  # the first sender is still talking to the server when the second arrives
        outcomes = in_threads(2, lambda index: reminder_send(reminder_id=reminder_id).outcome)
        assert sorted(outcomes) == sorted([Outcome.SENT, Outcome.NOT_CLAIMED])
        assert len(smtp.messages) == 1 and smtp.attempts == 1
        reminder = Reminder.objects.get()
        assert (reminder.status, reminder.attempts) == (ReminderStatus.SENT, 1)
