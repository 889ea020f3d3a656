import pytest

from api_core import token_cache
from api_core.services import token_revoke


@pytest.mark.django_db
class TestPing:
    def test_it_answers_a_constant_to_a_valid_token(self, client_for, pe_caseworker, django_assert_num_queries):
        client = client_for(pe_caseworker)
        client.get("/api/v1/ping/")  # the token's last use is stamped at most once a minute
        with django_assert_num_queries(0):  # the token, its user, agency and roles remembered by this process
            response = client.get("/api/v1/ping/")
        assert response.status_code == 200
        assert response.json() == {"ok": True}
        token_cache.forget_all()
        with django_assert_num_queries(1):  # read again: the token with its user, agency and roles
            assert client.get("/api/v1/ping/").json() == {"ok": True}

    def test_it_needs_a_token(self, api_client):
        response = api_client.get("/api/v1/ping/")
        assert response.status_code == 401
        assert response["Content-Type"].startswith("application/problem+json")

    def test_it_refuses_a_revoked_token(self, client_for, pe_caseworker):
        client = client_for(pe_caseworker)
        assert client.get("/api/v1/ping/").status_code == 200
        token_revoke(token=pe_caseworker.api_tokens.get())
        assert client.get("/api/v1/ping/").status_code == 401

    def test_it_is_in_the_schema(self, api_client, client_for, pe_caseworker):
        schema = client_for(pe_caseworker).get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
        operation = schema["paths"]["/api/v1/ping/"]["get"]
        assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Ping"}
