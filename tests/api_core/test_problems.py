"""Every error under /api/ is RFC 9457 problem+json with a stable code."""
import pytest
from django.core.cache import cache

from api_core.throttling import TokenRateThrottle

PROBLEM = "application/problem+json"


def assert_problem(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:puente:problem:{code}"
    assert body["title"] and body["detail"]
    return body


@pytest.mark.django_db
class TestProblemDetails:
    def test_unknown_url_is_a_problem_404(self, client_for, pe_caseworker):
        assert_problem(client_for(pe_caseworker).get("/api/v1/no-such-thing/"), 404, "not_found")

    def test_unknown_url_outside_v1_is_a_problem_404(self, api_client):
        assert_problem(api_client.get("/api/v9/cases/"), 404, "not_found")

    def test_method_not_allowed(self, client_for, pe_caseworker):
        body = assert_problem(client_for(pe_caseworker).delete("/api/v1/me/"), 405, "method_not_allowed")
        assert "DELETE" in body["detail"]

    def test_unsupported_media_type(self, client_for, pe_caseworker):
        response = client_for(pe_caseworker).patch("/api/v1/me/", "language=en", content_type="text/plain")
        assert_problem(response, 415, "unsupported_media_type")

    def test_malformed_json(self, client_for, pe_caseworker):
        response = client_for(pe_caseworker).patch("/api/v1/me/", '{"language": ', content_type="application/json")
        assert_problem(response, 400, "parse_error")
        pe_caseworker.refresh_from_db()
        assert pe_caseworker.language == "es"

    def test_validation_error_lists_fields(self, client_for, pe_caseworker):
        response = client_for(pe_caseworker).patch(
            "/api/v1/me/", {"language": "fr", "time_zone": "Mars/Olympus"}, format="json"
        )
        body = assert_problem(response, 400, "validation_error")
        fields = {error["field"]: error["code"] for error in body["errors"]}
        assert fields == {"language": "invalid_choice", "time_zone": "invalid_time_zone"}
        pe_caseworker.refresh_from_db()
        assert (pe_caseworker.language, pe_caseworker.time_zone) == ("es", "")

    def test_body_too_large(self, client_for, pe_caseworker, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
        response = client_for(pe_caseworker).patch("/api/v1/me/", {"time_zone": "x" * 500}, format="json")
        assert_problem(response, 413, "payload_too_large")

    def test_throttled_with_retry_after(self, client_for, pe_caseworker, outsider, monkeypatch):
        """One token over its rate gets 429; another token is not affected."""
        cache.clear()
        monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"token": "2/minute"})
        client = client_for(pe_caseworker)
        assert client.get("/api/v1/me/").status_code == 200
        assert client.get("/api/v1/me/").status_code == 200
        response = client.get("/api/v1/me/")
        assert_problem(response, 429, "throttled")
        assert int(response["Retry-After"]) > 0
        assert client_for(outsider).get("/api/v1/me/").status_code == 200

    def test_messages_follow_accept_language(self, api_client):
        spanish = api_client.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="es").json()
        english = api_client.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en").json()
        assert spanish["detail"] == "Las credenciales de autenticación no se proveyeron."
        assert spanish["title"] == "Autenticación requerida"
        assert english["detail"] == "Authentication credentials were not provided."
        assert english["title"] == "Authentication required"

    def test_spanish_is_the_default_language(self, api_client):
        body = api_client.get("/api/v1/no-such-thing/").json()
        assert body["detail"] == "No existe ese recurso."

    def test_validation_messages_in_english(self, client_for, pe_caseworker):
        response = client_for(pe_caseworker).patch(
            "/api/v1/me/", {"time_zone": "Mars/Olympus"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
        )
        assert response.json()["errors"][0]["message"] == "Mars/Olympus is not an IANA time zone."


@pytest.mark.django_db
class TestParseErrorLanguage:
    """The parse error is in the caller's language, without the JSON decoder's English words."""

    @pytest.mark.parametrize("body,expected", [
        ('{"language": ', "El cuerpo no es JSON válido (línea 1, columna 14)."),
        ('{"language": NaN}', "El cuerpo no es JSON válido."),
    ])
    def test_it_is_all_spanish(self, client_for, pe_caseworker, body, expected):
        response = client_for(pe_caseworker, HTTP_ACCEPT_LANGUAGE="es").patch(
            "/api/v1/me/", body, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["code"] == "parse_error"
        assert response.json()["detail"] == expected
        assert "Expecting" not in response.content.decode()

    def test_it_is_english_in_english(self, client_for, pe_caseworker):
        response = client_for(pe_caseworker, HTTP_ACCEPT_LANGUAGE="en").patch(
            "/api/v1/me/", '{"language": ', content_type="application/json")
        assert response.json()["detail"] == "The body is not valid JSON (line 1, column 14)."

    def test_a_body_that_is_not_utf_8_is_a_parse_error_in_spanish(self, client_for, pe_caseworker):
        response = client_for(pe_caseworker, HTTP_ACCEPT_LANGUAGE="es").patch(
            "/api/v1/me/", b'{"language": "\xff"}', content_type="application/json")
        assert response.status_code == 400
        assert response.json()["detail"] == "El cuerpo no es texto utf-8 válido."
