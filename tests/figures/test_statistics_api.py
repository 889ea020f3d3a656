"""GET /api/v1/statistics/cases/ and /handoffs/ on a known dataset.

The dataset (conftest): Peru owns 12 cases at Chacalluta (3 people each, 4
families with children), 3 at Tacna city (2 people each), 8 closed at Arica
(1 each); Chile owns 20 at Arica (2 each, 6 unaccompanied minors) and 1
closed elsewhere (1 person). Chile collaborates on 2 of Peru's Chacalluta
cases (accepted referrals); 5 more referrals Peru → Chile are pending, 2 of
them overdue; Chile sent Peru 6 referrals, all rejected.
"""
import datetime

import jsonschema
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Case
from cases.roles import Role
from tests.factories import CaseFactory, CaseMemberFactory, UserFactory
from tests.openapi import published_schema

CASES = "/api/v1/statistics/cases/"
HANDOFFS = "/api/v1/statistics/handoffs/"

pytestmark = pytest.mark.django_db


def _rows(body, dimension):
    return {row[dimension]: row for row in body["rows"]}


class TestCaseCounts:
    def test_it_counts_every_agency_for_the_secretariat(self, client_for, secretariat, dataset):
        """All 44 cases and 91 people (shown rounded down to 40 and 90); Tacna (3) and other (1) hidden,
        and together they hide nothing."""
        response = client_for(secretariat).get(CASES, {"group_by": "border_point"})
        assert response.status_code == 200
        body = response.json()
        assert body["scope"] == "all" and body["group_by"] == ["border_point"] and body["threshold"] == 5
        assert body["rounding"] == 5
        assert body["total"] == {"cases": 40, "people": 90, "suppressed": False}
        rows = _rows(body, "border_point")
        assert list(rows) == ["chacalluta_santa_rosa", "tacna_city", "arica_city", "other"]
        assert rows["chacalluta_santa_rosa"] | {} == {
            "border_point": "chacalluta_santa_rosa", "border_point_label": "Chacalluta–Santa Rosa",
            "cases": 10, "people": 35, "suppressed": False}
        assert rows["arica_city"]["cases"] == 25 and rows["arica_city"]["people"] == 45
        for hidden in ("tacna_city", "other"):
            assert rows[hidden]["cases"] is None and rows[hidden]["people"] is None and rows[hidden]["suppressed"]
        assert Case.objects.count() == 44  # a read writes nothing

    def test_a_caseworker_sees_its_own_agency_with_secondary_suppression(self, client_for, pe_caseworker, dataset):
        """Peru: Tacna (3) is the only small cell, so the next smallest (Arica, 8) is hidden too; zero stays zero."""
        body = client_for(pe_caseworker).get(CASES, {"group_by": "border_point"}).json()
        assert body["scope"] == "agency"
        assert body["total"] == {"cases": 20, "people": 50, "suppressed": False}  # 23 and 50
        rows = _rows(body, "border_point")
        assert rows["chacalluta_santa_rosa"]["cases"] == 10  # 12
        assert rows["tacna_city"]["cases"] is None and rows["arica_city"]["cases"] is None
        assert rows["arica_city"]["suppressed"] is True
        assert rows["other"] == {"border_point": "other", "border_point_label": "Otro", "cases": 0, "people": 0,
                                 "suppressed": False}

    def test_collaborated_cases_count_for_the_collaborator(self, client_for, cl_caseworker, dataset):
        """Chile: its 21 cases plus the 2 it collaborates on."""
        body = client_for(cl_caseworker).get(CASES, {"group_by": "border_point"}).json()
        assert body["total"] == {"cases": 20, "people": 45, "suppressed": False}  # 23 and 47
        rows = _rows(body, "border_point")
        assert rows["arica_city"]["cases"] == 20 and rows["tacna_city"]["cases"] == 0
        assert rows["chacalluta_santa_rosa"]["cases"] is None and rows["other"]["cases"] is None

    def test_a_case_counts_under_each_of_its_vulnerabilities(self, client_for, secretariat, dataset):
        """Families with children 4 (hidden), unaccompanied minors 6; the others zero."""
        body = client_for(secretariat).get(CASES, {"group_by": "vulnerability"}).json()
        rows = _rows(body, "vulnerability")
        assert len(rows) == 9
        assert rows["unaccompanied_minor"]["cases"] is None  # secondary: else 4 would be total − … no, by line
        assert rows["family_with_children"]["cases"] is None
        assert rows["pregnancy"]["cases"] == 0
        assert body["total"]["cases"] == 40  # 44

    def test_two_dimensions_and_filters(self, client_for, secretariat, dataset):
        """Open cases by border point and owner country."""
        body = client_for(secretariat).get(CASES, {"group_by": ["owner_country", "border_point"],
                                                   "status": "open"}).json()
        cells = {(row["owner_country"], row["border_point"]): row for row in body["rows"]}
        assert len(cells) == 3 * 4
        assert cells[("CL", "arica_city")]["cases"] == 20 and cells[("CL", "arica_city")]["people"] == 40
        # Peru's 3 at Tacna: the answer by owner country shows Peru's 15 open cases, so the 12
        # beside them in the same line is hidden as well.
        assert cells[("PE", "tacna_city")]["cases"] is None
        assert cells[("PE", "chacalluta_santa_rosa")]["cases"] is None
        assert cells[("INT", "other")]["cases"] == 0
        assert cells[("PE", "chacalluta_santa_rosa")]["owner_country_label"] == "Perú"
        assert cells[("PE", "arica_city")] | {} == {
            "owner_country": "PE", "owner_country_label": "Perú", "border_point": "arica_city",
            "border_point_label": "Ciudad de Arica", "cases": 0, "people": 0, "suppressed": False}
        assert body["total"] == {"cases": 35, "people": 80, "suppressed": False}  # 35 and 82

    def test_owner_agency_is_labelled_with_its_name(self, client_for, secretariat, dataset):
        """Agencies are keyed by code and labelled by name."""
        rows = _rows(client_for(secretariat).get(CASES, {"group_by": "owner_agency"}).json(), "owner_agency")
        assert rows["cl-sermig"] == {"owner_agency": "cl-sermig", "owner_agency_label": "Servicio Nacional de "
                                     "Migraciones", "cases": 20, "people": 40, "suppressed": False}  # 21 and 41

    def test_labels_follow_the_language_of_the_caller(self, client_for, secretariat, dataset):
        """Accept-Language: en gives English labels."""
        body = client_for(secretariat, HTTP_ACCEPT_LANGUAGE="en").get(CASES, {"group_by": "status"}).json()
        assert {row["status_label"] for row in body["rows"]} == {"Open", "Closed"}

    def test_nationality_counts_people(self, client_for, secretariat, pe_agency):
        """Six Venezuelans on two cases and one Colombian: people by nationality."""
        first, second = CaseFactory(owner_agency=pe_agency), CaseFactory(owner_agency=pe_agency)
        for case in (first, first, first, second, second, second):
            CaseMemberFactory(case=case, relationship="other", person__nationality="VE")
        CaseMemberFactory(case=second, relationship="other", person__nationality="CO")
        body = client_for(secretariat).get(CASES, {"group_by": "nationality"}).json()
        rows = _rows(body, "nationality")
        assert rows["VE"]["people"] is None  # two cases: hidden
        assert rows["VE"]["nationality_label"] == "Venezuela"
        assert body["total"] == {"cases": None, "people": None, "suppressed": True}  # a row is hidden whole

    def test_weeks_are_the_committees(self, client_for, secretariat, pe_agency):
        """Sunday 22:00 in Lima is Monday 03:00 UTC: the case belongs to the Lima week that began the Monday before."""
        cases = [CaseFactory(owner_agency=pe_agency) for _ in range(6)]
        sunday_night = datetime.datetime(2026, 3, 2, 3, 0, tzinfo=datetime.UTC)
        Case.objects.filter(pk__in=[c.pk for c in cases]).update(created_at=sunday_night)
        body = client_for(secretariat).get(CASES, {"group_by": ["registered_week"]}).json()
        assert [row["registered_week"] for row in body["rows"]] == ["2026-02-23"]
        body = client_for(secretariat).get(CASES, {"group_by": ["registered_month"],
                                                   "registered_from": "2026-03-01"}).json()
        assert [(row["registered_month"], row["cases"]) for row in body["rows"]] == [("2026-03", 5)]  # 6
        body = client_for(secretariat).get(CASES, {"registered_from": "2026-03-02"}).json()
        assert body["total"]["cases"] == 0


