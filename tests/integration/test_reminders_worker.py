"""Reminders against the real things: Celery worker processes on the Redis
broker, PostgreSQL, and an SMTP server on loopback. Handoff reminders,
retries, a worker killed mid-send; a meeting reminder with its event, and the
cancellation notice queued by the cancellation itself.

The worker runs ``config.settings.local`` with DATABASE_URL pointing at this
test run's database and EMAIL_URL at the SMTP server started here; the sweep
is the beat task itself, queued on the broker."""
import datetime
import os
import signal
import subprocess
import sys
import zoneinfo
from pathlib import Path

import icalendar
import pytest
import redis
from django.utils import timezone

from cases.models import User
from cases.roles import Role
from committee.services import meeting_cancel
from reminders.models import Reminder, ReminderStatus
from reminders.tasks import sweep_reminders
from tests.committee.factories import AgendaItemFactory, CommitteeFactory, MeetingFactory, MembershipFactory
from tests.factories import AgencyFactory, HandoffFactory, UserFactory, case_with_family
from tests.reminders.conftest import rules  # noqa: F401  (fixture)
from tests.reminders.smtp import smtp_server, text_of, wait_for
from tests.services import worker_database_url

ROOT = Path(__file__).resolve().parent.parent.parent
H = datetime.timedelta(hours=1)

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


class Workers:
    """Starts ``celery worker`` processes, each in its own process group."""

    def __init__(self, tmp_path: Path, smtp_port: int):
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen] = []
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "EMAIL_", "PUENTE_"))},
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_DEBUG": "0",
            "DATABASE_URL": worker_database_url(),
            "REDIS_URL": os.environ["REDIS_URL"],
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "EMAIL_TIMEOUT": "10",
            "PUBLIC_BASE_URL": "https://puente.example.org",
            # Short enough for a test, in the same proportions as production:
            # the claim outlives the send task's hard time limit.
            "PUENTE_REMINDER_RETRY_BASE_SECONDS": "1",
            "PUENTE_REMINDER_SEND_SOFT_TIME_LIMIT": "3",
            "PUENTE_REMINDER_SEND_TIME_LIMIT": "4",
            "PUENTE_REMINDER_CLAIM_SECONDS": "5",
            "PUENTE_REMINDER_REQUEUE_AFTER_SECONDS": "0",
        }

    def start(self) -> subprocess.Popen:
        number = len(self.processes) + 1
        log = open(self.tmp_path / f"worker-{number}.log", "w")  # noqa: SIM115 - the worker writes to it until stopped
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO", "--concurrency=1",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"reminders-{number}@%h"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL to the worker and its pool: no warm shutdown, nothing acknowledged."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def logs(self) -> str:
        return "\n".join(path.read_text()[-3000:] for path in sorted(self.tmp_path.glob("worker-*.log")))


@pytest.fixture
def broker():
    """An empty broker database before and after: no message outlives its test."""
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def mailbox():
    with smtp_server() as (mailbox, port):
        mailbox.port = port
        yield mailbox


@pytest.fixture
def workers(tmp_path, mailbox, broker):
    workers = Workers(tmp_path, mailbox.port)
    yield workers
    workers.stop_all()


@pytest.fixture
def border(db):
    """A Peruvian agency handing cases to a Chilean one, and the secretariat in both countries."""
    lima = AgencyFactory(code="pe-upe-tacna", name="UPE Tacna", country="PE", contact_email="upe@tacna.example")
    santiago = AgencyFactory(code="cl-pdi-chacalluta", name="PDI Chacalluta", country="CL",
                             contact_email="frontera@pdi.example")
    UserFactory(username="secretaria.lima", email="secretaria.lima@comite.example", roles=[Role.SECRETARIAT],
                language="es", time_zone="America/Lima")
    UserFactory(username="secretary.santiago", email="secretary.santiago@comite.example",
                roles=[Role.SECRETARIAT], language="en", time_zone="America/Santiago")
    return lima, santiago


