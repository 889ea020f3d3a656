"""Counts of cases and handoffs, grouped, scoped to who is asking and passed
through small-cell suppression (``figures.suppression``) before anyone sees
them. The statistics API, the situation report and the admin all read here.

| caller                                    | scope                                          |
| ----------------------------------------- | ---------------------------------------------- |
| secretariat, committee member             | ``all``: every agency's cases and handoffs     |
| caseworker                                | ``agency``: cases its agency owns or           |
|                                           | collaborates on (accepted referral); handoffs  |
|                                           | it sent or received                            |
| anyone else                               | none (403)                                     |

Each answer is one grouped query over the statistics rollup
(``figures.rollup``, kept current by the outbox within a minute), plus one for
the total when it cannot be added up from the groups (by nationality, where
one case can have people of several). Until the rollup is first built, the
same answer is read from the cases and handoffs themselves
(``_live_case_counts``, ``_live_handoff_counts``): they define the figures,
and the tests hold the rollup to them.
"""
import contextlib
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, F, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from redis.exceptions import RedisError

from cases.models import (
    VULNERABILITIES,
    BorderPoint,
    Case,
    CaseStatus,
    Country,
    Handoff,
    HandoffKind,
    HandoffStatus,
    Priority,
    Vulnerability,
    vulnerability_field,
)
from cases.roles import Role
from cases.selectors import handoffs_visible_to

from . import rollup
from .committee_calendar import committee_zone, day_start
from .suppression import rounded, suppress

SCOPE_ALL = "all"
SCOPE_AGENCY = "agency"


def threshold() -> int:
    return settings.PUENTE["SUPPRESSION_THRESHOLD"]


def figures_scope(user) -> str:
    """``all`` or ``agency``; anyone else may not read figures (403)."""
    if not user.is_authenticated:
        raise PermissionDenied
    if user.has_role(Role.SECRETARIAT) or user.has_role(Role.COMMITTEE_MEMBER):
        return SCOPE_ALL
    if user.has_role(Role.CASEWORKER) and user.agency_id is not None:
        return SCOPE_AGENCY
    raise PermissionDenied


def cases_in_scope(user, scope: str) -> models.QuerySet:
    if scope == SCOPE_ALL:
        return Case.objects.all()
    # The owner and collaborator rows of the access table in cases.selectors,
    # as one filter: figures do not need the per-case access annotation.
    collaborating = Handoff.objects.filter(to_agency_id=user.agency_id, kind=HandoffKind.REFERRAL,
                                           status=HandoffStatus.ACCEPTED).values("case_id")
    return Case.objects.filter(Q(owner_agency_id=user.agency_id) | Q(pk__in=collaborating))


def handoffs_in_scope(user, scope: str) -> models.QuerySet:
    return Handoff.objects.all() if scope == SCOPE_ALL else handoffs_visible_to(user)


# --- Dimensions --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dimension:
    """How to group by one dimension: the column (or expression), the values
    every answer lists even at zero (a closed set), and how to label a value."""

    expression: Callable[[], object] | None
    choices: Sequence[str] = ()
    label: Callable[[object], str] | None = None
    label_expression: Callable[[], object] | None = None


def _choice_label(choices) -> Callable[[object], str]:
    names = dict(choices.choices)
    return lambda value: str(names.get(value, value))


def _country_label(code) -> str | None:
    return str(countries.name(code)) if code else None


def _week(field_name):
    return lambda: TruncWeek(field_name, tzinfo=committee_zone())


def _month(field_name):
    return lambda: TruncMonth(field_name, tzinfo=committee_zone())


CASE_DIMENSIONS = {
    "border_point": Dimension(lambda: F("border_point"), BorderPoint.values, _choice_label(BorderPoint)),
    "priority": Dimension(lambda: F("priority"), Priority.values, _choice_label(Priority)),
    # Not a column: a case counts once under each of its vulnerabilities.
    "vulnerability": Dimension(None, VULNERABILITIES, _choice_label(Vulnerability)),
    # People: a case counts once under each nationality among its members.
    "nationality": Dimension(lambda: Coalesce(F("memberships__person__nationality"), Value("")),
                             label=_country_label),
    "owner_agency": Dimension(lambda: F("owner_agency__code"), label_expression=lambda: F("owner_agency__name")),
    "owner_country": Dimension(lambda: F("owner_agency__country"), Country.values, _choice_label(Country)),
    "status": Dimension(lambda: F("status"), CaseStatus.values, _choice_label(CaseStatus)),
    "registered_week": Dimension(_week("created_at")),
    "registered_month": Dimension(_month("created_at")),
}

