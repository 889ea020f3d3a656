"""Repeated failures lock sign-in for a while, the same way whether or not the
username exists; the secretariat can lift it; every attempt is recorded."""
import datetime
import re

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.utils import timezone

from signin.lockout import account_lockout_duration
from signin.models import SignInEvent, SignInEventKind
from tests.staff import enrol_totp, sign_in_to_admin, totp_code

from .conftest import SECOND_FACTOR, sign_in_password

LIMIT = 3


@pytest.fixture(autouse=True)
def lockout_settings(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)


def fail(client, username, times):
    return [sign_in_password(client, username, "wrong-password-here").status_code for _ in range(times)]


def from_address(address):
    return Client(REMOTE_ADDR=address)


@pytest.mark.django_db
class TestLockout:
    def test_the_account_is_locked_after_the_configured_failures(self, staff):
        enrol_totp(staff)
        client = from_address("203.0.113.10")
        assert fail(client, "secretaria", LIMIT - 1) == [200] * (LIMIT - 1)
        assert fail(client, "secretaria", 1) == [429]
        # Locked: the right password is refused too, from any address.
        for address in ("203.0.113.10", "198.51.100.20"):
            other = from_address(address)
            response = sign_in_password(other, "secretaria", HTTP_ACCEPT_LANGUAGE="en")
            assert response.status_code == 429
            assert "Sign-in is blocked for 15 minutes" in response.content.decode()
            assert "_auth_user_id" not in other.session

    @pytest.mark.parametrize("language,message", [
        ("es", "Demasiados intentos fallidos de inicio de sesión. El inicio de sesión está bloqueado durante 15 "
               "minutos"),
        ("en", "Too many failed sign-in attempts. Sign-in is blocked for 15 minutes"),
    ])
    def test_the_message_says_so_in_both_languages(self, staff, language, message):
        client = from_address("203.0.113.10")
        fail(client, "secretaria", LIMIT)
        response = sign_in_password(client, "secretaria", HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 429
        assert message in " ".join(response.content.decode().split())

    def test_it_ends_after_the_cool_off(self, staff):
        client = from_address("203.0.113.10")
        start = timezone.now()
        with time_machine.travel(start, tick=False):
            fail(client, "secretaria", LIMIT)
        with time_machine.travel(start + datetime.timedelta(minutes=14), tick=False):
            assert sign_in_password(client, "secretaria").status_code == 429
        with time_machine.travel(start + datetime.timedelta(minutes=16), tick=False):
            response = sign_in_password(client, "secretaria")
            assert response.status_code == 302 and response["Location"].startswith(SECOND_FACTOR)

    def test_a_username_that_does_not_exist_is_locked_alike(self, staff):
        """Nothing in the answers tells an attacker which usernames exist."""
        answers = {}
        for username, address in (("secretaria", "203.0.113.10"), ("nadie-con-este-nombre", "203.0.113.11")):
            client = from_address(address)
            failures = [sign_in_password(client, username, "wrong-password-here") for _ in range(LIMIT + 1)]
            answers[username] = [(r.status_code, _without_csrf(r.content.decode(), username)) for r in failures]
        assert answers["secretaria"] == answers["nadie-con-este-nombre"]
        assert [status for status, _ in answers["secretaria"]] == [200] * (LIMIT - 1) + [429, 429]

    def test_a_repeated_lockout_lasts_twice_as_long(self, staff):
        client = from_address("203.0.113.10")
        start = timezone.now()
        with time_machine.travel(start, tick=False):
            fail(client, "secretaria", LIMIT)
        second = start + datetime.timedelta(minutes=16)
        with time_machine.travel(second, tick=False):
            assert fail(client, "secretaria", LIMIT) == [200] * (LIMIT - 1) + [429]
        with time_machine.travel(second + datetime.timedelta(minutes=20), tick=False):
            response = sign_in_password(from_address("198.51.100.20"), "secretaria", HTTP_ACCEPT_LANGUAGE="en")
            assert response.status_code == 429
            assert "Sign-in is blocked for 30 minutes" in " ".join(response.content.decode().split())
        with time_machine.travel(second + datetime.timedelta(minutes=31), tick=False):
            response = sign_in_password(client, "secretaria")
            assert response.status_code == 302 and response["Location"].startswith(SECOND_FACTOR)

    def test_the_growth_stops_at_the_maximum(self, settings):
        settings.SIGNIN = {**settings.SIGNIN, "LOCKOUT_MAX": datetime.timedelta(hours=4)}
        durations = [account_lockout_duration(before).total_seconds() / 60 for before in range(6)]
        assert durations == [15, 30, 60, 120, 240, 240]

    def test_a_sign_in_with_the_second_factor_starts_the_growth_again(self, staff):
        device = enrol_totp(staff)
        client = from_address("203.0.113.10")
        start = timezone.now()
        with time_machine.travel(start, tick=False):
            fail(client, "secretaria", LIMIT)
        with time_machine.travel(start + datetime.timedelta(minutes=16), tick=False):
            sign_in_password(client, "secretaria")
            client.post(SECOND_FACTOR, {"code": totp_code(device)})
            assert client.get("/admin/").status_code == 200
        later = start + datetime.timedelta(minutes=20)
        with time_machine.travel(later, tick=False):
            fail(from_address("203.0.113.11"), "secretaria", LIMIT)
        with time_machine.travel(later + datetime.timedelta(minutes=16), tick=False):
            assert sign_in_password(from_address("203.0.113.12"), "secretaria").status_code == 302


@pytest.mark.django_db
class TestOneAddressManyPeople:
    """A border post or a ministry signs in from one NAT address."""

    def test_one_persons_failures_do_not_lock_out_a_colleague(self, staff, secretariat_colleague):
        office = "203.0.113.10"
        assert fail(from_address(office), "secretaria", LIMIT + 3)[-1] == 429
        device = enrol_totp(secretariat_colleague)
        secretariat_colleague.set_password("otra-clave-larga-y-rara")
        secretariat_colleague.save()
        colleague = from_address(office)
        response = sign_in_password(colleague, "secretaria.dos", "otra-clave-larga-y-rara")
        assert response.status_code == 302 and response["Location"].startswith(SECOND_FACTOR)
        colleague.post(SECOND_FACTOR, {"code": totp_code(device)})
        assert colleague.get("/admin/").status_code == 200
        # The account that failed stays locked, with its right password, from the office and elsewhere.
        for address in (office, "198.51.100.20"):
            locked = from_address(address)
            assert sign_in_password(locked, "secretaria").status_code == 429
            assert "_auth_user_id" not in locked.session

    def test_a_spray_of_many_usernames_locks_the_address(self, staff, settings):
        """At the default threshold, far above one person's lockout."""
        threshold = settings.SIGNIN["ADDRESS_USERNAME_LIMIT"]
        assert threshold >= 4 * settings.AXES_FAILURE_LIMIT
        client = from_address("203.0.113.10")
        answers = [sign_in_password(client, f"someone-{index}", "Password123!").status_code
                   for index in range(threshold + 1)]
        assert answers == [200] * threshold + [429]
        # Every username from there is refused now, the right password too; elsewhere it signs in.
        assert sign_in_password(from_address("203.0.113.10"), "secretaria").status_code == 429
        assert sign_in_password(from_address("198.51.100.20"), "secretaria").status_code == 302

    def test_it_ends_after_the_cool_off(self, staff, settings):
        settings.SIGNIN = {**settings.SIGNIN, "ADDRESS_USERNAME_LIMIT": 4}
        start = timezone.now()
        with time_machine.travel(start, tick=False):
            for index in range(4):
                sign_in_password(from_address("203.0.113.10"), f"someone-{index}", "wrong-password-here")
            assert sign_in_password(from_address("203.0.113.10"), "secretaria").status_code == 429
        with time_machine.travel(start + datetime.timedelta(minutes=16), tick=False):
            assert sign_in_password(from_address("203.0.113.10"), "secretaria").status_code == 302

    def test_fewer_usernames_than_the_threshold_lock_nothing(self, staff, settings):
        settings.SIGNIN = {**settings.SIGNIN, "ADDRESS_USERNAME_LIMIT": 4}
        client = from_address("203.0.113.10")
        for index in range(3):
            fail(client, f"someone-{index}", LIMIT + 2)
        assert sign_in_password(client, "secretaria").status_code == 302


@pytest.mark.django_db
class TestRecording:
    def test_every_attempt_is_recorded(self, staff, settings):
        settings.SIGNIN = {**settings.SIGNIN, "ADDRESS_USERNAME_LIMIT": 2}
        client = from_address("203.0.113.10")
        fail(client, "secretaria", LIMIT + 1)
        sign_in_password(client, "nadie", "wrong-password-here")
        sign_in_password(client, "nadie.mas", "wrong-password-here")
        events = list(SignInEvent.objects.order_by("id").values_list("kind", "username", "ip_address"))
        failed = ("secretaria", "203.0.113.10")
        # The failure that starts the lockout and the lockout itself are written by one request.
        assert sorted(events[:LIMIT + 1]) == sorted([*[(SignInEventKind.PASSWORD_FAILED, *failed)] * LIMIT,
                                                      (SignInEventKind.LOCKED_OUT, *failed)])
        assert events[LIMIT + 1:] == [
            (SignInEventKind.REFUSED_LOCKED_OUT, *failed),
            # Another username from the address is counted for itself, until the address is locked.
            (SignInEventKind.PASSWORD_FAILED, "nadie", "203.0.113.10"),
            (SignInEventKind.REFUSED_LOCKED_OUT, "nadie.mas", "203.0.113.10"),
        ]
        assert SignInEvent.objects.filter(username="secretaria", user=staff).count() == LIMIT + 2


def _without_csrf(html: str, username: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return html.replace(f'value="{username}"', 'value=""')


@pytest.mark.django_db
class TestLiftingALockout:
    def test_the_secretariat_lifts_it(self, staff, secretariat_colleague):
        client = from_address("203.0.113.10")
        fail(client, "secretaria", LIMIT)
        admin = sign_in_to_admin(Client(), secretariat_colleague)
        response = admin.post("/admin/cases/user/", {"action": "lift_lockout", "_selected_action": [staff.pk]})
        assert response.status_code == 302
        # The username's lock is gone; another address signs in at once.
        assert sign_in_password(from_address("198.51.100.20"), "secretaria").status_code == 302
        event = SignInEvent.objects.get(kind=SignInEventKind.LOCKOUT_LIFTED)
        assert event.user == staff and event.actor == secretariat_colleague
        assert LogEntry.objects.filter(object_id=str(staff.pk), user=secretariat_colleague).exists()

    def test_a_committee_member_cannot(self, staff, committee_member):
        client = from_address("203.0.113.10")
        fail(client, "secretaria", LIMIT)
        admin = sign_in_to_admin(Client(), committee_member)
        admin.post("/admin/cases/user/", {"action": "lift_lockout", "_selected_action": [staff.pk]})
        assert sign_in_password(from_address("198.51.100.20"), "secretaria").status_code == 429
        assert not SignInEvent.objects.filter(kind=SignInEventKind.LOCKOUT_LIFTED).exists()