class TestHandoffCounts:
    def test_counts_pending_overdue_and_response_times(self, client_for, secretariat, dataset):
        """Peru → Chile 7 (5 pending, 2 overdue, 2 answers: no median); Chile → Peru 6 answered; counts shown
        rounded down to a multiple of 5."""
        body = client_for(secretariat).get(HANDOFFS, {"group_by": "from_country"}).json()
        rows = _rows(body, "from_country")
        assert rows["PE"] | {} == {"from_country": "PE", "from_country_label": "Perú", "handoffs": 5, "pending": 5,
                                   "overdue": None, "suppressed": True, "median_response_hours": None,
                                   "p90_response_hours": None}
        assert rows["CL"]["handoffs"] == 5 and rows["CL"]["pending"] == 0 and rows["CL"]["overdue"] == 0
        assert rows["CL"]["median_response_hours"] == 9.0 and rows["CL"]["p90_response_hours"] == 16.0
        assert body["total"] == {"handoffs": 10, "pending": 5, "overdue": None, "suppressed": True,
                                 "median_response_hours": 10.0, "p90_response_hours": 14.4}

    def test_a_caseworker_sees_the_handoffs_its_agency_sent_or_received(self, client_for, outsider, dataset):
        """An agency with no handoffs: zeros, nothing else."""
        body = client_for(outsider).get(HANDOFFS, {"group_by": "kind"}).json()
        assert body["scope"] == "agency"
        assert body["total"]["handoffs"] == 0
        assert all(row["handoffs"] == 0 for row in body["rows"])

    def test_by_status_pending_and_handoffs_are_hidden_together(self, client_for, secretariat, dataset):
        """Grouped by status, the pending row's handoffs are its pending ones: same pattern."""
        rows = _rows(client_for(secretariat).get(HANDOFFS, {"group_by": "status"}).json(), "status")
        for row in rows.values():
            assert (row["handoffs"] is None) == (row["pending"] is None)
        assert rows["accepted"]["handoffs"] is None  # 2


