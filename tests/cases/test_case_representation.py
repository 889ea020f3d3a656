"""The case list builds its pages from plain rows (``cases_representation``);
the serializers are the contract. Both must give the same JSON, key for key
and byte for byte, whatever the data and whoever reads it."""
import datetime
import json

import pytest
from django.db.models import prefetch_related_objects
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from cases.api.case_serializers import (
    CaseAnySerializer,
    CaseCreatedSerializer,
    CaseCreateSerializer,
    case_created_representation,
    case_rows,
    cases_representation,
)
from cases.api.case_views import MEMBERS
from cases.models import Case, CaseMember
from cases.roles import Role
from cases.selectors import cases_visible_to
from cases.services.casework import case_create
from tests.factories import CaseMemberFactory, HandoffFactory, PersonFactory, UserFactory, case_with_family

UTC = datetime.UTC


def by_serializer(user) -> list:
    cases = list(cases_visible_to(user).select_related("owner_agency", "assigned_to").order_by("reference"))
    prefetch_related_objects(cases, MEMBERS)
    return CaseAnySerializer(cases, many=True).data


def by_rows(user) -> list:
    return cases_representation(list(case_rows(cases_visible_to(user).order_by("reference"))))


def assert_same(user):
    expected, got = by_serializer(user), by_rows(user)
    assert len(got) == len(expected) > 0
    for want, have in zip(expected, got, strict=True):
        # Field by field, in order: a difference names its field.
        assert list(have) == list(want)
        for name in want:
            assert have[name] == want[name], (want["reference"], name)
            assert type(have[name]) is type(want[name]) or want[name] is None, (want["reference"], name)
    # And the bytes a client receives.
    assert JSONRenderer().render(got) == JSONRenderer().render(expected)
    return got


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
class TestCasesRepresentation:
    def test_it_matches_the_serializers_for_an_agency(self, varied, pe_caseworker):
        """Owner, collaborator and limited views of one caller."""
        got = assert_same(pe_caseworker)
        assert {row["access"] for row in got} == {"owner", "collaborator", "limited"}
        assert any(row.get("members") == [] for row in got)
        anonymised = next(row for row in got if row.get("anonymised_at"))
        assert {member["given_names"] for member in anonymised["members"]} == {"", "—"}
        limited = next(row for row in got if row["access"] == "limited")
        assert "members" not in limited and "summary" not in limited

    def test_it_matches_the_serializers_for_the_secretariat(self, varied, secretariat):
        got = assert_same(secretariat)
        assert {row["access"] for row in got} == {"oversight"}
        assert any(row["closed_at"] == "2026-03-01T10:00:00-05:00" for row in got)

    @pytest.mark.parametrize("zone", ["UTC", "America/Santiago"])
    def test_it_writes_times_in_the_current_zone_as_drf_does(self, varied, secretariat, zone):
        """UTC comes out as "Z", other zones with their offset."""
        with timezone.override(zone):
            got = assert_same(secretariat)
        if zone == "UTC":
            assert any(row["closed_at"] == "2026-03-01T15:00:00Z" for row in got)

    def test_the_list_endpoint_sends_the_serializers_json(self, varied, pe_caseworker, client_for):
        body = client_for(pe_caseworker).get("/api/v1/cases/", {"ordering": "reference"}).content
        results = json.loads(body)["results"]
        assert results == json.loads(JSONRenderer().render(by_serializer(pe_caseworker)))

    def test_a_user_without_cases_gets_nothing(self, varied):
        stranger = UserFactory(username="nadie")
        assert by_rows(stranger) == [] and CaseMember.objects.exists()


def created(actor, body):
    serializer = CaseCreateSerializer(data=body)
    serializer.is_valid(raise_exception=True)
    return case_create(actor=actor, **serializer.validated_data)


def assert_same_created(case):
    want, have = CaseCreatedSerializer(case).data, case_created_representation(case)
    assert list(have) == list(want)
    for name in want:
        assert have[name] == want[name], name
        assert type(have[name]) is type(want[name]) or want[name] is None, name
    for want_member, have_member in zip(want["members"], have["members"], strict=True):
        assert list(have_member) == list(want_member)
        for name in want_member:
            assert type(have_member[name]) is type(want_member[name]) or want_member[name] is None, name
    assert JSONRenderer().render(have) == JSONRenderer().render(want)


@pytest.mark.django_db
class TestCreatedRepresentation:
    """A creation's answer is built from the objects in hand
    (``case_created_representation``), as ``CaseCreatedSerializer`` would."""

    @pytest.mark.parametrize("zone", ["UTC", "America/Santiago"])
    def test_it_matches_the_serializer(self, pe_caseworker, pe_agency, zone):
        colleague = UserFactory(agency=pe_agency, roles=[Role.CASEWORKER])
        earlier = created(pe_caseworker, {"members": [
            {"relationship": "head", "given_names": "Yusmary", "family_names": "Pérez", "document_type": "passport",
             "document_country": "VE", "document_number": "P-7701234"}]})
        body = {
            "summary": "Familia varada en Chacalluta.", "priority": "urgent", "border_point": "chacalluta_santa_rosa",
            "vulnerabilities": ["pregnancy", "unaccompanied_minor"], "assigned_to": colleague.username,
            "members": [
                {"relationship": "head", "given_names": "José Luis", "family_names": "Rojas", "sex": "male",
                 "date_of_birth": "1988-02-29", "nationality": "VE", "document_type": "national_id",
                 "document_country": "VE", "document_number": "V-12.345.678", "phone": "+51 952 000 111",
                 "languages": ["es", "wayuunaiki"]},
                {"relationship": "spouse", "given_names": "Yusmary", "family_names": "Pérez",
                 "document_type": "passport", "document_country": "VE", "document_number": "P-7701234"},
                {"relationship": "child", "given_names": "Sofía", "family_names": "Rojas Pérez",
                 "date_of_birth": "2021-06-01", "date_of_birth_is_estimate": True},
                {"relationship": "relative", "person": str(earlier.created_memberships[0].person_id)},
            ],
        }
        with timezone.override(zone):
            case = created(pe_caseworker, {**body, "members": body["members"][:3]})
            assert any(getattr(m, "matched_existing", False) for m in case.created_memberships)
            assert_same_created(case)
            assert_same_created(earlier)

    def test_the_create_endpoint_sends_it(self, client_for, pe_caseworker):
        response = client_for(pe_caseworker).post("/api/v1/cases/", {"members": [
            {"relationship": "head", "given_names": "Luis", "family_names": "Silva"}]}, format="json")
        assert response.status_code == 201, response.content
        case = Case.objects.get(pk=response.json()["id"])
        assert response.json()["reference"] == case.reference
        assert response.json()["members"][0]["given_names"] == "Luis"
        assert response.json()["members"][0]["matched_existing"] is False
