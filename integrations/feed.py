"""The change feed: every event a caller may see, in an order that never lets a
client that stores its cursor miss or repeat one.

Why not order by id
-------------------
Event ids come from a sequence. On PostgreSQL a transaction takes its id when
it inserts, but the row becomes visible only when that transaction commits.
Two writers can therefore commit out of order: a reader sees id 6, hands out a
cursor "after 6", and id 5 commits a moment later — behind the cursor, lost for
good. Timestamps have the same problem.

The design: one sequencer numbers committed events
--------------------------------------------------
``Event.position`` starts empty. ``sequence_events()`` gives positions to the
events that are committed and still unnumbered, in id order, continuing from
the highest position so far. Its runs are serialised by a transaction-level
advisory lock, so a run starts only after the previous one has committed: each
run's positions are higher than every position any reader has seen, and a
reader sees a run's positions all at once (they commit together). An event
whose transaction is still open is invisible to the sequencer and simply gets
a higher position in a later run. The feed serves numbered events only,
ordered by position, and the cursor is the last position served, so "after
the cursor" is exact: no gaps and no repeats, whatever the commit order.

Each feed read and each webhook dispatch run the sequencer first, so positions
are there when someone looks; there is no background job to wait for. When
nothing is unnumbered the check is one probe of a partial index.

Other designs considered: filtering on the oldest in-flight transaction id
(``pg_snapshot_xmin``) needs no writes, but transaction ids are shared by
every database of the server, so any long transaction anywhere — a report in
another database, a migration — would stall every partner's feed.

Cursors are strings such as ``p1.1234``: the scheme's version and a position.
Clients store and send them back as they are; the version lets the scheme
change without breaking stored cursors.
"""
import re

from django.db import connection, transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from rest_framework.fields import DateTimeField

from api_core.errors import InvalidInput
from cases.models import Event
from cases.roles import Role

# pg_advisory_xact_lock key: any constant unique to this purpose.
SEQUENCER_LOCK = 0x7075656E7465  # "puente"
SEQUENCE_BATCH = 5000
CURSOR_VERSION = "p1"
CURSOR_PATTERN = r"^p1\.(0|[1-9][0-9]{0,17})$"


def _sequence_sql(batch: int) -> tuple[str, list]:
    table = connection.ops.quote_name(Event._meta.db_table)
    position = connection.ops.quote_name(Event._meta.get_field("position").column)
    return (
        f"""
        UPDATE {table} SET {position} = numbered.base + numbered.rn
        FROM (
            SELECT id,
                   ROW_NUMBER() OVER (ORDER BY id) AS rn,
                   (SELECT COALESCE(MAX({position}), 0) FROM {table}) AS base
            FROM {table}
            WHERE {position} IS NULL
            ORDER BY id
            LIMIT %s
        ) AS numbered
        WHERE {table}.id = numbered.id
        """,
        [batch],
    )


def sequence_events(*, batch: int = SEQUENCE_BATCH) -> int:
    """Give feed positions to committed events that have none. Returns how many."""
    if not Event.objects.filter(position__isnull=True).exists():
        return 0
    numbered = 0
    with transaction.atomic(), connection.cursor() as cursor:
        # Held until commit: the next run cannot read MAX(position) before these are visible.
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEQUENCER_LOCK])
        sql, params = _sequence_sql(batch)
        cursor.execute(sql, params)
        numbered = cursor.rowcount
    return numbered


def feed_head() -> int:
    """The highest position given so far: "now" for a new subscriber."""
    sequence_events()
    return Event.objects.aggregate(head=Max("position"))["head"] or 0


def encode_cursor(position: int) -> str:
    return f"{CURSOR_VERSION}.{position}"


def decode_cursor(raw: str) -> int:
    if not re.fullmatch(CURSOR_PATTERN, raw):
        raise InvalidInput(_("This cursor is not one the feed gave out."), code="invalid_cursor", field="after")
    return int(raw.split(".", 1)[1])


def events_for_agency(agency_id):
    return Event.objects.filter(agencies=agency_id)


def events_visible_to(user):
    """The events ``user`` may see: its agency's (caseworkers), all (secretariat)."""
    if not user.is_authenticated:
        return Event.objects.none()
    if user.has_role(Role.SECRETARIAT):
        return Event.objects.all()
    if user.has_role(Role.CASEWORKER) and user.agency_id is not None:
        return events_for_agency(user.agency_id)
    return Event.objects.none()


def feed_page(events, *, after: int, limit: int) -> tuple[list[Event], int, bool]:
    """Numbered events of ``events`` after position ``after``, oldest first.
    Returns (events, the cursor position to continue from, whether more wait)."""
    sequence_events()
    rows = list(
        events.filter(position__gt=after).order_by("position")
        .only("id", "type", "occurred_at", "object_type", "object_id", "case_reference", "position")[: limit + 1]
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].position if rows else after), has_more


def event_representation(event: Event) -> dict:
    """The thin, public shape of an event: the feed's items and the webhooks' data."""
    return {
        "id": event.id,
        "type": event.type,
        "occurred_at": event.occurred_at,
        "object": {"type": event.object_type, "id": event.object_id},
        "case_reference": event.case_reference or None,
    }


def event_json(event: Event) -> dict:
    """``event_representation`` ready for JSON, dates as the API writes them."""
    data = event_representation(event)
    data["occurred_at"] = _DATETIME.to_representation(event.occurred_at)
    return data


_DATETIME = DateTimeField()  # unbound: the current time zone and the API's format at each call
