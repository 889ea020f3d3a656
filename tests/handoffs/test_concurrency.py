"""Races on real PostgreSQL, with real threads (each its own connection, as
two gunicorn workers would have): exactly one answer wins, ownership moves
once, the pending-transfer constraint holds, the sweep emits once."""
import datetime
import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from api_core.errors import Conflict
from cases.models import Case, Handoff, HistoryEntry
from cases.roles import Role
from cases.services import handoffs as services
from cases.tasks.handoffs import emit_overdue_handoffs
from outbox.models import Event
from tests.factories import CaseFactory, ConsentFactory, HandoffFactory, UserFactory, case_with_family

pytestmark = [pytest.mark.django_db(transaction=True)]


def run_together(*calls):
    """Start every call at the same moment, each in its own thread and
    connection; return what each returned or raised, in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # the result under test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.fixture
def cl_colleague(cl_agency):
    return UserFactory(username="cl.colleague", agency=cl_agency, roles=[Role.CASEWORKER])


class TestAnswerRace:
    @pytest.mark.parametrize("kind", ["transfer", "referral"])
    def test_it_lets_exactly_one_of_accept_reject_withdraw_win(self, pe_caseworker, cl_caseworker, cl_colleague,
                                                               pe_agency, cl_agency, kind):
        winners = set()
        for _ in range(6):
            case = case_with_family(pe_agency, children=1)
            handoff = HandoffFactory(case=case, to_agency=cl_agency, kind=kind,
                                     legal_basis="cooperation_agreement", legal_basis_note="Acuerdo.")
            results = run_together(
                lambda h=handoff: services.handoff_accept(actor=cl_caseworker, handoff_id=h.pk),
                lambda h=handoff: services.handoff_reject(actor=cl_colleague, handoff_id=h.pk, reason="no_capacity"),
                lambda h=handoff: services.handoff_withdraw(actor=pe_caseworker, handoff_id=h.pk),
            )
            won = [result for result in results if isinstance(result, Handoff)]
            lost = [result for result in results if isinstance(result, Conflict)]
            assert len(won) == 1 and len(lost) == 2, results
            assert {error.code for error in lost} == {"invalid_transition"}
            handoff.refresh_from_db()
            case.refresh_from_db()
            assert handoff.status == won[0].status
            winners.add(handoff.status)
            answers = Event.objects.filter(object_id=str(handoff.pk)).exclude(type="handoff.created")
            assert answers.count() == 1
            moved = kind == "transfer" and handoff.status == "accepted"
            assert case.owner_agency == (cl_agency if moved else pe_agency)
            assert case.version == (2 if moved else 1)
            assert HistoryEntry.objects.filter(case=case, action="case.owner_changed").count() == (1 if moved else 0)
        assert winners  # at least one round played out; which one wins is up to the scheduler

    def test_it_moves_ownership_once_when_two_colleagues_accept(self, cl_caseworker, cl_colleague, pe_agency,
                                                                cl_agency):
        case = case_with_family(pe_agency, children=0)
        ConsentFactory(case=case)
        handoff = HandoffFactory(case=case, to_agency=cl_agency)
        results = run_together(
            lambda: services.handoff_accept(actor=cl_caseworker, handoff_id=handoff.pk),
            lambda: services.handoff_accept(actor=cl_colleague, handoff_id=handoff.pk),
        )
        assert sorted(type(result).__name__ for result in results) == ["Conflict", "Handoff"]
        case.refresh_from_db()
        assert case.owner_agency == cl_agency and case.version == 2
        assert HistoryEntry.objects.filter(case=case, action="case.owner_changed").count() == 1
        assert Event.objects.filter(type="handoff.accepted").count() == 1


class TestPendingTransferRace:
    def test_it_creates_one_of_two_concurrent_transfers(self, pe_caseworker, pe_agency, cl_agency, int_agency):
        case = case_with_family(pe_agency, children=1)
        ConsentFactory(case=case)

        def create(to_agency):
            return lambda: services.handoff_create(actor=pe_caseworker, case_id=case.pk, to_agency=to_agency,
                                                   kind="transfer", reason="Traslado.", legal_basis="consent")

        results = run_together(create("cl-sermig"), create("int-acnur-tacna"))
        assert sorted(type(result).__name__ for result in results) == ["Conflict", "Handoff"]
        assert [r.code for r in results if isinstance(r, Conflict)] == ["pending_transfer_exists"]
        assert Handoff.objects.filter(case=case, kind="transfer", status="pending").count() == 1
        assert Event.objects.filter(type="handoff.created").count() == 1
        assert HistoryEntry.objects.filter(action="handoff.created").count() == 1

    def test_it_answers_409_when_the_database_constraint_fires(self, pe_caseworker, pe_agency, cl_agency,
                                                               int_agency):
        """Another writer's pending transfer, not yet committed, is invisible
        to the service's check; the unique index makes the insert wait for
        it and then fail, and the service turns that into the same 409."""
        case = CaseFactory(owner_agency=pe_agency)
        ConsentFactory(case=case)
        inserted, release = threading.Event(), threading.Event()

        def other_writer():
            try:
                with transaction.atomic():
                    HandoffFactory(case=case, to_agency=int_agency)
                    inserted.set()
                    release.wait(timeout=20)
            finally:
                connection.close()

        def service_call():
            inserted.wait(timeout=20)
            try:
                return services.handoff_create(actor=pe_caseworker, case_id=case.pk, to_agency="cl-sermig",
                                               kind="transfer", reason="Traslado.", legal_basis="consent")
            except Exception as exc:
                return exc
            finally:
                connection.close()

        result = {}
        writer = threading.Thread(target=other_writer)
        caller = threading.Thread(target=lambda: result.setdefault("value", service_call()))
        writer.start()
        caller.start()
        waited = _wait_for_a_blocked_insert()
        release.set()
        writer.join(timeout=30)
        caller.join(timeout=30)

        assert waited, "the service's insert never waited on the other transaction"
        assert isinstance(result["value"], Conflict) and result["value"].code == "pending_transfer_exists"
        assert list(Handoff.objects.filter(case=case).values_list("to_agency__code", flat=True)) == [
            "int-acnur-tacna"]
        assert not Event.objects.filter(type="handoff.created").exists()
        assert not HistoryEntry.objects.filter(action="handoff.created").exists()


def _wait_for_a_blocked_insert(timeout=10.0) -> bool:
    """True once another session waits on a lock while inserting a handoff."""
    deadline = time.monotonic() + timeout
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE 'INSERT INTO \"cases_handoff\"%%'"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.02)
    return False


class TestOverdueSweepRace:
    def test_two_beats_emit_each_overdue_event_once(self, pe_agency, cl_agency):
        past = timezone.now() - datetime.timedelta(hours=2)
        handoffs = [HandoffFactory(case=CaseFactory(owner_agency=pe_agency), to_agency=cl_agency,
                                   response_due=past) for _ in range(25)]
        results = run_together(emit_overdue_handoffs, emit_overdue_handoffs, emit_overdue_handoffs)
        assert all(isinstance(result, int) for result in results), results
        assert sum(results) == 25
        assert Event.objects.filter(type="handoff.overdue").count() == 25
        assert set(Event.objects.filter(type="handoff.overdue").values_list("object_id", flat=True)) == {
            str(handoff.pk) for handoff in handoffs}
        assert emit_overdue_handoffs() == 0
        assert Case.objects.count() == 25
