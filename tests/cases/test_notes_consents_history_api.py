"""Notes, consents and the history of a case."""
import datetime

import pytest
from django.utils import timezone

from cases.models import Case, Consent, HistoryEntry, Note
from outbox.models import Event
from tests.factories import ConsentFactory, NoteFactory, case_with_family

from .conftest import member


@pytest.mark.django_db
class TestCaseNotes:
    def test_the_owner_writes_a_note_for_its_own_agency(self, client_for, pe_caseworker, family_case):
        response = client_for(pe_caseworker).post(f"/api/v1/cases/{family_case.pk}/notes/",
                                                  {"body": "La madre pide atención médica."}, format="json")
        assert response.status_code == 201
        body = response.json()
        assert (body["visibility"], body["author"], body["agency"]) == ("agency", "pe.caseworker", "pe-migraciones")
        note = Note.objects.get()
        assert (note.case, note.author, note.body) == (family_case, pe_caseworker, "La madre pide atención médica.")
        entry = HistoryEntry.objects.get()
        assert (entry.action, entry.object_id, entry.changes) == ("note.added", str(note.pk),
                                                                  {"visibility": [None, "agency"]})
        assert "atención" not in str(Event.objects.get().__dict__)

    def test_a_collaborator_writes_notes(self, client_for, collaborator, family_case):
        response = client_for(collaborator).post(f"/api/v1/cases/{family_case.pk}/notes/",
                                                 {"body": "Cupo disponible en albergue de Arica.",
                                                  "visibility": "shared"}, format="json")
        assert response.status_code == 201
        assert Note.objects.get().agency.code == "cl-sermig"

    def test_a_collaborator_does_not_read_the_owners_agency_notes(self, client_for, collaborator, pe_caseworker,
                                                                  family_case, secretariat):
        private = NoteFactory(case=family_case, visibility="agency", body="Solo para Migraciones.")
        shared = NoteFactory(case=family_case, visibility="shared", body="Para todos.")
        own = NoteFactory(case=family_case, agency=collaborator.agency, visibility="agency", body="Interna SERMIG.")

        def bodies(user):
            results = client_for(user).get(f"/api/v1/cases/{family_case.pk}/notes/").json()["results"]
            return {row["body"] for row in results}

        assert bodies(collaborator) == {shared.body, own.body}
        assert bodies(pe_caseworker) == {private.body, shared.body}
        assert bodies(secretariat) == {private.body, shared.body, own.body}

    def test_a_blank_note_is_refused(self, client_for, pe_caseworker, family_case):
        response = client_for(pe_caseworker).post(f"/api/v1/cases/{family_case.pk}/notes/", {"body": " "},
                                                  format="json")
        assert response.status_code == 400 and response.json()["errors"][0]["field"] == "body"
        assert not Note.objects.exists()

    def test_a_closed_case_takes_no_notes(self, client_for, pe_caseworker, family_case):
        Case.objects.filter(pk=family_case.pk).update(status="closed", closure_reason="resolved")
        response = client_for(pe_caseworker).post(f"/api/v1/cases/{family_case.pk}/notes/", {"body": "Tarde."},
                                                  format="json")
        assert response.status_code == 409 and response.json()["code"] == "case_closed"
        assert not Note.objects.exists()


