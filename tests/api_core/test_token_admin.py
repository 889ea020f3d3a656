import re

import pytest
from django.contrib.messages import get_messages
from rest_framework.test import APIClient

from api_core.models import ApiToken
from api_core.services import token_issue
from cases.models import User
from tests.factories import UserFactory
from tests.staff import sign_in_to_admin


@pytest.fixture
def admin_client(client, db):
    return sign_in_to_admin(client, UserFactory(username="root", is_staff=True, is_superuser=True))


@pytest.mark.django_db
class TestTokenAdmin:
    def test_it_shows_a_new_token_once_and_stores_its_digest(self, admin_client, pe_caseworker):
        response = admin_client.post("/admin/api_core/apitoken/add/", {"user": pe_caseworker.pk, "name": "sistema"})
        # The token is on the answer to the add itself, never in a cookie for the next page.
        assert response.status_code == 200 and "no-store" in response["Cache-Control"]
        raw = re.search(r"pnt_[A-Za-z0-9_\-]{20,}", response.content.decode()).group(0)
        assert not list(get_messages(response.wsgi_request))
        assert all(raw not in morsel.value for morsel in response.cookies.values())
        assert raw not in admin_client.get("/admin/api_core/apitoken/").content.decode()
        token = ApiToken.objects.get(user=pe_caseworker)
        assert token.digest != raw and raw.startswith(token.prefix) and token.name == "sistema"
        assert token.expires_at is not None  # the default lifetime
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert client.get("/api/v1/me/").status_code == 200

    def test_the_revoke_action_stops_a_token(self, admin_client, pe_caseworker):
        token, raw = token_issue(user=pe_caseworker)
        admin_client.post("/admin/api_core/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
        token.refresh_from_db()
        assert token.revoked_at is not None
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert client.get("/api/v1/me/").status_code == 401

    def test_tokens_cannot_be_deleted_only_revoked(self, admin_client, pe_caseworker):
        token, _ = token_issue(user=pe_caseworker)
        response = admin_client.post(f"/admin/api_core/apitoken/{token.pk}/delete/", {"post": "yes"})
        assert response.status_code == 403
        assert ApiToken.objects.filter(pk=token.pk).exists()

    def test_a_caseworker_cannot_reach_the_admin(self, client, pe_caseworker):
        client.force_login(pe_caseworker)
        response = client.get("/admin/")
        assert response.status_code == 302 and "/login/" in response["Location"]

    @pytest.mark.parametrize("language,title", [("es", "Comité binacional de cooperación migratoria"),
                                                ("en", "Binational migration cooperation committee")])
    def test_the_admin_is_branded_in_both_languages(self, admin_client, language, title):
        """The profile's language applies, whatever the browser asks for."""
        User.objects.filter(username="root").update(language=language)
        other = "en" if language == "es" else "es"
        response = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE=other)
        content = response.content.decode()
        assert "Puente — Comité Binacional Perú–Chile" in content
        assert title in content

    def test_the_language_switch_wins_over_the_profile(self, admin_client):
        root = User.objects.get(username="root")
        assert root.language == "es"
        response = admin_client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
        assert response.status_code == 302
        content = admin_client.get("/admin/").content.decode()
        assert "Binational migration cooperation committee" in content
        assert 'name="language"' in content  # the switch is on every admin page
        root.refresh_from_db()
        assert root.language == "es"  # the switch does not rewrite the profile

    def test_users_show_their_agency_and_roles(self, admin_client, pe_caseworker):
        content = admin_client.get("/admin/cases/user/").content.decode()
        assert "pe.caseworker" in content and "caseworker" in content


@pytest.mark.django_db
class TestAdminForVisitors:
    def test_the_login_page_renders_for_an_anonymous_visitor(self, client):
        """The admin builds its app list for the login page too; no admin may assume a signed-in user."""
        response = client.get("/admin/login/")
        assert response.status_code == 200
        assert "Puente — Comité Binacional Perú–Chile" in response.content.decode()

    def test_every_admin_page_sends_an_anonymous_visitor_to_the_login(self, client):
        from django.contrib import admin

        for model in admin.site._registry:
            url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
            response = client.get(url)
            assert response.status_code == 302 and "/admin/login/" in response["Location"], url
