"""The admin opens to staff only after a password and a second factor."""
import datetime
import re
import time

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from signin.models import SignInEvent, SignInEventKind
from signin.services import recovery_codes_issue
from tests.staff import enrol_totp, sign_in_to_admin, totp_code

from .conftest import ENROL, RECOVERY, SECOND_FACTOR, sign_in_password


def kinds(user) -> list[str]:
    return list(SignInEvent.objects.filter(user=user).order_by("at", "id").values_list("kind", flat=True))


@pytest.mark.django_db
class TestPasswordAloneIsNotEnough:
    def test_it_asks_for_the_second_factor_after_the_password(self, browser_client, staff):
        enrol_totp(staff)
        response = sign_in_password(browser_client, "secretaria")
        assert response.status_code == 302
        assert response["Location"].startswith(SECOND_FACTOR)
        assert kinds(staff) == [SignInEventKind.PASSWORD_ACCEPTED]

    def test_the_index_stays_closed_with_a_password_alone(self, browser_client, staff):
        enrol_totp(staff)
        sign_in_password(browser_client, "secretaria")
        for url in ("/admin/", "/admin/cases/case/", "/admin/cases/user/", "/admin/password_change/"):
            response = browser_client.get(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith("/admin/login/"), url
        # The login page itself sends the half-signed-in person on to the second step.
        assert browser_client.get("/admin/login/")["Location"].startswith(SECOND_FACTOR)

    def test_the_browsable_api_stays_closed_with_a_password_alone(self, browser_client, staff):
        enrol_totp(staff)
        sign_in_password(browser_client, "secretaria")
        response = browser_client.get("/api/v1/cases/", HTTP_ACCEPT="application/json")
        assert response.status_code in (401, 403)
        assert response["Content-Type"] == "application/problem+json"

    def test_a_code_from_the_app_opens_the_admin(self, browser_client, staff):
        device = enrol_totp(staff)
        sign_in_password(browser_client, "secretaria")
        response = browser_client.post(SECOND_FACTOR, {"code": totp_code(device), "next": "/admin/"})
        assert response.status_code == 302 and response["Location"] == "/admin/"
        assert browser_client.get("/admin/").status_code == 200
        assert kinds(staff) == [SignInEventKind.PASSWORD_ACCEPTED, SignInEventKind.SIGNED_IN]
        assert browser_client.get("/api/v1/cases/", HTTP_ACCEPT="application/json").status_code == 200

    def test_a_wrong_code_does_not(self, browser_client, staff):
        device = enrol_totp(staff)
        sign_in_password(browser_client, "secretaria")
        wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
        # Signed in, a person reads the admin in the language of the switch (its cookie) or their profile.
        browser_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        response = browser_client.post(SECOND_FACTOR, {"code": wrong, "next": "/admin/"})
        assert response.status_code == 200
        assert "That code is not valid" in response.content.decode()
        assert browser_client.get("/admin/").status_code == 302
        assert kinds(staff)[-1] == SignInEventKind.SECOND_FACTOR_FAILED

    def test_a_code_from_another_time_window_does_not(self, browser_client, staff):
        device = enrol_totp(staff)
        sign_in_password(browser_client, "secretaria")
        stale = totp_code(device, at=time.time() - 10 * 60)
        browser_client.post(SECOND_FACTOR, {"code": stale})
        assert browser_client.get("/admin/").status_code == 302

    def test_a_code_is_good_once(self, staff, browser_client):
        device = enrol_totp(staff)
        code = totp_code(device)
        sign_in_password(browser_client, "secretaria")
        browser_client.post(SECOND_FACTOR, {"code": code})
        assert browser_client.get("/admin/").status_code == 200
        other = Client(REMOTE_ADDR="203.0.113.8")
        sign_in_password(other, "secretaria")
        other.post(SECOND_FACTOR, {"code": code})
        assert other.get("/admin/").status_code == 302

    def test_a_recovery_code_opens_it_once(self, browser_client, staff):
        enrol_totp(staff)
        codes = recovery_codes_issue(user=staff)
        sign_in_password(browser_client, "secretaria")
        browser_client.post(SECOND_FACTOR, {"code": codes[0].upper()})
        assert browser_client.get("/admin/").status_code == 200
        assert StaticToken.objects.filter(device__user=staff).count() == len(codes) - 1
        assert SignInEvent.objects.filter(user=staff, kind=SignInEventKind.SIGNED_IN,
                                          detail="recovery code").exists()
        again = Client(REMOTE_ADDR="203.0.113.8")
        sign_in_password(again, "secretaria")
        again.post(SECOND_FACTOR, {"code": codes[0]})
        assert again.get("/admin/").status_code == 302

    def test_a_person_between_the_two_steps_can_sign_out(self, browser_client, staff):
        enrol_totp(staff)
        sign_in_password(browser_client, "secretaria")
        response = browser_client.post("/admin/second-factor/sign-out/")
        assert response.status_code == 302 and response["Location"] == "/admin/login/"
        assert "_auth_user_id" not in browser_client.session
        assert kinds(staff)[-1] == SignInEventKind.SIGNED_OUT

    def test_the_second_step_is_only_for_someone_who_gave_the_password(self, browser_client, staff):
        response = browser_client.get(SECOND_FACTOR)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
        assert browser_client.get(ENROL)["Location"].startswith("/admin/login/")


@pytest.mark.django_db
class TestEnrolment:
    def test_the_first_sign_in_forces_enrolment(self, browser_client, staff):
        sign_in_password(browser_client, "secretaria")
        response = browser_client.get(SECOND_FACTOR + "?next=/admin/")
        assert response.status_code == 302 and response["Location"].startswith(ENROL)
        page = browser_client.get(ENROL + "?next=/admin/", HTTP_ACCEPT_LANGUAGE="es")
        assert page.status_code == 200
        content = page.content.decode()
        assert "<svg" in content and "Aplicación de autenticación" in content
        assert browser_client.get("/admin/").status_code == 302  # still closed

    def test_a_code_from_the_new_app_confirms_it_and_hands_out_recovery_codes(self, browser_client, staff):
        sign_in_password(browser_client, "secretaria")
        browser_client.get(ENROL)
        device = TOTPDevice.objects.get(user=staff, confirmed=False)
        response = browser_client.post(ENROL + "?next=/admin/", {"code": totp_code(device)})
        assert response.status_code == 302 and response["Location"].startswith(RECOVERY)
        page = browser_client.get(response["Location"])
        codes = list(StaticToken.objects.filter(device__user=staff).values_list("token", flat=True))
        assert len(codes) == 10 and all(code in page.content.decode() for code in codes)
        # Shown once: the next visit offers new ones instead of showing them again.
        assert codes[0] not in browser_client.get(RECOVERY).content.decode()
        device.refresh_from_db()
        assert device.confirmed
        assert browser_client.get("/admin/").status_code == 200
        assert kinds(staff) == [SignInEventKind.PASSWORD_ACCEPTED, SignInEventKind.FACTOR_ENROLLED,
                                SignInEventKind.SIGNED_IN, SignInEventKind.RECOVERY_CODES_ISSUED]

    def test_a_wrong_code_enrols_nothing(self, browser_client, staff):
        sign_in_password(browser_client, "secretaria")
        browser_client.get(ENROL)
        response = browser_client.post(ENROL, {"code": "000000"})
        assert response.status_code == 200
        assert not TOTPDevice.objects.filter(user=staff, confirmed=True).exists()
        assert not StaticToken.objects.filter(device__user=staff).exists()
        assert browser_client.get("/admin/").status_code == 302

    def test_with_a_factor_the_password_alone_cannot_enrol_another(self, browser_client, staff):
        """Whoever learns the password must not be able to add their own factor."""
        enrol_totp(staff)
        sign_in_password(browser_client, "secretaria")
        response = browser_client.get(ENROL)
        assert response.status_code == 302 and response["Location"].startswith(SECOND_FACTOR)
        assert browser_client.post(ENROL, {"code": "123456"}).status_code == 302
        assert TOTPDevice.objects.filter(user=staff).count() == 1
        passkey = browser_client.post("/admin/passkeys/registration/begin/", content_type="application/json")
        assert passkey.status_code == 403

    def test_a_signed_in_person_makes_new_recovery_codes(self, staff):
        old = recovery_codes_issue(user=staff)
        client = sign_in_to_admin(Client(), staff)
        response = client.post(RECOVERY)
        new = list(StaticToken.objects.filter(device__user=staff).values_list("token", flat=True))
        assert len(new) == 10 and not set(new) & set(old)
        assert all(code in response.content.decode() for code in new)

    def test_recovery_codes_page_needs_the_second_factor(self, browser_client, staff):
        enrol_totp(staff)
        sign_in_password(browser_client, "secretaria")
        assert browser_client.post(RECOVERY).status_code == 302
        assert not StaticToken.objects.filter(device__user=staff).exists()


@pytest.mark.django_db
class TestCaseworkers:
    """The admin is for staff; its answer to anyone else tells no password apart."""

    @pytest.mark.parametrize("language,message", [
        ("es", "Por favor introduzca el nombre de usuario y la clave correctos para una cuenta de personal."),
        ("en", "Please enter the correct username and password for a staff account."),
    ])
    def test_a_right_password_gets_the_answer_of_a_wrong_one(self, pe_caseworker, language, message):
        answers = []
        for address, password in (("203.0.113.7", "secret-password"), ("203.0.113.8", "not-the-password")):
            client = Client(REMOTE_ADDR=address)
            response = sign_in_password(client, "pe.caseworker", password, HTTP_ACCEPT_LANGUAGE=language)
            assert "_auth_user_id" not in client.session
            html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
            answers.append((response.status_code, html))
        assert answers[0] == answers[1]
        assert answers[0][0] == 200 and message in answers[0][1]
        assert "API" not in answers[0][1]
        # The record tells the secretariat which was which.
        assert kinds(pe_caseworker) == [SignInEventKind.REFUSED_NOT_STAFF, SignInEventKind.PASSWORD_FAILED]

    def test_a_right_password_counts_towards_the_lockout_like_a_wrong_one(self, pe_caseworker, settings):
        settings.AXES_FAILURE_LIMIT = 3
        client = Client(REMOTE_ADDR="203.0.113.7")
        statuses = [sign_in_password(client, "pe.caseworker", "secret-password").status_code for _ in range(4)]
        assert statuses == [200, 200, 429, 429]


@pytest.mark.django_db
class TestEnrolmentAttempts:
    """Someone who knows the password must not be able to choose the key the person later enrols."""

    def test_each_attempt_has_a_new_key_and_removes_earlier_unconfirmed_ones(self, staff):
        intruder, person = Client(REMOTE_ADDR="198.51.100.9"), Client(REMOTE_ADDR="203.0.113.7")
        sign_in_password(intruder, "secretaria")
        intruder.get(ENROL)
        seeded = TOTPDevice.objects.get(user=staff, confirmed=False)
        sign_in_password(person, "secretaria")
        person.get(ENROL)
        mine = TOTPDevice.objects.get(user=staff, confirmed=False)
        assert mine.pk != seeded.pk and mine.bin_key != seeded.bin_key
        assert not TOTPDevice.objects.filter(pk=seeded.pk).exists()
        # Another visit of the page is another attempt, with another key.
        person.get(ENROL)
        again = TOTPDevice.objects.get(user=staff, confirmed=False)
        assert again.bin_key != mine.bin_key
        response = person.post(ENROL, {"code": totp_code(again)})
        assert response.status_code == 302 and response["Location"].startswith(RECOVERY)
        assert list(TOTPDevice.objects.filter(user=staff).values_list("pk", "confirmed")) == [(again.pk, True)]

    def test_a_session_confirms_only_the_device_it_started(self, staff):
        intruder, person = Client(REMOTE_ADDR="198.51.100.9"), Client(REMOTE_ADDR="203.0.113.7")
        sign_in_password(intruder, "secretaria")
        intruder.get(ENROL)
        seeded = TOTPDevice.objects.get(user=staff, confirmed=False)
        sign_in_password(person, "secretaria")
        # The person types a code of the key the intruder saw, without opening the page: refused.
        person.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        response = person.post(ENROL, {"code": totp_code(seeded)})
        assert response.status_code == 200
        assert "This set-up was started again elsewhere" in response.content.decode()
        assert not TOTPDevice.objects.filter(user=staff, confirmed=True).exists()
        assert person.get("/admin/").status_code == 302

    def test_the_intruders_attempt_ends_when_the_person_starts_theirs(self, staff):
        intruder, person = Client(REMOTE_ADDR="198.51.100.9"), Client(REMOTE_ADDR="203.0.113.7")
        sign_in_password(intruder, "secretaria")
        intruder.get(ENROL)
        seeded = TOTPDevice.objects.get(user=staff, confirmed=False)
        sign_in_password(person, "secretaria")
        person.get(ENROL)
        intruder.post(ENROL, {"code": totp_code(seeded)})
        assert not TOTPDevice.objects.filter(user=staff, confirmed=True).exists()


@pytest.mark.django_db
class TestEnrolmentNeedsARecentPassword:
    def test_a_session_whose_password_is_old_signs_in_again(self, staff):
        client = Client(REMOTE_ADDR="203.0.113.7")
        start = timezone.now()
        with time_machine.travel(start, tick=False):
            sign_in_password(client, "secretaria")
        with time_machine.travel(start + datetime.timedelta(minutes=11), tick=False):
            response = client.get(ENROL + "?next=/admin/")
            assert response.status_code == 302 and response["Location"].startswith("/admin/login/?next=")
            assert "_auth_user_id" not in client.session
            assert not TOTPDevice.objects.filter(user=staff).exists()
            # A fresh password step opens it again.
            sign_in_password(client, "secretaria")
            assert client.get(ENROL).status_code == 200

    def test_within_the_window_it_enrols(self, staff):
        client = Client(REMOTE_ADDR="203.0.113.7")
        start = timezone.now()
        with time_machine.travel(start, tick=False):
            sign_in_password(client, "secretaria")
        with time_machine.travel(start + datetime.timedelta(minutes=9), tick=False):
            assert client.get(ENROL).status_code == 200
            device = TOTPDevice.objects.get(user=staff, confirmed=False)
            assert client.post(ENROL, {"code": totp_code(device)}).status_code == 302
        device.refresh_from_db()
        assert device.confirmed

    def test_a_passkey_is_not_registered_either(self, staff):
        client = Client(REMOTE_ADDR="203.0.113.7")
        start = timezone.now()
        with time_machine.travel(start, tick=False):
            sign_in_password(client, "secretaria")
        with time_machine.travel(start + datetime.timedelta(minutes=11), tick=False):
            response = client.post("/admin/passkeys/registration/begin/", content_type="application/json")
            assert response.status_code == 403 and response.json()["code"] == "password_step_expired"
            assert "otp_webauthn_register_state" not in client.session

    def test_a_verified_person_adding_a_factor_later_signs_in_again(self, staff):
        device = enrol_totp(staff)
        client = Client(REMOTE_ADDR="203.0.113.7")
        start = timezone.now()
        with time_machine.travel(start, tick=False):
            sign_in_password(client, "secretaria")
            client.post(SECOND_FACTOR, {"code": totp_code(device)})
            assert client.get(ENROL).status_code == 200
        with time_machine.travel(start + datetime.timedelta(minutes=20), tick=False):
            assert client.get(ENROL)["Location"].startswith("/admin/login/")
            assert client.get("/admin/").status_code == 302
