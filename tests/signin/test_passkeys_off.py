"""Served over plain http at an address other than localhost (a laptop on a
border post's LAN), the service starts with passkeys off and TOTP working."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from tests.staff import enrol_totp, totp_code

from .conftest import ENROL, RECOVERY, SECOND_FACTOR, database_url_of, sign_in_password

LAN_URL = "http://192.168.1.10:8000"
ROOT = Path(__file__).resolve().parents[2]


def manage(*args, settings_module, **env):
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module, "PUBLIC_BASE_URL": LAN_URL,
                   "DATABASE_URL": database_url_of(connection.settings_dict), **env}
    environment.pop("PUENTE_WEBAUTHN_ORIGINS", None)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.django_db
class TestStartingUp:
    @pytest.mark.parametrize("settings_module", ["config.settings.local", "config.settings.test"])
    def test_manage_py_check_passes_and_the_log_says_passkeys_are_off(self, settings_module):
        result = manage("check", settings_module=settings_module)
        assert result.returncode == 0, result.stderr
        assert "E031" not in result.stderr + result.stdout
        assert "Passkeys are off" in result.stderr and LAN_URL in result.stderr

    def test_the_settings_keep_no_insecure_origin(self):
        result = manage("shell", "-c", "from django.conf import settings; import json; "
                        "print(json.dumps(settings.OTP_WEBAUTHN_ALLOWED_ORIGINS))",
                        settings_module="config.settings.test")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout.strip().splitlines()[-1]) == []

    def test_an_https_address_keeps_passkeys_on(self):
        result = manage("shell", "-c", "from django.conf import settings; import json; "
                        "print(json.dumps(settings.OTP_WEBAUTHN_ALLOWED_ORIGINS))",
                        settings_module="config.settings.test", PUBLIC_BASE_URL="https://puente.example.org")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout.strip().splitlines()[-1]) == ["https://puente.example.org"]
        assert "Passkeys are off" not in result.stderr


@pytest.fixture
def passkeys_off(settings):
    """What config/settings/base.py builds from LAN_URL (checked in a subprocess above)."""
    settings.OTP_WEBAUTHN_RP_ID = "192.168.1.10"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = []


@pytest.mark.django_db
@pytest.mark.usefixtures("passkeys_off")
class TestSigningIn:
    def test_the_enrolment_page_says_passkeys_are_off_and_enrols_an_app(self, staff):
        client = Client(REMOTE_ADDR="192.168.1.20")
        sign_in_password(client, "secretaria")
        # Signed in, a person reads the admin in the language of the switch (its cookie) or their profile.
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        page = client.get(ENROL).content.decode()
        assert 'id="passkeys-off"' in page and "Passkeys are off on this server" in page
        assert "passkey-register-button" not in page
        device = TOTPDevice.objects.get(user=staff, confirmed=False)
        response = client.post(ENROL, {"code": totp_code(device)})
        assert response.status_code == 302 and response["Location"].startswith(RECOVERY)
        assert client.get("/admin/").status_code == 200

    def test_the_second_factor_page_says_so_and_a_code_signs_in(self, staff):
        device = enrol_totp(staff)
        client = Client(REMOTE_ADDR="192.168.1.20")
        sign_in_password(client, "secretaria")
        page = client.get(SECOND_FACTOR).content.decode()  # the profile's language, Spanish
        assert 'id="passkeys-off"' in page
        assert "Las llaves de acceso están desactivadas en este servidor" in page
        assert "passkey-verification-button" not in page
        client.post(SECOND_FACTOR, {"code": totp_code(device), "next": "/admin/"})
        assert client.get("/admin/").status_code == 200

    @pytest.mark.parametrize("url", ["/admin/passkeys/registration/begin/", "/admin/passkeys/registration/complete/",
                                     "/admin/passkeys/authentication/begin/",
                                     "/admin/passkeys/authentication/complete/"])
    def test_every_passkey_ceremony_is_refused(self, staff, url):
        client = Client(REMOTE_ADDR="192.168.1.20")
        sign_in_password(client, "secretaria")
        response = client.post(url, {}, content_type="application/json")
        assert response.status_code == 404 and response.json()["code"] == "passkeys_off"
        assert not WebAuthnCredential.objects.exists()
        assert "otp_webauthn_register_state" not in client.session
        assert "otp_webauthn_authentication_state" not in client.session
