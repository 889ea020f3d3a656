"""One rule decides who may change a person as such — correct, erase, or
restrict their processing: an agency owning every case in use the person
is on (``casework.check_person_change_allowed``). And correcting one member
is a write on every case holding them: a restricted member of one of those
cases stops it."""
import pytest
from django.utils import timezone

from cases.models import Case, HistoryEntry, Person
from dataprotection.models import DataRequest
from tests.factories import CaseMemberFactory

OTHER_AGENCY = "person_on_other_agencies_cases"


def _complete(client, request_id, **body):
    return client.post(f"/api/v1/data-requests/{request_id}/complete/", body, format="json")


def _close(*cases):
    Case.objects.filter(pk__in=[case.pk for case in cases]).update(status="closed", closure_reason="resolved",
                                                                   closed_at=timezone.now())


def _person_state(person):
    person.refresh_from_db()
    return (person.given_names, person.phone, person.document_number, person.anonymised_at,
            HistoryEntry.objects.count())


@pytest.fixture
def shared(family_case, head, cl_caseworker):
    """The head is also on a case of the Chilean agency; both cases closed, not anonymised."""
    other = CaseMemberFactory(person=head, case__owner_agency=cl_caseworker.agency, relationship="head").case
    _close(family_case, other)
    return other


def _refused(response):
    assert response.status_code == 403, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == OTHER_AGENCY


@pytest.mark.django_db
def test_an_erasure_does_not_reach_another_agencys_case(client_for, pe_caseworker, shared, head, file_request):
    request_id = file_request(pe_caseworker, head, "erasure").json()["id"]
    before = _person_state(head)
    _refused(_complete(client_for(pe_caseworker), request_id, outcome="granted"))
    assert _person_state(head) == before  # not anonymised, no history
    stored = DataRequest.objects.get(pk=request_id)
    assert (stored.status, stored.anonymised_at) == ("open", None)


@pytest.mark.django_db
def test_a_rectification_does_not_reach_another_agencys_case(client_for, pe_caseworker, shared, head, file_request):
    request_id = file_request(pe_caseworker, head, "rectification").json()["id"]
    before = _person_state(head)
    _refused(_complete(client_for(pe_caseworker), request_id, outcome="granted",
                       corrections={"phone": "+51 999 888 777"}))
    assert _person_state(head) == before
    assert DataRequest.objects.get(pk=request_id).status == "open"


@pytest.mark.django_db
def test_an_opposition_does_not_restrict_another_agencys_case(client_for, pe_caseworker, cl_caseworker, shared,
                                                              head, file_request):
    _refused(file_request(pe_caseworker, head, "opposition"))
    assert not DataRequest.objects.exists()
    # The Chilean agency's own work on its case goes on.
    Case.objects.filter(pk=shared.pk).update(status="open", closure_reason="", closed_at=None)
    response = client_for(cl_caseworker).post(f"/api/v1/cases/{shared.pk}/notes/",
                                              {"body": "Seguimiento.", "visibility": "shared"}, format="json")
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_a_blocking_does_not_restrict_another_agencys_case(client_for, pe_caseworker, shared, head, file_request):
    file_request(pe_caseworker, head, "rectification")
    blocking = file_request(pe_caseworker, head, "blocking").json()
    assert blocking["status"] == "open"  # recording it changes nothing
    _refused(_complete(client_for(pe_caseworker), blocking["id"], outcome="granted"))
    assert not DataRequest.objects.restricting().exists()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["access", "portability", "erasure", "rectification"])
def test_recording_and_refusing_stay_with_the_agency(client_for, pe_caseworker, shared, head, file_request, kind):
    """What changes nothing stays possible: recording the request, answering
    an access request, refusing an erasure or rectification on its ground."""
    created = file_request(pe_caseworker, head, kind)
    assert created.status_code == 201, created.content
    body = ({"outcome": "granted"} if kind in ("access", "portability")
            else {"outcome": "refused", "refusal_ground": "third_party_rights"})
    response = _complete(client_for(pe_caseworker), created.json()["id"], **body)
    assert response.status_code == 200, response.content


