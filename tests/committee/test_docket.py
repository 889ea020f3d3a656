import datetime

import pytest
from django.utils import timezone

from cases.models import Handoff
from committee.models import AgendaItem
from tests.factories import CaseFactory, HandoffFactory

from .factories import ActionItemFactory, AgendaItemFactory, MeetingFactory


def _docket(client, meeting):
    response = client.get(f"/api/v1/meetings/{meeting.pk}/docket/")
    assert response.status_code == 200
    return response.json()


def _keys(proposals):
    return [(p["source"], p["id"]) for p in proposals]


def _overdue_handoff(**fields):
    handoff = HandoffFactory(**fields)
    Handoff.objects.filter(pk=handoff.pk).update(response_due=timezone.now() - datetime.timedelta(hours=5))
    handoff.refresh_from_db()
    return handoff


def _rejected_transfer(case=None, **fields):
    handoff = HandoffFactory(case=case or CaseFactory(), status="rejected", rejection_reason="no_capacity",
                             responded_at=timezone.now() - datetime.timedelta(days=2), **fields)
    return handoff


@pytest.mark.django_db
class TestDocket:
    def test_it_proposes_a_pending_handoff_past_its_deadline(self, client_for, secretariat, meeting, pe_agency,
                                                             cl_agency):
        handoff = _overdue_handoff(case=CaseFactory(owner_agency=pe_agency), to_agency=cl_agency)
        HandoffFactory()  # pending, on time
        proposals = _docket(client_for(secretariat), meeting)
        assert _keys(proposals) == [("overdue_handoff", str(handoff.pk))]
        assert proposals[0]["case"] == {"id": str(handoff.case_id), "reference": handoff.case.reference}
        assert proposals[0]["handoff"] == str(handoff.pk)
        assert proposals[0]["kind"] == "case_review"

    def test_it_proposes_an_open_case_whose_latest_transfer_was_rejected(self, client_for, secretariat, meeting):
        rejected = _rejected_transfer()
        retried = _rejected_transfer()
        HandoffFactory(case=retried.case)  # a new transfer is pending: not blocked any more
        closed = _rejected_transfer(case=CaseFactory(status="closed", closure_reason="resolved"))
        proposals = _docket(client_for(secretariat), meeting)
        assert _keys(proposals) == [("rejected_transfer", str(rejected.case_id))]
        assert proposals[0]["handoff"] == str(rejected.pk)
        assert str(closed.case_id) not in str(proposals)

    def test_a_rejection_already_reviewed_by_the_committee_is_not_proposed_again(self, client_for, secretariat,
                                                                               meeting):
        rejected = _rejected_transfer()
        earlier = MeetingFactory(committee=meeting.committee, status="held",
                                 starts_at=timezone.now() - datetime.timedelta(days=1))
        AgendaItemFactory(meeting=earlier, case=rejected.case)
        assert _docket(client_for(secretariat), meeting) == []

    def test_it_proposes_overdue_action_items_of_the_committee(self, client_for, secretariat, meeting, pe_agency,
                                                               other_committee):
        now = timezone.now()
        overdue = ActionItemFactory(owner_agency=pe_agency, due_at=now - datetime.timedelta(days=1),
                                    meeting=MeetingFactory(committee=meeting.committee, status="held"))
        loose = ActionItemFactory(owner_agency=pe_agency, due_at=now - datetime.timedelta(days=3))
        ActionItemFactory(owner_agency=pe_agency, due_at=now - datetime.timedelta(days=1), status="cancelled")
        ActionItemFactory(owner_agency=pe_agency, due_at=now + datetime.timedelta(days=1))
        ActionItemFactory(owner_agency=pe_agency, due_at=now - datetime.timedelta(days=1),
                          meeting=MeetingFactory(committee=other_committee))
        proposals = _docket(client_for(secretariat), meeting)
        assert _keys(proposals) == [("overdue_action_item", str(loose.pk)), ("overdue_action_item", str(overdue.pk))]
        assert proposals[0]["action_item"] == str(loose.pk)

    def test_it_proposes_what_the_previous_meeting_deferred_and_nobody_carried(self, client_for, secretariat,
                                                                              meeting):
        committee = meeting.committee
        older = MeetingFactory(committee=committee, status="held",
                               starts_at=meeting.starts_at - datetime.timedelta(days=60))
        AgendaItemFactory(meeting=older, status="deferred", title="Muy antiguo")
        previous = MeetingFactory(committee=committee, status="held",
                                  starts_at=meeting.starts_at - datetime.timedelta(days=30))
        deferred = AgendaItemFactory(meeting=previous, status="deferred", title="Albergues", planned_minutes=15)
        carried = AgendaItemFactory(meeting=previous, status="deferred", title="Ya llevado")
        AgendaItemFactory(meeting=MeetingFactory(committee=committee), deferred_from=carried)
        AgendaItemFactory(meeting=previous, status="discussed")
        AgendaItemFactory(meeting=previous, status="pending")  # held: pending means not deferred
        proposals = _docket(client_for(secretariat), meeting)
        assert _keys(proposals) == [("deferred_item", str(deferred.pk))]
        assert proposals[0]["title"] == "Albergues"

    def test_a_cancelled_previous_meeting_hands_on_its_pending_items(self, client_for, secretariat, meeting):
        previous = MeetingFactory(committee=meeting.committee, status="cancelled",
                                  starts_at=meeting.starts_at - datetime.timedelta(days=7))
        pending = AgendaItemFactory(meeting=previous, status="pending")
        assert _keys(_docket(client_for(secretariat), meeting)) == [("deferred_item", str(pending.pk))]

    def test_nothing_already_on_the_agenda_is_proposed(self, client_for, secretariat, meeting, pe_agency):
        handoff = _overdue_handoff()
        by_case = _overdue_handoff()
        rejected = _rejected_transfer()
        action = ActionItemFactory(owner_agency=pe_agency, due_at=timezone.now() - datetime.timedelta(days=1))
        previous = MeetingFactory(committee=meeting.committee, status="held",
                                  starts_at=meeting.starts_at - datetime.timedelta(days=30))
        deferred = AgendaItemFactory(meeting=previous, status="deferred")
        AgendaItemFactory(meeting=meeting, handoff=handoff, case=handoff.case)
        AgendaItemFactory(meeting=meeting, case=by_case.case)
        AgendaItemFactory(meeting=meeting, case=rejected.case)
        AgendaItemFactory(meeting=meeting, action_item=action)
        AgendaItemFactory(meeting=meeting, deferred_from=deferred)
        assert _docket(client_for(secretariat), meeting) == []

    def test_a_case_is_proposed_once(self, client_for, secretariat, meeting, int_agency):
        rejected = _rejected_transfer()
        referral = _overdue_handoff(case=rejected.case, kind="referral", to_agency=int_agency)
        assert _keys(_docket(client_for(secretariat), meeting)) == [("overdue_handoff", str(referral.pk))]


