"""The list filters' rules that hold for every list: a single-valued filter
given twice, and a date-time without its offset, are 400 problems naming the
parameter, never a silently guessed filter."""
import pytest

from api_core.schema import SchemaGenerator
from tests.api_core.test_contract_rules import DATETIME_FILTERS, FILTERS
from tests.factories import CaseFactory


def _filter_kinds():
    """(path, name, repeatable) of every list filter, from the published schema."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, name in FILTERS:
        parameter, = (parameter for parameter in schema["paths"][path]["get"]["parameters"]
                      if parameter["in"] == "query" and parameter["name"] == name)
        yield path, name, parameter["schema"].get("type") == "array"


SINGLE_VALUED = [(path, name) for path, name, repeatable in _filter_kinds() if not repeatable]
REPEATABLE = [(path, name) for path, name, repeatable in _filter_kinds() if repeatable]


def _problem(response, name, code):
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert [(error["field"], error["code"]) for error in response.json()["errors"]] == [(name, code)]
    return response.json()["errors"][0]["message"]


def test_the_tables_hold_what_they_should():
    """Read from the schema: the date-time filters and both kinds of filter are there."""
    assert ("/api/v1/cases/", "updated_since") in DATETIME_FILTERS
    assert ("/api/v1/meetings/", "starts_after") in DATETIME_FILTERS
    assert ("/api/v1/cases/", "status") in SINGLE_VALUED
    assert ("/api/v1/cases/", "priority") in REPEATABLE


@pytest.mark.django_db
class TestRepeatedFilters:
    @pytest.mark.parametrize("path,name", SINGLE_VALUED)
    def test_a_single_valued_filter_given_twice_is_refused(self, client_for, secretariat, path, name):
        response = client_for(secretariat).get(f"{path}?{name}=a&{name}=b")
        _problem(response, name, "repeated_parameter")

    def test_two_valid_statuses_are_refused_not_the_last_one_kept(self, client_for, pe_caseworker, pe_agency):
        CaseFactory(owner_agency=pe_agency)
        response = client_for(pe_caseworker).get("/api/v1/cases/?status=open&status=closed",
                                                 HTTP_ACCEPT_LANGUAGE="en")
        assert _problem(response, "status", "repeated_parameter") == "Give this parameter once."

    def test_search_given_twice_is_refused(self, client_for, secretariat):
        _problem(client_for(secretariat).get("/api/v1/cases/?search=maria&search=jose"), "search", "repeated_parameter")

    def test_a_repeatable_filter_still_takes_several_values(self, client_for, pe_caseworker, pe_agency):
        high = CaseFactory(owner_agency=pe_agency, priority="high")
        low = CaseFactory(owner_agency=pe_agency, priority="low")
        CaseFactory(owner_agency=pe_agency, priority="normal")
        response = client_for(pe_caseworker).get("/api/v1/cases/?priority=high&priority=low")
        assert response.status_code == 200
        assert {row["id"] for row in response.json()["results"]} == {str(high.pk), str(low.pk)}

    @pytest.mark.parametrize("path,name", REPEATABLE)
    def test_every_repeatable_filter_accepts_a_repetition(self, client_for, secretariat, path, name):
        response = client_for(secretariat).get(f"{path}?{name}=x&{name}=y")
        # Refused (perhaps) for the values, never for the repetition.
        assert "repeated_parameter" not in {error["code"] for error in response.json().get("errors", [])}


@pytest.mark.django_db
class TestDateTimeOffsets:
    @pytest.mark.parametrize("path,name", DATETIME_FILTERS)
    @pytest.mark.parametrize("value", ["2026-03-01T10:00:00", "2026-03-01 10:00", "2026-03-01"])
    def test_a_date_time_without_an_offset_is_refused(self, client_for, secretariat, path, name, value):
        _problem(client_for(secretariat).get(path, {name: value}), name, "offset_required")

    def test_the_message_follows_the_language(self, client_for, secretariat):
        response = client_for(secretariat).get("/api/v1/cases/", {"updated_since": "2026-03-01T10:00:00"},
                                               HTTP_ACCEPT_LANGUAGE="es")
        assert _problem(response, "updated_since", "offset_required").startswith("Indique la hora con su desfase")

    @pytest.mark.parametrize("value", ["2026-03-01T10:00:00Z", "2026-03-01T10:00:00-05:00",
                                       "2026-03-01T10:00:00+00:00"])
    def test_a_date_time_with_an_offset_is_taken(self, client_for, secretariat, value):
        assert client_for(secretariat).get("/api/v1/cases/", {"updated_since": value}).status_code == 200
