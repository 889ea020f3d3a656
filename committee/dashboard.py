"""The figures of the admin's start page, each a plain ORM aggregate scoped
by the selectors. Kept in this one module so the case figures can later come
from the statistics module (with its small-cell suppression) instead.

Query and cost of each figure (PostgreSQL, 1M cases; see docs/secretariat-guide.md):
- open cases by border point / priority: one GROUP BY over open cases each
  (a scan of the open cases: ~100–300 ms at 1M rows, most of them closed);
- open cases per vulnerability: one query, one filtered COUNT per flag (one scan);
- new cases per week: GROUP BY date_trunc('week') over the last 12 weeks
  (created_at range; index-friendly, a few ms to tens of ms);
- handoffs by receiving agency: one GROUP BY over pending handoffs plus a
  percentile_cont median of answer time over the last 90 days (uses
  handoff_due_idx for the pending part);
- overdue action items by agency, next meetings: small tables, milliseconds."""
import datetime

from django.db.models import Aggregate, Count, DurationField, F, Q
from django.db.models.functions import TruncWeek
from django.utils import timezone

from cases.models import Case, Handoff, HandoffStatus, Vulnerability, vulnerability_field
from cases.roles import Role

from .models import MeetingStatus
from .selectors import action_items_visible_to, is_secretariat, meetings_visible_to

WEEKS = 12
RESPONSE_WINDOW = datetime.timedelta(days=90)


class Median(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def _bars(rows, label, value="count") -> list[dict]:
    """Rows with a ``share`` (0–100) of the largest value, for the bar charts."""
    rows = list(rows)
    top = max((row[value] for row in rows), default=0) or 1
    return [{**row, "label": label(row), "share": round(100 * row[value] / top)} for row in rows]


def case_figures() -> dict:
    open_cases = Case.objects.open()
    border_labels = dict(Case._meta.get_field("border_point").flatchoices)
    priority_labels = dict(Case._meta.get_field("priority").flatchoices)
    by_border = open_cases.order_by().values("border_point").annotate(count=Count("id")).order_by("-count")
    by_priority = open_cases.order_by().values("priority").annotate(count=Count("id")).order_by("-count")
    flags = open_cases.aggregate(**{flag: Count("id", filter=Q(**{vulnerability_field(flag): True}))
                                    for flag in Vulnerability.values})
    since = timezone.now() - datetime.timedelta(weeks=WEEKS)
    weekly = (Case.objects.filter(created_at__gte=since).order_by().annotate(week=TruncWeek("created_at"))
              .values("week").annotate(count=Count("id")).order_by("week"))
    return {
        "open_total": sum(row["count"] for row in by_border),
        "by_border": _bars(by_border, lambda row: border_labels.get(row["border_point"], row["border_point"])),
        "by_priority": _bars(by_priority, lambda row: priority_labels.get(row["priority"], row["priority"])),
        "by_vulnerability": _bars(
            [{"flag": flag, "count": count} for flag, count in sorted(flags.items(), key=lambda kv: -kv[1])],
            lambda row: dict(Vulnerability.choices)[row["flag"]]),
        "weekly": _bars(weekly, lambda row: f"{row['week']:%d/%m}"),
    }


def handoff_figures(now=None) -> list[dict]:
    now = now or timezone.now()
    pending = (Handoff.objects.filter(status=HandoffStatus.PENDING).order_by()
               .values("to_agency_id", "to_agency__code", "to_agency__name")
               .annotate(pending=Count("id"), overdue=Count("id", filter=Q(response_due__lt=now))))
    medians = dict(Handoff.objects.filter(responded_at__isnull=False, created_at__gte=now - RESPONSE_WINDOW)
                   .order_by().values("to_agency_id")
                   .annotate(median=Median(F("responded_at") - F("created_at")))
                   .values_list("to_agency_id", "median"))
    rows = sorted(pending, key=lambda row: (-row["overdue"], -row["pending"], row["to_agency__code"]))
    for row in rows:
        median = medians.get(row["to_agency_id"])
        row["median_hours"] = round(median.total_seconds() / 3600, 1) if median is not None else None
    return _bars(rows, lambda row: row["to_agency__code"], value="pending")


def action_item_figures(user, now=None) -> list[dict]:
    overdue = (action_items_visible_to(user).overdue(now).order_by()
               .values("owner_agency_id", "owner_agency__code").annotate(count=Count("id")).order_by("-count"))
    return _bars(overdue, lambda row: row["owner_agency__code"] or "—")


def next_meetings(user, now=None, limit=3) -> list:
    now = now or timezone.now()
    return list(meetings_visible_to(user).filter(ends_at__gte=now, status__in=[MeetingStatus.DRAFT,
                                                                             MeetingStatus.SCHEDULED])
                .annotate(items=Count("agenda_items"),
                          items_with_case=Count("agenda_items", filter=Q(agenda_items__case__isnull=False)))
                .order_by("starts_at")[:limit])


def dashboard_for(user) -> dict:
    """What the start page shows ``user``: the secretariat sees every figure;
    a committee member sees their committees' meetings and action items."""
    secretariat = is_secretariat(user)
    if not (secretariat or user.has_role(Role.COMMITTEE_MEMBER)):
        return {}
    return {
        "cases": case_figures() if secretariat else None,
        "handoffs": handoff_figures() if secretariat else None,
        "action_items": action_item_figures(user),
        "meetings": next_meetings(user),
    }
