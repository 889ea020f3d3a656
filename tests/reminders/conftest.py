"""Fixtures for reminder tests: the default rules, a Peruvian sending agency,
a Chilean receiving agency, a pending handoff, a committee with a member in
Lima and one in Santiago, its meetings and action items, a real SMTP server."""
import datetime

import pytest
import time_machine
from django.apps import apps
from django.test import TestCase

from cases.roles import Role
from reminders.defaults import create_default_rules
from reminders.models import Reminder, ReminderRule
from reminders.services import Outcome, reminder_send, reminders_sweep
from tests.committee.factories import (
    ActionItemFactory,
    AgendaItemFactory,
    CommitteeFactory,
    MeetingFactory,
    MembershipFactory,
)
from tests.factories import AgencyFactory, HandoffFactory, UserFactory, case_with_family

from .smtp import smtp_server

UTC = datetime.UTC
# Well away from any daylight-saving change.
DEADLINE = datetime.datetime(2026, 3, 18, 15, 0, tzinfo=UTC)


def sweep_at(moment, **kwargs):
    """One sweep with the clock at ``moment``; returns (result, ids queued)."""
    queued = []
    with time_machine.travel(moment, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        result = reminders_sweep(enqueue=queued.extend, **kwargs)
    return result, queued


def sweep_and_send(moment):
    """Sweep at ``moment`` and send what it wrote; returns the reminders."""
    with time_machine.travel(moment, tick=False):
        created = reminders_sweep(enqueue=lambda ids: None).created
        assert {reminder_send(reminder_id=pk).outcome for pk in created} <= {Outcome.SENT}
    return list(Reminder.objects.filter(pk__in=created))


def send(reminder, moment=DEADLINE):
    """The send task for ``reminder`` with the clock at ``moment``; the row is refreshed."""
    with time_machine.travel(moment, tick=False):
        result = reminder_send(reminder_id=reminder.pk)
    reminder.refresh_from_db()
    return result


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
def committee(db):
    return CommitteeFactory(code="binacional", name="Comité Binacional Perú–Chile")


@pytest.fixture
def members(committee, lima_agency, santiago_agency):
    """A delegate in Lima who reads Spanish, one in Santiago who reads English."""
    lima = UserFactory(username="delegado.pe", email="delegado.pe@comite.example", agency=lima_agency,
                       language="es", time_zone="America/Lima", roles=[Role.COMMITTEE_MEMBER])
    santiago = UserFactory(username="delegate.cl", email="delegate.cl@comite.example", agency=santiago_agency,
                           language="en", time_zone="America/Santiago", roles=[Role.COMMITTEE_MEMBER])
    MembershipFactory(committee=committee, user=lima, role="chair", delegation="PE")
    MembershipFactory(committee=committee, user=santiago, role="member", delegation="CL")
    return lima, santiago


@pytest.fixture
def make_meeting(committee, members):
    """``make_meeting(starts_at=…, …)``: a scheduled two-hour meeting of the committee, in Tacna."""

    def make(*, starts_at=DEADLINE, **fields):
        fields.setdefault("ends_at", starts_at + datetime.timedelta(hours=2))
        fields.setdefault("place", "Gobierno Regional de Tacna, sala de sesiones")
        return MeetingFactory(committee=committee, title="II Sesión ordinaria", starts_at=starts_at, **fields)

    return make


@pytest.fixture
def case_on_agenda(lima_agency):
    """A family case (the members have names and passports) to put on an agenda."""
    return case_with_family(lima_agency, children=2)


def add_agenda(meeting, case):
    """Three points; the second is about ``case``, under a title that names the family."""
    AgendaItemFactory(meeting=meeting, kind="minutes_approval", title="Aprobación del acta de la I Sesión")
    names = " ".join(member.person.family_names for member in case.memberships.select_related("person"))
    AgendaItemFactory(meeting=meeting, kind="case_review", case=case, title=f"Situación de la familia {names}")
    AgendaItemFactory(meeting=meeting, kind="discussion", title="Albergue temporal en Tacna")


@pytest.fixture
def make_action_item(lima_agency):
    """``make_action_item(due_at=…, assignee=…, …)``: an open action item owned by the Lima agency."""

    def make(*, due_at=DEADLINE, **fields):
        fields.setdefault("owner_agency", lima_agency)
        return ActionItemFactory(title="Enviar el protocolo de recepción", due_at=due_at, **fields)

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
