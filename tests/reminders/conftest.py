"""Fixtures for reminder tests: the default rules, a Peruvian sending agency,
a Chilean receiving agency, a pending handoff, a real SMTP server."""
import datetime

import pytest
from django.apps import apps

from cases.roles import Role
from reminders.defaults import create_default_rules
from reminders.models import ReminderRule
from tests.factories import AgencyFactory, HandoffFactory, UserFactory, case_with_family

from .smtp import smtp_server

UTC = datetime.timezone.utc
# Well away from any daylight-saving change.
DEADLINE = datetime.datetime(2026, 3, 18, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def public_base_url(settings):
    settings.PUBLIC_BASE_URL = "https://puente.example.org"


@pytest.fixture
def rules(db):
    """The default rules by (deadline kind, timing). Created here too: a
    transactional test elsewhere may have emptied the table."""
    create_default_rules(apps)
    return {(rule.deadline_kind, rule.timing): rule for rule in ReminderRule.objects.all()}


@pytest.fixture
def lima_agency(db):
    return AgencyFactory(code="pe-upe-tacna", name="UPE Tacna", country="PE", contact_email="upe@tacna.example",
                         language="es")


@pytest.fixture
def santiago_agency(db):
    return AgencyFactory(code="cl-pdi-chacalluta", name="PDI Chacalluta", country="CL",
                         contact_email="frontera@pdi.example", language="es")


@pytest.fixture
def secretaries(db):
    return [
        UserFactory(username="secretaria.lima", email="secretaria.lima@comite.example", roles=[Role.SECRETARIAT],
                    language="es", time_zone="America/Lima", is_staff=True),
        UserFactory(username="secretary.santiago", email="secretary.santiago@comite.example",
                    roles=[Role.SECRETARIAT], language="en", time_zone="America/Santiago", is_staff=True),
    ]


@pytest.fixture
def make_handoff(lima_agency, santiago_agency):
    """``make_handoff(response_due=…, from_agency=…, to_agency=…)``: a pending
    transfer of a family case (the members have names and passports)."""

    def make(*, response_due=DEADLINE, from_agency=None, to_agency=None, **fields):
        from_agency = from_agency or lima_agency
        case = case_with_family(from_agency, children=2)
        return HandoffFactory(case=case, from_agency=from_agency, to_agency=to_agency or santiago_agency,
                              response_due=response_due, **fields)

    return make


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback, and Django pointed at it."""
    with smtp_server() as (mailbox, port):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 5
        yield mailbox
