from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from cases.models import Agency, User


def run(*args, **kwargs):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err, **kwargs)
    return out.getvalue()


@pytest.mark.django_db
class TestAddAgency:
    def test_it_creates_an_agency_with_the_country_time_zone(self):
        output = run("add_agency", "cl-pdi", "--name", "Policía de Investigaciones", "--country", "CL",
                     "--kind", "police", "--email", "frontera@pdi.example")
        agency = Agency.objects.get(code="cl-pdi")
        assert (agency.country, agency.kind, agency.time_zone) == ("CL", "police", "America/Santiago")
        assert "Created" in output

    def test_it_is_idempotent_and_updates(self):
        run("add_agency", "pe-pnp", "--name", "PNP", "--country", "PE")
        output = run("add_agency", "pe-pnp", "--name", "Policía Nacional del Perú", "--country", "PE")
        assert Agency.objects.filter(code="pe-pnp").count() == 1
        assert Agency.objects.get(code="pe-pnp").name == "Policía Nacional del Perú"
        assert "Updated" in output

    def test_it_refuses_an_unknown_country(self):
        with pytest.raises(CommandError, match="country"):
            run("add_agency", "xx-agency", "--name", "X", "--country", "AR")
        assert not Agency.objects.exists()

    def test_it_refuses_a_bad_code(self):
        with pytest.raises(CommandError, match="code"):
            run("add_agency", "not a slug!", "--name", "X", "--country", "PE")
        assert not Agency.objects.exists()

    def test_it_refuses_a_bad_email(self):
        with pytest.raises(CommandError, match="contact_email"):
            run("add_agency", "pe-x", "--name", "X", "--country", "PE", "--email", "nope")


@pytest.mark.django_db
class TestAddUser:
    def test_it_creates_a_caseworker_of_an_agency(self, pe_agency, monkeypatch):
        monkeypatch.setenv("NEW_PASSWORD", "a-long-password-123")
        run("add_user", "ana", "--email", "ana@migraciones.example", "--agency", "pe-migraciones",
            "--role", "caseworker", "--language", "es", "--password-from-env", "NEW_PASSWORD")
        user = User.objects.get(username="ana")
        assert user.agency == pe_agency
        assert user.roles == frozenset({"caseworker"})
        assert user.check_password("a-long-password-123")
        assert not user.is_staff

    def test_secretariat_users_reach_the_admin(self):
        run("add_user", "sec", "--email", "sec@comite.example", "--role", "secretariat")
        user = User.objects.get(username="sec")
        assert user.is_staff and not user.has_usable_password()

    def test_it_refuses_an_unknown_agency(self):
        with pytest.raises(CommandError, match="No agency with code 'nope'"):
            run("add_user", "ana", "--email", "ana@x.example", "--agency", "nope")
        assert not User.objects.filter(username="ana").exists()

    def test_it_refuses_an_unknown_role(self):
        with pytest.raises(CommandError):
            run("add_user", "ana", "--email", "ana@x.example", "--role", "boss")

    def test_it_refuses_a_missing_password_variable(self, monkeypatch):
        monkeypatch.delenv("MISSING_VAR", raising=False)
        with pytest.raises(CommandError, match="MISSING_VAR"):
            run("add_user", "ana", "--email", "ana@x.example", "--password-from-env", "MISSING_VAR")

    def test_it_refuses_a_bad_email(self):
        with pytest.raises(CommandError, match="email"):
            run("add_user", "ana", "--email", "not-an-email")
        assert not User.objects.filter(username="ana").exists()


@pytest.mark.django_db
class TestIssueToken:
    def test_it_prints_a_working_token_alone_on_the_last_line(self, pe_caseworker):
        output = run("issue_token", "pe.caseworker", "--name", "sistema-agencia")
        token = output.strip().splitlines()[-1]
        assert token.startswith("pnt_") and " " not in token
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert client.get("/api/v1/me/").json()["username"] == "pe.caseworker"

    def test_it_refuses_an_unknown_user(self):
        with pytest.raises(CommandError, match="No active user"):
            run("issue_token", "ghost")

    def test_it_refuses_a_non_positive_expiry(self, pe_caseworker):
        with pytest.raises(CommandError, match="positive"):
            run("issue_token", "pe.caseworker", "--expires-in-days", "0")
