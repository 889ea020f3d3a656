"""Authority comes from the case as it is now: a handoff acts for its sending
agency only while that agency owns the case, and accepting a transfer ends
every other pending handoff of the case."""
import datetime

import pytest
from django.utils import timezone

from cases.models import Case, Handoff, HistoryEntry
from cases.roles import Role
from cases.selectors import cases_visible_to
from outbox.models import Event
from tests.factories import UserFactory


@pytest.fixture
def int_caseworker(int_agency):
    return UserFactory(username="acnur.caseworker", agency=int_agency, roles=[Role.CASEWORKER])


def _due(days=5):
    return (timezone.now() + datetime.timedelta(days=days)).isoformat()


@pytest.fixture
def referral_then_transfer(make_handoff, int_agency):
    """pe-migraciones refers the case to ACNUR, then transfers it to cl-sermig."""
    referral = make_handoff(kind="referral", to_agency=int_agency, services_requested="Albergue.")
    transfer = make_handoff(kind="transfer")
    return referral, transfer


def _accept_transfer(client_for, cl_caseworker, transfer):
    response = client_for(cl_caseworker).post(f"/api/v1/handoffs/{transfer.pk}/accept/", {})
    assert response.status_code == 200, response.content


@pytest.mark.django_db
class TestAcceptingATransferEndsTheOtherPendingHandoffs:
    def test_it_withdraws_the_pending_referral_with_history_and_event(self, client_for, cl_caseworker,
                                                                      referral_then_transfer, int_agency):
        """The sender's other pending handoff is withdrawn in the same transaction."""
        referral, transfer = referral_then_transfer
        _accept_transfer(client_for, cl_caseworker, transfer)
        referral.refresh_from_db()
        assert referral.status == "withdrawn" and referral.withdrawn_at is not None
        entry = HistoryEntry.objects.get(action="handoff.withdrawn", object_id=str(referral.pk))
        assert entry.changes["status"] == ["pending", "withdrawn"]
        assert entry.changes["withdrawn_because"] == [None, "case_transferred"]
        event = Event.objects.get(type="handoff.withdrawn", object_id=str(referral.pk))
        assert set(event.agencies.values_list("code", flat=True)) == {"pe-migraciones", int_agency.code}

    def test_the_recipient_of_the_withdrawn_referral_can_no_longer_see_the_case(
            self, client_for, cl_caseworker, int_caseworker, referral_then_transfer, pe_case):
        """The limited view the pending referral gave ends with it."""
        _referral, transfer = referral_then_transfer
        assert cases_visible_to(int_caseworker).filter(pk=pe_case.pk).exists()
        _accept_transfer(client_for, cl_caseworker, transfer)
        assert client_for(int_caseworker).get(f"/api/v1/cases/{pe_case.pk}/").status_code == 404

    def test_the_recipient_can_no_longer_accept_and_become_a_collaborator(
            self, client_for, cl_caseworker, int_caseworker, referral_then_transfer, pe_case):
        """The attack: the referral's recipient joining the new owner's case."""
        referral, transfer = referral_then_transfer
        _accept_transfer(client_for, cl_caseworker, transfer)
        response = client_for(int_caseworker).post(f"/api/v1/handoffs/{referral.pk}/accept/", {})
        assert response.status_code == 409
        referral.refresh_from_db()
        assert referral.status == "withdrawn"
        assert not cases_visible_to(int_caseworker).filter(pk=pe_case.pk).exists()


