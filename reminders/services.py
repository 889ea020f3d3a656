"""Every write of the reminders app: the sweep that writes due reminders, the
send of one reminder, the secretariat's retry and pause.

Exactly-once rests on two things, not on the broker: the unique constraint
over (rule, target, deadline, recipient) — a second sweep, a second beat or a
retried sweep inserts nothing — and the conditional UPDATE that claims a row
before sending — two deliveries of one task message send once."""
import datetime
import logging
import smtplib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from api_core.queueing import publish, publish_on_commit

from .emails import build_message
from .models import EVENT_KINDS, Reminder, ReminderRule, ReminderStatus
from .sources import SOURCES, Directory, Due, DueQuery, Recipient, current_due, target_key

logger = logging.getLogger(__name__)

Enqueue = Callable[[list[int]], None]
SEND_TASK = "reminders.send"  # the name of tasks.send_reminder, which imports this module


def _config(name: str):
    return settings.REMINDERS[name]


def queue_sends(reminder_ids: list[int]) -> None:
    """Publish one send task per reminder, over one broker connection."""
    from .tasks import send_reminder

    if reminder_ids:
        publish(send_reminder, [((reminder_id,), {}) for reminder_id in reminder_ids])


def _queue_on_commit(reminder_ids: list[int], enqueue: Enqueue) -> None:
    # A broker that is down must not turn a committed change (a cancelled
    # meeting, an admin action) into an error: the rows are written, and the
    # sweep queues them again once they have waited REQUEUE_AFTER.
    if reminder_ids:
        publish_on_commit(SEND_TASK, partial(enqueue, reminder_ids))


# --- The sweep ----------------------------------------------------------------------

@dataclass
class SweepResult:
    # How many rows the sweep wrote and queued again: always counted.
    written: int = 0
    queued_again: int = 0
    # Their ids, when asked for (``keep_ids``): a list that grows with the
    # sweep, which the periodic task does without so its memory stays flat.
    created: list[int] = field(default_factory=list)
    requeued: list[int] = field(default_factory=list)


def reminders_sweep(*, now: datetime.datetime | None = None, enqueue: Enqueue | None = None,
                    requeue_after: datetime.timedelta | None = None, keep_ids: bool = True) -> SweepResult:
    """Write a reminder row for every (active rule, open target, recipient)
    whose moment has come, and queue a send for each row this sweep wrote;
    then queue again the rows whose message got lost. Safe to run any number
    of times, concurrently: rows another sweep wrote are neither written nor
    queued again. Works batch by batch (``REMINDERS['BATCH_SIZE']`` targets,
    one transaction each), so its memory does not grow with the number of
    deadlines unless ``keep_ids`` asks for every id written."""
    now = now or timezone.now()
    enqueue = enqueue or queue_sends
    directory = Directory()
    result = SweepResult()
    rules = ReminderRule.objects.active().filter(deadline_kind__in=list(SOURCES)).exclude(
        deadline_kind__in=EVENT_KINDS)  # written when the event happens (receivers.py)
    for rule in rules:
        query = DueQuery(rule=rule, now=now, max_lateness=_config("MAX_LATENESS"),
                         batch_size=_config("BATCH_SIZE"), directory=directory)
        for batch in SOURCES[rule.deadline_kind](query):
            rows = [row for due in batch for row in _rows(rule, due)]
            if rows:
                created = _insert(rows, now=now, enqueue=enqueue)
                result.written += len(created)
                if keep_ids:
                    result.created += created
    for requeued in _requeue_stranded(now=now, enqueue=enqueue,
                                      grace=_config("REQUEUE_AFTER") if requeue_after is None else requeue_after):
        result.queued_again += len(requeued)
        if keep_ids:
            result.requeued += requeued
    return result


def reminders_write_for_target(*, deadline_kind: str, target_id, now: datetime.datetime | None = None,
                               enqueue: Enqueue | None = None) -> list[int]:
    """Write, in the caller's transaction, the reminders one target owes now —
    the notice of something that has just happened (a meeting cancelled) —
    and queue them once it commits: never sent inside the caller's request.
    A rule whose moment has not come yet is left to the sweep; rows that
    exist already are not written again."""
    now = now or timezone.now()
    directory = Directory()
    rows = []
    for rule in ReminderRule.objects.active().filter(deadline_kind=deadline_kind):
        query = DueQuery(rule=rule, directory=directory, target_id=target_key(target_id))
        for batch in SOURCES[deadline_kind](query):
            rows += [row for due in batch if due.deadline + rule.delta <= now for row in _rows(rule, due)]
    return _insert(rows, now=now, enqueue=enqueue or queue_sends) if rows else []


