"""What the schema fuzzer needs from every endpoint: documented errors,
strict input, problem details even for unknown URLs."""
import datetime

import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.openapi import strings_under


@pytest.mark.django_db
class TestStrictInput:
    def test_a_boolean_filter_refuses_what_is_not_a_boolean(self, client_for, pe_caseworker, cl_agency):
        client = client_for(pe_caseworker)
        response = client.get("/api/v1/agencies/?active=null")
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "active"
        assert client.get("/api/v1/agencies/?active=").status_code == 400
        assert client.get("/api/v1/agencies/?active=TRUE").status_code == 200
        assert client.get("/api/v1/agencies/?active=0").json()["results"] == []

    def test_an_empty_choice_is_an_error_and_a_missing_one_no_filter(self, client_for, pe_caseworker, cl_agency):
        client = client_for(pe_caseworker)
        response = client.get("/api/v1/agencies/?country=")
        assert response.status_code == 400 and response.json()["errors"][0]["field"] == "country"
        assert [a["code"] for a in client.get("/api/v1/agencies/").json()["results"]] == ["cl-sermig",
                                                                                          "pe-migraciones"]
        assert [a["code"] for a in client.get("/api/v1/agencies/?country=CL").json()["results"]] == ["cl-sermig"]

    @pytest.mark.parametrize("size", ["abc", "0", "-3", "1.5", "null"])
    def test_a_page_size_that_is_not_a_positive_number_is_an_error(self, client_for, pe_caseworker, size):
        response = client_for(pe_caseworker).get(f"/api/v1/agencies/?page_size={size}")
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "page_size"

    def test_a_write_to_an_unknown_api_url_is_a_problem_404_not_a_csrf_page(self, client_for, pe_caseworker):
        response = client_for(pe_caseworker).post("/api/v1/nothing-here/", {}, format="json")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"


class TestSchemaDocumentsProblems:
    def test_every_operation_lists_its_problem_answers(self):
        schema = SchemaGenerator().get_schema(request=None, public=True)
        assert "Problem" in schema["components"]["schemas"]
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                # Without security (the secret calendar address) no token or role is checked.
                expected = {"404", "429", "503"} | ({"401", "403"} if operation["security"] else set())
                assert expected <= set(operation["responses"]), (method, path)
                if method in ("post", "patch", "put"):
                    assert {"409", "422"} <= set(operation["responses"]), (method, path)
                for parameter in operation.get("parameters", []):
                    assert "title" not in parameter.get("schema", {}), (method, path, parameter["name"])


@pytest.mark.django_db
class TestOutputMatchesTheSchema:
    def test_an_agency_without_contact_email_is_described_truthfully(self, client_for, pe_caseworker):
        from tests.factories import AgencyFactory

        AgencyFactory(code="no-mail", contact_email="")
        schema = SchemaGenerator().get_schema(request=None, public=True)
        assert "format" not in schema["components"]["schemas"]["Agency"]["properties"]["contact_email"]
        response = client_for(pe_caseworker).get("/api/v1/agencies/no-mail/")
        assert response.json()["contact_email"] == ""


# --- List filters: one table, read from the published schema ------------------------
# Every query parameter of every list is a filter unless it pages or orders, so a
# new filter on a new list is checked here without anyone adding a row.

NOT_FILTERS = {"cursor", "page_size", "ordering", "after"}


def _list_filters():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in sorted(schema["paths"].items()):
        if "{" in path or "get" not in operations:
            continue
        for parameter in operations["get"].get("parameters", []):
            if parameter["in"] == "query" and parameter["name"] not in NOT_FILTERS:
                target = parameter["schema"].get("items", parameter["schema"])
                yield path, parameter["name"], target


FILTERS = [(path, name) for path, name, _ in _list_filters()]
TEXT_FILTERS = [(path, name) for path, name, schema in _list_filters()
                if schema.get("type") == "string" and "enum" not in schema and "format" not in schema]
DATETIME_FILTERS = [(path, name) for path, name, schema in _list_filters() if schema.get("format") == "date-time"]


def test_the_filter_table_covers_every_list_with_incremental_sync():
    """The table is read from the schema; this says it really holds the lists."""
    assert {path for path, name in FILTERS if name == "updated_since"} == {
        "/api/v1/action-items/", "/api/v1/cases/", "/api/v1/handoffs/", "/api/v1/meetings/"}
    assert ("/api/v1/cases/", "search") in TEXT_FILTERS and ("/api/v1/agencies/", "search") in TEXT_FILTERS


@pytest.mark.django_db
class TestListFilters:
    """Asked as the secretariat, who may read every list."""

    def _refused(self, response, name):
        assert response.status_code == 400, response.content
        assert response["Content-Type"] == "application/problem+json"
        assert {error["field"] for error in response.json()["errors"]} == {name}

    @pytest.mark.parametrize("path,name", FILTERS)
    def test_a_filter_given_without_a_value_is_refused(self, client_for, secretariat, path, name):
        self._refused(client_for(secretariat).get(f"{path}?{name}="), name)

    @pytest.mark.parametrize("path,name", TEXT_FILTERS)
    def test_a_text_filter_of_only_spaces_or_with_a_nul_is_refused(self, client_for, secretariat, path, name):
        client = client_for(secretariat)
        self._refused(client.get(path, {name: "   "}), name)
        self._refused(client.get(path, {name: "Tac\x00na"}), name)

    @pytest.mark.parametrize("path,name", DATETIME_FILTERS)
    def test_a_date_time_filter_takes_any_offset_rfc_3339_allows(self, client_for, secretariat, path, name):
        """The database takes offsets up to ±15:59 only: the filter compares in UTC."""
        client = client_for(secretariat)
        for value in ("2026-03-01T10:00:00+23:59", "0001-01-01T00:00:00+18:00", "9999-12-31T23:59:59-23:59"):
            response = client.get(path, {name: value})
            assert response.status_code == 200, (value, response.content)
        self._refused(client.get(path, {name: "yesterday"}), name)

    def test_updated_since_still_filters(self, client_for, pe_caseworker, secretariat):
        from tests.factories import CaseFactory

        case = CaseFactory()
        client = client_for(secretariat)
        later = (case.updated_at + datetime.timedelta(seconds=1)).astimezone(datetime.timezone(
            datetime.timedelta(hours=23, minutes=59)))
        assert client.get("/api/v1/cases/", {"updated_since": later.isoformat()}).json()["results"] == []
        earlier = case.updated_at.astimezone(datetime.timezone(-datetime.timedelta(hours=20)))
        ids = [row["id"] for row in client.get("/api/v1/cases/", {"updated_since": earlier.isoformat()}).json()
               ["results"]]
        assert ids == [str(case.pk)]


