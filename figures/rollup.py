"""The statistics rollup (``figures.models``): how it is written, and how an
answer is read from it.

Writing. One SQL statement per table, ``_case_source`` / ``_handoff_source``,
turns the cases (or handoffs) registered in a span of time into rollup rows.
``refresh`` rebuilds, under a table lock, the periods of every case that an
outbox event since the last refresh names (an event names its case; positions
are given after commit, so "after position N" misses nothing and the periods
are rebuilt from committed rows). Celery beat runs it every minute; the first
run builds every period.

Reading. An answer sums the rollup rows of the whole periods inside its time
window and, for the days at the window's edges that only part of a period
covers, rows that the same source statement makes from the live cases: the
same definition either way, so the sum is the answer the live query gives as
of the last refresh. "Overdue" depends on the clock: pending handoffs due
before today come from the rollup, those due today are read live.

Everyone's response times. Medians do not add up; sorting every answered
handoff's response time at each call was the one answer over its time budget
at a million cases. The refresh that takes a handoff event computes them for
every grouping the API offers (``_compute_response_times``), and everyone's
all-time answers read them (``_add_response_times``).
"""
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import combinations

from django.db import connection, transaction
from django.utils import timezone

from cases.models import VULNERABILITIES, Country, HandoffKind, HandoffStatus, vulnerability_field
from outbox.models import Event
from outbox.sequencer import sequence_events

from .committee_calendar import committee_zone, day_start
from .models import (
    CaseNationalityRollup,
    CaseRollup,
    HandoffResponseTimes,
    HandoffRollup,
    RollupState,
    flag_pairs,
    pair_name,
)

# --- Periods -----------------------------------------------------------------------------------------


def _is_boundary(day: date) -> bool:
    return day.weekday() == 0 or day.day == 1


def _local_date(moment: datetime, zone) -> date:
    return timezone.localtime(moment, zone).date()


@dataclass(frozen=True)
class Window:
    """A time window split into whole periods (read from the rollup, ``first``
    to ``last`` as day boundaries, None for open) and the spans read live."""

    covered: bool
    first: date | None
    last: date | None
    live: list[tuple[datetime | None, datetime | None]]


def split(lower: datetime | None, upper: datetime | None) -> Window:
    zone = committee_zone()
    first = last = None
    if lower is not None:
        first = _local_date(lower, zone)
        if day_start(first) < lower:
            first += timedelta(days=1)
        while not _is_boundary(first):
            first += timedelta(days=1)
    if upper is not None:
        last = _local_date(upper, zone)
        while not _is_boundary(last):
            last -= timedelta(days=1)
    if first is not None and last is not None and first >= last:
        return Window(covered=False, first=None, last=None, live=[(lower, upper)])
    live = []
    if lower is not None and lower < day_start(first):
        live.append((lower, day_start(first)))
    if upper is not None and day_start(last) < upper:
        live.append((day_start(last), upper))
    return Window(covered=True, first=first, last=last, live=live)


def _period_sql(column: str) -> tuple[str, str]:
    """(week, month) of a timestamp column in the committee's zone, as dates."""
    local = f"({column} AT TIME ZONE %(zone)s)"
    return f"date_trunc('week', {local})::date", f"date_trunc('month', {local})::date"


PERIOD_COLUMNS = ("greatest(week, month) AS period_start, "
                  "least(week + 7, (month + interval '1 month')::date) AS period_end, week, month")


@dataclass(frozen=True)
class Changed:
    """The spans of the periods within ``window`` that changed since the last
    refresh (the ``changed`` table of ``_changed_periods``), as spans of a source."""

    window: "Window"


def _span_condition(column: str, spans, params: dict, prefix: str) -> str:
    """``column`` within any of ``spans`` ([lower, upper), None for open); no spans: everything."""
    if spans is None:
        return "TRUE"
    if isinstance(spans, Changed):
        return (f"EXISTS (SELECT 1 FROM changed WHERE {column} >= changed.lower AND {column} < changed.upper"
                f" AND {_period_condition('changed', spans.window, params)})")
    conditions = []
    for index, (lower, upper) in enumerate(spans):
        parts = []
        if lower is not None:
            params[f"{prefix}_lo_{index}"] = lower
            parts.append(f"{column} >= %({prefix}_lo_{index})s")
        if upper is not None:
            params[f"{prefix}_hi_{index}"] = upper
            parts.append(f"{column} < %({prefix}_hi_{index})s")
        conditions.append("(" + (" AND ".join(parts) or "TRUE") + ")")
    return "(" + (" OR ".join(conditions) or "FALSE") + ")"


