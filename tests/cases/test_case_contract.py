"""What the schema says about cases is what the server does: each shape the
schema accepts is accepted, each it refuses is refused with 400, and each body
the server answers fits the schema."""
import datetime

import pytest
from django.utils import timezone

from cases.models import Case, CaseMember, Consent, HistoryEntry, Person
from tests.openapi import conforms, published_schema

from .conftest import case_body, member

PERSON = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"


@pytest.mark.django_db
class TestCaseCreateMembers:
    # (member, what the schema says, the status of a case of this one head)
    SHAPES = [
        (member(), True, 201),
        ({"relationship": "head", "given_names": "Ana"}, True, 201),
        ({"relationship": "head", "person": PERSON}, True, 422),  # fits; no such person is a rule
        ({"relationship": "head", "person": PERSON, "given_names": "Ana"}, False, 400),
        ({"relationship": "head", "person": PERSON, "sex": "female"}, False, 400),
        ({"relationship": "head", "sex": "female"}, False, 400),
        ({"relationship": "head", "given_names": "Ana", "nationality": "ve"}, False, 400),
        ({"relationship": "head", "given_names": "Ana", "nationality": "AA"}, False, 400),
        ({"relationship": "head", "given_names": "Ana", "document_country": ""}, True, 201),
        ({"relationship": "head", "given_names": " "}, False, 400),
        ({"relationship": "head", "given_names": 7}, False, 400),
        ({"relationship": "head", "given_names": "A\x00na"}, False, 400),
        ({"relationship": "head", "given_names": "Ana", "date_of_birth_is_estimate": "yes"}, False, 400),
    ]

    @pytest.mark.parametrize("shape,fits,status", SHAPES)
    def test_the_schema_and_the_server_agree_on_each_shape_of_member(self, client_for, pe_caseworker, shape, fits,
                                                                     status):
        assert conforms("MemberInputRequest", shape) == fits
        response = client_for(pe_caseworker).post("/api/v1/cases/", case_body(members=[shape]), format="json")
        assert response.status_code == status, response.content
        assert Case.objects.exists() == (status == 201)

    def test_a_refused_shape_names_the_field(self, client_for, pe_caseworker):
        response = client_for(pe_caseworker).post(
            "/api/v1/cases/", case_body(members=[{"relationship": "head", "sex": "female"}]), format="json")
        assert response.json()["errors"] == [{"field": "members.0.given_names", "code": "required",
                                              "message": "Este campo es obligatorio."}]
        assert not Person.objects.exists()

    def test_the_answer_fits_the_schema(self, client_for, pe_caseworker):
        response = client_for(pe_caseworker).post("/api/v1/cases/", case_body(), format="json")
        assert response.status_code == 201
        assert conforms("CaseCreated", response.json())
        assert not conforms("CaseLimited", response.json()), "a full case must not also pass for a limited one"

    def test_country_codes_are_the_upper_case_ones_the_schema_lists(self, client_for, pe_caseworker):
        codes = published_schema()["components"]["schemas"]["CountryCodeEnum"]["enum"]
        assert "VE" in codes and "ve" not in codes and len(codes) > 240
        response = client_for(pe_caseworker).post(
            "/api/v1/cases/", case_body(members=[member(nationality="ve")]), format="json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "members.0.nationality"


@pytest.mark.django_db
class TestCaseRead:
    def test_each_view_of_a_case_fits_exactly_one_shape_of_the_schema(self, client_for, family_case,
                                                                      pe_caseworker, secretariat, cl_caseworker):
        from tests.factories import HandoffFactory

        HandoffFactory(case=family_case, to_agency=cl_caseworker.agency)
        full = client_for(pe_caseworker).get(f"/api/v1/cases/{family_case.pk}/").json()
        limited = client_for(cl_caseworker).get(f"/api/v1/cases/{family_case.pk}/").json()
        assert (full["access"], limited["access"]) == ("owner", "limited")
        assert conforms("CaseAnyAccess", full) and conforms("Case", full) and not conforms("CaseLimited", full)
        assert conforms("CaseAnyAccess", limited) and conforms("CaseLimited", limited) and not conforms("Case",
                                                                                                        limited)

    def test_an_open_case_with_no_closure_reason_fits_the_schema(self, client_for, pe_caseworker, family_case):
        body = client_for(pe_caseworker).get(f"/api/v1/cases/{family_case.pk}/").json()
        assert body["closure_reason"] == ""
        assert conforms("Case", body)


@pytest.mark.django_db
class TestCaseMemberPatch:
    def test_an_empty_change_leaves_the_member_as_it_is(self, client_for, pe_caseworker, family_case):
        child = family_case.memberships.filter(relationship="child").first()
        version = Case.objects.get(pk=family_case.pk).version
        response = client_for(pe_caseworker).patch(
            f"/api/v1/cases/{family_case.pk}/members/{child.person_id}/", {}, format="json")
        assert response.status_code == 200
        assert response.json()["relationship"] == "child"
        assert CaseMember.objects.get(pk=child.pk).relationship == "child"
        assert Case.objects.get(pk=family_case.pk).version == version
        assert not HistoryEntry.objects.filter(action="member.updated").exists()

    def test_an_empty_change_still_needs_the_owner(self, client_for, outsider, family_case):
        child = family_case.memberships.filter(relationship="child").first()
        response = client_for(outsider).patch(
            f"/api/v1/cases/{family_case.pk}/members/{child.person_id}/", {}, format="json")
        assert response.status_code == 404


@pytest.mark.django_db
class TestCaseConsentTimes:
    def _post(self, client_for, user, case, given_at):
        return client_for(user).post(f"/api/v1/cases/{case.pk}/consents/", {
            "scope": "share_cross_border", "method": "written", "given_by": str(case.members.first().pk),
            "given_at": given_at}, format="json")

    def test_any_offset_rfc_3339_allows_is_taken(self, client_for, pe_caseworker, family_case):
        given = timezone.now() - datetime.timedelta(days=1)
        written = given.astimezone(datetime.timezone(datetime.timedelta(hours=23, minutes=59)))
        response = self._post(client_for, pe_caseworker, family_case, written.isoformat())
        assert response.status_code == 201, response.content
        assert Consent.objects.get().given_at == given

    def test_a_time_without_offset_is_refused(self, client_for, pe_caseworker, family_case):
        response = self._post(client_for, pe_caseworker, family_case, "2026-01-10T10:00:00")
        assert response.status_code == 400
        assert response.json()["errors"][0] == {"field": "given_at", "code": "offset_required",
                                                "message": response.json()["errors"][0]["message"]}
        assert not Consent.objects.exists()

    def test_an_instant_before_year_one_is_refused_as_a_rule(self, client_for, pe_caseworker, family_case):
        response = self._post(client_for, pe_caseworker, family_case, "0001-01-01T00:30:00+01:00")
        assert response.status_code == 422
        assert response.json()["code"] == "out_of_range"
        assert not Consent.objects.exists()
