"""A granted erasure anonymises the person through the retention service,
unless a legal hold keeps the data; either way the request records it."""
import pytest
from django.utils import timezone

from cases.models import Case, HistoryEntry
from dataprotection.models import DataRequest
from tests.factories import CaseMemberFactory


def _complete(client, request_id, **body):
    return client.post(f"/api/v1/data-requests/{request_id}/complete/", body, format="json")


@pytest.fixture
def closed_case(family_case):
    Case.objects.filter(pk=family_case.pk).update(status="closed", closure_reason="resolved",
                                                  closed_at=timezone.now())
    return family_case


@pytest.mark.django_db
def test_a_granted_erasure_anonymises_the_person(client_for, pe_caseworker, closed_case, head, child, file_request):
    client = client_for(pe_caseworker)
    request_id = file_request(pe_caseworker, head, "erasure").json()["id"]
    response = _complete(client, request_id, outcome="granted", note="Supresión atendida.")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["anonymised_at"] and body["erasure_exception"] == ""
    head.refresh_from_db()
    child.refresh_from_db()
    assert head.anonymised_at is not None
    assert (head.given_names, head.family_names, head.document_number, head.phone, head.date_of_birth) == (
        "", "", "", "", None)
    assert child.anonymised_at is None and child.given_names  # the rest of the family keeps its data
    assert HistoryEntry.objects.filter(case=closed_case, action="person.anonymised", object_id=str(head.pk)).exists()


@pytest.mark.django_db
def test_an_open_case_holds_the_data(client_for, pe_caseworker, family_case, head, file_request):
    """The agencies' procedure about the person is under way: the law's
    exception for a legal obligation or public function applies."""
    request_id = file_request(pe_caseworker, head, "erasure").json()["id"]
    response = _complete(client_for(pe_caseworker), request_id, outcome="granted")
    assert response.status_code == 200, response.content
    assert response.json()["erasure_exception"] == "open_case" and response.json()["anonymised_at"] is None
    head.refresh_from_db()
    assert head.anonymised_at is None and head.given_names


@pytest.mark.django_db
def test_a_declared_legal_hold_keeps_the_data_and_says_which(client_for, pe_caseworker, closed_case, head,
                                                             file_request):
    request_id = file_request(pe_caseworker, head, "erasure").json()["id"]
    client = client_for(pe_caseworker)
    unexplained = _complete(client, request_id, outcome="granted", legal_hold="legal_obligation")
    assert unexplained.status_code == 422 and unexplained.json()["errors"][0]["field"] == "legal_hold_note"
    response = _complete(client, request_id, outcome="granted", legal_hold="legal_obligation",
                         legal_hold_note="Registro migratorio: conservación exigida por el DL 1350, art. 5.")
    assert response.status_code == 200, response.content
    stored = DataRequest.objects.get(pk=request_id)
    assert (stored.erasure_exception, stored.anonymised_at) == ("legal_obligation", None)
    assert "DL 1350" in stored.erasure_exception_note
    head.refresh_from_db()
    assert head.anonymised_at is None and head.given_names


@pytest.mark.django_db
def test_a_person_on_another_open_case_is_held(client_for, pe_caseworker, closed_case, head, file_request):
    other = CaseMemberFactory(person=head, case__owner_agency=pe_caseworker.agency, relationship="head").case
    assert other.status == "open"
    request_id = file_request(pe_caseworker, head, "erasure").json()["id"]
    response = _complete(client_for(pe_caseworker), request_id, outcome="granted")
    assert response.json()["erasure_exception"] == "open_case"
    head.refresh_from_db()
    assert head.anonymised_at is None


@pytest.mark.django_db
def test_a_legal_hold_is_only_for_an_erasure(client_for, pe_caseworker, head, file_request):
    request_id = file_request(pe_caseworker, head, "access").json()["id"]
    response = _complete(client_for(pe_caseworker), request_id, outcome="granted", legal_hold="legal_obligation",
                         legal_hold_note="x")
    assert response.status_code == 422 and response.json()["code"] == "legal_hold_not_applicable"
    assert DataRequest.objects.get(pk=request_id).status == "open"
