"""Incremental sync with ``?updated_since=`` that never loses a write.

``updated_at`` is stamped when a row is saved, before its transaction commits.
A pass that reads between the two does not see the row, and a next pass from
"the newest ``updated_at`` I saw" (or "when I started") skips it for good. So
the server says where the next pass starts: the *watermark*, the earlier of
the database's clock and the start of the oldest transaction still running in
this database, less ``SYNC_CLOCK_MARGIN``. Every row this read cannot see yet
belongs to a transaction running now or starting later, so it is stamped at
or after the watermark: the next pass, from the watermark, lists it. (The
margin covers the moment between a stamp and its transaction's first
statement, and the web servers' clocks against the database's.)

The watermark is taken before the first page is read and carried by the
pass's cursors, so every page of a pass answers the same one, whatever
commits while the client pages. Rows stamped after it are listed again by the
next pass: clients compare ``id`` and ``updated_at`` with what they stored.
"""
import datetime

from django.conf import settings
from django.db import connection

WATERMARK_HEADER = "Sync-Watermark"

# Backends of the same role see each other's xact_start; a writer under another
# role needs pg_read_all_stats for the app's role (docs/operations.md).
_OLDEST_RUNNING = """
    SELECT LEAST(clock_timestamp(), (
        SELECT min(xact_start) FROM pg_stat_activity
        WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()))
"""


def database_watermark() -> datetime.datetime:
    """The time before which every row not yet visible to a read that starts
    now was stamped (see the module's comment). Call it before the read."""
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            # pg_stat_activity is read once per transaction: a later read would see the first one's.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(_OLDEST_RUNNING)
        oldest, = cursor.fetchone()
    return oldest.astimezone(datetime.UTC) - settings.PUENTE["SYNC_CLOCK_MARGIN"]


def start_pass(request, *, since: datetime.datetime) -> None:
    """Called by the ``updated_since`` filter: this list answers a sync pass
    (the paginator takes or carries its watermark)."""
    if request is not None:
        request.sync_since = since


def pass_since(request) -> datetime.datetime | None:
    return getattr(request, "sync_since", None)


def pass_watermark(request, *, carried: str | None, first_page: bool) -> datetime.datetime | None:
    """The watermark of the pass ``request`` belongs to, None if it is no sync
    pass. A later page answers its first page's (``carried``); a later page
    whose cursor carries none (made before this release) answers the pass's
    own ``updated_since``: the next pass repeats this one rather than skip."""
    since = pass_since(request)
    if since is None:
        return None
    if first_page:
        return database_watermark()
    if carried is not None:
        return datetime.datetime.fromisoformat(carried)
    return since


def format_watermark(value: datetime.datetime) -> str:
    """In UTC with ``Z`` and every microsecond: usable as it is in a query string."""
    return value.astimezone(datetime.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


WATERMARK_DESCRIPTION = ("Only with `updated_since`: send this value as `updated_since` in your next pass (not the "
                 "newest `updated_at` you saw, nor your own clock), so that no change committed while you read "
                 "is missed. Every page of a pass (following `next`) carries the same value. Records changed "
                 "after it are listed again in the next pass.")


def document_sync_watermark(result, generator, request, public):
    """drf-spectacular postprocessing hook: the ``Sync-Watermark`` header on
    the 200 answer of every list that takes ``updated_since`` (the paginator
    sends it for all of them, so no view declares it)."""
    header = {"description": WATERMARK_DESCRIPTION,
              "schema": {"type": "string", "format": "date-time"}}
    for operations in result.get("paths", {}).values():
        operation = operations.get("get")
        if operation and any(parameter.get("in") == "query" and parameter.get("name") == "updated_since"
                             for parameter in operation.get("parameters", [])):
            response = operation.get("responses", {}).get("200")
            if response is not None and "$ref" not in response:
                response.setdefault("headers", {})[WATERMARK_HEADER] = header
    return result
