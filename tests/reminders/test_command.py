"""``manage.py send_due_reminders``: one sweep, sent in this process, counts printed."""
import datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from cases.models import Handoff
from reminders.models import Reminder, ReminderStatus

from .conftest import DEADLINE

MINUTE = datetime.timedelta(minutes=1)


def run_at(moment) -> str:
    out = StringIO()
    with time_machine.travel(moment, tick=False):
        call_command("send_due_reminders", stdout=out)
    return out.getvalue().strip()


@pytest.mark.django_db
class TestSendDueReminders:
    def test_it_sweeps_sends_and_prints_the_counts(self, rules, make_handoff, smtp):
        make_handoff()
        make_handoff()
        assert run_at(DEADLINE) == "created 2, sent 2, skipped 0, failed 0, to retry 0"
        assert run_at(DEADLINE + MINUTE) == "created 0, sent 0, skipped 0, failed 0, to retry 0"
        assert len(smtp.messages) == 2
        assert set(Reminder.objects.values_list("status", flat=True)) == {ReminderStatus.SENT}

    def test_a_later_run_sends_what_had_to_be_retried(self, rules, make_handoff, smtp):
        make_handoff()
        make_handoff()
        smtp.refuse = 1
        assert run_at(DEADLINE) == "created 2, sent 1, skipped 0, failed 0, to retry 1"
        assert run_at(DEADLINE + MINUTE) == "created 0, sent 1, skipped 0, failed 0, to retry 0"
        assert len(smtp.messages) == 2

    def test_it_counts_what_it_skipped(self, rules, make_handoff, smtp):
        make_handoff()
        make_handoff()
        smtp.refuse = 1
        run_at(DEADLINE)
        waiting = Reminder.objects.get(status=ReminderStatus.PENDING)
        Handoff.objects.filter(pk=waiting.target_id).update(status="accepted")
        assert run_at(DEADLINE + MINUTE) == "created 0, sent 0, skipped 1, failed 0, to retry 0"
        assert len(smtp.messages) == 1
