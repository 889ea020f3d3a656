"""The sweep: which reminders it writes, when, and how often (once)."""
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reminders.models import DeadlineKind, Reminder, ReminderStatus
from reminders.services import reminder_rules_set_active
from reminders.sources import SOURCES, target_key
from tests.committee.factories import MeetingFactory, MembershipFactory
from tests.factories import AgencyFactory

from .conftest import DEADLINE, sweep_at

H = datetime.timedelta(hours=1)
S = datetime.timedelta(seconds=1)
HANDOFF = "handoff_response_due"


@pytest.mark.django_db
class TestDefaultHandoffRules:
    def test_it_reminds_the_receiving_agency_24_hours_before_and_not_a_second_earlier(
            self, rules, make_handoff, santiago_agency):
        handoff = make_handoff()
        early, queued_early = sweep_at(DEADLINE - 24 * H - S)
        on_time, queued = sweep_at(DEADLINE - 24 * H)
        assert early.created == [] and queued_early == []
        reminder = Reminder.objects.get()
        assert on_time.created == [reminder.id] and queued == [reminder.id]
        assert reminder.rule == rules[(HANDOFF, "before")]
        assert (reminder.target_id, reminder.deadline, reminder.due_at) == (
            handoff.id.hex, DEADLINE, DEADLINE - 24 * H)
        assert (reminder.recipient_agency, reminder.recipient_key, reminder.email) == (
            santiago_agency, f"agency:{santiago_agency.pk}", "frontera@pdi.example")
        assert reminder.target_label == handoff.case.reference
        assert (reminder.status, reminder.attempts) == (ReminderStatus.PENDING, 0)

    def test_it_reminds_the_receiving_agency_at_the_deadline_and_only_then(self, rules, make_handoff):
        make_handoff()
        sweep_at(DEADLINE - 24 * H)
        for moment in (DEADLINE - 23 * H, DEADLINE - S):
            assert sweep_at(moment)[0].created == []
        result, _ = sweep_at(DEADLINE)
        assert len(result.created) == 1
        assert Reminder.objects.get(pk=result.created[0]).rule == rules[(HANDOFF, "at")]
        assert sweep_at(DEADLINE + H)[0].created == []

    def test_it_escalates_to_every_secretariat_user_24_hours_after(self, rules, make_handoff, secretaries):
        make_handoff()
        sweep_at(DEADLINE)
        assert sweep_at(DEADLINE + 24 * H - S)[0].created == []
        result, _ = sweep_at(DEADLINE + 24 * H)
        escalations = Reminder.objects.filter(pk__in=result.created)
        assert {r.recipient_user for r in escalations} == set(secretaries)
        assert {r.rule for r in escalations} == {rules[(HANDOFF, "after")]}
        assert {r.email for r in escalations} == {u.email for u in secretaries}
        assert sweep_at(DEADLINE + 25 * H)[0].created == []
        assert Reminder.objects.count() == 1 + 2

    def test_a_second_sweep_at_the_same_moment_writes_and_queues_nothing(self, rules, make_handoff):
        make_handoff()
        first, _ = sweep_at(DEADLINE)
        with CaptureQueriesContext(connection) as queries:
            second, queued = sweep_at(DEADLINE)
        assert len(first.created) == 1
        assert second.created == [] and queued == []
        # Already-written reminders are filtered out by the select, not by the constraint.
        assert not [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
        assert Reminder.objects.count() == 1

    def test_a_handoff_created_inside_the_window_gets_the_reminder_it_is_late_for(self, rules, make_handoff):
        """Created 20 h before its deadline: the "24 h before" reminder goes out at once."""
        make_handoff()
        result, _ = sweep_at(DEADLINE - 20 * H)
        assert [Reminder.objects.get(pk=pk).rule for pk in result.created] == [rules[(HANDOFF, "before")]]

    def test_a_moment_missed_by_more_than_the_lateness_limit_is_not_written(self, rules, make_handoff, settings):
        """Beat was down: a "24 h before" reminder is not sent 13 h late."""
        settings.REMINDERS = {**settings.REMINDERS, "MAX_LATENESS": 12 * H}
        make_handoff()
        assert sweep_at(DEADLINE - 11 * H)[0].created == []
        assert not Reminder.objects.exists()

    def test_a_before_reminder_is_never_written_once_the_deadline_has_passed(self, rules, make_handoff, settings):
        settings.REMINDERS = {**settings.REMINDERS, "MAX_LATENESS": 48 * H}
        make_handoff()
        result, _ = sweep_at(DEADLINE + S)
        assert [Reminder.objects.get(pk=pk).rule for pk in result.created] == [rules[(HANDOFF, "at")]]


@pytest.mark.django_db
class TestTargetsThatChange:
    def test_a_moved_deadline_gets_fresh_reminders_for_the_new_value(self, rules, make_handoff):
        handoff = make_handoff()
        sweep_at(DEADLINE - 24 * H)
        new_deadline = DEADLINE + 48 * H
        handoff.response_due = new_deadline
        handoff.save()
        assert sweep_at(DEADLINE)[0].created == []  # nothing at the old deadline
        result, _ = sweep_at(new_deadline - 24 * H)
        fresh = Reminder.objects.get(pk__in=result.created)
        assert (fresh.deadline, fresh.rule) == (new_deadline, rules[(HANDOFF, "before")])
        assert Reminder.objects.filter(target_id=handoff.id.hex).count() == 2

    @pytest.mark.parametrize("status", ["accepted", "rejected", "withdrawn", "completed"])
    def test_a_handoff_no_longer_pending_gets_none(self, rules, make_handoff, secretaries, status):
        make_handoff(status=status)
        for moment in (DEADLINE - 24 * H, DEADLINE, DEADLINE + 24 * H):
            assert sweep_at(moment)[0].created == []
        assert not Reminder.objects.exists()

    def test_a_paused_rule_writes_nothing_and_resumes_where_it_was(self, rules, make_handoff):
        make_handoff()
        reminder_rules_set_active(rule_ids=[rules[(HANDOFF, "at")].pk], active=False)
        assert sweep_at(DEADLINE)[0].created == []
        reminder_rules_set_active(rule_ids=[rules[(HANDOFF, "at")].pk], active=True)
        assert len(sweep_at(DEADLINE + H)[0].created) == 1

    def test_an_inactive_receiving_agency_is_not_written_to(self, rules, make_handoff):
        make_handoff(to_agency=AgencyFactory(code="cl-closed", country="CL", active=False))
        assert sweep_at(DEADLINE)[0].created == []

    def test_every_deadline_kind_has_a_source(self, rules):
        assert set(SOURCES) == {kind for kind, _ in rules} == set(DeadlineKind.values)


@pytest.mark.django_db
class TestSweepCost:
    def test_its_query_count_does_not_grow_with_the_number_of_deadlines(self, rules, make_handoff, secretaries,
                                                                        lima_agency, settings):
        settings.REMINDERS = {**settings.REMINDERS, "BATCH_SIZE": 50}
        make_handoff()
        with CaptureQueriesContext(connection) as one:
            sweep_at(DEADLINE)
        Reminder.objects.all().delete()
        for index in range(30):
            make_handoff(to_agency=AgencyFactory(code=f"cl-{index}", country="CL"))
        with CaptureQueriesContext(connection) as many:
            result, _ = sweep_at(DEADLINE)
        assert len(result.created) == 31
        assert len(many) == len(one)

    def test_meetings_and_action_items_cost_the_same_for_one_or_many(self, rules, members, make_meeting,
                                                                      make_action_item, settings):
        """Members are loaded once a batch, whatever the number of meetings or committees."""
        settings.REMINDERS = {**settings.REMINDERS, "BATCH_SIZE": 50}
        make_meeting()
        make_action_item(assignee=members[0])
        with CaptureQueriesContext(connection) as one:
            first, _ = sweep_at(DEADLINE - 48 * H)
        assert len(first.created) == 2 + 1
        Reminder.objects.all().delete()
        for index in range(20):
            other = MembershipFactory(user=members[index % 2]).committee
            MeetingFactory(committee=other, starts_at=DEADLINE + index * S)
            make_action_item(due_at=DEADLINE + index * S, assignee=members[index % 2])
        with CaptureQueriesContext(connection) as many:
            result, _ = sweep_at(DEADLINE - 48 * H + 20 * S)
        assert len(result.created) == (2 + 20) + (1 + 20)
        assert len(many) == len(one)

    def test_it_works_in_batches(self, rules, make_handoff, settings):
        settings.REMINDERS = {**settings.REMINDERS, "BATCH_SIZE": 4}
        handoffs = [make_handoff(response_due=DEADLINE - index * S) for index in range(10)]
        result, queued = sweep_at(DEADLINE)
        assert sorted(queued) == sorted(result.created)
        assert {r.target_id for r in Reminder.objects.all()} == {target_key(h.pk) for h in handoffs}

    def test_without_ids_it_counts_what_it_wrote_and_queued_again(self, rules, make_handoff, settings):
        """What the periodic task runs: nothing kept that grows with the number of deadlines."""
        settings.REMINDERS = {**settings.REMINDERS, "BATCH_SIZE": 4, "REQUEUE_AFTER": datetime.timedelta(minutes=10)}
        for index in range(10):
            make_handoff(response_due=DEADLINE - index * S)
        result, queued = sweep_at(DEADLINE, keep_ids=False)
        assert (result.written, result.queued_again, result.created, result.requeued) == (10, 0, [], [])
        assert sorted(queued) == sorted(Reminder.objects.values_list("id", flat=True))
        again, queued_again = sweep_at(DEADLINE + 11 * 60 * S, keep_ids=False)
        assert (again.written, again.queued_again, again.requeued) == (0, 10, [])
        assert sorted(queued_again) == sorted(queued)


@pytest.mark.django_db
class TestRequeue:
    def test_it_queues_again_a_pending_reminder_whose_message_was_lost(self, rules, make_handoff, settings):
        settings.REMINDERS = {**settings.REMINDERS, "REQUEUE_AFTER": datetime.timedelta(minutes=10)}
        make_handoff()
        first, _ = sweep_at(DEADLINE)
        assert sweep_at(DEADLINE + 9 * 60 * S)[0].requeued == []
        result, queued = sweep_at(DEADLINE + 11 * 60 * S)
        assert result.requeued == first.created and queued == first.created
        assert Reminder.objects.get().next_attempt_at == DEADLINE + 11 * 60 * S
        assert sweep_at(DEADLINE + 12 * 60 * S)[0].requeued == []  # not every minute

    def test_it_queues_again_a_reminder_claimed_by_a_worker_that_died(self, rules, make_handoff, settings):
        settings.REMINDERS = {**settings.REMINDERS, "REQUEUE_AFTER": datetime.timedelta(minutes=10)}
        make_handoff()
        sweep_at(DEADLINE)
        Reminder.objects.update(status=ReminderStatus.SENDING, claimed_until=DEADLINE + 20 * 60 * S)
        assert sweep_at(DEADLINE + 15 * 60 * S)[0].requeued == []  # still claimed
        assert len(sweep_at(DEADLINE + 21 * 60 * S)[0].requeued) == 1

    @pytest.mark.parametrize("status", ["sent", "failed", "skipped"])
    def test_it_leaves_finished_reminders_alone(self, rules, make_handoff, status):
        make_handoff()
        sweep_at(DEADLINE)
        Reminder.objects.update(status=status)
        assert sweep_at(DEADLINE + 24 * H)[0].requeued == []


@pytest.mark.django_db
class TestWhatIsAlreadyWritten:
    """The sweep asks the database for the targets still lacking their
    reminder: those already reminded cost no query and no Python."""

    def test_a_sweep_that_finds_everything_written_costs_the_same_for_one_target_or_many(
            self, rules, make_handoff, settings):
        settings.REMINDERS = {**settings.REMINDERS, "BATCH_SIZE": 4}
        make_handoff()
        sweep_at(DEADLINE)
        with CaptureQueriesContext(connection) as one:
            assert sweep_at(DEADLINE + S)[0].written == 0
        for index in range(30):  # several pages' worth
            make_handoff(response_due=DEADLINE - index * S)
        assert sweep_at(DEADLINE + S)[0].written == 30
        with CaptureQueriesContext(connection) as many:
            again, queued = sweep_at(DEADLINE + 2 * S, keep_ids=False)
        assert (again.written, queued) == (0, [])
        assert len(many) == len(one)

    def test_targets_with_one_deadline_are_paged_by_id_and_only_the_missing_are_written(
            self, rules, make_handoff, settings):
        settings.REMINDERS = {**settings.REMINDERS, "BATCH_SIZE": 4}
        handoffs = [make_handoff() for _ in range(10)]  # one deadline for all: pages split by id
        first, _ = sweep_at(DEADLINE)
        assert len(first.created) == 10
        lost = sorted(target_key(h.pk) for h in handoffs)[1::3]
        Reminder.objects.filter(target_id__in=lost).delete()
        again, queued = sweep_at(DEADLINE + S)
        assert sorted(Reminder.objects.get(pk=pk).target_id for pk in again.created) == lost
        assert sorted(queued) == sorted(again.created)
        assert Reminder.objects.count() == 10

    def test_a_deadline_moved_into_the_past_after_a_sweep_gets_its_reminder(self, rules, make_handoff):
        handoff = make_handoff()
        assert len(sweep_at(DEADLINE)[0].created) == 1
        moved = DEADLINE + 30 * 60 * S
        handoff.response_due = moved
        handoff.save()
        result, _ = sweep_at(DEADLINE + H)
        fresh = Reminder.objects.get(pk__in=result.created)
        assert (fresh.rule, fresh.target_id, fresh.deadline) == (rules[(HANDOFF, "at")], handoff.id.hex, moved)

    def test_a_target_appearing_inside_the_window_after_a_sweep_gets_its_reminder(self, rules, make_handoff):
        """Created (or reopened) with a moment already passed: the next sweep
        writes it, whatever the sweeps before it saw."""
        make_handoff()
        sweep_at(DEADLINE + H)
        late = make_handoff(response_due=DEADLINE + 30 * 60 * S)
        result, _ = sweep_at(DEADLINE + H + S)
        assert [Reminder.objects.get(pk=pk).target_id for pk in result.created] == [late.id.hex]

    def test_a_reminder_of_the_rule_for_an_earlier_deadline_does_not_count(self, rules, make_handoff):
        handoff = make_handoff()
        sweep_at(DEADLINE - 24 * H)
        # As if the "at" rule had fired for a value the deadline had a second earlier.
        Reminder.objects.update(rule=rules[(HANDOFF, "at")], deadline=DEADLINE - S)
        result, _ = sweep_at(DEADLINE)
        assert [(r.rule, r.deadline) for r in Reminder.objects.filter(pk__in=result.created)] == [
            (rules[(HANDOFF, "at")], DEADLINE)]
        assert Reminder.objects.filter(target_id=handoff.id.hex).count() == 2