@pytest.mark.django_db
class TestDocketAdd:
    def test_it_adds_the_chosen_proposals_linked_at_the_end(self, client_for, secretariat, meeting, pe_agency):
        AgendaItemFactory(meeting=meeting, title="Apertura")
        handoff = _overdue_handoff()
        action = ActionItemFactory(owner_agency=pe_agency, due_at=timezone.now() - datetime.timedelta(days=1),
                                   title="Informe de albergues")
        response = client_for(secretariat).post(f"/api/v1/meetings/{meeting.pk}/docket/", {"items": [
            {"source": "overdue_action_item", "id": str(action.pk)},
            {"source": "overdue_handoff", "id": str(handoff.pk)}]}, format="json")
        assert response.status_code == 201, response.json()
        items = list(meeting.agenda_items.order_by("position"))
        assert [i.title for i in items][0] == "Apertura"
        assert (items[1].action_item_id, items[1].action_item_label, items[1].position) == (
            action.pk, "Informe de albergues", 2)
        assert (items[2].handoff_id, items[2].case_id, items[2].kind) == (handoff.pk, handoff.case_id, "case_review")
        assert _docket(client_for(secretariat), meeting) == []

    def test_it_accepts_only_what_the_docket_proposes(self, client_for, secretariat, meeting):
        on_time = HandoffFactory()
        response = client_for(secretariat).post(f"/api/v1/meetings/{meeting.pk}/docket/", {"items": [
            {"source": "overdue_handoff", "id": str(on_time.pk)}]}, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "not_on_docket"
        assert not AgendaItem.objects.exists()

    def test_one_bad_choice_adds_nothing(self, client_for, secretariat, meeting):
        handoff = _overdue_handoff()
        response = client_for(secretariat).post(f"/api/v1/meetings/{meeting.pk}/docket/", {"items": [
            {"source": "overdue_handoff", "id": str(handoff.pk)},
            {"source": "overdue_handoff", "id": str(handoff.pk)}]}, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "duplicate_ids"
        assert not AgendaItem.objects.exists()

    def test_a_deferred_item_keeps_its_notes_and_origin(self, client_for, secretariat, meeting):
        previous = MeetingFactory(committee=meeting.committee, status="held",
                                  starts_at=meeting.starts_at - datetime.timedelta(days=30))
        deferred = AgendaItemFactory(meeting=previous, status="deferred", notes="Traer cifras", planned_minutes=10)
        response = client_for(secretariat).post(f"/api/v1/meetings/{meeting.pk}/docket/", {"items": [
            {"source": "deferred_item", "id": str(deferred.pk)}]}, format="json")
        assert response.status_code == 201
        item = meeting.agenda_items.get()
        assert (item.deferred_from_id, item.notes, item.planned_minutes) == (deferred.pk, "Traer cifras", 10)