def test_every_list_filters_with_the_strict_machinery():
    """One mechanism for every list: its FilterSet and SearchFilter come from api_core."""
    from django_filters.rest_framework import DjangoFilterBackend
    from drf_spectacular.generators import EndpointEnumerator
    from rest_framework.filters import SearchFilter as DrfSearchFilter

    from api_core.filters import FilterSet, SearchFilter

    checked = set()
    for path, _regex, _method, callback in EndpointEnumerator().get_api_endpoints():
        view = callback.cls
        backends = getattr(view, "filter_backends", [])
        for backend in backends:
            if issubclass(backend, DjangoFilterBackend) and getattr(view, "filterset_class", None):
                assert issubclass(view.filterset_class, FilterSet), (path, view.filterset_class)
                checked.add(view.filterset_class.__name__)
            if issubclass(backend, DrfSearchFilter):
                assert issubclass(backend, SearchFilter), (path, backend)
    assert {"CaseFilter", "HandoffFilter", "MeetingFilter", "ActionItemFilter", "AgencyFilter"} <= checked


# --- Problems are problem details, whatever the endpoint renders ------------------------

@pytest.mark.django_db
class TestProblemsOfNonJsonEndpoints:
    def test_an_icalendar_endpoint_answers_its_errors_as_problem_details(self, api_client, client_for,
                                                                         pe_caseworker):
        url = "/api/v1/meetings/6f1c1a4e-0000-4000-8000-000000000000/calendar.ics"
        unauthenticated = api_client.get(url, {"format": "ics"})
        assert unauthenticated.status_code == 401
        assert unauthenticated["Content-Type"] == "application/problem+json"
        assert unauthenticated.json()["code"] == "not_authenticated"
        missing = client_for(pe_caseworker).get(url, {"format": "ics"}, HTTP_ACCEPT="text/calendar")
        assert missing.status_code == 404
        assert missing["Content-Type"] == "application/problem+json"
        assert missing.json()["code"] == "not_found"


# --- What the schema promises --------------------------------------------------------

class TestSchemaSaysWhatTheServerTakes:
    @pytest.fixture(scope="class")
    @classmethod
    def schema(cls):
        return SchemaGenerator().get_schema(request=None, public=True)

    def test_every_post_documents_the_idempotency_key(self, schema):
        """The contract fuzzer sends a key of its own with each request; this is the check that
        clients learn about the header at all."""
        posts = [operations["post"] for operations in schema["paths"].values() if "post" in operations]
        assert len(posts) > 30
        for operation in posts:
            assert {"$ref": "#/components/parameters/IdempotencyKey"} in operation["parameters"], operation
        assert schema["components"]["parameters"]["IdempotencyKey"]["in"] == "header"

    def test_every_operation_taking_if_match_documents_412(self, schema):
        taking = [(path, method) for path, operations in schema["paths"].items()
                  for method, operation in operations.items()
                  if any(p.get("name") == "If-Match" for p in operation.get("parameters", []))]
        assert ("/api/v1/cases/{case_id}/close/", "post") in taking
        for path, method in taking:
            assert "412" in schema["paths"][path][method]["responses"], (method, path)

    def test_every_error_answer_is_documented_as_problem_details(self, schema):
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                for code, response in operation["responses"].items():
                    if code.startswith("4"):
                        assert "application/problem+json" in response["content"], (method, path, code)

    def test_no_parameter_schema_carries_a_translated_title(self, schema):
        """Client generators name types after titles; a title in the server's language would make
        the generated client depend on it."""
        for operations in schema["paths"].values():
            for operation in operations.values():
                for parameter in operation.get("parameters", []):
                    assert "title" not in parameter.get("schema", {}).get("items", {}), parameter

    def test_every_free_text_in_a_request_documents_that_nul_is_refused(self, schema):
        import re

        checked = 0
        for name, component in schema["components"]["schemas"].items():
            if not name.endswith("Request"):
                continue
            for field, prop in component.get("properties", {}).items():
                for variant in prop.get("oneOf", [prop]):
                    if variant.get("type") == "string" and not {"enum", "format"} & set(variant) \
                            and variant.get("maxLength") != 0:
                        assert "pattern" in variant, (name, field)
                        assert not re.search(variant["pattern"], "a\x00b"), (name, field)
                        checked += 1
        assert checked > 40

    def test_no_published_pattern_depends_on_the_regex_engine(self, schema):
        """Clients check patterns with ECMAScript's rules, the server with Python's: the
        shorthand classes differ between them (``\\s`` in Python also takes U+001C–U+001F
        and U+0085), so a published pattern spells its classes out."""
        import re

        published = list(strings_under(schema, ("pattern",)))
        assert len(published) > 40
        for pattern in published:
            assert not re.search(r"(?<!\\)\\[sSwWdDb]", pattern), pattern
