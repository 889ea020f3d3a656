"""A person's export holds only what the caller reads directly: the cases it
reads in full, their handoffs, the reads of its own cases and the requests
it handles. A person on cases of two agencies gives neither the other's
case, handoffs, readers or requests; the secretariat gets the whole record."""
import json

import pytest
from django.test import Client

from cases.models import CaseAccessLog
from cases.roles import Role
from tests.factories import CaseFactory, CaseMemberFactory, ConsentFactory, HandoffFactory, PersonFactory, UserFactory
from tests.staff import sign_in_to_admin

A_JUSTIFICATION = "Justificación de Migraciones Perú: menor con fiebre alta en Tacna."
B_JUSTIFICATION = "Justificación del Servicio chileno: riesgo vital en Arica."


def _export(client, person):
    response = client.get(f"/api/v1/people/{person.pk}/export/")
    assert response.status_code == 200, response.content
    return response


@pytest.fixture
def shared(client_for, pe_caseworker, cl_caseworker, int_agency, outsider_agency, file_request):
    """One person on a case of each of two agencies. Each agency referred its
    case to a third agency, which read it; each filed an access request."""
    person = PersonFactory(created_by_agency=pe_caseworker.agency)
    case_a = CaseFactory(owner_agency=pe_caseworker.agency)
    case_b = CaseFactory(owner_agency=cl_caseworker.agency)
    CaseMemberFactory(case=case_a, person=person, relationship="head")
    CaseMemberFactory(case=case_b, person=person, relationship="head")
    ConsentFactory(case=case_a, given_by=person)
    ConsentFactory(case=case_b, given_by=person)
    third = {}
    for case, to_agency, justification in ((case_a, int_agency, A_JUSTIFICATION),
                                           (case_b, outsider_agency, B_JUSTIFICATION)):
        HandoffFactory(case=case, kind="referral", from_agency=case.owner_agency, to_agency=to_agency,
                       status="accepted", services_requested="Salud", legal_basis="vital_interest",
                       legal_basis_note=justification)
        reader = UserFactory(username=f"{to_agency.code}.cw", agency=to_agency, roles=[Role.CASEWORKER])
        assert client_for(reader).get(f"/api/v1/cases/{case.pk}/").status_code == 200
        third[case.pk] = to_agency
    request_a = file_request(pe_caseworker, person, "access").json()
    request_b = file_request(cl_caseworker, person, "access").json()
    return {"person": person, "a": case_a, "b": case_b, "request_a": request_a, "request_b": request_b,
            "third": third}


def _traces(world, side: str, pe_caseworker, cl_caseworker, *, ids: bool = True) -> list[str]:
    """Everything of agency ``side``'s case: reference, owner, third agency,
    justification, request reference (and the ids of the case and the
    request, which the export never names: it names them by reference)."""
    case = world[side]
    owner = (pe_caseworker if side == "a" else cl_caseworker).agency
    request = world[f"request_{side}"]
    traces = [case.reference, owner.code, owner.name, world["third"][case.pk].code, world["third"][case.pk].name,
              A_JUSTIFICATION if side == "a" else B_JUSTIFICATION, request["reference"]]
    return [*traces, str(case.pk), request["id"]] if ids else traces


@pytest.mark.django_db
@pytest.mark.parametrize("caller,own,other", [("pe_caseworker", "a", "b"), ("cl_caseworker", "b", "a")])
def test_an_agency_exports_nothing_of_the_other_agencys_case(request, client_for, shared, pe_caseworker,
                                                             cl_caseworker, caller, own, other):
    """Both directions, byte for byte: the other agency's case, owner, handoff
    and its justification, the third agency that read it and the other's
    request appear nowhere; the caller's own are all there."""
    user = request.getfixturevalue(caller)
    response = _export(client_for(user), shared["person"])
    text = response.content.decode()
    for trace in _traces(shared, other, pe_caseworker, cl_caseworker):
        assert trace not in text, trace
    assert shared[other].reference not in json.dumps(json.loads(text), ensure_ascii=False)  # escapes too
    for trace in _traces(shared, own, pe_caseworker, cl_caseworker, ids=False):
        assert trace in text, trace
    body = response.json()
    assert [case["reference"] for case in body["cases"]] == [shared[own].reference]
    assert {consent["case"] for consent in body["consents"]} == {shared[own].reference}
    assert {read["agency"] for read in body["reads"]} == {shared["third"][shared[own].pk].code}
    assert [item["reference"] for item in body["data_requests"]] == [shared[f"request_{own}"]["reference"]]
    # The person was registered by the Peruvian agency: only it is told so.
    assert body["person"]["registered_by_agency"] == ("pe-migraciones" if own == "a" else None)


@pytest.mark.django_db
def test_the_export_logs_a_read_of_the_callers_cases_only(client_for, shared, cl_caseworker):
    before = set(CaseAccessLog.objects.values_list("pk", flat=True))
    _export(client_for(cl_caseworker), shared["person"])
    logged = CaseAccessLog.objects.exclude(pk__in=before)
    assert [(row.case_id, row.agency_id, row.access) for row in logged] == [
        (shared["b"].pk, cl_caseworker.agency_id, "subject_export")]


