"""What the secretariat does about other people's sign-in in the admin."""
import base64
import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases.demo.credentials import DEMO_TOTP_CODE_COMMAND, DEMO_TOTP_SECRET
from cases.models import User
from signin.models import SignInEvent, SignInEventKind
from signin.services import recovery_codes_issue
from tests.staff import enrol_totp, sign_in_to_admin

from .conftest import ENROL, SECOND_FACTOR, sign_in_password

USERS = "/admin/cases/user/"
EVENTS = "/admin/signin/signinevent/"


@pytest.mark.django_db
class TestFactorReset:
    def test_the_secretariat_resets_a_persons_factors(self, staff, secretariat_colleague):
        enrol_totp(staff)
        recovery_codes_issue(user=staff)
        their_session = sign_in_to_admin(Client(), staff)
        admin = sign_in_to_admin(Client(), secretariat_colleague)
        response = admin.post(USERS, {"action": "reset_second_factors", "_selected_action": [staff.pk]})
        assert response.status_code == 302
        assert not TOTPDevice.objects.filter(user=staff).exists()
        assert not StaticDevice.objects.filter(user=staff).exists()
        event = SignInEvent.objects.get(kind=SignInEventKind.FACTORS_RESET)
        assert event.user == staff and event.actor == secretariat_colleague
        entry = LogEntry.objects.get(object_id=str(staff.pk))
        assert entry.user == secretariat_colleague
        # Their open session no longer counts as verified, and the next sign-in enrols afresh.
        assert their_session.get("/admin/").status_code == 302
        client = Client()
        sign_in_password(client, "secretaria")
        assert client.get(SECOND_FACTOR)["Location"].startswith(ENROL)
        # The colleague's own factor is untouched.
        assert TOTPDevice.objects.filter(user=secretariat_colleague).exists()

    def test_it_ends_their_sessions_so_a_password_step_cannot_enrol_a_new_factor(self, staff,
                                                                               secretariat_colleague):
        """Whoever sat at the second step with the password only must give it again after a reset."""
        enrol_totp(staff)
        half_signed_in = Client(REMOTE_ADDR="198.51.100.9")
        sign_in_password(half_signed_in, "secretaria")
        signed_in = sign_in_to_admin(Client(), staff)
        colleague_session = sign_in_to_admin(Client(), secretariat_colleague)
        colleague_session.post(USERS, {"action": "reset_second_factors", "_selected_action": [staff.pk]})
        for client in (half_signed_in, signed_in):
            assert "_auth_user_id" not in client.session
            response = client.get(ENROL)
            assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
        assert not TOTPDevice.objects.filter(user=staff).exists()
        # The colleague who reset them is still signed in.
        assert colleague_session.get("/admin/").status_code == 200
        assert SignInEvent.objects.get(kind=SignInEventKind.FACTORS_RESET).detail == "factors: 1, sessions: 2"

    def test_resetting_ones_own_factors_signs_out_this_session(self, secretariat_colleague):
        client = sign_in_to_admin(Client(), secretariat_colleague)
        response = client.post(USERS, {"action": "reset_second_factors",
                                       "_selected_action": [secretariat_colleague.pk]})
        assert response.status_code == 302
        assert client.get("/admin/").status_code == 302
        assert not TOTPDevice.objects.filter(user=secretariat_colleague).exists()

    def test_a_committee_member_cannot(self, staff, committee_member):
        enrol_totp(staff)
        admin = sign_in_to_admin(Client(), committee_member)
        admin.post(USERS, {"action": "reset_second_factors", "_selected_action": [staff.pk]})
        assert TOTPDevice.objects.filter(user=staff).exists()
        assert not SignInEvent.objects.filter(kind=SignInEventKind.FACTORS_RESET).exists()

    def test_the_user_list_shows_who_has_a_second_factor(self, staff, secretariat_colleague):
        admin = sign_in_to_admin(Client(), secretariat_colleague)
        response = admin.get(USERS)
        rows = {user.username: user.has_second_factor for user in response.context["cl"].result_list}
        assert rows == {"secretaria": False, "secretaria.dos": True}


@pytest.mark.django_db
class TestSignInEvents:
    def test_the_secretariat_reads_them(self, staff, secretariat_colleague):
        sign_in_password(Client(REMOTE_ADDR="203.0.113.5"), "secretaria", "wrong-password-here")
        response = sign_in_to_admin(Client(), secretariat_colleague).get(f"{EVENTS}?kind__exact=password_failed")
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == list(
            SignInEvent.objects.filter(kind=SignInEventKind.PASSWORD_FAILED))
        assert "203.0.113.5" in response.content.decode()

    def test_nobody_edits_or_deletes_them(self, staff, secretariat_colleague):
        sign_in_password(Client(), "secretaria", "wrong-password-here")
        event = SignInEvent.objects.get(kind=SignInEventKind.PASSWORD_FAILED)
        client = sign_in_to_admin(Client(), User.objects.create_superuser("root", "r@example.org", "x" * 16))
        assert client.post(f"{EVENTS}{event.pk}/delete/", {"post": "yes"}).status_code == 403
        assert client.post(f"{EVENTS}{event.pk}/change/", {"kind": "signed_in"}).status_code == 403
        event.refresh_from_db()
        assert event.kind == SignInEventKind.PASSWORD_FAILED

    def test_committee_members_do_not_see_them(self, committee_member):
        assert sign_in_to_admin(Client(), committee_member).get(EVENTS).status_code == 403


@pytest.mark.django_db
class TestDemo:
    def test_seed_demo_enrols_the_admin_accounts_with_the_published_secret(self):
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        staff = set(User.objects.filter(is_staff=True).values_list("username", flat=True))
        assert staff == {"secretaria", "delegado.pe", "delegada.cl"}
        devices = TOTPDevice.objects.filter(confirmed=True)
        assert {device.user.username for device in devices} == staff
        assert {device.bin_key for device in devices} == {base64.b32decode(DEMO_TOTP_SECRET)}
        assert DEMO_TOTP_SECRET in out.getvalue()
        call_command("seed_demo", stdout=io.StringIO())
        assert TOTPDevice.objects.count() == 3

    def test_the_printed_one_liner_prints_the_current_code(self):
        command = DEMO_TOTP_CODE_COMMAND.replace(".venv/bin/python", sys.executable)
        result = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=60,
                                cwd=Path(__file__).resolve().parents[2])
        user = User.objects.create_user("probe", password="x" * 16, is_staff=True)
        device = TOTPDevice.objects.create(user=user, key=base64.b32decode(DEMO_TOTP_SECRET).hex())
        assert result.returncode == 0, result.stderr
        assert device.verify_token(result.stdout.strip())