def _rows(rule: ReminderRule, due: Due) -> list[tuple]:
    """One row per recipient of ``due`` under ``rule``, in ``_ROW_COLUMNS`` order."""
    return [
        (rule.pk, rule.deadline_kind, target_key(due.target_pk), due.label[:200], due.deadline,
         due.deadline + rule.delta, recipient.key, recipient.agency_id, recipient.user_id, recipient.email)
        for recipient in due.recipients
    ]


# The columns a sweep fills, in the order of its row tuples.
_ROW_COLUMNS = ("rule_id", "deadline_kind", "target_id", "target_label", "deadline", "due_at", "recipient_key",
                "recipient_agency_id", "recipient_user_id", "email")
_POSTGRES_TYPES = ("bigint", "text", "text", "text", "timestamptz", "timestamptz", "text", "bigint", "bigint", "text")


@transaction.atomic
def _insert(rows: list[tuple], *, now: datetime.datetime, enqueue: Enqueue) -> list[int]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: a row another sweep
    already wrote is left out, and only the rows this statement wrote come
    back — those, and only those, this sweep queues. Written by hand because
    bulk_create(ignore_conflicts=True) returns no ids, and because preparing
    every field of every row through the ORM is most of a sweep's time at
    100,000 rows."""
    ops = connection.ops
    table = ops.quote_name(Reminder._meta.db_table)
    constant = {"status": ReminderStatus.PENDING.value, "attempts": 0, "last_error": "",
                "next_attempt_at": now, "created_at": now, "updated_at": now}
    columns = ", ".join(ops.quote_name(column) for column in (*_ROW_COLUMNS, *constant))
    # One array per column: 16 parameters whatever the batch size.
    unnest = ", ".join(f"%s::{kind}[]" for kind in _POSTGRES_TYPES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT *, {', '.join(['%s'] * len(constant))} "
            f"FROM unnest({unnest}) ON CONFLICT DO NOTHING RETURNING id",
            list(constant.values()) + [list(column) for column in zip(*rows, strict=True)],
        )
        created = [row[0] for row in cursor.fetchall()]
    _queue_on_commit(created, enqueue)
    return created


def _requeue_stranded(*, now: datetime.datetime, enqueue: Enqueue,
                      grace: datetime.timedelta) -> Iterator[list[int]]:
    """Queue again, batch by batch, the pending rows nobody took; yields each batch's ids."""
    while True:
        with transaction.atomic():
            ids = list(Reminder.objects.stranded(now, grace).order_by("next_attempt_at", "id")
                       .values_list("id", flat=True)[:_config("BATCH_SIZE")])
            if not ids:
                return
            # Moves them out of ``stranded`` until the grace period passes again.
            Reminder.objects.filter(id__in=ids).update(next_attempt_at=now, updated_at=now)
            _queue_on_commit(ids, enqueue)
        yield ids


# --- Sending one reminder ---------------------------------------------------------