# --- Sources: live rows in the rollup's shape -------------------------------------------------------

CASE_GRAIN = ["period_start", "period_end", "week", "month", "viewer_agency_id", "owner_agency_id", "status",
              "border_point", "priority"]
FLAGS = [vulnerability_field(flag) for flag in VULNERABILITIES]
PAIR_MEASURES = [pair_name(measure, first, second) for first, second in flag_pairs()
                 for measure in ("cases", "people")]
CASE_MEASURES = ["cases", "people", *PAIR_MEASURES]


def _case_source(spans, params: dict, *, by_nationality: bool, prefix: str = "c") -> str:
    """Rollup rows (``CASE_GRAIN``, [nationality], ``CASE_MEASURES``) of the cases registered within ``spans``."""
    week, month = _period_sql("c.created_at")
    flags = ", ".join(f"c.{flag}" for flag in FLAGS)
    where = _span_condition("c.created_at", spans, params, prefix)
    if by_nationality:
        base = f"""SELECT c.id, c.owner_agency_id, c.status, c.border_point, c.priority, {flags},
                          {week} AS week, {month} AS month, COALESCE(p.nationality, '') AS nationality,
                          COUNT(m.id) AS people
                   FROM cases_case c LEFT JOIN cases_casemember m ON m.case_id = c.id
                   LEFT JOIN cases_person p ON p.id = m.person_id
                   WHERE {where} GROUP BY c.id, COALESCE(p.nationality, '')"""
    else:
        base = f"""SELECT c.id, c.owner_agency_id, c.status, c.border_point, c.priority, {flags},
                          {week} AS week, {month} AS month, c.member_count AS people
                   FROM cases_case c WHERE {where}"""
    grain = [*CASE_GRAIN, *(["nationality"] if by_nationality else [])]
    measures = ["COUNT(*) AS cases", "COALESCE(SUM(people), 0) AS people"]
    for first, second in flag_pairs():
        both = f"{vulnerability_field(first)} AND {vulnerability_field(second)}"
        measures.append(f"COUNT(*) FILTER (WHERE {both}) AS {pair_name('cases', first, second)}")
        measures.append(f"COALESCE(SUM(people) FILTER (WHERE {both}), 0) AS {pair_name('people', first, second)}")
    params["referral"], params["accepted"] = HandoffKind.REFERRAL.value, HandoffStatus.ACCEPTED.value
    # A case counts once for everyone (viewer NULL) and once more for each
    # agency that collaborates on it (an accepted referral) without owning it.
    return f"""
        WITH base AS MATERIALIZED ({base})
        SELECT {PERIOD_COLUMNS}, {", ".join(grain[4:])}, {", ".join(measures)}
        FROM (SELECT base.*, NULL::bigint AS viewer_agency_id FROM base
              UNION ALL
              SELECT base.*, r.to_agency_id FROM base
              JOIN (SELECT DISTINCT h.case_id, h.to_agency_id FROM cases_handoff h
                    WHERE h.kind = %(referral)s AND h.status = %(accepted)s
                      AND h.case_id IN (SELECT id FROM base)) r
                ON r.case_id = base.id AND r.to_agency_id <> base.owner_agency_id) viewed
        GROUP BY {", ".join(grain[2:])}"""


HANDOFF_GRAIN = ["period_start", "period_end", "week", "month", "from_agency_id", "to_agency_id", "kind",
                 "status", "due_day"]


def _handoff_hours(alias: str) -> str:
    # The same expression as the live query's, so the medians are the same numbers.
    return f"(EXTRACT(EPOCH FROM ({alias}.responded_at - {alias}.created_at)) / 3600.0)::float8"