def handoff_due(border, response_due):
    lima, santiago = border
    return HandoffFactory(case=case_with_family(lima, children=1), from_agency=lima, to_agency=santiago,
                          response_due=response_due.replace(microsecond=0))


def local(moment, zone):
    return moment.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%H:%M")


def test_each_recipient_gets_exactly_one_message(rules, border, workers, mailbox):  # noqa: F811
    """Beat's sweep queued twice (as two beats would): one message per recipient, in their language and time."""
    now = timezone.now()
    soon = handoff_due(border, now + 23 * H)  # its "24 h before" reminder is due
    overdue = handoff_due(border, now - 24 * H - 60 * datetime.timedelta(seconds=1))  # escalation is due
    workers.start()
    sweep_reminders.delay()
    sweep_reminders.delay()
    arrived = wait_for(lambda: len(mailbox.messages) >= 3 and not Reminder.objects.exclude(status="sent").exists(),
                       timeout=30)
    assert arrived, workers.logs()
    wait_for(lambda: len(mailbox.messages) > 3, timeout=1.5)  # give a duplicate the chance to show up
    assert sorted(m["To"] for m in mailbox.messages) == [
        "frontera@pdi.example", "secretaria.lima@comite.example", "secretary.santiago@comite.example"]
    agency, = mailbox.to("frontera@pdi.example")
    assert agency["Subject"].startswith(f"Recordatorio: la respuesta sobre el traspaso del caso {soon.case.reference}")
    assert f"{local(soon.response_due, 'America/Santiago')} America/Santiago" in agency["Subject"]
    lima, = mailbox.to("secretaria.lima@comite.example")
    assert lima["Subject"].startswith(f"Vencido: sin respuesta sobre el traspaso del caso {overdue.case.reference}")
    assert f"{local(overdue.response_due, 'America/Lima')} America/Lima (UTC-05:00)" in text_of(lima)
    santiago, = mailbox.to("secretary.santiago@comite.example")
    assert santiago["Subject"].startswith(f"Overdue: no response to the transfer of case {overdue.case.reference}")
    assert f"{local(overdue.response_due, 'America/Santiago')} America/Santiago" in text_of(santiago)
    assert Reminder.objects.count() == 3
    assert set(Reminder.objects.values_list("attempts", flat=True)) == {1}


def test_a_refused_attempt_is_retried_and_arrives_once(rules, border, workers, mailbox):  # noqa: F811
    handoff = handoff_due(border, timezone.now() + 23 * H)
    mailbox.refuse = 1
    workers.start()
    sweep_reminders.delay()
    assert wait_for(lambda: Reminder.objects.filter(status=ReminderStatus.SENT).exists(), timeout=30), workers.logs()
    wait_for(lambda: len(mailbox.messages) > 1, timeout=1.5)
    message, = mailbox.messages
    assert handoff.case.reference in message["Subject"]
    reminder = Reminder.objects.get()
    assert (reminder.status, reminder.attempts, reminder.last_error) == (ReminderStatus.SENT, 2, "")
    assert mailbox.attempts == 2


def test_a_worker_killed_mid_send_loses_nothing_and_duplicates_nothing(rules, border, workers, mailbox):  # noqa: F811
    handoff = handoff_due(border, timezone.now() + 23 * H)
    mailbox.hold = 1  # the first attempt hangs in DATA until the client goes away
    first = workers.start()
    sweep_reminders.delay()
    assert mailbox.holding.wait(timeout=30), workers.logs()
    workers.kill(first)
    reminder = Reminder.objects.get()
    assert (reminder.status, reminder.attempts, reminder.sent_at) == (ReminderStatus.SENDING, 1, None)
    assert mailbox.messages == []
    workers.start()
    # Once the dead worker's claim runs out, the next sweep queues the row again.
    assert wait_for(lambda: timezone.now() > reminder.claimed_until, timeout=10)
    sweep_reminders.delay()
    assert wait_for(lambda: Reminder.objects.filter(status=ReminderStatus.SENT).exists(), timeout=30), workers.logs()
    sweep_reminders.delay()
    wait_for(lambda: len(mailbox.messages) > 1, timeout=2)
    message, = mailbox.messages
    assert handoff.case.reference in message["Subject"]
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == (ReminderStatus.SENT, 2)


