"""Django's password validators wherever a password is set."""
import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import translation
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases.models import User
from tests.factories import UserFactory
from tests.staff import sign_in_to_admin, totp_code

from .conftest import SECOND_FACTOR, database_url_of, sign_in_password

REFUSED = [
    ("1", "This password is too short. It must contain at least 12 characters."),
    ("123456789012", "This password is entirely numeric."),
    ("password1234", "This password is too common."),
    ("nueva.secretaria", "The password is too similar to the username."),
]


def add_user(monkeypatch, password, username="nueva.secretaria", **extra):
    monkeypatch.setenv("NEW_PASSWORD", password)
    with translation.override("en"):
        call_command("add_user", username, "--email", "nueva@comite.example.org", "--role", "secretariat",
                     "--password-from-env", "NEW_PASSWORD", **extra)


@pytest.mark.django_db
class TestAddUser:
    @pytest.mark.parametrize("password,message", REFUSED)
    def test_a_refused_password_creates_nothing(self, monkeypatch, password, message):
        with pytest.raises(CommandError, match=message):
            add_user(monkeypatch, password)
        assert not User.objects.filter(username="nueva.secretaria").exists()

    def test_a_refused_password_leaves_an_existing_user_as_it_was(self, monkeypatch):
        user = UserFactory(username="nueva.secretaria", password="la-clave-de-antes-2026")
        with pytest.raises(CommandError):
            add_user(monkeypatch, "1")
        user.refresh_from_db()
        assert user.check_password("la-clave-de-antes-2026")

    def test_a_good_password_is_set(self, monkeypatch):
        add_user(monkeypatch, "una-clave-larga-y-rara")
        user = User.objects.get(username="nueva.secretaria")
        assert user.check_password("una-clave-larga-y-rara") and user.is_staff

    def test_the_command_exits_non_zero_with_the_message(self):
        env = {**os.environ, "NEW_PASSWORD": "1", "DJANGO_SETTINGS_MODULE": "config.settings.test"}
        env["DATABASE_URL"] = database_url_of(connection.settings_dict)
        result = subprocess.run(
            [sys.executable, "manage.py", "add_user", "nueva.secretaria", "--email", "n@comite.example.org",
             "--password-from-env", "NEW_PASSWORD"],
            cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True, timeout=120,
        )
        assert result.returncode != 0
        # The validator's own message (in the default language, Spanish).
        assert "password:" in result.stderr and "12 caracteres" in result.stderr
        assert not User.objects.filter(username="nueva.secretaria").exists()


@pytest.mark.django_db
class TestTotpProvisioning:
    SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

    def test_it_enrols_the_secret_and_its_codes_open_the_admin(self, monkeypatch):
        monkeypatch.setenv("NEW_TOTP", self.SECRET)
        add_user(monkeypatch, "una-clave-larga-y-rara", totp_secret_from_env="NEW_TOTP")
        user = User.objects.get(username="nueva.secretaria")
        device = TOTPDevice.objects.get(user=user)
        assert device.confirmed and device.bin_key == base64.b32decode(self.SECRET)
        client = Client()
        sign_in_password(client, "nueva.secretaria", "una-clave-larga-y-rara")
        client.post(SECOND_FACTOR, {"code": totp_code(device)})
        assert client.get("/admin/").status_code == 200

    def test_a_bad_secret_creates_nothing(self, monkeypatch):
        monkeypatch.setenv("NEW_TOTP", "not base32!")
        with pytest.raises(CommandError, match="base32"):
            add_user(monkeypatch, "una-clave-larga-y-rara", totp_secret_from_env="NEW_TOTP")
        assert not User.objects.filter(username="nueva.secretaria").exists()
        assert not TOTPDevice.objects.exists()

    def test_running_it_again_replaces_the_device(self, monkeypatch):
        monkeypatch.setenv("NEW_TOTP", self.SECRET)
        add_user(monkeypatch, "una-clave-larga-y-rara", totp_secret_from_env="NEW_TOTP")
        monkeypatch.setenv("NEW_TOTP", "KRUGKIDROVUWG2ZAMJZG653OEBTG66BA")
        add_user(monkeypatch, "una-clave-larga-y-rara", totp_secret_from_env="NEW_TOTP")
        assert TOTPDevice.objects.get().key.startswith(base64.b32decode("KRUGKIDR").hex())


@pytest.mark.django_db
class TestAdminForms:
    @pytest.mark.parametrize("password,message", REFUSED[:3])
    def test_adding_a_user_in_the_admin_checks_the_password(self, password, message):
        root = UserFactory(username="root", is_staff=True, is_superuser=True)
        client = sign_in_to_admin(Client(), root)
        # Signed in, a person reads the admin in the language of the switch (its cookie) or their profile.
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        response = client.post("/admin/cases/user/add/", {
            "username": "nuevo", "password1": password, "password2": password, "usable_password": "true",
            "email": "nuevo@example.org", "language": "es",
        }, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        assert message in response.content.decode()
        assert not User.objects.filter(username="nuevo").exists()

    def test_setting_someone_elses_password_checks_it(self, secretariat):
        root = UserFactory(username="root", is_staff=True, is_superuser=True)
        client = sign_in_to_admin(Client(), root)
        # Signed in, a person reads the admin in the language of the switch (its cookie) or their profile.
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        response = client.post(f"/admin/cases/user/{secretariat.pk}/password/", {
            "password1": "1", "password2": "1", "usable_password": "true",
        }, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        assert REFUSED[0][1] in response.content.decode()
        secretariat.refresh_from_db()
        assert secretariat.check_password("secret-password")