class TestScope:
    @pytest.mark.parametrize("url", [CASES, HANDOFFS])
    def test_committee_members_see_everything(self, client_for, committee_member, dataset, url):
        """Committee members: scope all."""
        assert client_for(committee_member).get(url).json()["scope"] == "all"

    @pytest.mark.parametrize("url", [CASES, HANDOFFS])
    def test_anyone_else_is_refused(self, client_for, db, url):
        """A user with no role, or a caseworker without an agency: 403 problem."""
        for user in (UserFactory(username="nobody"), UserFactory(username="lost", roles=[Role.CASEWORKER])):
            response = client_for(user).get(url)
            assert response.status_code == 403
            assert response["Content-Type"] == "application/problem+json"

    @pytest.mark.parametrize("url", [CASES, HANDOFFS])
    def test_anonymous_callers_must_authenticate(self, api_client, url):
        """No token: 401."""
        assert api_client.get(url).status_code == 401


class TestBadParameters:
    @pytest.mark.parametrize(("params", "field"), [
        ({"group_by": "shoe_size"}, "group_by"),
        ({"group_by": ["status", "priority", "border_point"]}, "group_by"),
        ({"group_by": ["status", "status"]}, "group_by"),
        ({"registered_from": "yesterday"}, "registered_from"),
        ({"status": "lost"}, "status"),
        ({"vulnerability": "tall"}, "vulnerability"),
        ({"border_point": "callao"}, "border_point"),
        ({"bordr_point": "tacna_city"}, "bordr_point"),
        ({"status": ["open", "closed"]}, "status"),
    ])
    def test_cases_name_the_bad_parameter(self, client_for, secretariat, params, field):
        """400 problem+json whose errors name the parameter."""
        response = client_for(secretariat).get(CASES, params)
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        assert [error["field"] for error in response.json()["errors"]] == [field]

    @pytest.mark.parametrize(("params", "field"), [
        ({"group_by": "border_point"}, "group_by"),
        ({"created_from": "2026-13-01"}, "created_from"),
    ])
    def test_handoffs_name_the_bad_parameter(self, client_for, secretariat, params, field):
        """400 problem+json whose errors name the parameter."""
        response = client_for(secretariat).get(HANDOFFS, params)
        assert response.status_code == 400
        assert [error["field"] for error in response.json()["errors"]] == [field]


