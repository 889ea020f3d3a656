"""Figures are current: what was committed before an answer is counted in
it (issue 22.8: six cases registered, then `cases: 0` for a minute), and the
answer says as of when (``as_of``, ``Last-Modified``)."""
import datetime

import pytest
from django.utils import timezone
from django.utils.http import parse_http_date

from cases.models import Handoff
from cases.services.handoffs import handoff_accept, handoff_create
from figures import rollup
from figures.models import RollupState
from tests.cases.conftest import case_body, member
from tests.committee.factories import MeetingFactory
from tests.factories import CaseFactory, ConsentFactory, HandoffFactory
from tests.openapi import published_schema

CASES = "/api/v1/statistics/cases/"
HANDOFFS = "/api/v1/statistics/handoffs/"

pytestmark = pytest.mark.django_db


def _register(client, count, border_point):
    for index in range(count):
        body = case_body(border_point=border_point, members=[member(document_number=f"T-{border_point}-{index}")])
        assert client.post("/api/v1/cases/", body, format="json").status_code == 201


class TestTheLiveEdge:
    def test_cases_registered_just_now_are_counted(self, client_for, pe_caseworker, secretariat, pe_agency):
        """Ten cases registered through the API after the last refresh: counted by the next answer, before
        any refresh, and the answer is as of after their registration."""
        CaseFactory.create_batch(20, owner_agency=pe_agency, border_point="arica_city")
        rollup.refresh()
        assert client_for(secretariat).get(CASES, {"group_by": "border_point"}).json()["rows"][1]["cases"] == 0
        _register(client_for(pe_caseworker), 10, "tacna_city")
        registered = timezone.now()

        response = client_for(secretariat).get(CASES, {"group_by": "border_point"})
        body = response.json()
        rows = {row["border_point"]: row for row in body["rows"]}
        assert rows["tacna_city"]["cases"] == 10 and rows["tacna_city"]["people"] == 10
        assert body["total"]["cases"] == 30
        as_of = datetime.datetime.fromisoformat(body["as_of"])
        assert as_of >= registered
        assert parse_http_date(response["Last-Modified"]) == int(as_of.timestamp())
        assert rollup.rollup_version().events_since == 10  # counted live: the rollup has not taken them
        # The same answer once the refresh has taken them, and the same as the cases themselves give.
        rollup.refresh()
        assert client_for(secretariat).get(CASES, {"group_by": "border_point"}).json()["rows"] == body["rows"]
        RollupState.objects.all().delete()
        assert client_for(secretariat).get(CASES, {"group_by": "border_point"}).json()["rows"] == body["rows"]

    def test_a_cached_answer_is_not_served_after_a_change(self, client_for, pe_caseworker, secretariat, pe_agency):
        """The cache is keyed by the events since the refresh too: a registration makes a new answer."""
        CaseFactory.create_batch(10, owner_agency=pe_agency, border_point="tacna_city")
        rollup.refresh()
        client = client_for(secretariat)
        first = client.get(CASES, {"border_point": "tacna_city"}).json()
        assert client.get(CASES, {"border_point": "tacna_city"}).json() == first  # the cached answer
        _register(client_for(pe_caseworker), 5, "tacna_city")
        again = client.get(CASES, {"border_point": "tacna_city"}).json()
        assert first["total"]["cases"] == 10 and again["total"]["cases"] == 15
        assert again["as_of"] > first["as_of"]

    def test_a_handoff_answered_since_the_refresh_changes_everyones_response_times(
            self, client_for, secretariat, pe_caseworker, cl_caseworker, pe_agency, cl_agency):
        """Everyone's all-time medians are computed by the refresh; one answered after it is counted at once."""
        hours = datetime.timedelta(hours=1)
        for after in (2, 4, 6, 8, 10):
            handoff = HandoffFactory(case=CaseFactory(owner_agency=cl_agency), kind="referral",
                                     to_agency=pe_agency, status="rejected", rejection_reason="no_capacity")
            Handoff.objects.filter(pk=handoff.pk).update(responded_at=handoff.created_at + after * hours)
        rollup.refresh()
        before = client_for(secretariat).get(HANDOFFS).json()["total"]
        assert before["median_response_hours"] == 6.0 and before["handoffs"] == 5

        case = CaseFactory(owner_agency=pe_agency)
        ConsentFactory(case=case)
        referral = handoff_create(actor=pe_caseworker, case_id=case.pk, to_agency=cl_agency.code,
                                  kind="referral", reason="Atención psicológica",
                                  services_requested="Apoyo psicológico", legal_basis="consent")
        Handoff.objects.filter(pk=referral.pk).update(created_at=timezone.now() - 30 * hours)
        handoff_accept(actor=cl_caseworker, handoff_id=referral.pk)
        assert rollup.rollup_version().handoff_events_since == 2

        after = client_for(secretariat).get(HANDOFFS).json()["total"]
        assert after["median_response_hours"] == 7.0  # 2, 4, 6, 8, 10, 30
        RollupState.objects.all().delete()
        assert client_for(secretariat).get(HANDOFFS).json()["total"] == after


def test_the_schema_declares_as_of_and_last_modified():
    """`as_of` in both answers' schema, `Last-Modified` among their response headers."""
    schema = published_schema()
    for path in (CASES, HANDOFFS):
        answer = schema["paths"][path]["get"]["responses"]["200"]
        assert "Last-Modified" in answer["headers"]
        reference = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        component = schema["components"]["schemas"][reference]
        assert component["properties"]["as_of"]["format"] == "date-time" and "as_of" in component["required"]


def test_the_situation_report_says_when_it_was_counted(client_for, secretariat, db):
    """The report's JSON carries `counted_at`, and each of its answers its `as_of`."""
    meeting = MeetingFactory(starts_at=timezone.now() + datetime.timedelta(days=1))
    started = timezone.now()
    body = client_for(secretariat).get(f"/api/v1/meetings/{meeting.pk}/situation-report/").json()
    counted_at = datetime.datetime.fromisoformat(body["counted_at"])
    assert counted_at >= started
    assert all(datetime.datetime.fromisoformat(answer["as_of"]) >= counted_at
               for part in ("period", "cumulative") for answer in body[part].values())