def calendar_of(message) -> icalendar.Calendar:
    attachment, = message.iter_attachments()
    assert attachment.get_content_type() == "text/calendar"
    return icalendar.Calendar.from_ical(attachment.get_content())


def test_a_meeting_reminder_arrives_once_with_its_event_and_so_does_its_cancellation(
        rules, border, workers, mailbox):  # noqa: F811
    lima, santiago = border
    committee = CommitteeFactory(code="binacional", name="Comité Binacional Perú–Chile")
    delegates = [
        UserFactory(username="delegado.pe", email="delegado.pe@comite.example", agency=lima, language="es",
                    time_zone="America/Lima"),
        UserFactory(username="delegate.cl", email="delegate.cl@comite.example", agency=santiago, language="en",
                    time_zone="America/Santiago"),
    ]
    for user, delegation in zip(delegates, ("PE", "CL"), strict=True):
        MembershipFactory(committee=committee, user=user, delegation=delegation)
    starts_at = (timezone.now() + 47 * H).replace(microsecond=0)  # its "48 h before" reminder is due
    meeting = MeetingFactory(committee=committee, title="II Sesión ordinaria", starts_at=starts_at,
                             time_zone="America/Santiago", place="Municipalidad de Arica")
    AgendaItemFactory(meeting=meeting, title="Albergue temporal en Tacna")
    workers.start()
    sweep_reminders.delay()
    sweep_reminders.delay()
    arrived = wait_for(lambda: len(mailbox.messages) >= 2 and not Reminder.objects.exclude(status="sent").exists(),
                       timeout=30)
    assert arrived, workers.logs()
    wait_for(lambda: len(mailbox.messages) > 2, timeout=1.5)
    assert sorted(m["To"] for m in mailbox.messages) == ["delegado.pe@comite.example", "delegate.cl@comite.example"]
    english, = mailbox.to("delegate.cl@comite.example")
    assert english["Subject"].strip().endswith(": II Sesión ordinaria")
    assert "When: " in text_of(english) and f"{local(starts_at, 'America/Santiago')} America/Santiago" in (
        text_of(english))
    assert "1. Albergue temporal en Tacna" in text_of(english)
    spanish, = mailbox.to("delegado.pe@comite.example")
    assert f"{local(starts_at, 'America/Lima')} America/Lima (UTC-05:00)" in text_of(spanish)
    for message in mailbox.messages:
        calendar = calendar_of(message)
        event, = calendar.events
        assert (str(calendar["METHOD"]), str(event["UID"]), event["SEQUENCE"]) == (
            "PUBLISH", f"meeting-{meeting.pk}@puente", 0)

    # Cancelled from this process, as the API would: the notices are queued on commit to the broker.
    meeting_cancel(actor=User.objects.get(username="secretaria.lima"), meeting=meeting, reason="Paro de transportes")
    arrived = wait_for(lambda: len(mailbox.messages) >= 4 and not Reminder.objects.exclude(status="sent").exists(),
                       timeout=30)
    assert arrived, workers.logs()
    sweep_reminders.delay()
    wait_for(lambda: len(mailbox.messages) > 4, timeout=2)
    notices = mailbox.messages[2:]
    assert sorted(m["To"] for m in notices) == ["delegado.pe@comite.example", "delegate.cl@comite.example"]
    for message in notices:
        event, = calendar_of(message).events
        assert (str(calendar_of(message)["METHOD"]), str(event["STATUS"]), event["SEQUENCE"]) == (
            "CANCEL", "CANCELLED", 1)
    assert Reminder.objects.filter(deadline_kind="meeting_cancelled").count() == 2
    assert set(Reminder.objects.values_list("attempts", flat=True)) == {1}