@pytest.mark.django_db
def test_authority_is_that_of_the_persons_cases_now(client_for, pe_caseworker, cl_caseworker, family_case, head,
                                                     file_request):
    """Filed while the agency held every case of the person; by the answer,
    the person is on another agency's case too."""
    _close(family_case)
    request_id = file_request(pe_caseworker, head, "erasure").json()["id"]
    _close(CaseMemberFactory(person=head, case__owner_agency=cl_caseworker.agency).case)
    _refused(_complete(client_for(pe_caseworker), request_id, outcome="granted"))
    head.refresh_from_db()
    assert head.anonymised_at is None


@pytest.mark.django_db
def test_an_anonymised_case_of_another_agency_does_not_stop_the_erasure(client_for, pe_caseworker, shared, head,
                                                                         file_request):
    """Only cases in use count: one already anonymised holds nothing to decide for."""
    Case.objects.filter(pk=shared.pk).update(anonymised_at=timezone.now())
    request_id = file_request(pe_caseworker, head, "erasure").json()["id"]
    response = _complete(client_for(pe_caseworker), request_id, outcome="granted")
    assert response.status_code == 200, response.content
    head.refresh_from_db()
    assert head.anonymised_at is not None


# --- Correcting another member of a restricted member's case -------------------

@pytest.mark.django_db
def test_correcting_another_member_respects_the_restriction(client_for, pe_caseworker, family_case, head, child,
                                                             file_request):
    file_request(pe_caseworker, head, "opposition")
    before = (family_case.version, HistoryEntry.objects.count(),
              list(Person.objects.order_by("pk").values_list("phone", flat=True)))
    response = client_for(pe_caseworker).patch(f"/api/v1/people/{child.pk}/", {"phone": "+51 977 000 000"},
                                               format="json")
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "processing_restricted"
    family_case.refresh_from_db()
    assert (family_case.version, HistoryEntry.objects.count(),
            list(Person.objects.order_by("pk").values_list("phone", flat=True))) == before


@pytest.mark.django_db
def test_a_restricted_member_of_the_persons_other_case_stops_the_correction(client_for, pe_caseworker, family_case,
                                                                            child, pe_agency, file_request):
    """The child is also on a second case of the agency, whose head's
    processing is restricted: that case would record the correction."""
    second = CaseMemberFactory(case__owner_agency=pe_agency, relationship="head").case
    CaseMemberFactory(case=second, person=child, relationship="child")
    file_request(pe_caseworker, second.memberships.get(relationship="head").person, "opposition")
    response = client_for(pe_caseworker).patch(f"/api/v1/people/{child.pk}/", {"phone": "+51 977 000 001"},
                                               format="json")
    assert response.status_code == 409 and response.json()["code"] == "processing_restricted"
    child.refresh_from_db()
    assert child.phone != "+51 977 000 001"


@pytest.mark.django_db
def test_a_rectification_through_the_request_waits_for_the_other_members_restriction(
        client_for, pe_caseworker, family_case, head, child, file_request):
    """The request exempts its own person only: another member's restriction
    of the same case still stops the correction (409, the request stays open)."""
    rectification = file_request(pe_caseworker, child, "rectification").json()
    file_request(pe_caseworker, head, "opposition")
    response = _complete(client_for(pe_caseworker), rectification["id"], outcome="granted",
                         corrections={"phone": "+51 977 000 002"})
    assert response.status_code == 409 and response.json()["code"] == "processing_restricted"
    child.refresh_from_db()
    assert child.phone != "+51 977 000 002"
    assert DataRequest.objects.get(pk=rectification["id"]).status == "open"


@pytest.mark.django_db
def test_the_correction_goes_through_once_the_restriction_ends(client_for, pe_caseworker, family_case, head, child,
                                                                file_request):
    opposition = file_request(pe_caseworker, head, "opposition").json()
    client = client_for(pe_caseworker)
    assert _complete(client, opposition["id"], outcome="refused", refusal_ground="public_function").status_code == 200
    response = client.patch(f"/api/v1/people/{child.pk}/", {"phone": "+51 977 000 003"}, format="json")
    assert response.status_code == 200, response.content
    child.refresh_from_db()
    assert child.phone == "+51 977 000 003"
