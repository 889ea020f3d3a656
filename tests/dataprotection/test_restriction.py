"""Restriction of processing: while an opposition is examined, or once a
blocking is granted, every write about the person or their cases is refused
with 409 ``processing_restricted`` — and goes through again once the
request ends."""
import pytest
from django.utils import timezone

from cases.models import Case, Consent, HistoryEntry, Person
from dataprotection.models import DataRequest
from tests.factories import ConsentFactory, HandoffFactory

from ..cases.conftest import member


def _write_paths(case, head, child, consent, handoff):
    """(name, caller fixture, method, url, body) for every casework write."""
    base = f"/api/v1/cases/{case.pk}"
    return [
        ("case_update", "pe_caseworker", "patch", f"{base}/", {"priority": "urgent"}),
        ("case_close", "pe_caseworker", "post", f"{base}/close/", {"reason": "resolved"}),
        ("member_add", "pe_caseworker", "post", f"{base}/members/",
         member(relationship="other_relative", document_number="V-7.777.777")),
        ("member_update", "pe_caseworker", "patch", f"{base}/members/{child.pk}/", {"relationship": "other_relative"}),
        ("member_remove", "pe_caseworker", "delete", f"{base}/members/{child.pk}/", None),
        ("note_add", "pe_caseworker", "post", f"{base}/notes/", {"body": "Seguimiento.", "visibility": "shared"}),
        ("consent_record", "pe_caseworker", "post", f"{base}/consents/",
         {"scope": "share_committee", "method": "verbal", "given_at": timezone.now().isoformat(),
          "given_by": str(head.pk)}),
        ("person_update", "pe_caseworker", "patch", f"/api/v1/people/{head.pk}/", {"phone": "+51 900 000 000"}),
        ("handoff_create", "pe_caseworker", "post", "/api/v1/handoffs/",
         {"case": str(case.pk), "to_agency": "cl-sermig", "kind": "referral", "reason": "Atención médica.",
          "services_requested": "Salud", "legal_basis": "consent"}),
        ("handoff_accept", "int_caseworker", "post", f"/api/v1/handoffs/{handoff.pk}/accept/", {}),
        ("case_create_with_person", "pe_caseworker", "post", "/api/v1/cases/",
         {"summary": "Nuevo caso.", "members": [{"relationship": "head", "person": str(head.pk)}]}),
    ]


WRITE_PATHS = ["case_update", "case_close", "member_add", "member_update", "member_remove", "note_add",
               "consent_record", "person_update", "handoff_create", "handoff_accept", "case_create_with_person",
               "case_reopen"]


@pytest.fixture
def int_caseworker(int_agency):
    from cases.roles import Role
    from tests.factories import UserFactory

    return UserFactory(username="acnur.caseworker", agency=int_agency, roles=[Role.CASEWORKER])


@pytest.fixture
def world(family_case, head, child, cl_agency, int_agency):
    consent = ConsentFactory(case=family_case, given_by=head)
    handoff = HandoffFactory(case=family_case, kind="referral", to_agency=int_agency, status="pending",
                             services_requested="Albergue")
    return {"consent": consent, "handoff": handoff}


def _state(case):
    case.refresh_from_db()
    return (case.version, case.status, Case.objects.count(), HistoryEntry.objects.count(), Consent.objects.count(),
            list(Person.objects.order_by("pk").values_list("phone", flat=True)),
            list(case.handoffs.order_by("pk").values_list("status", flat=True)))


def _request(request, client_for, name, family_case, head, child, world):
    if name == "case_reopen":
        Case.objects.filter(pk=family_case.pk).update(status="closed", closure_reason="resolved",
                                                      closed_at=timezone.now())
        return client_for(request.getfixturevalue("pe_caseworker")).post(f"/api/v1/cases/{family_case.pk}/reopen/")
    paths = {path[0]: path for path in _write_paths(family_case, head, child, world["consent"], world["handoff"])}
    _name, caller, method, url, body = paths[name]
    return getattr(client_for(request.getfixturevalue(caller)), method)(url, body, format="json")


