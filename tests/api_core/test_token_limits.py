"""A token's own limit of requests running at once: issued through the
service, the ``issue_token`` command and the token admin, shown in ``/me/``
and declared in the schema. (Enforcement: tests/api_core/test_cost_limits.py.)"""
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from api_core.errors import InvalidInput
from api_core.models import ApiToken
from api_core.services import token_issue
from tests.factories import UserFactory
from tests.openapi import published_schema
from tests.staff import sign_in_to_admin


def me(raw: str) -> dict:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.get("/api/v1/me/")
    assert response.status_code == 200
    return response.json()


@pytest.mark.django_db
class TestTokenIssue:
    def test_it_issues_a_token_with_its_own_limit(self, pe_caseworker):
        token, raw = token_issue(user=pe_caseworker, name="sync", max_concurrent_requests=4)
        assert ApiToken.objects.get(pk=token.pk).max_concurrent_requests == 4
        assert me(raw)["max_concurrent_requests"] == 4

    def test_a_token_without_one_has_the_default(self, pe_caseworker, settings):
        settings.PUENTE = {**settings.PUENTE, "MAX_CONCURRENT_REQUESTS": 2}
        token, raw = token_issue(user=pe_caseworker)
        assert token.max_concurrent_requests is None and me(raw)["max_concurrent_requests"] == 2

    def test_a_session_has_the_default(self, client, pe_caseworker, settings):
        settings.PUENTE = {**settings.PUENTE, "MAX_CONCURRENT_REQUESTS": 2}
        client.force_login(pe_caseworker)
        assert client.get("/api/v1/me/").json()["max_concurrent_requests"] == 2

    @pytest.mark.parametrize("limit", [0, -1, 17])
    def test_a_limit_out_of_range_is_refused_and_nothing_issued(self, pe_caseworker, limit):
        with pytest.raises(InvalidInput) as refused:
            token_issue(user=pe_caseworker, max_concurrent_requests=limit)
        assert refused.value.field == "max_concurrent_requests" and refused.value.code == "out_of_range"
        assert not ApiToken.objects.exists()

    def test_the_schema_declares_it(self):
        me_schema = published_schema()["components"]["schemas"]["Me"]
        assert me_schema["properties"]["max_concurrent_requests"]["type"] == "integer"
        assert "max_concurrent_requests" in me_schema["required"]


@pytest.mark.django_db
class TestIssueTokenCommand:
    def test_it_issues_a_token_with_its_own_limit(self, pe_caseworker):
        out = StringIO()
        call_command("issue_token", pe_caseworker.username, "--name", "sync", "--max-concurrent-requests", "4",
                     stdout=out, stderr=StringIO())
        raw = out.getvalue().strip().splitlines()[-1]
        assert ApiToken.objects.get().max_concurrent_requests == 4
        assert me(raw)["max_concurrent_requests"] == 4

    def test_a_limit_out_of_range_stops_it(self, pe_caseworker):
        with pytest.raises(CommandError, match="max-concurrent-requests"):
            call_command("issue_token", pe_caseworker.username, "--max-concurrent-requests", "0",
                         stdout=StringIO(), stderr=StringIO())
        assert not ApiToken.objects.exists()


@pytest.fixture
def admin_client(client, db):
    return sign_in_to_admin(client, UserFactory(username="root", is_staff=True, is_superuser=True))


@pytest.mark.django_db
class TestTokenAdminLimit:
    def test_it_issues_a_token_with_its_own_limit_through_the_service(self, admin_client, pe_caseworker):
        response = admin_client.post("/admin/api_core/apitoken/add/",
                                     {"user": pe_caseworker.pk, "name": "sync", "max_concurrent_requests": 4})
        assert response.status_code == 200
        raw = re.search(r"pnt_[A-Za-z0-9_\-]{20,}", response.content.decode()).group(0)
        assert ApiToken.objects.get().max_concurrent_requests == 4 and me(raw)["max_concurrent_requests"] == 4

    def test_a_limit_out_of_range_is_a_form_error(self, admin_client, pe_caseworker):
        response = admin_client.post("/admin/api_core/apitoken/add/",
                                     {"user": pe_caseworker.pk, "max_concurrent_requests": 17})
        assert response.status_code == 200 and response.context["adminform"].form.errors["max_concurrent_requests"]
        assert not ApiToken.objects.exists()

    def test_the_list_shows_each_tokens_limit(self, admin_client, pe_caseworker, settings):
        settings.PUENTE = {**settings.PUENTE, "MAX_CONCURRENT_REQUESTS": 2}
        token_issue(user=pe_caseworker, name="sync", max_concurrent_requests=4)
        token_issue(user=pe_caseworker, name="persona")
        page = admin_client.get("/admin/api_core/apitoken/").content.decode()
        assert re.search(r'field-requests_at_once">4<', page)
        assert re.search(r'field-requests_at_once">2 \(', page)

    def test_the_limit_cannot_be_changed_after_issue(self, admin_client, pe_caseworker):
        token, _raw = token_issue(user=pe_caseworker, name="sync", max_concurrent_requests=4)
        admin_client.post(f"/admin/api_core/apitoken/{token.pk}/change/",
                          {"user": pe_caseworker.pk, "name": "sync", "max_concurrent_requests": 16})
        token.refresh_from_db()
        assert token.max_concurrent_requests == 4
