"""The overdue sweep in batches: what one batch writes is what ``emit`` writes
for each handoff on its own, in the same feed order; its queries do not grow
with its size; a run stops at its time budget; two sweeps racing on
PostgreSQL announce each deadline exactly once."""
import datetime
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Handoff
from cases.services import handoffs as services
from cases.tasks.handoffs import emit_overdue_handoffs
from integrations.feed import event_json
from outbox.models import Event
from outbox.sequencer import sequence_events
from outbox.services import emit
from tests.factories import CaseFactory, HandoffFactory

HOUR = datetime.timedelta(hours=1)


def overdue_handoffs(pe_agency, receivers, count, *, start=None):
    """``count`` overdue transfers, each of its own case, deadlines an hour
    apart and out of creation order, to receivers in turn."""
    start = start or timezone.now() - datetime.timedelta(days=10)
    order = sorted(range(count), key=lambda i: (i * 7) % count)
    return [HandoffFactory(case=CaseFactory(owner_agency=pe_agency), to_agency=receivers[i % len(receivers)],
                           response_due=start + i * HOUR) for i in order]


def written(events):
    """What feed readers and webhooks can tell about events, in feed order."""
    sequence_events()
    rows = []
    for event in Event.objects.filter(pk__in=[e.pk for e in events]).order_by("position").prefetch_related(
            "agencies"):
        data = event_json(event)
        del data["id"], data["occurred_at"]
        rows.append((data, event.case_id, sorted(a.code for a in event.agencies.all())))
    return rows


@pytest.mark.django_db
class TestBatch:
    def test_it_writes_what_emit_writes_for_each_handoff_in_deadline_order(self, pe_agency, cl_agency, int_agency):
        handoffs = overdue_handoffs(pe_agency, [cl_agency, int_agency], 7)
        by_deadline = sorted(handoffs, key=lambda h: h.response_due)
        one_by_one = [emit("handoff.overdue", obj=h, case=h.case, agencies=[h.from_agency, h.to_agency])
                      for h in by_deadline]
        expected = written(one_by_one)
        Event.objects.all().delete()

        assert len(services.handoffs_emit_overdue(limit=100)) == 7

        batch = list(Event.objects.filter(type="handoff.overdue"))
        assert written(batch) == expected
        assert [e.object_id for e in sorted(batch, key=lambda e: e.pk)] == [str(h.pk) for h in by_deadline]
        assert expected[0][2] == ["cl-sermig", "pe-migraciones"]
        assert all(h.response_due == Handoff.objects.get(pk=h.pk).overdue_emitted_for for h in handoffs)

    def test_the_single_handoff_path_writes_the_same_event(self, pe_agency, cl_agency):
        single, other = overdue_handoffs(pe_agency, [cl_agency], 2)
        assert services.handoff_emit_overdue(handoff_id=single.pk) is True
        assert services.handoff_emit_overdue(handoff_id=single.pk) is False
        assert len(services.handoffs_emit_overdue(limit=10)) == 1  # only the other one is left
        events = Event.objects.filter(type="handoff.overdue").order_by("id")
        assert [e.object_id for e in events] == [str(single.pk), str(other.pk)]
        [first, second] = written(events)
        assert (first[0]["case_reference"], first[2]) == (single.case.reference, ["cl-sermig", "pe-migraciones"])
        assert (second[0]["case_reference"], second[2]) == (other.case.reference, ["cl-sermig", "pe-migraciones"])

    def test_it_takes_the_earliest_deadlines_first_and_leaves_the_rest(self, pe_agency, cl_agency):
        handoffs = overdue_handoffs(pe_agency, [cl_agency], 5)
        assert len(services.handoffs_emit_overdue(limit=2)) == 2
        earliest = sorted(handoffs, key=lambda h: h.response_due)[:2]
        assert set(Event.objects.values_list("object_id", flat=True)) == {str(h.pk) for h in earliest}
        assert Handoff.objects.overdue_not_yet_announced().count() == 3

    def test_a_batch_starts_after_the_previous_one_and_a_new_run_from_the_beginning(self, pe_agency, cl_agency):
        first, second, third, fourth = sorted(overdue_handoffs(pe_agency, [cl_agency], 4),
                                              key=lambda h: h.response_due)
        later = services.handoffs_emit_overdue(after=(second.response_due, second.pk))
        assert [h.pk for h in later] == [third.pk, fourth.pk]
        assert [h.pk for h in services.handoffs_emit_overdue()] == [first.pk, second.pk]

    def test_it_announces_a_moved_deadline_again_once_it_passes(self, pe_agency, cl_agency):
        moved, kept = overdue_handoffs(pe_agency, [cl_agency], 2)
        assert len(services.handoffs_emit_overdue()) == 2
        new_due = timezone.now() + HOUR
        Handoff.objects.filter(pk=moved.pk).update(response_due=new_due)
        assert len(services.handoffs_emit_overdue()) == 0
        assert len(services.handoffs_emit_overdue(now=new_due + HOUR)) == 1
        assert len(services.handoffs_emit_overdue(now=new_due + HOUR)) == 0
        counts = {h.pk: Event.objects.filter(object_id=str(h.pk)).count() for h in (moved, kept)}
        assert counts == {moved.pk: 2, kept.pk: 1}

    def test_its_queries_do_not_grow_with_the_batch(self, pe_agency, cl_agency, int_agency):
        overdue_handoffs(pe_agency, [cl_agency, int_agency], 33)
        with CaptureQueriesContext(connection) as small:
            assert len(services.handoffs_emit_overdue(limit=3)) == 3
        with CaptureQueriesContext(connection) as large:
            assert len(services.handoffs_emit_overdue(limit=30)) == 30
        assert len(small) == len(large) <= 6, [q["sql"] for q in large.captured_queries]
        with CaptureQueriesContext(connection) as empty:
            assert len(services.handoffs_emit_overdue(limit=30)) == 0
        assert len(empty) <= 3


@pytest.mark.django_db
class TestRun:
    def test_it_loops_batches_until_nothing_is_left(self, pe_agency, cl_agency):
        overdue_handoffs(pe_agency, [cl_agency], 9)
        assert emit_overdue_handoffs(batch=2) == 9
        assert emit_overdue_handoffs(batch=2) == 0
        assert Event.objects.filter(type="handoff.overdue").count() == 9

    def test_it_starts_no_batch_once_its_time_is_up(self, pe_agency, cl_agency):
        overdue_handoffs(pe_agency, [cl_agency], 5)
        assert emit_overdue_handoffs(batch=2, seconds=0) == 2  # one batch, then the budget is spent
        assert emit_overdue_handoffs(batch=2, seconds=0) == 2
        assert emit_overdue_handoffs(batch=2, seconds=0) == 1
        assert Event.objects.filter(type="handoff.overdue").count() == 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_announce_each_deadline_exactly_once(pe_agency, cl_agency, int_agency):
    handoffs = overdue_handoffs(pe_agency, [cl_agency, int_agency], 120)
    barrier = threading.Barrier(3)
    results = [None] * 3

    def sweep(index):
        try:
            barrier.wait()
            results[index] = emit_overdue_handoffs(batch=7)  # small batches: the runs interleave
        except Exception as exc:  # the result under test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(result, int) for result in results), results
    assert sum(results) == 120
    events = Event.objects.filter(type="handoff.overdue")
    assert sorted(events.values_list("object_id", flat=True)) == sorted(str(h.pk) for h in handoffs)
    assert Event.agencies.through.objects.filter(event__in=events).count() == 240
    assert emit_overdue_handoffs() == 0
