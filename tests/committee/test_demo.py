import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from cases.demo.accounts import seed_accounts
from cases.models import Handoff
from committee.demo import HELD_TITLE, NEXT_TITLE, seed_committee
from committee.models import ActionItem, AgendaItem, Attendance, Decision, Meeting
from tests.factories import CaseFactory, HandoffFactory


def _counts():
    return [model.objects.count() for model in (Meeting, AgendaItem, Decision, ActionItem, Attendance)]


@pytest.mark.django_db
class TestSeedCommittee:
    def test_it_builds_a_held_and_a_scheduled_meeting_and_changes_nothing_the_second_time(self):
        call_command("seed_demo", stdout=None)
        counts = _counts()
        call_command("seed_demo", stdout=None)
        assert _counts() == counts

        held = Meeting.objects.get(title=HELD_TITLE)
        assert (held.status, held.minutes_status, held.place.startswith("Gobierno Regional de Tacna")) == (
            "held", "approved", True)
        assert held.committee.memberships.filter(user__username="delegado.pe", delegation="PE").exists()
        assert held.committee.memberships.filter(user__username="delegada.cl", delegation="CL").exists()
        assert held.attendances.filter(status="present").count() == 3

        upcoming = Meeting.objects.get(title=NEXT_TITLE)
        assert (upcoming.status, upcoming.time_zone, upcoming.mode) == ("scheduled", "America/Santiago", "hybrid")
        items = list(upcoming.agenda_items.order_by("position"))
        assert [i.position for i in items] == list(range(1, len(items) + 1))
        # From the docket: the overdue action item and the item deferred at the first meeting.
        assert any(i.action_item_id and i.action_item.is_overdue for i in items)
        assert any(i.deferred_from_id for i in items)
        titles = [i.title for i in items]
        assert any(t.startswith("Tarea vencida: ") for t in titles), titles  # written in Spanish
        # With the handoff demo loaded, its overdue handoffs are on the docket too.
        assert any(i.handoff_id and i.handoff.is_overdue for i in items)

    def test_it_uses_the_cases_and_handoffs_it_is_given(self):
        accounts = seed_accounts()
        case = CaseFactory(owner_agency=accounts.agencies["pe-migraciones"])
        handoff = HandoffFactory(case=CaseFactory(owner_agency=accounts.agencies["pe-migraciones"]),
                                 to_agency=accounts.agencies["cl-sermig"])
        Handoff.objects.filter(pk=handoff.pk).update(response_due=timezone.now() - datetime.timedelta(hours=3))
        seed_committee(accounts, {"familia": case}, {"vencido": handoff})

        held = Meeting.objects.get(title=HELD_TITLE)
        assert held.agenda_items.filter(case=case, kind="case_review").exists()
        assert ActionItem.objects.filter(case=case, owner_agency__code="pe-migraciones").exists()
        upcoming = Meeting.objects.get(title=NEXT_TITLE)
        assert upcoming.agenda_items.filter(handoff=handoff, case=handoff.case).exists()
