"""A case has one renderer (``cases_representation``) for every answer that
carries it: list, detail, creation, change, close and reopen. The
serializers are the schema only; these tests hold the renderer to the
published schema on varied data, and every answer to the detail read."""
import datetime

import pytest
from django.utils import timezone

from cases.api.case_serializers import (
    CaseAnySerializer,
    CaseCreatedSerializer,
    CaseLimitedSerializer,
    CaseSerializer,
    MemberSerializer,
    case_rows,
    cases_representation,
)
from cases.models import Case, CaseAccessLog, CaseMember
from cases.selectors import cases_visible_to
from tests.factories import CaseMemberFactory, HandoffFactory, PersonFactory, UserFactory, case_with_family
from tests.openapi import conforms

UTC = datetime.UTC


def rendered(user) -> list:
    return cases_representation(list(case_rows(cases_visible_to(user).order_by("reference"))))


def assert_conforms(cases):
    for case in cases:
        component = "CaseLimited" if case["access"] == "limited" else "Case"
        assert conforms(component, case) and conforms("CaseAnyAccess", case), case["reference"]
        for member in case.get("members", []):
            assert conforms("Member", member), case["reference"]


@pytest.fixture
def varied(pe_agency, cl_agency, int_agency, pe_caseworker):
    """Cases of every shape: open and closed, assigned or not, with and
    without dates of birth, documents, languages and vulnerabilities, an
    anonymised case whose person lives on elsewhere, several members."""
    plain = case_with_family(pe_agency, children=2, priority="urgent", vulnerable_pregnancy=True,
                             vulnerable_gbv_risk=True, assigned_to=pe_caseworker)
    head = plain.memberships.get(relationship="head").person
    head.date_of_birth, head.languages, head.nationality, head.document_country = None, ["es", "qu"], "", ""
    head.document_type, head.document_number, head.phone = "none", "", ""
    head.save()

    closed = case_with_family(pe_agency, children=0, summary="Cerrado — «resuelto».\n\u2028línea")
    Case.objects.filter(pk=closed.pk).update(
        status="closed", closure_reason="resolved", closure_note="Se reunió con su familia.",
        closed_at=datetime.datetime(2026, 3, 1, 15, 0, tzinfo=UTC),  # no microseconds, UTC
        created_at=datetime.datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))

    anonymised = case_with_family(pe_agency, children=1)
    living_on = anonymised.memberships.get(relationship="head").person
    CaseMemberFactory(case=case_with_family(cl_agency, children=0), person=living_on, relationship="spouse")
    gone = anonymised.memberships.get(relationship="child").person
    gone.anonymised_at = timezone.now()
    gone.given_names, gone.family_names, gone.document_number = "—", "", ""
    gone.save()
    Case.objects.filter(pk=anonymised.pk).update(anonymised_at=timezone.now(), summary="")

    empty = Case.objects.create(reference="TC-2026-900001", owner_agency=pe_agency, priority="low",
                                border_point="other")  # no members yet

    # Seen by the Peruvian agency with limited access (a pending transfer to it) and as a collaborator.
    limited = case_with_family(cl_agency, children=1, vulnerable_unaccompanied_minor=True)
    HandoffFactory(case=limited, kind="transfer", to_agency=pe_agency, status="pending")
    referred = case_with_family(int_agency, children=0)
    HandoffFactory(case=referred, kind="referral", to_agency=pe_agency, status="accepted")
    CaseMemberFactory(case=referred, person=PersonFactory(created_by_agency=int_agency, sex="unknown",
                                                          date_of_birth_is_estimate=True),
                      relationship="other")
    return [plain, closed, anonymised, empty, limited, referred]


