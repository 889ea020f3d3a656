"""The demo handoffs: every state in both directions, made by the services,
and the same after a second run."""
import io

import pytest
from django.core.management import call_command

from cases.demo.accounts import seed_accounts
from cases.demo.handoffs import OWN_CASES, SCENARIOS, seed_handoffs
from cases.models import Case, Handoff, HistoryEntry
from outbox.models import Event
from tests.factories import case_with_family


def direction(handoff):
    return f"{handoff.from_agency.country}->{handoff.to_agency.country}"


@pytest.mark.django_db
class TestSeedHandoffs:
    def test_it_covers_every_state_in_both_directions(self):
        call_command("seed_demo", stdout=io.StringIO())
        handoffs = list(Handoff.objects.select_related("from_agency", "to_agency"))
        assert len(handoffs) == len(SCENARIOS)
        seen = {(h.status if not h.is_overdue else "overdue", direction(h)) for h in handoffs}
        for state in ("pending", "accepted", "rejected", "overdue"):
            assert {(state, "PE->CL"), (state, "CL->PE")} <= seen, state
        assert {h.status for h in handoffs} == {"pending", "accepted", "rejected", "withdrawn", "completed"}
        # Made through the services: each step in the history and the outbox.
        assert HistoryEntry.objects.filter(action="handoff.created").count() == len(SCENARIOS)
        assert Event.objects.filter(type="handoff.accepted").count() == Handoff.objects.filter(
            status__in=["accepted", "completed"]).count()
        # Peru → Chile → Peru: the accepted transfer's case is being handed back.
        handed_back = Handoff.objects.get(reason__startswith="La solicitud de residencia en Chile fue desistida")
        assert handed_back.case.owner_agency.code == "cl-sermig"
        assert list(handed_back.case.handoffs.order_by("created_at").values_list("to_agency__code", flat=True)) == [
            "cl-sermig", "pe-migraciones"]

    def test_it_changes_nothing_when_run_again(self):
        call_command("seed_demo", stdout=io.StringIO())
        before = (Handoff.objects.count(), Case.objects.count(), HistoryEntry.objects.count(),
                  Event.objects.count(), sorted(Handoff.objects.values_list("id", "status", "response_due")))
        call_command("seed_demo", stdout=io.StringIO())
        after = (Handoff.objects.count(), Case.objects.count(), HistoryEntry.objects.count(),
                 Event.objects.count(), sorted(Handoff.objects.values_list("id", "status", "response_due")))
        assert after == before

    def test_it_uses_the_casework_demo_cases_when_there_are_some(self):
        accounts = seed_accounts()
        theirs = {"familia": case_with_family(accounts.agencies["pe-migraciones"], children=2)}
        seeded = seed_handoffs(accounts, theirs)
        assert seeded["pe_cl_transfer_accepted"].case == theirs["familia"]
        assert not Case.objects.filter(summary=OWN_CASES["pe_cl_transfer_accepted"][1]).exists()
        # Every other scenario registered a case of its own (the hand-back reuses one), with a real reference.
        own = Case.objects.exclude(pk=theirs["familia"].pk)
        assert own.count() == len(SCENARIOS) - 2
        assert all(reference.startswith("BC-") for reference in own.values_list("reference", flat=True))