class TestInvertedWindows:
    @pytest.mark.parametrize(("path", "params", "field"), [
        (CASES, {"registered_from": "2026-03-02", "registered_to": "2026-03-01"}, "registered_to"),
        (HANDOFFS, {"created_from": "2026-03-02", "created_to": "2026-03-01"}, "created_to"),
    ])
    def test_a_window_ending_before_it_starts_is_a_422_naming_its_end(self, client_for, secretariat, path,
                                                                        params, field):
        """Each date fits the schema alone: the refusal is a rule's (422), not the schema's (400)."""
        response = client_for(secretariat).get(path, params)
        assert "422" in published_schema()["paths"][path]["get"]["responses"]  # documented
        assert response.status_code == 422 and response["Content-Type"] == "application/problem+json"
        assert response.json()["errors"] == [{"field": field, "code": "invalid_range",
                                              "message": f"No puede ser anterior a {field.replace('_to', '_from')}."}]

    @pytest.mark.parametrize("path", [CASES, HANDOFFS])
    def test_a_one_day_window_is_answered(self, client_for, secretariat, path):
        day = {"registered_from": "2026-03-01", "registered_to": "2026-03-01"} if path == CASES else {
            "created_from": "2026-03-01", "created_to": "2026-03-01"}
        assert client_for(secretariat).get(path, day).status_code == 200


class TestPublishedGroupBy:
    @pytest.mark.parametrize("path", [CASES, HANDOFFS])
    def test_the_schema_states_the_group_by_rule_the_server_applies(self, client_for, secretariat, path):
        """What the schema accepts is answered, what it refuses is a 400: each dimension once, two at most."""
        operation = published_schema()["paths"][path]["get"]
        schema = next(p["schema"] for p in operation["parameters"] if p["name"] == "group_by")
        dimensions = schema["items"]["enum"]
        client = client_for(secretariat)
        for group_by in (dimensions[:1], dimensions[:2], dimensions[:3], [dimensions[0], dimensions[0]]):
            published = jsonschema.Draft7Validator(schema).is_valid(group_by)
            status = client.get(path, {"group_by": group_by}).status_code
            assert status == (200 if published else 400), (group_by, status)


DATA_TABLES = ("cases_case", "cases_handoff", "figures_caserollup", "figures_casenationalityrollup",
               "figures_handoffrollup")


class TestQueryCounts:
    # (live, rollup): from the rollup, a handoff answer and its total are one query (grouping sets).
    @pytest.mark.parametrize(("url", "params", "expected"), [
        (CASES, {"group_by": ["border_point", "vulnerability"]}, (1, 1)),
        (CASES, {"group_by": ["owner_agency"]}, (1, 1)),
        (CASES, {"group_by": ["nationality"]}, (2, 2)),
        (CASES, {"group_by": ["registered_week"], "registered_from": "2026-01-07"}, (1, 1)),
        (CASES, {}, (1, 1)),
        (HANDOFFS, {"group_by": ["from_agency", "kind"]}, (2, 1)),
    ])
    def test_one_query_for_the_figures(self, client_for, secretariat, dataset, url, params, expected):
        """Figures take one grouped query (two where the total cannot be added up), whatever the data."""
        client = client_for(secretariat)
        client.get(url, params)  # warm: authentication and roles
        cache.clear()  # but not the answer
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, params).status_code == 200
        figures = [q for q in queries.captured_queries if any(table in q["sql"] for table in DATA_TABLES)]
        assert len(figures) == expected[dataset["source"] == "rollup"], [q["sql"] for q in figures]


class TestAcrossAnswers:
    def test_all_minus_open_does_not_give_the_closed_cases_away(self, client_for, pe_caseworker, pe_agency):
        """Issue 27.2: 23 cases, 21 open, 2 closed. Both totals are shown as 20, the closed ones hidden:
        the difference tells nothing about them."""
        CaseFactory.create_batch(21, owner_agency=pe_agency, member_count=1)
        CaseFactory.create_batch(2, owner_agency=pe_agency, member_count=1, status="closed",
                                 closure_reason="resolved")
        client = client_for(pe_caseworker)
        everything = client.get(CASES).json()["total"]
        opened = client.get(CASES, {"status": "open"}).json()["total"]
        closed = client.get(CASES, {"status": "closed"}).json()["total"]
        assert everything["cases"] == opened["cases"] == 20
        assert closed == {"cases": None, "people": None, "suppressed": True}
        # Within one answer, secondary suppression: 21 beside the total would give the 2 away.
        by_status = client.get(CASES, {"group_by": "status"}).json()
        assert [row["cases"] for row in by_status["rows"]] == [None, None] and by_status["total"]["cases"] == 20
