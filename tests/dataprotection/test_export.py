"""The export of everything held on a person: complete on a case handed
across the border, silent about the other members of the family, and itself
logged."""
import json

import pytest

from cases.models import CaseAccessLog, Person
from tests.factories import ConsentFactory, HandoffFactory

PERSONAL = ("given_names", "family_names", "document_number", "phone")


@pytest.fixture
def crossed(family_case, head, cl_caseworker, client_for):
    """A consent given by the head, a referral accepted across the border
    (Peru → Chile) on a vital-interest basis, and a read by the Chilean agency."""
    ConsentFactory(case=family_case, given_by=head, scope="share_cross_border")
    HandoffFactory(case=family_case, kind="referral", to_agency=cl_caseworker.agency, status="accepted",
                   services_requested="Atención pediátrica", legal_basis="vital_interest",
                   legal_basis_note="Menor con fiebre alta en el paso fronterizo.")
    assert client_for(cl_caseworker).get(f"/api/v1/cases/{family_case.pk}/").status_code == 200
    return family_case


@pytest.mark.django_db
def test_the_export_holds_everything_on_the_person(client_for, pe_caseworker, crossed, head, child, file_request):
    client = client_for(pe_caseworker)
    assert client.patch(f"/api/v1/people/{child.pk}/", {"phone": "+51 955 000 111"}, format="json").status_code == 200
    file_request(pe_caseworker, child, "access")
    child.refresh_from_db()

    response = client.get(f"/api/v1/people/{child.pk}/export/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["person"]["id"] == str(child.pk)
    assert body["person"]["phone"] == "+51 955 000 111" and body["person"]["given_names"] == child.given_names
    assert body["cases"] == [{
        "reference": crossed.reference, "relationship": "child",
        "owner_agency": {"code": "pe-migraciones", "name": "Superintendencia Nacional de Migraciones",
                         "country": "PE"},
        "status": "open", "opened_at": crossed.created_at.isoformat(), "closed_at": None,
        "member_since": crossed.memberships.get(person=child).added_at.isoformat()}]
    # The family's consent covers the child, who did not give it.
    assert [(c["scope"], c["given_by_the_person"]) for c in body["consents"]] == [("share_cross_border", False)]
    (transfer,) = body["handoffs"]
    assert transfer["international"] is True
    assert (transfer["from_agency"]["country"], transfer["to_agency"]["country"]) == ("PE", "CL")
    assert transfer["legal_basis"] == "vital_interest"
    assert transfer["legal_basis_justification"] == "Menor con fiebre alta en el paso fronterizo."
    assert [entry["action"] for entry in body["history"]] == ["person.updated"]
    assert body["history"][0]["changes"]["phone"][1] == "+51 955 000 111"
    readers = {read["agency"] for read in body["reads"]}
    assert readers == {"cl-sermig"}  # the collaborator read the case; the owner only wrote
    assert all(set(read) >= {"date", "agency", "reads"} and "user" not in read for read in body["reads"])
    assert [item["kind"] for item in body["data_requests"]] == ["access"]
    assert body["processing_restricted"] is False


@pytest.mark.django_db
def test_the_export_leaves_out_the_other_members(client_for, pe_caseworker, crossed, head, child):
    others = [membership.person for membership in crossed.memberships.select_related("person")
              if membership.person_id != child.pk]
    assert len(others) == 2
    for number, other in enumerate(others):  # the factory gives everyone the same phone
        Person.objects.filter(pk=other.pk).update(phone=f"+56 9 4444 000{number}")
        other.refresh_from_db()
    body = client_for(pe_caseworker).get(f"/api/v1/people/{child.pk}/export/").json()
    text = json.dumps(body, ensure_ascii=False)
    for other in others:
        assert str(other.pk) not in text
        for field in PERSONAL:
            assert getattr(other, field) not in text, field
    assert crossed.summary not in text  # the case's free text describes the whole family


@pytest.mark.django_db
def test_reading_the_export_is_logged(client_for, pe_caseworker, crossed, child):
    before = CaseAccessLog.objects.count()
    client_for(pe_caseworker).get(f"/api/v1/people/{child.pk}/export/")
    logged = CaseAccessLog.objects.exclude(pk__in=list(CaseAccessLog.objects.order_by("pk")
                                                       .values_list("pk", flat=True)[:before]))
    assert [(row.case_id, row.user, row.agency_id, row.access) for row in logged] == [
        (crossed.pk, pe_caseworker, pe_caseworker.agency_id, "subject_export")]
    # The next export lists the read.
    body = client_for(pe_caseworker).get(f"/api/v1/people/{child.pk}/export/").json()
    assert any(read["agency"] == "pe-migraciones" for read in body["reads"])


@pytest.mark.django_db
@pytest.mark.parametrize("role,expected", [("secretariat", 200), ("cl_caseworker", 403), ("outsider", 404),
                                           ("committee_member", 404)])
def test_who_may_export(request, client_for, crossed, child, role, expected):
    """The owner agency and the secretariat; a collaborator reads the person
    but does not export them; others do not find them."""
    before = CaseAccessLog.objects.count()
    response = client_for(request.getfixturevalue(role)).get(f"/api/v1/people/{child.pk}/export/")
    assert response.status_code == expected
    assert (CaseAccessLog.objects.count() > before) == (expected == 200)
