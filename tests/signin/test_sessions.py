"""Admin sessions end after inactivity and after an absolute limit; a new
password signs out the other sessions."""
import datetime

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from signin.models import SignInEvent, SignInEventKind
from tests.staff import sign_in_to_admin

MINUTE = datetime.timedelta(minutes=1)


def signed_in_at(user, moment):
    with time_machine.travel(moment, tick=False):
        return sign_in_to_admin(Client(), user)


def opens_admin(client, moment) -> bool:
    with time_machine.travel(moment, tick=False):
        response = client.get("/admin/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


@pytest.mark.django_db
class TestInactivity:
    def test_a_session_used_within_the_limit_stays_open(self, secretariat):
        start = timezone.now()
        client = signed_in_at(secretariat, start)
        assert opens_admin(client, start + 29 * MINUTE)
        assert opens_admin(client, start + 58 * MINUTE)  # 29 minutes after the last request

    def test_it_ends_after_thirty_idle_minutes(self, secretariat):
        start = timezone.now()
        client = signed_in_at(secretariat, start)
        assert not opens_admin(client, start + 31 * MINUTE)
        assert "_auth_user_id" not in client.session
        event = SignInEvent.objects.get(kind=SignInEventKind.SESSION_EXPIRED)
        assert event.user == secretariat and event.detail == "inactivity"
        assert not SignInEvent.objects.filter(kind=SignInEventKind.SIGNED_OUT).exists()

    def test_the_limit_is_configurable(self, secretariat, settings):
        settings.SIGNIN = {**settings.SIGNIN, "IDLE_TIMEOUT": 5 * MINUTE}
        start = timezone.now()
        client = signed_in_at(secretariat, start)
        assert opens_admin(client, start + 4 * MINUTE)
        assert not opens_admin(client, start + 10 * MINUTE)


@pytest.mark.django_db
class TestAbsoluteLimit:
    def test_it_ends_twelve_hours_after_sign_in_however_busy(self, secretariat):
        start = timezone.now()
        client = signed_in_at(secretariat, start)
        for minutes in range(20, 12 * 60, 20):
            assert opens_admin(client, start + minutes * MINUTE), minutes
        assert not opens_admin(client, start + 12 * 60 * MINUTE)
        assert SignInEvent.objects.get(kind=SignInEventKind.SESSION_EXPIRED).detail == "absolute limit"

    def test_the_limit_is_configurable(self, secretariat, settings):
        settings.SIGNIN = {**settings.SIGNIN, "ABSOLUTE_TIMEOUT": datetime.timedelta(hours=1)}
        start = timezone.now()
        client = signed_in_at(secretariat, start)
        assert opens_admin(client, start + 29 * MINUTE)
        assert opens_admin(client, start + 58 * MINUTE)
        assert not opens_admin(client, start + 61 * MINUTE)

    def test_the_cookie_does_not_outlive_it(self, settings):
        assert settings.SESSION_COOKIE_AGE == 12 * 3600


@pytest.mark.django_db
class TestPasswordChange:
    def test_a_new_password_signs_out_the_other_sessions(self, secretariat):
        secretariat.set_password("la-clave-de-antes-2026")
        secretariat.save()
        here, elsewhere = sign_in_to_admin(Client(), secretariat), sign_in_to_admin(Client(), secretariat)
        response = here.post("/admin/password_change/", {
            "old_password": "la-clave-de-antes-2026",
            "new_password1": "otra-clave-bastante-larga", "new_password2": "otra-clave-bastante-larga",
        })
        assert response.status_code == 302
        secretariat.refresh_from_db()
        assert secretariat.check_password("otra-clave-bastante-larga")
        assert here.get("/admin/").status_code == 200
        assert elsewhere.get("/admin/").status_code == 302

    def test_the_validators_apply(self, secretariat):
        secretariat.set_password("la-clave-de-antes-2026")
        secretariat.save()
        client = sign_in_to_admin(Client(), secretariat)
        # Signed in, a person reads the admin in the language of the switch (its cookie) or their profile.
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        response = client.post("/admin/password_change/", {
            "old_password": "la-clave-de-antes-2026", "new_password1": "corta", "new_password2": "corta",
        })
        assert response.status_code == 200
        assert "This password is too short. It must contain at least 12 characters." in response.content.decode()
        secretariat.refresh_from_db()
        assert secretariat.check_password("la-clave-de-antes-2026")
