from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from api_core.models import ApiToken
from api_core.services import token_issue, token_revoke

ME = "/api/v1/me/"


def bearer(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.mark.django_db
class TestBearerTokens:
    def test_it_accepts_a_valid_token(self, pe_caseworker):
        """A fresh token authenticates its user."""
        _, raw = token_issue(user=pe_caseworker)
        response = bearer(raw).get(ME)
        assert response.status_code == 200
        assert response.json()["username"] == "pe.caseworker"

    def test_it_requires_a_token(self, api_client):
        """No credentials: 401 problem+json with a Bearer challenge."""
        response = api_client.get(ME)
        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["code"] == "not_authenticated"

    def test_it_rejects_an_unknown_token(self, pe_caseworker):
        response = bearer("pnt_not-a-real-token").get(ME)
        assert response.status_code == 401
        assert response.json()["code"] == "authentication_failed"

    def test_it_rejects_a_malformed_header(self, pe_caseworker):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Bearer two parts")
        response = client.get(ME)
        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"

    def test_it_rejects_a_revoked_token(self, pe_caseworker):
        token, raw = token_issue(user=pe_caseworker)
        token_revoke(token=token)
        response = bearer(raw).get(ME, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 401
        assert response.json()["detail"] == "This token has been revoked."

    def test_it_rejects_an_expired_token(self, pe_caseworker):
        _, raw = token_issue(user=pe_caseworker, expires_at=timezone.now() - timedelta(seconds=1))
        response = bearer(raw).get(ME, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 401
        assert response.json()["detail"] == "This token has expired."

    def test_it_rejects_the_token_of_a_deactivated_user(self, pe_caseworker):
        _, raw = token_issue(user=pe_caseworker)
        pe_caseworker.is_active = False
        pe_caseworker.save()
        assert bearer(raw).get(ME).status_code == 401

    def test_it_stores_only_a_digest(self, pe_caseworker):
        """The plain token appears in no column of the stored row."""
        token, raw = token_issue(user=pe_caseworker, name="sistema")
        row = ApiToken.objects.filter(pk=token.pk).values().get()
        assert all(raw != value for value in row.values())
        assert row["digest"] != raw and len(row["digest"]) == 64
        assert raw.startswith(row["prefix"])

    def test_it_records_last_use(self, pe_caseworker):
        token, raw = token_issue(user=pe_caseworker)
        assert token.last_used_at is None
        bearer(raw).get(ME)
        token.refresh_from_db()
        assert token.last_used_at is not None

    def test_several_tokens_per_user_work_independently(self, pe_caseworker):
        first, first_raw = token_issue(user=pe_caseworker, name="a")
        _, second_raw = token_issue(user=pe_caseworker, name="b")
        token_revoke(token=first)
        assert bearer(first_raw).get(ME).status_code == 401
        assert bearer(second_raw).get(ME).status_code == 200

    def test_session_auth_works_for_the_browsable_api(self, pe_caseworker):
        client = APIClient()
        client.force_login(pe_caseworker)
        assert client.get(ME).status_code == 200
