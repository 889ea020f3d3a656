"""Standing users and API clients, and the rules for tests that need real services.

Every test runs on PostgreSQL. Tests marked ``redis`` need a Redis server (REDIS_URL,
or the embedded one), ``browser`` the system Chromium (Debian's ``chromium``
package): without it they skip with the reason, unless ``REQUIRE_SERVICES=1``
(CI), where they fail instead."""
import os

import pytest
from rest_framework.test import APIClient

from api_core.services import token_issue
from cases.roles import Role

from .factories import AgencyFactory, UserFactory

# Every API answer of the suite checked against the published schema.
pytest_plugins = ["tests.schema_conformance"]

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = "/usr/bin/chromium"


def _missing(reason: str):
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def redis_reachable() -> bool:
    url = os.environ.get("REDIS_URL")
    if not url:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def pytest_runtest_setup(item):
    if item.get_closest_marker("redis") and not redis_reachable():
        _missing("Redis is not reachable (set REDIS_URL=redis://…)")
    if item.get_closest_marker("browser") and not os.path.exists(CHROMIUM):
        _missing(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)")


# --- Standing agencies and users ------------------------------------------

@pytest.fixture
def pe_agency(db):
    return AgencyFactory(code="pe-migraciones", name="Superintendencia Nacional de Migraciones", country="PE")


@pytest.fixture
def cl_agency(db):
    return AgencyFactory(code="cl-sermig", name="Servicio Nacional de Migraciones", country="CL")


@pytest.fixture
def int_agency(db):
    return AgencyFactory(code="int-acnur-tacna", name="ACNUR Tacna", country="INT",
                         kind="international_organisation")


@pytest.fixture
def outsider_agency(db):
    return AgencyFactory(code="pe-defensoria", name="Defensoría del Pueblo", country="PE", kind="ombudsman")


@pytest.fixture
def pe_caseworker(pe_agency):
    return UserFactory(username="pe.caseworker", agency=pe_agency, roles=[Role.CASEWORKER])


@pytest.fixture
def cl_caseworker(cl_agency):
    return UserFactory(username="cl.caseworker", agency=cl_agency, roles=[Role.CASEWORKER], language="es")


@pytest.fixture
def outsider(outsider_agency):
    return UserFactory(username="outsider", agency=outsider_agency, roles=[Role.CASEWORKER])


@pytest.fixture
def secretariat(db):
    return UserFactory(username="secretaria", roles=[Role.SECRETARIAT], is_staff=True)


@pytest.fixture
def committee_member(db):
    return UserFactory(username="delegado", roles=[Role.COMMITTEE_MEMBER], is_staff=True)


# --- API clients -----------------------------------------------------------


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def client_for(db):
    """``client_for(user)`` → an APIClient sending that user's bearer token."""

    def make(user, **headers):
        _, raw = token_issue(user=user, name="test")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}", **headers)
        return client

    return make