class Outcome(StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"
    RETRY = "retry"
    NOT_CLAIMED = "not_claimed"


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    retry_in: int | None = None


def retry_delay(attempts: int) -> int:
    """Seconds before the next attempt after ``attempts`` failed ones: doubling, capped."""
    return min(_config("RETRY_BASE_SECONDS") * 2 ** max(attempts - 1, 0), _config("RETRY_MAX_SECONDS"))


def reminder_send(*, reminder_id: int) -> SendResult:
    """Claim the reminder, check its target still needs it, send it, record the outcome."""
    now = timezone.now()
    claimed_until = now + datetime.timedelta(seconds=_config("CLAIM_SECONDS"))
    # healthchecks' pattern: only the one UPDATE that changes the row may send.
    claimed = (Reminder.objects.claimable(now).filter(pk=reminder_id)
               .update(status=ReminderStatus.SENDING, claimed_until=claimed_until,
                       attempts=F("attempts") + 1, updated_at=now))
    if not claimed:
        return SendResult(Outcome.NOT_CLAIMED)
    reminder = (Reminder.objects.select_related("rule", "recipient_agency", "recipient_user__agency")
                .get(pk=reminder_id))
    mine = Reminder.objects.filter(pk=reminder_id, status=ReminderStatus.SENDING, claimed_until=claimed_until)

    def finish(status: ReminderStatus, **fields) -> None:
        updated = mine.update(status=status, claimed_until=None, updated_at=timezone.now(), **fields)
        if not updated:  # our claim ran out and another worker took the row
            logger.warning("reminder %s: claim lost before recording %s", reminder_id, status)

    if not reminder.rule.active:
        finish(ReminderStatus.SKIPPED, last_error="rule paused")
        return SendResult(Outcome.SKIPPED)
    due = current_due(reminder.deadline_kind, reminder.target_id)
    if due is None or due.deadline != reminder.deadline:
        finish(ReminderStatus.SKIPPED,
               last_error="target no longer open" if due is None else "deadline moved")
        return SendResult(Outcome.SKIPPED)
    recipient = Recipient.for_reminder(reminder)
    if recipient is None or not recipient.email:
        finish(ReminderStatus.FAILED, last_error="recipient has no email address")
        return SendResult(Outcome.FAILED)
    try:
        message = build_message(reminder=reminder, due=due, recipient=recipient)
        message.send()
    except (smtplib.SMTPException, OSError, SoftTimeLimitExceeded) as exc:
        error = f"{exc.__class__.__name__}: {exc}"[:1000]
        if _is_permanent(exc) or reminder.attempts >= _config("MAX_ATTEMPTS"):
            finish(ReminderStatus.FAILED, last_error=error, email=recipient.email)
            return SendResult(Outcome.FAILED)
        delay = retry_delay(reminder.attempts)
        finish(ReminderStatus.PENDING, last_error=error, email=recipient.email,
               next_attempt_at=timezone.now() + datetime.timedelta(seconds=delay))
        return SendResult(Outcome.RETRY, retry_in=delay)
    except Exception as exc:  # a bug: record it on the row rather than retry forever
        logger.exception("reminder %s could not be sent", reminder_id)
        finish(ReminderStatus.FAILED, last_error=f"{exc.__class__.__name__}: {exc}"[:1000])
        return SendResult(Outcome.FAILED)
    # The message is out: losing this write now would send it again once the
    # claim expires, so a database that blinked gets a few more tries.
    _persist(lambda: finish(ReminderStatus.SENT, sent_at=timezone.now(), email=recipient.email, last_error=""))
    return SendResult(Outcome.SENT)


def _persist(write: Callable[[], None]) -> None:
    """Run ``write``, again on a fresh connection while the database is unreachable, for
    up to SENT_MARK_RETRY_SECONDS (a restart of PostgreSQL takes a few seconds)."""
    deadline = time.monotonic() + _config("SENT_MARK_RETRY_SECONDS")
    while True:
        try:
            write()
            return
        except (OperationalError, InterfaceError):
            if time.monotonic() >= deadline:
                raise
            logger.warning("recording a sent reminder failed; retrying on a fresh connection")
            connection.close()
            time.sleep(0.5)


def _is_permanent(exc: Exception) -> bool:
    """A 5xx answer will not change by trying again; 4xx and network errors may."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


# --- The secretariat's actions -------------------------------------------------

@transaction.atomic
def reminders_retry(*, reminder_ids: Iterable[int], enqueue: Enqueue | None = None) -> list[int]:
    """Queue failed reminders again with a fresh set of attempts. Others are left alone."""
    now = timezone.now()
    ids = list(Reminder.objects.select_for_update().filter(pk__in=list(reminder_ids), status=ReminderStatus.FAILED)
               .values_list("id", flat=True))
    Reminder.objects.filter(pk__in=ids).update(status=ReminderStatus.PENDING, attempts=0, next_attempt_at=now,
                                               claimed_until=None, updated_at=now)
    _queue_on_commit(ids, enqueue or queue_sends)
    return ids


@transaction.atomic
def reminder_rules_set_active(*, rule_ids: Iterable[int], active: bool) -> int:
    """Pause (or resume) rules. A paused rule writes no new reminders, and
    those it wrote but has not sent yet are skipped."""
    return ReminderRule.objects.filter(pk__in=list(rule_ids)).exclude(active=active).update(
        active=active, updated_at=timezone.now())