HANDOFF_DIMENSIONS = {
    "from_agency": Dimension(lambda: F("from_agency__code"), label_expression=lambda: F("from_agency__name")),
    "to_agency": Dimension(lambda: F("to_agency__code"), label_expression=lambda: F("to_agency__name")),
    "from_country": Dimension(lambda: F("from_agency__country"), Country.values, _choice_label(Country)),
    "to_country": Dimension(lambda: F("to_agency__country"), Country.values, _choice_label(Country)),
    "kind": Dimension(lambda: F("kind"), HandoffKind.values, _choice_label(HandoffKind)),
    "status": Dimension(lambda: F("status"), HandoffStatus.values, _choice_label(HandoffStatus)),
    "created_week": Dimension(_week("created_at")),
}


class HandoffDirection(models.TextChoices):
    PERU_TO_CHILE = "pe_to_cl", _("Peru → Chile")
    CHILE_TO_PERU = "cl_to_pe", _("Chile → Peru")
    TO_INTERNATIONAL = "to_international", _("To international organisations")
    OTHER = "other", _("Other")


def _direction():
    return models.Case(
        models.When(from_agency__country=Country.PERU, to_agency__country=Country.CHILE,
                    then=Value(HandoffDirection.PERU_TO_CHILE.value)),
        models.When(from_agency__country=Country.CHILE, to_agency__country=Country.PERU,
                    then=Value(HandoffDirection.CHILE_TO_PERU.value)),
        models.When(to_agency__country=Country.INTERNATIONAL, then=Value(HandoffDirection.TO_INTERNATIONAL.value)),
        default=Value(HandoffDirection.OTHER.value), output_field=models.CharField())


# Dimensions of the situation report that the API does not offer.
REPORT_HANDOFF_DIMENSIONS = {
    "direction": Dimension(_direction, HandoffDirection.values, _choice_label(HandoffDirection)),
}


def _output_value(name: str, value):
    if isinstance(value, datetime):  # a week or a month of the live query, in the committee's zone
        value = timezone.localtime(value, committee_zone()).date()
    if isinstance(value, date):  # a week or a month
        return value.strftime("%Y-%m") if name.endswith("_month") else value.isoformat()
    if name == "nationality":
        return value or None
    return value


# --- Answers -----------------------------------------------------------------------------------------


@dataclass
class Figures:
    """A suppressed answer: what the API returns, and what the report draws."""

    scope: str
    group_by: list[str]
    threshold: int
    rows: list[dict]
    total: dict
    measures: list[str] = field(default_factory=list)
    # Every change committed before this moment is counted (the rollup's live edge).
    as_of: datetime | None = field(default=None, compare=False)

    def as_dict(self) -> dict:
        return {"scope": self.scope, "group_by": self.group_by, "threshold": self.threshold,
                "rounding": self.threshold, "as_of": self.as_of.isoformat(), "rows": self.rows,
                "total": self.total}


def _publish(*, scope, group_by, dimensions, cells, labels, total, patterns, as_of, extra=None) -> Figures:
    """Apply suppression to ``cells`` ({key: {measure: count}}) and shape the rows.
    ``patterns`` are groups of measures hidden together; ``extra`` adds
    per-row figures computed after suppression (medians)."""
    limit = threshold()
    hidden_cells: dict[str, frozenset] = {}
    hidden_total: dict[str, bool] = {}
    for pattern in patterns:
        result = suppress({key: [values[m] for m in pattern] for key, values in cells.items()},
                          [total[m] for m in pattern], threshold=limit)
        for measure in pattern:
            hidden_cells[measure], hidden_total[measure] = result.hidden, result.total_hidden
    measures = [m for pattern in patterns for m in pattern]

    def shaped(values, is_hidden) -> dict:
        out = {m: (None if is_hidden(m) else rounded(values[m], limit)) for m in measures}
        out["suppressed"] = any(out[m] is None for m in measures)
        if extra is not None:
            out.update(extra(values, out))
        return out

    rows = []
    for key in _ordered_keys(cells, group_by, dimensions):
        row = {}
        for name, value in zip(group_by, key, strict=True):
            row[name] = _output_value(name, value)
            dimension = dimensions[name]
            if dimension.label_expression:
                row[f"{name}_label"] = labels.get((name, value))
            elif dimension.label:
                row[f"{name}_label"] = dimension.label(value)
        row.update(shaped(cells[key], lambda m, key=key: key in hidden_cells[m]))
        rows.append(row)
    return Figures(scope=scope, group_by=list(group_by), threshold=limit, rows=rows,
                   total=shaped(total, lambda m: hidden_total[m]), measures=measures, as_of=as_of)


