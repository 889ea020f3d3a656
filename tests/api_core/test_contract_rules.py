"""What the schema fuzzer needs from every endpoint: documented errors,
strict input, problem details even for unknown URLs."""
import pytest
from drf_spectacular.generators import SchemaGenerator


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
                assert {"401", "403", "404", "429"} <= set(operation["responses"]), (method, path)
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