def _handoff_source(spans, params: dict, prefix: str = "h") -> str:
    """Rollup rows (``HANDOFF_GRAIN``, handoffs, response_hours) of the handoffs created within ``spans``."""
    week, month = _period_sql("h.created_at")
    params["pending"] = HandoffStatus.PENDING.value
    return f"""
        SELECT {PERIOD_COLUMNS}, from_agency_id, to_agency_id, kind, status, due_day, COUNT(*) AS handoffs,
               COALESCE(ARRAY_AGG(hours) FILTER (WHERE hours IS NOT NULL), '{{}}') AS response_hours
        FROM (SELECT h.from_agency_id, h.to_agency_id, h.kind, h.status, {week} AS week, {month} AS month,
                     CASE WHEN h.status = %(pending)s THEN (h.response_due AT TIME ZONE %(zone)s)::date END AS due_day,
                     CASE WHEN h.responded_at IS NOT NULL THEN {_handoff_hours("h")} END AS hours
              FROM cases_handoff h WHERE {_span_condition("h.created_at", spans, params, prefix)}) h
        GROUP BY week, month, from_agency_id, to_agency_id, kind, status, due_day"""


# --- Refresh -----------------------------------------------------------------------------------------

REFRESH_BATCH = 20_000
# pg_advisory_xact_lock key: one refresh at a time.
REFRESH_LOCK = 0x7075656E74655354  # "puenteST"


def _zone_params() -> dict:
    return {"zone": str(committee_zone())}


def _insert(model, columns: list[str], source: str, params: dict) -> None:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM ({source}) s",
                       params)


def _rebuild(periods: list[tuple[date, date]] | None) -> None:
    """Write the rows of ``periods`` (all of them when None) from the live tables."""
    spans = None if periods is None else [(day_start(start), day_start(end)) for start, end in periods]
    starts = None if periods is None else [start for start, _ in periods]
    tables = [(CaseRollup, [*CASE_GRAIN, *CASE_MEASURES], lambda p: _case_source(spans, p, by_nationality=False)),
              (CaseNationalityRollup, [*CASE_GRAIN, "nationality", *CASE_MEASURES],
               lambda p: _case_source(spans, p, by_nationality=True)),
              (HandoffRollup, [*HANDOFF_GRAIN, "handoffs", "response_hours"], lambda p: _handoff_source(spans, p))]
    for model, columns, source in tables:
        rows = model.objects.all() if starts is None else model.objects.filter(period_start__in=starts)
        rows.delete()
        params = _zone_params()
        _insert(model, columns, source(params), params)


def _periods_of(case_ids: list) -> list[tuple[date, date]]:
    """The periods of these cases and of their handoffs."""
    params = _zone_params() | {"ids": case_ids}
    case_week, case_month = _period_sql("created_at")
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT DISTINCT greatest(week, month), least(week + 7, (month + interval '1 month')::date)
            FROM (SELECT {case_week} AS week, {case_month} AS month FROM cases_case WHERE id = ANY(%(ids)s)
                  UNION ALL
                  SELECT {case_week} AS week, {case_month} AS month FROM cases_handoff
                  WHERE case_id = ANY(%(ids)s)) p""", params)
        return list(cursor.fetchall())


def refresh(*, batch: int = REFRESH_BATCH, rebuild: bool = False) -> int | None:
    """Bring the rollup up to the latest numbered outbox event: the number of
    events taken, or None when another refresh is running. ``rebuild``: build
    every period again (after a change of the committee's time zone, or of
    rows behind the services' back)."""
    sequence_events()
    taken = 0
    # Everyone's response times are computed once, in the last batch's
    # transaction, if any batch took a handoff event.
    handoffs_changed = False
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                # One refresh at a time; a second one has nothing to add and
                # leaves at once. Readers are not held up: they see the rollup
                # before or after a batch, never half of it.
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [REFRESH_LOCK])
                if not cursor.fetchone()[0]:
                    return None
            if rebuild:
                RollupState.objects.filter(pk=1).delete()
            state = RollupState.objects.filter(pk=1).first()
            if state is None:
                latest = Event.objects.filter(position__isnull=False).order_by("-position").values_list(
                    "position", flat=True).first() or 0
                _rebuild(None)
                _compute_response_times()
                RollupState.objects.create(pk=1, position=latest, refreshed_at=timezone.now())
                return taken
            events = list(Event.objects.filter(position__gt=state.position).order_by("position")
                          .values_list("position", "case_id", "type")[:batch])
            case_ids = sorted({case_id for _, case_id, _type in events if case_id is not None})
            if case_ids:
                _rebuild(_periods_of(case_ids))
            handoffs_changed |= any(kind.startswith(HANDOFF_EVENT_PREFIX) for _, _, kind in events)
            last = len(events) < batch
            if last and handoffs_changed:
                _compute_response_times()
            position = events[-1][0] if events else state.position
            RollupState.objects.filter(pk=1).update(position=position, refreshed_at=timezone.now())
            taken += len(events)
        if last:
            return taken


