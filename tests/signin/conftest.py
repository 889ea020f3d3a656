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
