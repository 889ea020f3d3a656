"""Personal data leaves the case history with the person, and retention
scrubs every free text a case carries, handoffs included."""
import datetime
import json

import pytest
import time_machine
from django.utils import timezone

from cases.models import Handoff, HistoryEntry
from cases.roles import Role
from cases.services.casework import case_close, member_add, member_remove
from cases.services.handoffs import handoff_accept, handoff_complete, handoff_create, handoff_reschedule
from cases.services.retention import case_anonymise
from tests.factories import UserFactory, case_with_family

from .conftest import member

NOW = datetime.datetime(2032, 6, 1, 12, 0, tzinfo=datetime.UTC)


def history_text(client, case):
    response = client.get(f"/api/v1/cases/{case.pk}/history/?limit=200")
    assert response.status_code == 200, response.content
    return json.dumps(response.json(), ensure_ascii=False)


@pytest.fixture
def removed(family_case, pe_caseworker):
    """A spouse added through the service (so the history holds their details), then taken off the case."""
    body = member(relationship="spouse", given_names="Wilmer Antonio", family_names="Zambrano Quintero",
                  document_number="V-20.111.333", phone="+51 987 654 321", date_of_birth="1988-02-29")
    body = {**body, "date_of_birth": datetime.date(1988, 2, 29)}
    membership = member_add(actor=pe_caseworker, case_id=family_case.pk, **body)
    member_remove(actor=pe_caseworker, case_id=family_case.pk, person_id=membership.person_id)
    return membership.person


SECRETS = ("Wilmer", "Zambrano", "20.111.333", "987 654 321", "1988-02-29")


@pytest.mark.django_db
class TestARemovedMembersHistory:
    def test_the_owner_no_longer_reads_their_details(self, client_for, pe_caseworker, family_case, removed):
        text = history_text(client_for(pe_caseworker), family_case)
        for secret in SECRETS:
            assert secret not in text
        entry = HistoryEntry.objects.get(action="person.created", object_id=str(removed.pk))
        assert entry.changes["given_names"] == [None, None]
        assert entry.changes["sex"] == [None, "female"]  # what identifies nobody stays
        assert HistoryEntry.objects.filter(action="member.removed", object_type="casemember").exists()

    def test_the_next_owner_does_not_receive_them(self, client_for, pe_caseworker, cl_caseworker, family_case,
                                                  removed):
        handoff = handoff_create(actor=pe_caseworker, case_id=family_case.pk, to_agency="cl-sermig",
                                 kind="transfer", reason="Traslado.", legal_basis="vital_interest",
                                 legal_basis_note="Menores en riesgo.")
        handoff_accept(actor=cl_caseworker, handoff_id=handoff.pk)
        text = history_text(client_for(cl_caseworker), family_case)
        for secret in SECRETS:
            assert secret not in text

    def test_their_record_stays_on_their_other_cases(self, client_for, pe_caseworker, pe_agency, family_case):
        other = case_with_family(pe_agency, children=0)
        person = other.members.get()
        member_add(actor=pe_caseworker, case_id=family_case.pk, relationship="other", person=person.pk)
        member_remove(actor=pe_caseworker, case_id=family_case.pk, person_id=person.pk)
        person.refresh_from_db()
        assert person.given_names and person.anonymised_at is None
        response = client_for(pe_caseworker).get(f"/api/v1/cases/{other.pk}/members/")
        assert person.given_names in response.content.decode()


@pytest.mark.django_db
class TestRescheduleNote:
    def test_it_is_stored_and_read_as_old_and_new(self, client_for, pe_caseworker, cl_agency, family_case):
        handoff = handoff_create(actor=pe_caseworker, case_id=family_case.pk, to_agency="cl-sermig", kind="transfer",
                                 reason="Traslado.", legal_basis="vital_interest", legal_basis_note="Riesgo.")
        handoff_reschedule(actor=pe_caseworker, handoff_id=handoff.pk,
                           response_due=timezone.now() + datetime.timedelta(days=9), note="Más plazo.")
        entry = HistoryEntry.objects.get(action="handoff.rescheduled")
        assert entry.changes["note"] == [None, "Más plazo."]
        rows = client_for(pe_caseworker).get(f"/api/v1/cases/{family_case.pk}/history/").json()["results"]
        (read,) = [row for row in rows if row["action"] == "handoff.rescheduled"]
        assert read["changes"]["note"] == [None, "Más plazo."]


@pytest.mark.django_db
class TestRetentionScrubsFreeText:
    def test_handoff_texts_and_notes_in_history_go(self, pe_caseworker, int_agency, family_case):
        int_caseworker = UserFactory(username="acnur.cw", agency=int_agency, roles=[Role.CASEWORKER])
        closed_on = NOW - datetime.timedelta(days=5 * 366)
        with time_machine.travel(closed_on, tick=False):
            referral = handoff_create(
                actor=pe_caseworker, case_id=family_case.pk, to_agency=int_agency.code, kind="referral",
                reason="Yusmary necesita albergue.", services_requested="Albergue para Yusmary.",
                legal_basis="vital_interest", legal_basis_note="Yusmary embarazada.")
            handoff_reschedule(actor=pe_caseworker, handoff_id=referral.pk,
                               response_due=closed_on + datetime.timedelta(days=9), note="Yusmary llega tarde.")
            handoff_accept(actor=int_caseworker, handoff_id=referral.pk, note="Yusmary recibida.")
            handoff_complete(actor=int_caseworker, handoff_id=referral.pk, note="Yusmary alojada.")
            case_close(actor=pe_caseworker, case_id=family_case.pk, reason="resolved")
        assert case_anonymise(case_id=family_case.pk, now=NOW)

        handoff = Handoff.objects.get(pk=referral.pk)
        texts = (handoff.reason, handoff.services_requested, handoff.legal_basis_note, handoff.response_note,
                 handoff.completion_note)
        assert not any("Yusmary" in text for text in texts), texts
        assert handoff.status == "completed"  # the facts stay
        history = json.dumps(list(HistoryEntry.objects.filter(case=family_case).values_list("changes", flat=True)))
        assert "Yusmary" not in history
        assert HistoryEntry.objects.get(action="handoff.rescheduled").changes["note"] == [None, None]
