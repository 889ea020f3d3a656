"""Feed positions for committed events.

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
a higher position in a later run. Readers (``integrations.feed``) serve
numbered events only, ordered by position, so "after position N" is exact: no
gaps and no repeats, whatever the commit order.

Each feed read and each webhook dispatch run the sequencer first, so positions
are there when someone looks; there is no background job to wait for. When
nothing is unnumbered the check is one probe of a partial index.

Other designs considered: filtering on the oldest in-flight transaction id
(``pg_snapshot_xmin``) needs no writes, but transaction ids are shared by
every database of the server, so any long transaction anywhere — a report in
another database, a migration — would stall every partner's feed.
"""
from django.db import connection, transaction

from .models import Event

# pg_advisory_xact_lock key: any constant unique to this purpose.
SEQUENCER_LOCK = 0x7075656E7465  # "puente"
SEQUENCE_BATCH = 5000


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
    with transaction.atomic(), connection.cursor() as cursor:
        # Held until commit: the next run cannot read MAX(position) before these are visible.
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEQUENCER_LOCK])
        sql, params = _sequence_sql(batch)
        cursor.execute(sql, params)
        return cursor.rowcount