# Handoffs change only through the services, and each change is a handoff event.
HANDOFF_EVENT_PREFIX = "handoff."


@dataclass(frozen=True)
class RollupVersion:
    """The rollup as a reader finds it: its last refresh, and the events
    committed since (the live edge). Between two refreshes the events only
    grow in number, so (refresh, count, last id) names what an answer counts."""

    refreshed_at: datetime
    position: int
    events_since: int
    last_event_since: int | None
    handoff_events_since: int


def rollup_version() -> RollupVersion | None:
    """The rollup's last refresh and the events after its watermark, in one
    query; None before the rollup is first built."""
    state, event = RollupState._meta.db_table, Event._meta.db_table
    with connection.cursor() as cursor:
        # The events the last refresh has not taken: numbered after its
        # position, or not numbered yet (committed since the sequencer ran).
        cursor.execute(f"""
            SELECT s.refreshed_at, s.position, COUNT(e.id), MAX(e.id),
                   COUNT(e.id) FILTER (WHERE e.type LIKE %s)
            FROM {state} s LEFT JOIN {event} e
              ON (e.position > s.position OR e.position IS NULL) AND e.case_id IS NOT NULL
            WHERE s.id = 1 GROUP BY s.refreshed_at, s.position""", [HANDOFF_EVENT_PREFIX + "%"])
        row = cursor.fetchone()
    return None if row is None else RollupVersion(*row)


# The periods of the cases that events after the watermark name, and of their
# handoffs: what the next refresh will rebuild. An answer reads them live
# instead of from the rollup, in the same statement (one snapshot), so it
# counts every change committed before it, not only those of the last refresh.
def _changed_periods(params: dict) -> str:
    case_week, case_month = _period_sql("created_at")
    changed_cases = f"""
        SELECT e.case_id FROM {Event._meta.db_table} e
        WHERE e.case_id IS NOT NULL
          AND (e.position > (SELECT position FROM {RollupState._meta.db_table} WHERE id = 1) OR e.position IS NULL)"""
    return f"""changed AS MATERIALIZED (
        SELECT period_start, period_end,
               (period_start::timestamp AT TIME ZONE %(zone)s) AS lower,
               (period_end::timestamp AT TIME ZONE %(zone)s) AS upper
        FROM (SELECT DISTINCT greatest(week, month) AS period_start,
                     least(week + 7, (month + interval '1 month')::date) AS period_end
              FROM (SELECT {case_week} AS week, {case_month} AS month FROM cases_case
                    WHERE id IN ({changed_cases})
                    UNION ALL
                    SELECT {case_week} AS week, {case_month} AS month FROM cases_handoff
                    WHERE case_id IN ({changed_cases})) p) periods)"""


# --- Reading -----------------------------------------------------------------------------------------


def _period_condition(table: str, window: Window, params: dict) -> str:
    conditions = []
    if window.first is not None:
        params["period_first"] = window.first
        conditions.append(f"{table}.period_start >= %(period_first)s")
    if window.last is not None:
        params["period_last"] = window.last
        conditions.append(f"{table}.period_end <= %(period_last)s")
    return " AND ".join(conditions) or "TRUE"


def _rollup_rows(model, columns: list[str], window: Window, params: dict) -> str:
    table = model._meta.db_table
    return (f"SELECT {', '.join(columns)} FROM {table} WHERE {_period_condition(table, window, params)}"
            f" AND {table}.period_start NOT IN (SELECT period_start FROM changed)")


def _rows(model, columns, window: Window, params: dict, source) -> str:
    """The rollup rows of the whole periods that have not changed since the
    last refresh, the live rows of those that have, and the live rows of the
    edges, in one shape. The statement must start with ``_changed_periods``."""
    parts = []
    if window.covered:
        parts.append(_rollup_rows(model, columns, window, params))
        parts.append(f"SELECT {', '.join(columns)} FROM ({source(Changed(window), params)}) changed_live")
    if window.live:
        parts.append(f"SELECT {', '.join(columns)} FROM ({source(window.live, params)}) live")
    return " UNION ALL ".join(parts)