def _ordered_keys(cells, group_by, dimensions):
    def position(name, value):
        choices = list(dimensions[name].choices)
        return (choices.index(value), "") if value in choices else (len(choices), str(value))
    return sorted(cells, key=lambda key: [position(n, v) for n, v in zip(group_by, key, strict=True)])


def _with_zeros(cells: dict, group_by, dimensions, zero: dict) -> dict:
    """Every value of a closed dimension is listed, at zero when no case has it."""
    axes = []
    for index, name in enumerate(group_by):
        seen = {key[index] for key in cells}
        axes.append(list(dimensions[name].choices) + sorted(seen - set(dimensions[name].choices), key=str)
                    if dimensions[name].choices else sorted(seen, key=str))
    keys = [()]
    for axis in axes:
        keys = [key + (value,) for key in keys for value in axis]
    return {key: cells.get(key, dict(zero)) for key in keys}


# --- Cache -------------------------------------------------------------------------------------------

# An answer from the rollup is the same until the rollup's next refresh: kept
# that long (the refresh interval at most), so a figure asked for again and
# again between two refreshes is computed once. Keyed by the refresh, the
# caller's scope, the question and the language of the labels.
CACHE_SECONDS = 60


def _cached(version, question: tuple, compute: Callable[[], "Figures"]) -> "Figures":
    asked = (version, get_language(), threshold(), str(committee_zone()), question)
    key = "figures:" + hashlib.sha256(repr(asked).encode()).hexdigest()
    try:
        figures = cache.get(key)
    except RedisError:  # without the cache the figures are computed, no slower than before
        figures = None
    if figures is None:
        figures = compute()
        with contextlib.suppress(RedisError):
            cache.set(key, figures, timeout=CACHE_SECONDS)
    return figures


# --- Cases -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFilters:
    registered_from: date | None = None
    registered_to: date | None = None
    status: str | None = None
    border_point: str | None = None
    vulnerability: str | None = None
    # Within the report: cases registered in [since, until).
    registered_since: datetime | None = None
    registered_until: datetime | None = None


def filtered_cases(cases: models.QuerySet, filters: CaseFilters) -> models.QuerySet:
    if filters.registered_from:
        cases = cases.filter(created_at__gte=day_start(filters.registered_from))
    if filters.registered_to:
        cases = cases.filter(created_at__lt=day_start(filters.registered_to, days_after=1))
    if filters.registered_since:
        cases = cases.filter(created_at__gte=filters.registered_since)
    if filters.registered_until:
        cases = cases.filter(created_at__lt=filters.registered_until)
    if filters.status:
        cases = cases.filter(status=filters.status)
    if filters.border_point:
        cases = cases.filter(border_point=filters.border_point)
    if filters.vulnerability:
        cases = cases.with_vulnerability(filters.vulnerability)
    return cases


CASE_MEASURES = ["cases", "people"]


def case_figures(user, *, group_by: Sequence[str] = (), filters: CaseFilters | None = None,
                 scope: str | None = None) -> Figures:
    """Cases and the people on them, grouped by up to two of ``CASE_DIMENSIONS``:
    from the rollup once it is built (``figures.rollup``), live before."""
    filters = filters or CaseFilters()
    scope = scope or figures_scope(user)
    agency_id = None if scope == SCOPE_ALL else user.agency_id
    version = rollup.rollup_version()
    as_of = timezone.now()
    if version is None:
        return _case_answer(scope, group_by, *_live_case_counts(user, scope, group_by, filters), as_of=as_of)
    lower, upper = registration_window(filters)
    return _cached(version, ("cases", agency_id, tuple(group_by), filters), lambda: _case_answer(
        scope, group_by, *rollup.case_counts(
            scope_agency_id=agency_id, group_by=list(group_by), lower=lower, upper=upper, status=filters.status,
            border_point=filters.border_point, vulnerability=filters.vulnerability), as_of=as_of))


