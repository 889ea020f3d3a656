from urllib.parse import quote

import pytest
from django.test import Client

from cases.roles import Role
from tests.factories import UserFactory

PASSWORD = "una-clave-larga-y-rara"
LOGIN = "/admin/login/"
SECOND_FACTOR = "/admin/second-factor/"
ENROL = "/admin/second-factor/enrol/"
RECOVERY = "/admin/second-factor/recovery-codes/"


@pytest.fixture
def browser_client():
    """A client from an address of its own, as a browser at an agency office."""
    return Client(REMOTE_ADDR="203.0.113.7")


@pytest.fixture
def staff(db):
    """A secretariat account with a password and no second factor yet."""
    return UserFactory(username="secretaria", roles=[Role.SECRETARIAT], is_staff=True,
                       password=PASSWORD, language="es")


def sign_in_password(client, username, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"}, **extra)


@pytest.fixture
def secretariat_colleague(db):
    """Another secretariat account, to act on ``staff``."""
    return UserFactory(username="secretaria.dos", roles=[Role.SECRETARIAT], is_staff=True)


def database_url_of(settings_dict) -> str:
    """DATABASE_URL for a subprocess on the test database, over TCP or through
    the embedded server's socket directory (which its URL gives as ``?host=``,
    so Django holds it in OPTIONS, not HOST)."""
    options = settings_dict.get("OPTIONS") or {}
    user, name = quote(settings_dict["USER"], safe=""), settings_dict["NAME"]
    host = settings_dict.get("HOST") or options.get("host") or ""
    port = settings_dict.get("PORT") or options.get("port") or ""
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}@" if password else f"{user}@"
    if not host or host.startswith("/"):
        query = "&".join(f"{key}={quote(str(value), safe='/')}" for key, value in (("host", host), ("port", port))
                         if value)
        return f"postgres://{auth}/{name}" + (f"?{query}" if query else "")
    return f"postgres://{auth}{host}:{port or 5432}/{name}"
