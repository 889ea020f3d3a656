"""The response check of tests/schema_conformance.py: it is on for the whole
suite and refuses what a strict client would refuse."""
import pytest
from django.http import HttpResponse, JsonResponse
from django.test import client as django_client

from api_core.exceptions import PROBLEM_CONTENT_TYPE
from tests import schema_conformance
from tests.committee.factories import ActionItemFactory

pytestmark = pytest.mark.django_db


def test_every_test_client_request_is_checked():
    assert django_client.Client.request is schema_conformance._checked_request


def test_an_answer_the_schema_allows_passes():
    problem = JsonResponse({"type": "urn:puente:problem:not_found", "title": "Not found", "status": 404,
                            "detail": "Not found.", "code": "not_found"}, status=404,
                           content_type=PROBLEM_CONTENT_TYPE)
    assert schema_conformance.check("GET", "/api/v1/cases/00000000-0000-0000-0000-000000000000/", problem) == []


def test_a_body_the_schema_refuses_is_reported():
    assert schema_conformance.check("GET", "/api/v1/me/", JsonResponse({"username": 7})) != []


def test_a_status_the_schema_does_not_list_is_reported():
    assert schema_conformance.check("GET", "/api/v1/me/", JsonResponse({}, status=418)) != []


def test_a_media_type_the_schema_does_not_list_is_reported():
    answer = HttpResponse(b"<p>hola</p>", content_type="application/json", status=200)
    answer["Content-Type"] = "text/html"
    assert schema_conformance.check("GET", "/api/v1/me/", answer) != []


def test_a_retry_after_that_is_not_a_number_is_reported():
    problem = JsonResponse({"type": "urn:puente:problem:throttled", "title": "Too many", "status": 429,
                            "detail": "Wait.", "code": "throttled"}, status=429, content_type=PROBLEM_CONTENT_TYPE)
    problem["Retry-After"] = "soon"
    assert schema_conformance.check("GET", "/api/v1/me/", problem) != []


def test_action_items_with_neither_assignee_nor_case_conform(client_for, secretariat, pe_agency):
    """The strict clients of the issue refused this answer (null where the schema had no null)."""
    ActionItemFactory(owner_agency=pe_agency, assignee=None, case=None)
    response = client_for(secretariat).get("/api/v1/action-items/")
    assert response.status_code == 200
    [item] = response.json()["results"]
    assert item["assignee"] is None and item["case"] is None
    assert schema_conformance.check("GET", "/api/v1/action-items/", response) == []