CASE_DIMENSION_SQL = {
    "border_point": ("r.border_point", None),
    "priority": ("r.priority", None),
    "nationality": ("r.nationality", None),
    "owner_agency": ("owner.code", "owner.name"),
    "owner_country": ("owner.country", None),
    "status": ("r.status", None),
    "registered_week": ("r.week", None),
    "registered_month": ("r.month", None),
}


def _measure(measure: str, filter_flag: str | None, group_flag: str | None) -> str:
    flags = [flag for flag in (filter_flag, group_flag) if flag]
    if not flags:
        return measure
    return pair_name(measure, flags[0], flags[-1])


def case_counts(*, scope_agency_id, group_by, lower, upper, status, border_point,
                vulnerability) -> tuple[list[dict], dict | None]:
    """Grouped counts in the shape of the live query in ``figures.selectors``:
    ``dim_<name>``, ``label_<name>``, ``cases__<flag>``, ``people__<flag>``,
    ``all_cases``, ``all_people``; and the total when grouped by nationality."""
    by_nationality = "nationality" in group_by
    window = split(lower, upper)

    def query(nationality: bool, dimensions, flags, with_all):
        params = _zone_params()
        model = CaseNationalityRollup if nationality else CaseRollup
        columns = [*CASE_GRAIN, *(["nationality"] if nationality else []), *CASE_MEASURES]
        rows = _rows(model, columns, window, params,
                     lambda spans, p: _case_source(spans, p, by_nationality=nationality, prefix="edge"))
        select, group = [], []
        for name in dimensions:
            expression, label = CASE_DIMENSION_SQL[name]
            select.append(f"{expression} AS dim_{name}")
            group.append(expression)
            if label:
                select.append(f"{label} AS label_{name}")
                group.append(label)
        for flag in flags:
            for measure in ("cases", "people"):
                select.append(f'SUM(r.{_measure(measure, vulnerability, flag)}) AS "{measure}__{flag}"')
        if with_all:
            select += [f"SUM(r.{_measure('cases', vulnerability, None)}) AS all_cases",
                       f"SUM(r.{_measure('people', vulnerability, None)}) AS all_people"]
        conditions = ["r.viewer_agency_id IS NULL"]
        if scope_agency_id is not None:
            params["agency"] = scope_agency_id
            conditions = ["(r.viewer_agency_id IS NULL AND r.owner_agency_id = %(agency)s "
                          "OR r.viewer_agency_id = %(agency)s)"]
        if status:
            params["status"] = status
            conditions.append("r.status = %(status)s")
        if border_point:
            params["border_point"] = border_point
            conditions.append("r.border_point = %(border_point)s")
        join = ("JOIN cases_agency owner ON owner.id = r.owner_agency_id"
                if {"owner_agency", "owner_country"} & set(dimensions) else "")
        sql = (f"WITH {_changed_periods(params)} "
               f"SELECT {', '.join(select)} FROM ({rows}) r {join} WHERE {' AND '.join(conditions)}")
        if group:
            sql += f" GROUP BY {', '.join(group)}"
            if vulnerability:  # a group exists when a case with the flag is in it, as in the live query
                sql += f" HAVING SUM(r.{_measure('cases', vulnerability, None)}) > 0"
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            names = [column.name for column in cursor.description]
            # A sum over no rows is NULL; a count of nothing is 0.
            return [{name: 0 if value is None and not name.startswith(("dim_", "label_")) else value
                     for name, value in zip(names, row, strict=True)} for row in cursor.fetchall()]

    plain = [name for name in group_by if name != "vulnerability"]
    flags = VULNERABILITIES if "vulnerability" in group_by else (None,)
    grouped = query(by_nationality, plain, flags, with_all=not by_nationality)
    total = None
    if by_nationality:
        counted = query(False, [], [None], with_all=False)[0]
        total = {"cases": counted["cases__None"], "people": counted["people__None"]}
    return grouped, total


HANDOFF_DIMENSION_SQL = {
    "from_agency": ("from_agency.code", "from_agency.name"),
    "to_agency": ("to_agency.code", "to_agency.name"),
    "from_country": ("from_agency.country", None),
    "to_country": ("to_agency.country", None),
    "kind": ("r.kind", None),
    "status": ("r.status", None),
    "created_week": ("r.week", None),
    "direction": (f"""CASE WHEN from_agency.country = '{Country.PERU}' AND to_agency.country = '{Country.CHILE}'
                           THEN 'pe_to_cl'
                           WHEN from_agency.country = '{Country.CHILE}' AND to_agency.country = '{Country.PERU}'
                           THEN 'cl_to_pe'
                           WHEN to_agency.country = '{Country.INTERNATIONAL}' THEN 'to_international'
                           ELSE 'other' END""", None),
}