@pytest.mark.django_db
class TestOneRenderer:
    def test_the_serializers_render_nothing(self, varied):
        """They are the schema: a path that used one to answer would fail here, not drift."""
        case = varied[0]
        for serializer in (CaseSerializer, CaseLimitedSerializer, CaseCreatedSerializer, CaseAnySerializer):
            with pytest.raises(NotImplementedError):
                serializer(case).data  # noqa: B018
        with pytest.raises(NotImplementedError):
            MemberSerializer(case.memberships.first()).data  # noqa: B018

    def test_it_gives_the_published_shapes_for_an_agency(self, varied, pe_caseworker):
        """Owner, collaborator and limited views of one caller."""
        got = rendered(pe_caseworker)
        assert_conforms(got)
        assert {row["access"] for row in got} == {"owner", "collaborator", "limited"}
        assert any(row.get("members") == [] for row in got)
        anonymised = next(row for row in got if row.get("anonymised_at"))
        assert {member["given_names"] for member in anonymised["members"]} == {"", "—"}
        limited = next(row for row in got if row["access"] == "limited")
        assert list(limited) == list(CaseLimitedSerializer.Meta.fields)

    @pytest.mark.parametrize("zone", ["UTC", "America/Santiago", "America/Lima"])
    def test_it_writes_times_in_the_current_zone_as_drf_does(self, varied, secretariat, zone):
        """UTC comes out as "Z", other zones with their offset."""
        with timezone.override(zone):
            got = rendered(secretariat)
        assert_conforms(got)
        expected = {"UTC": "2026-03-01T15:00:00Z", "America/Santiago": "2026-03-01T12:00:00-03:00",
                    "America/Lima": "2026-03-01T10:00:00-05:00"}[zone]
        assert any(row["closed_at"] == expected for row in got)

    def test_a_user_without_cases_gets_nothing(self, varied):
        stranger = UserFactory(username="nadie")
        assert rendered(stranger) == [] and CaseMember.objects.exists()


def detail(client, case_id):
    response = client.get(f"/api/v1/cases/{case_id}/")
    assert response.status_code == 200
    return response


@pytest.mark.django_db
class TestEveryAnswerIsTheDetailRead:
    """Whatever answer carries a case, its body and tag are those of reading it."""

    def test_the_list_and_the_detail_agree(self, varied, pe_caseworker, client_for):
        client = client_for(pe_caseworker)
        for case in client.get("/api/v1/cases/", {"ordering": "reference"}).json()["results"]:
            assert detail(client, case["id"]).json() == case

    def test_creation_change_close_and_reopen_answer_as_the_read(self, client_for, pe_caseworker, pe_agency):
        client = client_for(pe_caseworker)
        colleague = UserFactory(agency=pe_agency, roles=["caseworker"])
        created = client.post("/api/v1/cases/", {
            "summary": "Familia varada en Chacalluta.", "priority": "urgent", "vulnerabilities": ["pregnancy"],
            "assigned_to": colleague.username, "members": [
                {"relationship": "head", "given_names": "José Luis", "family_names": "Rojas", "sex": "male",
                 "date_of_birth": "1988-02-29", "nationality": "VE", "document_type": "national_id",
                 "document_country": "VE", "document_number": "V-12.345.678", "languages": ["es", "wayuunaiki"]},
                {"relationship": "child", "given_names": "Sofía", "date_of_birth": "2021-06-01",
                 "date_of_birth_is_estimate": True}]}, format="json")
        assert created.status_code == 201, created.content
        body = created.json()
        assert conforms("CaseCreated", body)
        assert [member.pop("matched_existing") for member in body["members"]] == [False, False]
        read = detail(client, body["id"])
        assert body == read.json() and created["ETag"] == read["ETag"]

        case_id = body["id"]
        for method, path, payload in (
                ("patch", "", {"priority": "low", "summary": "Actualizado."}),
                ("post", "close/", {"reason": "resolved", "note": "Reunidos."}),
                ("post", "reopen/", {})):
            answer = getattr(client, method)(f"/api/v1/cases/{case_id}/{path}", payload, format="json")
            assert answer.status_code == 200, answer.content
            read = detail(client, case_id)
            assert answer.json() == read.json() and answer["ETag"] == read["ETag"], path
        assert Case.objects.get(pk=case_id).priority == "low"

    def test_a_changes_answer_is_logged_as_a_read(self, client_for, pe_caseworker, pe_agency):
        """The answer to a change shows the family in full: it is a full read like any other."""
        case = case_with_family(pe_agency, children=1)
        response = client_for(pe_caseworker).patch(f"/api/v1/cases/{case.pk}/", {"priority": "high"}, format="json")
        assert response.status_code == 200
        assert CaseAccessLog.objects.filter(case=case, user=pe_caseworker, access="owner").count() == 1

    def test_the_members_endpoints_render_members_as_the_case_does(self, varied, pe_caseworker, client_for):
        client = client_for(pe_caseworker)
        for case in varied:
            body = detail(client, case.pk).json()
            if "members" not in body:
                continue
            members = client.get(f"/api/v1/cases/{case.pk}/members/").json()["results"]
            assert members == body["members"], case.reference
