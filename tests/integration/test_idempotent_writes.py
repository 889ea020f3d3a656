"""Idempotency-Key on the real write endpoints partner systems retry."""
import pytest

from cases.models import Case, Handoff, HistoryEntry, Person
from outbox.models import Event
from tests.cases.conftest import case_body
from tests.factories import ConsentFactory, case_with_family


@pytest.mark.django_db
class TestCaseCreateRetries:
    def test_a_retried_registration_creates_one_case(self, client_for, pe_caseworker):
        client = client_for(pe_caseworker, HTTP_IDEMPOTENCY_KEY="tacna-0001")
        first = client.post("/api/v1/cases/", case_body(), format="json")
        again = client.post("/api/v1/cases/", case_body(), format="json")
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
        assert Case.objects.count() == 1 and Person.objects.count() == 2
        assert Event.objects.filter(type="case.created").count() == 1

    def test_the_same_key_with_another_family_is_refused(self, client_for, pe_caseworker):
        client = client_for(pe_caseworker, HTTP_IDEMPOTENCY_KEY="tacna-0002")
        client.post("/api/v1/cases/", case_body(), format="json")
        response = client.post("/api/v1/cases/", case_body(summary="Otra familia."), format="json")
        assert response.status_code == 422
        assert response.json()["code"] == "idempotency_key_reused"
        assert Case.objects.count() == 1


@pytest.mark.django_db
class TestHandoffRetries:
    def test_a_retried_acceptance_moves_ownership_once(self, client_for, pe_caseworker, cl_caseworker, pe_agency,
                                                      cl_agency):
        case = case_with_family(pe_agency)
        ConsentFactory(case=case, given_by=case.members.first())
        created = client_for(pe_caseworker).post("/api/v1/handoffs/", {
            "case": str(case.pk), "to_agency": "cl-sermig", "kind": "transfer",
            "reason": "Reunificación familiar en Arica.", "legal_basis": "consent"}, format="json")
        assert created.status_code == 201, created.content
        accept = client_for(cl_caseworker, HTTP_IDEMPOTENCY_KEY="accept-1")
        url = f"/api/v1/handoffs/{created.json()['id']}/accept/"
        first = accept.post(url, {"note": "Recibido."}, format="json")
        again = accept.post(url, {"note": "Recibido."}, format="json")
        assert first.status_code == again.status_code == 200
        assert again.json() == first.json()
        case.refresh_from_db()
        assert case.owner_agency == cl_agency
        assert HistoryEntry.objects.filter(action="handoff.accepted").count() == 1
        assert Handoff.objects.get().status == "accepted"