CROSS_BORDER_SQL = (f"(from_agency.country <> to_agency.country OR from_agency.country = '{Country.INTERNATIONAL}' "
                    f"OR to_agency.country = '{Country.INTERNATIONAL}')")


def _overdue_today_source(spans, params: dict, *, now: datetime, today_start: datetime) -> str:
    """Pending handoffs due between the start of today and ``now``, created within ``spans``."""
    week, month = _period_sql("h.created_at")
    params |= {"pending": HandoffStatus.PENDING.value, "today_start": today_start, "now": now}
    return f"""
        SELECT {PERIOD_COLUMNS}, from_agency_id, to_agency_id, kind, status, NULL::date AS due_day,
               0 AS handoffs, '{{}}'::float8[] AS response_hours, COUNT(*) AS overdue_now
        FROM (SELECT h.from_agency_id, h.to_agency_id, h.kind, h.status, {week} AS week, {month} AS month
              FROM cases_handoff h
              WHERE h.status = %(pending)s AND h.response_due >= %(today_start)s AND h.response_due < %(now)s
                AND {_span_condition("h.created_at", spans, params, "today")}) h
        GROUP BY week, month, from_agency_id, to_agency_id, kind, status"""


def handoff_counts(*, scope_agency_id, group_by, lower, upper, cross_border_only, now: datetime,
                   response_times_current: bool) -> tuple[list[dict], dict]:
    """Grouped counts and response times (``handoffs``, ``pending``,
    ``overdue``, ``answered``, ``median``, ``p90``, ``dim_<name>``,
    ``label_<name>``) and the total, in one query. ``response_times_current``:
    no handoff changed since the last refresh, so the response times it
    computed still hold."""
    window = split(lower, upper)
    today = _local_date(now, committee_zone())
    params = _zone_params() | {"today": today}
    columns = [*HANDOFF_GRAIN, "handoffs", "response_hours"]
    rows = _rows(HandoffRollup, columns, window, params, lambda spans, p: _handoff_source(spans, p, prefix="edge"))
    rows = (f"SELECT *, 0 AS overdue_now FROM ({rows}) r UNION ALL "
            + _overdue_today_source([(lower, upper)], params, now=now, today_start=day_start(today)))
    dimensions, keys, labels = [], [], []
    for name in group_by:
        expression, label = HANDOFF_DIMENSION_SQL[name]
        dimensions.append(f"{expression} AS dim_{name}")
        keys.append(f"dim_{name}")
        if label:
            dimensions.append(f"{label} AS label_{name}")
            labels.append(f"MIN(label_{name}) AS label_{name}")
    conditions = []
    if scope_agency_id is not None:
        params["agency"] = scope_agency_id
        conditions.append("(r.from_agency_id = %(agency)s OR r.to_agency_id = %(agency)s)")
    if cross_border_only:
        conditions.append(CROSS_BORDER_SQL)
    # Grouped on short keys, the total in the same pass (grouping sets); the
    # counts from the rollup rows, the response times from their arrays or,
    # for everyone's all-time figures, from those computed at the last refresh.
    precomputed = (response_times_current and scope_agency_id is None and lower is None and upper is None
                   and not cross_border_only and set(group_by) <= set(RESPONSE_TIME_DIMENSIONS))
    grouping = f"GROUP BY GROUPING SETS (({', '.join(keys)}), ())" if keys else ""
    is_total = f"GROUPING({keys[0]})" if keys else "1"
    pending = "status = %(pending)s"
    counts = f"""
        SELECT {"".join(f"{column}, " for column in [*keys, *labels])}{is_total} AS is_total,
               COALESCE(SUM(handoffs), 0) AS handoffs,
               COALESCE(SUM(handoffs) FILTER (WHERE {pending}), 0) AS pending,
               COALESCE(SUM(handoffs) FILTER (WHERE {pending} AND due_day < %(today)s), 0)
               + COALESCE(SUM(overdue_now), 0) AS overdue,
               COALESCE(SUM(cardinality(response_hours)), 0) AS answered
        FROM r {grouping}"""
    if precomputed:
        times = "SELECT counts.*, NULL::float8 AS median, NULL::float8 AS p90 FROM counts"
    else:
        joined = " AND ".join(["counts.is_total = times.is_total"]
                              + [f"counts.{key} IS NOT DISTINCT FROM times.{key}" for key in keys])
        times = f"""
            , times AS (
                SELECT {"".join(f"{key}, " for key in keys)}{is_total} AS is_total,
                       PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY u.hours) AS median,
                       PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY u.hours) AS p90
                FROM r CROSS JOIN LATERAL unnest(r.response_hours) AS u(hours) {grouping})
            SELECT counts.*, times.median, times.p90 FROM counts LEFT JOIN times ON {joined}"""
    sql = f"""
        WITH {_changed_periods(params)},
        r AS {"" if precomputed else "MATERIALIZED "}(
            SELECT {"".join(f"{column}, " for column in dimensions)}r.status, r.due_day, r.handoffs, r.overdue_now,
                   r.response_hours
            FROM ({rows}) r
            JOIN cases_agency from_agency ON from_agency.id = r.from_agency_id
            JOIN cases_agency to_agency ON to_agency.id = r.to_agency_id
            WHERE {" AND ".join(conditions) or "TRUE"}),
        counts AS ({counts}) {times}"""
    with transaction.atomic(), connection.cursor() as cursor:
        # The response times of a million cases' handoffs are sorted in memory, not on disk.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        results = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    if precomputed:
        _add_response_times(results, list(group_by))
    total = next(result for result in results if result["is_total"])
    return [result for result in results if not result["is_total"]], total