def _case_answer(scope, group_by, grouped, total, *, as_of) -> Figures:
    plain = [name for name in group_by if name != "vulnerability"]
    flags = VULNERABILITIES if "vulnerability" in group_by else (None,)
    cells: dict = {}
    labels: dict = {}
    for result in grouped:
        for name in plain:
            if f"label_{name}" in result:
                labels[(name, result[f"dim_{name}"])] = result[f"label_{name}"]
        for flag in flags:
            key = tuple(flag if name == "vulnerability" else result[f"dim_{name}"] for name in group_by)
            cell = cells.setdefault(key, {"cases": 0, "people": 0})
            cell["cases"] += result[f"cases__{flag}"]
            cell["people"] += result[f"people__{flag}"]
    if total is None:  # the total comes with the groups
        total = {"cases": sum(r["all_cases"] for r in grouped), "people": sum(r["all_people"] for r in grouped)}
    cells = _with_zeros(cells, group_by, CASE_DIMENSIONS, {"cases": 0, "people": 0}) if group_by else {}
    return _publish(scope=scope, group_by=group_by, dimensions=CASE_DIMENSIONS, cells=cells, labels=labels,
                    total=total, patterns=[CASE_MEASURES], as_of=as_of)


def registration_window(filters: CaseFilters) -> tuple[datetime | None, datetime | None]:
    """The filters' registration dates as one span of time [lower, upper)."""
    lowers = [moment for moment in (filters.registered_from and day_start(filters.registered_from),
                                    filters.registered_since) if moment]
    uppers = [moment for moment in (filters.registered_to and day_start(filters.registered_to, days_after=1),
                                    filters.registered_until) if moment]
    return max(lowers, default=None), min(uppers, default=None)


def _live_case_counts(user, scope, group_by, filters) -> tuple[list[dict], dict | None]:
    """The definition of the figures, read from the cases themselves: one
    grouped query (the total with it, except by nationality)."""
    cases = filtered_cases(cases_in_scope(user, scope), filters)
    by_people = "nationality" in group_by
    plain = [name for name in group_by if name != "vulnerability"]
    flags = VULNERABILITIES if "vulnerability" in group_by else (None,)

    def counted(flag):
        condition = Q(**{vulnerability_field(flag): True}) if flag else None
        if by_people:
            return {"cases": Count("pk", distinct=True, filter=condition),
                    "people": Count("memberships", filter=condition)}
        return {"cases": Count("pk", filter=condition),
                "people": Coalesce(Sum("member_count", filter=condition), 0)}

    aggregates = {f"{measure}__{flag}": expression for flag in flags
                  for measure, expression in counted(flag).items()}
    if not by_people:  # the total comes with the groups
        aggregates |= {"all_cases": Count("pk"), "all_people": Coalesce(Sum("member_count"), 0)}
    names = {f"dim_{name}": CASE_DIMENSIONS[name].expression() for name in plain}
    labels_wanted = {f"label_{name}": CASE_DIMENSIONS[name].label_expression() for name in plain
                     if CASE_DIMENSIONS[name].label_expression}
    if names:
        grouped = list(cases.annotate(**names, **labels_wanted).values(*names, *labels_wanted).annotate(**aggregates)
                       .order_by())
    else:
        grouped = [cases.aggregate(**aggregates)]
    total = cases.aggregate(cases=Count("pk"), people=Coalesce(Sum("member_count"), 0)) if by_people else None
    return grouped, total


# --- Handoffs ----------------------------------------------------------------------------------------


class PercentileCont(models.Aggregate):
    function = "PERCENTILE_CONT"
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = models.FloatField()

    def __init__(self, expression, percentile: float, **extra):
        super().__init__(expression, percentile=percentile, **extra)


@dataclass(frozen=True)
class HandoffFilters:
    created_since: datetime | None = None
    created_until: datetime | None = None
    cross_border_only: bool = False


HANDOFF_MEASURES = ["handoffs", "pending", "overdue"]


def handoff_figures(user, *, group_by: Sequence[str] = (), filters: HandoffFilters | None = None,
                    scope: str | None = None, now: datetime | None = None) -> Figures:
    """Handoffs grouped by up to two of ``HANDOFF_DIMENSIONS``, with how many
    are pending and overdue and how fast the receivers answered: from the
    rollup once it is built, live before."""
    filters = filters or HandoffFilters()
    scope = scope or figures_scope(user)
    agency_id = None if scope == SCOPE_ALL else user.agency_id
    version = rollup.rollup_version()
    # "Now" moves on; a cached answer's overdue count is as old as the answer (at most CACHE_SECONDS).
    key = ("handoffs", agency_id, tuple(group_by), filters, now)
    as_of = timezone.now()
    now = now or as_of
    if version is None:
        return _handoff_answer(scope, group_by, *_live_handoff_counts(user, scope, group_by, filters, now),
                               as_of=as_of)
    return _cached(version, key, lambda: _handoff_answer(scope, group_by, *rollup.handoff_counts(
        scope_agency_id=agency_id, group_by=list(group_by), lower=filters.created_since,
        upper=filters.created_until, cross_border_only=filters.cross_border_only, now=now,
        response_times_current=not version.handoff_events_since), as_of=as_of))