def test_every_write_path_is_listed():
    """A new casework write must be added here (and guarded)."""
    from cases.services import casework, handoffs

    writes = {name for module in (casework, handoffs) for name in dir(module)
              if name.split("_")[0] in ("case", "member", "note", "consent", "person", "handoff")
              and getattr(getattr(module, name), "__module__", None) == module.__name__}
    covered = {"case_update", "case_close", "case_reopen", "case_create", "member_add", "member_update",
               "member_remove", "note_add", "consent_record", "person_update", "handoff_create", "handoff_accept",
               # Not guarded, on purpose: they only narrow or end the processing.
               "consent_withdraw", "handoff_reject", "handoff_withdraw", "handoff_complete", "handoff_reschedule",
               "handoff_emit_overdue", "handoffs_emit_overdue"}
    assert writes <= covered, writes - covered


@pytest.mark.django_db
@pytest.mark.parametrize("name", WRITE_PATHS)
def test_an_opposition_under_examination_blocks_every_write(request, client_for, pe_caseworker, family_case, head,
                                                            child, world, file_request, name):
    opposition = file_request(pe_caseworker, head, "opposition").json()
    assert opposition["restricts_processing"]
    before = _state(family_case)
    response = _request(request, client_for, name, family_case, head, child, world)
    assert response.status_code == 409, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "processing_restricted"
    if name == "case_reopen":
        before = before[:1] + ("closed",) + before[2:]
    assert _state(family_case)[2:] == before[2:]  # nothing written: no case, history, consent, phone or handoff change


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["note_add", "person_update", "handoff_create"])
def test_the_writes_go_through_once_the_opposition_is_answered(request, client_for, pe_caseworker, family_case,
                                                                head, child, world, file_request, name):
    opposition = file_request(pe_caseworker, head, "opposition").json()
    answered = client_for(pe_caseworker).post(f"/api/v1/data-requests/{opposition['id']}/complete/",
                                              {"outcome": "refused", "refusal_ground": "public_function"},
                                              format="json")
    assert answered.status_code == 200 and not answered.json()["restricts_processing"]
    response = _request(request, client_for, name, family_case, head, child, world)
    assert response.status_code in (200, 201), response.content


@pytest.mark.django_db
def test_withdrawing_a_consent_stays_possible(client_for, pe_caseworker, family_case, head, world, file_request):
    file_request(pe_caseworker, head, "opposition")
    consent = world["consent"]
    response = client_for(pe_caseworker).post(f"/api/v1/cases/{family_case.pk}/consents/{consent.pk}/withdraw/")
    assert response.status_code == 200
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None


@pytest.mark.django_db
def test_a_granted_blocking_restricts_until_the_request_it_accompanies_ends(client_for, pe_caseworker, family_case,
                                                                             head, file_request):
    client = client_for(pe_caseworker)
    rectification = file_request(pe_caseworker, head, "rectification").json()
    blocking = file_request(pe_caseworker, head, "blocking").json()
    assert not blocking["restricts_processing"]  # asked for, not granted yet
    granted = client.post(f"/api/v1/data-requests/{blocking['id']}/complete/", {"outcome": "granted"}, format="json")
    assert granted.json()["restricts_processing"] and granted.json()["processing_restricted"]
    refused = client.patch(f"/api/v1/people/{head.pk}/", {"phone": "+51 911 111 111"}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "processing_restricted"

    # The rectification itself changes the data, through the request; then the blocking ends.
    done = client.post(f"/api/v1/data-requests/{rectification['id']}/complete/",
                       {"outcome": "granted", "corrections": {"phone": "+51 922 222 222"}}, format="json")
    assert done.status_code == 200, done.content
    head.refresh_from_db()
    assert head.phone == "+51 922 222 222"
    assert not DataRequest.objects.restricting().exists()
    assert client.patch(f"/api/v1/people/{head.pk}/", {"phone": "+51 933 333 333"},
                        format="json").status_code == 200


@pytest.mark.django_db
def test_a_blocking_needs_a_request_to_accompany(client_for, pe_caseworker, head, file_request):
    blocking = file_request(pe_caseworker, head, "blocking").json()
    response = client_for(pe_caseworker).post(f"/api/v1/data-requests/{blocking['id']}/complete/",
                                              {"outcome": "granted"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "nothing_to_block"
    assert DataRequest.objects.get(pk=blocking["id"]).status == "open"


@pytest.mark.django_db
def test_the_flag_shows_on_every_request_of_the_person(client_for, pe_caseworker, head, file_request):
    access = file_request(pe_caseworker, head, "access").json()
    assert not access["processing_restricted"]
    file_request(pe_caseworker, head, "opposition")
    again = client_for(pe_caseworker).get(f"/api/v1/data-requests/{access['id']}/").json()
    assert again["processing_restricted"] and not again["restricts_processing"]