@pytest.mark.django_db
class TestAHandoffWhoseSenderNoLongerOwnsTheCase:
    """A pending handoff left behind by a former owner (stored before the rule
    above, or written around it) cannot move."""

    @pytest.fixture
    def stale_referral(self, make_handoff, int_agency, pe_case, cl_agency):
        referral = make_handoff(kind="referral", to_agency=int_agency, services_requested="Albergue.")
        Case.objects.filter(pk=pe_case.pk).update(owner_agency=cl_agency)
        return referral

    @pytest.mark.parametrize("actor,action,body", [
        ("int", "accept", {}),
        ("int", "reject", {"reason": "no_capacity"}),
        ("pe", "withdraw", {}),
        ("pe", "reschedule", {"response_due": None}),
    ])
    def test_no_transition_succeeds(self, client_for, pe_caseworker, int_caseworker, stale_referral, counts,
                                    actor, action, body):
        """409 ``handoff_sender_not_owner``, nothing written."""
        if "response_due" in body:
            body = {"response_due": _due()}
        user = {"int": int_caseworker, "pe": pe_caseworker}[actor]
        written = counts()
        before = Handoff.objects.filter(pk=stale_referral.pk).values().get()
        response = client_for(user).post(f"/api/v1/handoffs/{stale_referral.pk}/{action}/", body)
        assert response.status_code == 409, response.content
        assert response.json()["code"] == "handoff_sender_not_owner"
        assert Handoff.objects.filter(pk=stale_referral.pk).values().get() == before
        written.assert_nothing_written()


@pytest.mark.django_db
class TestACollaborationWhenTheOwnerChanges:
    """An accepted referral outlives a transfer: the new owner sees it and may end it."""

    @pytest.fixture
    def collaboration(self, make_handoff, int_agency, pe_case, cl_caseworker, client_for):
        referral = make_handoff(kind="referral", status="accepted", to_agency=int_agency,
                                services_requested="Albergue.")
        transfer = make_handoff(kind="transfer")
        _accept_transfer(client_for, cl_caseworker, transfer)
        return referral

    def test_the_collaborator_keeps_its_access(self, collaboration, int_caseworker, pe_case):
        assert cases_visible_to(int_caseworker).get(pk=pe_case.pk).access == "collaborator"

    def test_the_new_owner_sees_it_in_the_chain(self, client_for, collaboration, cl_caseworker, pe_case):
        response = client_for(cl_caseworker).get(f"/api/v1/cases/{pe_case.pk}/handoffs/")
        assert response.status_code == 200
        assert str(collaboration.pk) in {row["id"] for row in response.json()["results"]}

    def test_the_new_owner_ends_it(self, client_for, collaboration, cl_caseworker, int_caseworker, pe_case, counts):
        written = counts()
        response = client_for(cl_caseworker).post(f"/api/v1/handoffs/{collaboration.pk}/end/",
                                                  {"note": "Seguimos nosotros."})
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "withdrawn"
        collaboration.refresh_from_db()
        assert collaboration.status == "withdrawn" and collaboration.withdrawn_at is not None
        assert written.history == ["handoff.withdrawn"] and written.events == ["handoff.withdrawn"]
        assert client_for(int_caseworker).get(f"/api/v1/cases/{pe_case.pk}/").status_code == 404

    def test_the_former_owner_cannot_end_it(self, client_for, collaboration, pe_caseworker, counts):
        written = counts()
        response = client_for(pe_caseworker).post(f"/api/v1/handoffs/{collaboration.pk}/end/", {})
        assert response.status_code == 409
        collaboration.refresh_from_db()
        assert collaboration.status == "accepted"
        written.assert_nothing_written()

    def test_withdrawing_it_is_not_ending_it(self, client_for, collaboration, cl_caseworker, counts):
        """A late "withdraw" of the request never ends a collaboration accepted meanwhile."""
        written = counts()
        response = client_for(cl_caseworker).post(f"/api/v1/handoffs/{collaboration.pk}/withdraw/", {})
        assert response.status_code == 409 and response.json()["code"] == "invalid_transition"
        collaboration.refresh_from_db()
        assert collaboration.status == "accepted"
        written.assert_nothing_written()

    def test_the_collaborator_still_completes_it(self, client_for, collaboration, int_caseworker):
        response = client_for(int_caseworker).post(f"/api/v1/handoffs/{collaboration.pk}/complete/", {})
        assert response.status_code == 200, response.content
        collaboration.refresh_from_db()
        assert collaboration.status == "completed"