def _handoff_answer(scope, group_by, grouped, total, *, as_of) -> Figures:
    dimensions = HANDOFF_DIMENSIONS | REPORT_HANDOFF_DIMENSIONS
    cells: dict = {}
    labels: dict = {}
    for result in grouped:
        key = tuple(result[f"dim_{name}"] for name in group_by)
        for name in group_by:
            if f"label_{name}" in result:
                labels[(name, result[f"dim_{name}"])] = result[f"label_{name}"]
        cells[key] = {m: result[m] for m in (*HANDOFF_MEASURES, "answered", "median", "p90")}
    if group_by:
        zero = {"handoffs": 0, "pending": 0, "overdue": 0, "answered": 0, "median": None, "p90": None}
        cells = _with_zeros(cells, group_by, dimensions, zero)
    limit = threshold()

    def response_times(values, shown):
        # A median over fewer answers than the threshold describes a handful of cases: never shown.
        enough = shown["handoffs"] is not None and values["answered"] >= limit
        return {"median_response_hours": _hours(values["median"]) if enough else None,
                "p90_response_hours": _hours(values["p90"]) if enough else None}

    return _publish(scope=scope, group_by=list(group_by), dimensions=dimensions, cells=cells,
                    labels=labels, total=total, patterns=_handoff_patterns(group_by),
                    extra=response_times, as_of=as_of)


def _live_handoff_counts(user, scope, group_by, filters, now) -> tuple[list[dict], dict]:
    """The definition of the handoff figures, read from the handoffs themselves."""
    dimensions = HANDOFF_DIMENSIONS | REPORT_HANDOFF_DIMENSIONS
    handoffs = handoffs_in_scope(user, scope)
    if filters.created_since:
        handoffs = handoffs.filter(created_at__gte=filters.created_since)
    if filters.created_until:
        handoffs = handoffs.filter(created_at__lt=filters.created_until)
    if filters.cross_border_only:
        handoffs = handoffs.cross_border()
    pending = Q(status=HandoffStatus.PENDING)
    answered = Q(responded_at__isnull=False)
    hours = models.ExpressionWrapper(models.Func(
        F("responded_at") - F("created_at"), template="EXTRACT(EPOCH FROM %(expressions)s)",
        output_field=models.FloatField()) / 3600.0, output_field=models.FloatField())
    aggregates = {
        "handoffs": Count("pk"), "pending": Count("pk", filter=pending),
        "overdue": Count("pk", filter=pending & Q(response_due__lt=now)),
        "answered": Count("pk", filter=answered),
        "median": PercentileCont(hours, 0.5, filter=answered), "p90": PercentileCont(hours, 0.9, filter=answered),
    }
    names = {f"dim_{name}": dimensions[name].expression() for name in group_by}
    labels_wanted = {f"label_{name}": dimensions[name].label_expression() for name in group_by
                     if dimensions[name].label_expression}
    # Medians do not add up: the total's are a query of their own when there are groups.
    total = handoffs.aggregate(**aggregates)
    grouped = (list(handoffs.annotate(**names, **labels_wanted).values(*names, *labels_wanted)
                    .annotate(**aggregates).order_by()) if group_by else [])
    return grouped, total


def _handoff_patterns(group_by) -> list[list[str]]:
    """Measures hidden together. Grouped by status, the pending row's handoffs
    are its pending ones: one pattern, or each would give the other away."""
    if "status" in group_by:
        return [["handoffs", "pending"], ["overdue"]]
    return [["handoffs"], ["pending"], ["overdue"]]


def _hours(value) -> float | None:
    return None if value is None else round(value, 1)


# --- Other counts ------------------------------------------------------------------------------------


def count_figures(*, dimension: str, choices: type[models.TextChoices], counts: dict, measure: str,
                  as_of: datetime) -> Figures:
    """Counts over a closed set of values (action items by status, say), through the same rule."""
    cells = {(value,): {measure: counts.get(value, 0)} for value in choices.values}
    return _publish(scope=SCOPE_ALL, group_by=[dimension],
                    dimensions={dimension: Dimension(None, choices.values, _choice_label(choices))},
                    cells=cells, labels={}, total={measure: sum(counts.values())}, patterns=[[measure]],
                    as_of=as_of)
