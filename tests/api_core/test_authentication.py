import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from api_core.models import ApiToken
from api_core.services import token_issue, token_revoke
from cases.models import Case
from cases.roles import Role
from tests.factories import UserFactory

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

    def test_unknown_revoked_expired_and_deactivated_tokens_get_one_identical_answer(self, pe_caseworker):
        """Which of them a string is (never issued, revoked, expired, of a
        deactivated user) is not the caller's to learn."""
        revoked, revoked_raw = token_issue(user=pe_caseworker)
        token_revoke(token=revoked)
        _, expired_raw = token_issue(user=pe_caseworker, expires_at=timezone.now() - timedelta(seconds=1))
        gone = UserFactory(username="baja", agency=pe_caseworker.agency, roles=[Role.CASEWORKER])
        _, gone_raw = token_issue(user=gone)
        gone.is_active = False
        gone.save()
        answers = []
        for raw in ("pnt_not-a-real-token", revoked_raw, expired_raw, gone_raw):
            response = bearer(raw).get(ME, HTTP_ACCEPT_LANGUAGE="en")
            assert response.status_code == 401
            answers.append((response.content, response["Content-Type"], response["WWW-Authenticate"]))
        assert len(set(answers)) == 1
        assert json.loads(answers[0][0])["detail"] == "Invalid token."
        assert ApiToken.objects.get(pk=revoked.pk).last_used_at is None  # nothing recorded for a refused token

    def test_a_token_of_a_deactivated_agency_gets_the_same_answer(self, pe_caseworker, pe_agency, secretariat):
        """Switching an agency off stops every token of its users; the
        secretariat, of no agency, keeps the API."""
        _, raw = token_issue(user=pe_caseworker)
        _, secretariat_raw = token_issue(user=secretariat)
        unknown = bearer("pnt_not-a-real-token").get(ME, HTTP_ACCEPT_LANGUAGE="en")
        assert bearer(raw).get(ME).status_code == 200
        pe_agency.active = False
        pe_agency.save()
        refused = bearer(raw).get(ME, HTTP_ACCEPT_LANGUAGE="en")
        assert (refused.status_code, refused.content) == (401, unknown.content)
        assert bearer(secretariat_raw).get(ME).status_code == 200

    def test_a_token_issued_without_expiry_gets_the_default_lifetime(self, pe_caseworker, settings):
        settings.PUENTE = {**settings.PUENTE, "API_TOKEN_LIFETIME": timedelta(days=30)}
        token, raw = token_issue(user=pe_caseworker)
        assert token.expires_at is not None
        assert abs(token.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
        assert bearer(raw).get(ME).status_code == 200
        with time_machine.travel(timezone.now() + timedelta(days=31)):
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


@pytest.mark.django_db
class TestSessions:
    def test_a_session_of_a_deactivated_agency_gets_no_api(self, client, pe_caseworker, pe_agency):
        client.force_login(pe_caseworker)
        assert client.get(ME).status_code == 200
        pe_agency.active = False
        pe_agency.save()
        refused = client.get(ME)
        assert refused.status_code == 401 and refused.json()["code"] == "not_authenticated"
        assert client.post("/api/v1/cases/", {"members": [{"relationship": "head", "given_names": "Ana"}]},
                           content_type="application/json").status_code in (401, 403)
        assert not Case.objects.exists()