@pytest.mark.django_db
def test_the_secretariat_exports_the_whole_record(client_for, shared, secretariat, pe_caseworker, cl_caseworker):
    text = _export(client_for(secretariat), shared["person"]).content.decode()
    for side in ("a", "b"):
        for trace in _traces(shared, side, pe_caseworker, cl_caseworker, ids=False):
            assert trace in text, trace


@pytest.mark.django_db
def test_the_admins_printout_is_the_same_export(shared, secretariat, pe_caseworker, cl_caseworker):
    """The admin builds the record with the API's function: the secretariat's
    printout holds both agencies' cases, and its read is logged on both."""
    from dataprotection.models import DataRequest

    data_request = DataRequest.objects.get(pk=shared["request_b"]["id"])
    client = Client()
    sign_in_to_admin(client, secretariat)
    before = CaseAccessLog.objects.count()
    response = client.get(f"/admin/dataprotection/datarequest/{data_request.pk}/export/en/")
    assert response.status_code == 200
    html = response.content.decode()
    assert shared["a"].reference in html and shared["b"].reference in html
    assert CaseAccessLog.objects.count() == before + 2


@pytest.mark.django_db
def test_a_collaborator_case_shows_but_only_its_own_reads(client_for, shared, pe_caseworker, cl_caseworker):
    """The Peruvian agency collaborates on the Chilean case: it reads that case
    and its handoffs in full, so they are on its export; who else read the
    Chilean case is for the Chilean agency to say."""
    HandoffFactory(case=shared["b"], kind="referral", from_agency=cl_caseworker.agency,
                   to_agency=pe_caseworker.agency, status="accepted", services_requested="Salud")
    client = client_for(pe_caseworker)
    assert client.get(f"/api/v1/cases/{shared['b'].pk}/").status_code == 200
    body = _export(client, shared["person"]).json()
    assert {case["reference"] for case in body["cases"]} == {shared["a"].reference, shared["b"].reference}
    assert B_JUSTIFICATION in json.dumps(body, ensure_ascii=False)  # the handoff chain it reads directly
    reads_of_b = {read["agency"] for read in body["reads"]} - {"int-acnur-tacna"}
    assert reads_of_b == {"pe-migraciones"}  # its own read of the Chilean case, not the third agency's
    assert [item["reference"] for item in body["data_requests"]] == [shared["request_a"]["reference"]]


@pytest.mark.django_db
@pytest.mark.parametrize("limited", ["pending_handoff_to_caller", "caller_former_owner"])
def test_a_limited_view_adds_nothing_to_the_export(client_for, pe_caseworker, cl_caseworker, limited):
    """A case the caller sees only in the limited view stays off its export,
    and an export of a person it sees only there is a 404."""
    person = PersonFactory(created_by_agency=cl_caseworker.agency, given_names="Yamilet Soraya")
    own = CaseMemberFactory(person=person, case__owner_agency=pe_caseworker.agency).case
    seen = CaseMemberFactory(person=person, case__owner_agency=cl_caseworker.agency).case
    only_seen = CaseMemberFactory(case__owner_agency=cl_caseworker.agency).case
    for case in (seen, only_seen):
        if limited == "pending_handoff_to_caller":
            HandoffFactory(case=case, kind="transfer", from_agency=cl_caseworker.agency,
                           to_agency=pe_caseworker.agency, status="pending", legal_basis_note=B_JUSTIFICATION)
        else:
            HandoffFactory(case=case, kind="transfer", from_agency=pe_caseworker.agency,
                           to_agency=cl_caseworker.agency, status="accepted", legal_basis_note=B_JUSTIFICATION)
    client = client_for(pe_caseworker)
    assert client.get(f"/api/v1/cases/{seen.pk}/").json()["access"] in ("limited", "former_owner")
    body = _export(client, person).json()
    text = json.dumps(body, ensure_ascii=False)
    assert [case["reference"] for case in body["cases"]] == [own.reference]
    assert seen.reference not in text and B_JUSTIFICATION not in text and "cl-sermig" not in text

    stranger = only_seen.memberships.get().person
    before = CaseAccessLog.objects.count()
    response = client.get(f"/api/v1/people/{stranger.pk}/export/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert stranger.given_names not in response.content.decode()
    assert CaseAccessLog.objects.count() == before


@pytest.mark.django_db
def test_the_export_costs_the_same_queries_whatever_the_record(client_for, shared, pe_caseworker,
                                                               django_assert_num_queries):
    """Every list of the export is one query, however many cases, handoffs,
    consents and reads it holds."""
    client = client_for(pe_caseworker)
    _export(client, shared["person"])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        _export(client, shared["person"])
    for _ in range(3):
        case = CaseFactory(owner_agency=pe_caseworker.agency)
        CaseMemberFactory(case=case, person=shared["person"], relationship="other")
        ConsentFactory(case=case, given_by=shared["person"])
        HandoffFactory(case=case, kind="referral", from_agency=pe_caseworker.agency, status="accepted",
                       services_requested="Salud")
    with django_assert_num_queries(len(small.captured_queries)):
        body = _export(client, shared["person"]).json()
    assert len(body["cases"]) == 4 and len(body["handoffs"]) == 4
