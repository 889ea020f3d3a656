"""The change feed: every event a caller may see, in an order that never lets a
client that stores its cursor miss or repeat one.

Positions, not ids
------------------
The feed is ordered by ``Event.position``, which the outbox's sequencer
(``outbox.sequencer``, where the reason is written down) gives to events once
they are committed. The feed serves numbered events only, and the cursor is
the last position served, so "after the cursor" is exact: no gaps and no
repeats, whatever the order in which writers commit. Each feed read and each
webhook dispatch run the sequencer first.

Cursors are strings such as ``p1.1234``: the scheme's version and a position.
Clients store and send them back as they are; the version lets the scheme
change without breaking stored cursors. A cursor is always 0 or the position
of an event its holder may see, so one past the last of those was never given
out (a client restored from a backup of another installation, or an edited
one): 400 ``invalid_cursor``, not an empty page for ever. The bound is the
caller's own last event, not the feed's head, which would tell how busy the
other agencies are.
"""
import re

from django.db.models import Max
from django.utils.translation import gettext as _
from rest_framework.fields import DateTimeField

from api_core.errors import InvalidInput
from cases.roles import Role
from outbox.models import Event
from outbox.sequencer import sequence_events

CURSOR_VERSION = "p1"
CURSOR_PATTERN = r"^p1\.(0|[1-9][0-9]{0,17})$"


def feed_head() -> int:
    """The highest position given so far: "now" for a new subscriber."""
    sequence_events()
    return Event.objects.aggregate(head=Max("position"))["head"] or 0


def encode_cursor(position: int) -> str:
    return f"{CURSOR_VERSION}.{position}"


def _cursor_not_given_out() -> InvalidInput:
    return InvalidInput(_("This cursor is not one the feed gave out."), code="invalid_cursor", field="after")


def decode_cursor(raw: str) -> int:
    if not re.fullmatch(CURSOR_PATTERN, raw):
        raise _cursor_not_given_out()
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
    Returns (events, the cursor position to continue from, whether more wait).
    Raises ``InvalidInput`` for a position beyond the last of ``events``."""
    sequence_events()
    rows = list(
        events.filter(position__gt=after).order_by("position")
        .only("id", "type", "occurred_at", "object_type", "object_id", "case_reference", "position")[: limit + 1]
    )
    # Nothing after it: it is valid only as the caller's last event itself
    # (asked only then, so a page with events costs no extra query).
    if not rows and after and not events.filter(position=after).exists():
        raise _cursor_not_given_out()
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
