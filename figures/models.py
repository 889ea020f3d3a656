"""The statistics rollup: counts of cases and handoffs per period of
registration and per value of every dimension the statistics group or filter
by, so an answer sums a few thousand rows instead of reading every case.

A period is a committee week cut at month ends (``week`` ∩ ``month``), so a
week and a month are each a union of periods. ``figures.rollup`` writes these
tables and reads them; docs/performance.md explains the design.
"""
from django.contrib.postgres.fields import ArrayField
from django.db import models

from cases.models import VULNERABILITIES


def flag_pairs() -> list[tuple[str, str]]:
    """Every unordered pair of vulnerabilities, each flag with itself included:
    a case counts under (f, g) when it has both (under (f, f) when it has f)."""
    return [(first, second) for index, first in enumerate(VULNERABILITIES) for second in VULNERABILITIES[index:]]


def pair_name(measure: str, first: str, second: str) -> str:
    first, second = sorted((first, second), key=VULNERABILITIES.index)
    return f"{measure}_{first}" if first == second else f"{measure}_{first}_and_{second}"


class Period(models.Model):
    period_start = models.DateField()
    period_end = models.DateField()  # the day after the last
    week = models.DateField()  # its Monday, in the committee's zone
    month = models.DateField()  # its first day

    class Meta:
        abstract = True


_case_measures = {"cases": models.IntegerField(default=0), "people": models.IntegerField(default=0)}
for _first, _second in flag_pairs():
    for _measure in ("cases", "people"):
        _case_measures[pair_name(_measure, _first, _second)] = models.IntegerField(default=0)

CaseMeasures = type("CaseMeasures", (models.Model,), {
    "__module__": __name__, "Meta": type("Meta", (), {"abstract": True}), **_case_measures})


class CaseRollupBase(Period, CaseMeasures):
    """One row per period and combination of the case's dimensions. A row with
    a ``viewer_agency`` counts cases that agency collaborates on (an accepted
    referral) without owning them: what its caseworkers' scope adds."""

    viewer_agency = models.ForeignKey("cases.Agency", on_delete=models.CASCADE, null=True, related_name="+")
    owner_agency = models.ForeignKey("cases.Agency", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10)
    border_point = models.CharField(max_length=30)
    priority = models.CharField(max_length=10)

    class Meta:
        abstract = True


class CaseRollup(CaseRollupBase):
    """``cases``: cases; ``people``: the members on them."""

    class Meta:
        indexes = [models.Index(fields=["period_start"], name="figures_case_rollup_period")]


class CaseNationalityRollup(CaseRollupBase):
    """``cases``: cases with a member of ``nationality`` (blank: unknown, or
    no member); ``people``: the members of that nationality."""

    nationality = models.CharField(max_length=2)

    class Meta:
        indexes = [models.Index(fields=["period_start"], name="figures_nationality_period")]


class HandoffRollup(Period):
    """One row per period of creation and combination of the handoff's
    dimensions; a pending one also per day its answer is due (in the
    committee's zone), so "overdue" is a sum up to yesterday plus today's
    handoffs read live. ``response_hours`` keeps every answered handoff's
    response time, so medians are the exact ones."""

    from_agency = models.ForeignKey("cases.Agency", on_delete=models.CASCADE, related_name="+")
    to_agency = models.ForeignKey("cases.Agency", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10)
    status = models.CharField(max_length=10)
    due_day = models.DateField(null=True)
    handoffs = models.IntegerField(default=0)
    response_hours = ArrayField(models.FloatField(), default=list)

    class Meta:
        indexes = [models.Index(fields=["period_start"], name="figures_handoff_rollup_period")]


class HandoffResponseTimes(models.Model):
    """Everyone's response times, all time: the median and 90th percentile of
    every grouping the statistics API offers (none, one or two of its
    dimensions), computed from ``HandoffRollup`` when a refresh takes
    handoff events, in the same transaction. A percentile cannot be added up
    from parts, and sorting every answered handoff's response time (400,000
    at a million cases) on each call costs more than the answer may take.
    ``grouping`` names the dimensions (in ``figures.rollup.RESPONSE_TIME_DIMENSIONS``
    order, comma-separated; empty: the total); the others are NULL."""

    grouping = models.CharField(max_length=60)
    from_agency = models.CharField(max_length=50, null=True)  # the agency's code
    to_agency = models.CharField(max_length=50, null=True)
    from_country = models.CharField(max_length=3, null=True)
    to_country = models.CharField(max_length=3, null=True)
    kind = models.CharField(max_length=10, null=True)
    status = models.CharField(max_length=10, null=True)
    created_week = models.DateField(null=True)
    answered = models.IntegerField()
    median = models.FloatField()
    p90 = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["grouping"], name="figures_response_grouping")]


class RollupState(models.Model):
    """One row once the rollup has been built: the last outbox event (by feed
    position) whose changes it holds."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    position = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField()