@pytest.mark.django_db
class TestCaseConsents:
    def test_the_owner_records_a_consent_given_by_a_member(self, client_for, pe_caseworker, family_case):
        head = family_case.memberships.get(relationship="head").person
        given_at = timezone.now() - datetime.timedelta(hours=1)
        response = client_for(pe_caseworker).post(f"/api/v1/cases/{family_case.pk}/consents/", {
            "scope": "share_cross_border", "method": "written", "given_at": given_at.isoformat(),
            "given_by": str(head.pk), "recorded_by": "cl.caseworker", "withdrawn_at": given_at.isoformat(),
        }, format="json")

        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["scope"], body["is_active"], body["recorded_by"], body["agency"]) == (
            "share_cross_border", True, "pe.caseworker", "pe-migraciones")
        consent = Consent.objects.get()
        assert (consent.given_by, consent.given_at, consent.withdrawn_at) == (head, given_at, None)
        entry = HistoryEntry.objects.get()
        assert entry.action == "consent.recorded" and entry.changes["given_by"] == [None, str(head.pk)]

    def test_the_consent_must_come_from_a_member(self, client_for, pe_caseworker, family_case, pe_agency):
        stranger = case_with_family(pe_agency, children=0).members.get()
        response = client_for(pe_caseworker).post(f"/api/v1/cases/{family_case.pk}/consents/", {
            "scope": "share_committee", "method": "verbal", "given_at": timezone.now().isoformat(),
            "given_by": str(stranger.pk)}, format="json")
        assert response.status_code == 422
        assert response.json()["errors"] == [{"field": "given_by", "code": "not_a_member",
                                              "message": "El consentimiento debe otorgarlo un integrante del caso."}]
        assert not Consent.objects.exists()

    def test_a_consent_cannot_be_given_in_the_future(self, client_for, pe_caseworker, family_case):
        head = family_case.members.first()
        response = client_for(pe_caseworker).post(f"/api/v1/cases/{family_case.pk}/consents/", {
            "scope": "share_committee", "method": "verbal", "given_by": str(head.pk),
            "given_at": (timezone.now() + datetime.timedelta(days=1)).isoformat()}, format="json")
        assert response.status_code == 422 and response.json()["errors"][0]["code"] == "in_future"
        assert not Consent.objects.exists()

    def test_it_lists_consents(self, client_for, collaborator, family_case):
        consent = ConsentFactory(case=family_case)
        results = client_for(collaborator).get(f"/api/v1/cases/{family_case.pk}/consents/").json()["results"]
        assert [row["id"] for row in results] == [str(consent.pk)]

    def test_the_owner_withdraws_a_consent_even_on_a_closed_case(self, client_for, pe_caseworker, family_case):
        consent = ConsentFactory(case=family_case)
        Case.objects.filter(pk=family_case.pk).update(status="closed", closure_reason="resolved")
        response = client_for(pe_caseworker).post(
            f"/api/v1/cases/{family_case.pk}/consents/{consent.pk}/withdraw/")
        assert response.status_code == 200
        assert response.json()["is_active"] is False and response.json()["withdrawn_by"] == "pe.caseworker"
        consent.refresh_from_db()
        assert consent.withdrawn_at is not None and consent.withdrawn_by == pe_caseworker
        assert HistoryEntry.objects.get().action == "consent.withdrawn"

    def test_withdrawing_twice_is_a_conflict(self, client_for, pe_caseworker, family_case):
        consent = ConsentFactory(case=family_case, withdrawn_at=timezone.now() - datetime.timedelta(days=1))
        response = client_for(pe_caseworker).post(
            f"/api/v1/cases/{family_case.pk}/consents/{consent.pk}/withdraw/")
        assert response.status_code == 409 and response.json()["code"] == "consent_already_withdrawn"
        assert not HistoryEntry.objects.exists()

    def test_a_consent_of_another_case_is_404(self, client_for, pe_caseworker, family_case, pe_agency):
        elsewhere = ConsentFactory(case=case_with_family(pe_agency))
        response = client_for(pe_caseworker).post(
            f"/api/v1/cases/{family_case.pk}/consents/{elsewhere.pk}/withdraw/")
        assert response.status_code == 404
        elsewhere.refresh_from_db()
        assert elsewhere.withdrawn_at is None


@pytest.mark.django_db
class TestCaseHistory:
    def test_it_records_every_change_with_its_actor_newest_first(self, client_for, pe_caseworker, collaborator,
                                                                 cl_caseworker):
        owner = client_for(pe_caseworker)
        case = owner.post("/api/v1/cases/", {"members": [member()], "summary": "Inicial"}, format="json").json()
        case_url = f"/api/v1/cases/{case['id']}"
        head_id = case["members"][0]["person"]
        owner.patch(f"{case_url}/", {"summary": "Cambiado", "priority": "high"}, format="json")
        owner.patch(f"/api/v1/people/{head_id}/", {"phone": "+51 900 000 001"}, format="json")
        owner.post(f"{case_url}/members/", member(relationship="child", given_names="Ana",
                                                  document_number="AC-1"), format="json")
        owner.post(f"{case_url}/consents/", {"scope": "share_cross_border", "method": "verbal",
                                             "given_at": timezone.now().isoformat(), "given_by": head_id},
                   format="json")
        owner.post(f"{case_url}/close/", {"reason": "resolved"}, format="json")

        response = owner.get(f"{case_url}/history/")
        assert response.status_code == 200
        rows = response.json()["results"]
        assert [row["action"] for row in rows] == [
            "case.closed", "consent.recorded", "member.added", "person.created", "person.updated", "case.updated",
            "member.added", "person.created", "case.created"]
        assert {(row["actor"], row["agency"]) for row in rows} == {("pe.caseworker", "pe-migraciones")}
        assert rows[5]["changes"] == {"summary": ["Inicial", "Cambiado"], "priority": ["normal", "high"]}
        assert rows[4]["changes"] == {"phone": ["+56 9 5555 1234", "+51 900 000 001"]}
        assert rows[4]["object_type"] == "person" and rows[4]["object_id"] == head_id
        assert rows[0]["changes"]["status"] == ["open", "closed"]
        assert set(rows[0]) == {"at", "actor", "agency", "action", "object_type", "object_id", "changes"}

    def test_a_collaborator_does_not_see_entries_about_notes_it_cannot_read(self, client_for, pe_caseworker,
                                                                           collaborator, family_case):
        client_for(pe_caseworker).post(f"/api/v1/cases/{family_case.pk}/notes/", {"body": "Interna."},
                                       format="json")
        client_for(pe_caseworker).post(f"/api/v1/cases/{family_case.pk}/notes/",
                                       {"body": "Compartida.", "visibility": "shared"}, format="json")
        shared = Note.objects.get(visibility="shared")
        rows = client_for(collaborator).get(f"/api/v1/cases/{family_case.pk}/history/").json()["results"]
        assert [(row["action"], row["object_id"]) for row in rows] == [("note.added", str(shared.pk))]
        assert HistoryEntry.objects.filter(action="note.added").count() == 2