# --- Everyone's response times -----------------------------------------------------------------------

# The dimensions of the statistics API (``figures.selectors.HANDOFF_DIMENSIONS``).
RESPONSE_TIME_DIMENSIONS = ["from_agency", "to_agency", "from_country", "to_country", "kind", "status",
                            "created_week"]


def _grouping_name(group_by) -> str:
    return ",".join(name for name in RESPONSE_TIME_DIMENSIONS if name in group_by)


def _compute_response_times() -> None:
    """Everyone's all-time medians and 90th percentiles for every grouping of
    the API (``HandoffResponseTimes``), from the rollup as it now stands: one
    statement, one grouping set per grouping. It sorts every answered
    handoff's response time once per grouping (about 6 s at a million cases),
    in the refresh that takes handoff events, instead of once per call."""
    names = RESPONSE_TIME_DIMENSIONS
    sets = [(), *((name,) for name in names), *combinations(names, 2)]
    grouping_sets = ", ".join("(" + ", ".join(f"d_{name}" for name in group) + ")" for group in sets)
    grouping = ("concat_ws(',', " + ", ".join(f"CASE WHEN GROUPING(d_{name}) = 0 THEN '{name}' END"
                                              for name in names) + ")")
    table = HandoffResponseTimes._meta.db_table
    HandoffResponseTimes.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(f"""
            INSERT INTO {table} (grouping, {", ".join(names)}, answered, median, p90)
            SELECT {grouping}, {", ".join(f"d_{name}" for name in names)}, COUNT(*),
                   PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY hours),
                   PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY hours)
            FROM (SELECT {", ".join(f"{HANDOFF_DIMENSION_SQL[name][0]} AS d_{name}" for name in names)}, u.hours
                  FROM {HandoffRollup._meta.db_table} r
                  JOIN cases_agency from_agency ON from_agency.id = r.from_agency_id
                  JOIN cases_agency to_agency ON to_agency.id = r.to_agency_id
                  CROSS JOIN LATERAL unnest(r.response_hours) AS u(hours)) answered
            GROUP BY GROUPING SETS ({grouping_sets})
            HAVING COUNT(*) > 0""")


def _add_response_times(results: list[dict], group_by: list[str]) -> None:
    """Fill ``median`` and ``p90`` of grouped counts from ``HandoffResponseTimes``."""
    grouping = _grouping_name(group_by)
    # The grouping's rows and the total's (grouping "", every dimension NULL).
    times = {tuple(row[:-2]): row[-2:] for row in HandoffResponseTimes.objects.filter(
        grouping__in={grouping, ""}).values_list("grouping", *group_by, "median", "p90")}
    for result in results:
        if result["is_total"]:
            key = ("", *(None for _ in group_by))
        else:
            key = (grouping, *(result[f"dim_{name}"] for name in group_by))
        result["median"], result["p90"] = times.get(key, (None, None))
