"""The situation report of a meeting: what a delegate brings back to their
ministry. Figures since the previous meeting of the same committee and
cumulative, each one a suppressed answer of ``figures.selectors``: the
report adds no count of its own that the rule has not seen."""
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import CaseStatus
from committee.models import ActionItem, ActionItemStatus, Meeting, MeetingStatus

from .selectors import (
    CaseFilters,
    Figures,
    HandoffFilters,
    case_figures,
    count_figures,
    figures_scope,
    handoff_figures,
)

SECTIONS = [
    # (name, title, what it counts)
    ("new_by_border_point", _("New cases and people by border point")),
    ("new_by_vulnerability", _("New cases and people by vulnerability")),
    ("open_by_border_point", _("Open cases by border point")),
    ("handoffs_by_direction", _("Handoffs by direction")),
    ("action_items", _("Action items due")),
]


@dataclass
class SituationReport:
    meeting: Meeting
    previous: Meeting | None
    since: datetime | None
    as_of: datetime
    period: dict[str, Figures]
    cumulative: dict[str, Figures]

    def as_dict(self) -> dict:
        return {
            "meeting": str(self.meeting.pk),
            "previous_meeting": str(self.previous.pk) if self.previous else None,
            "since": self.since.isoformat() if self.since else None,
            "as_of": self.as_of.isoformat(),
            "counted_at": self.counted_at.isoformat(),
            "period": {name: figures.as_dict() for name, figures in self.period.items()},
            "cumulative": {name: figures.as_dict() for name, figures in self.cumulative.items()},
        }

    @property
    def counted_at(self) -> datetime:
        """The figures count every change committed before this moment (the earliest section's)."""
        return min(figures.as_of for figures in [*self.period.values(), *self.cumulative.values()])

    def sections(self):
        """(title, figures since the previous meeting, cumulative figures) in the order of the report."""
        return [(title, self.period[name], self.cumulative[name]) for name, title in SECTIONS]


def previous_meeting(meeting: Meeting) -> Meeting | None:
    return (Meeting.objects.filter(committee_id=meeting.committee_id, starts_at__lt=meeting.starts_at)
            .exclude(status__in=[MeetingStatus.CANCELLED, MeetingStatus.DRAFT]).order_by("-starts_at").first())


def _action_items(meeting: Meeting, since, until) -> Figures:
    items = ActionItem.objects.filter(meeting__committee_id=meeting.committee_id, due_at__lt=until)
    if since:
        items = items.filter(due_at__gte=since)
    counted_at = timezone.now()
    counted = items.aggregate(**{status: Count("pk", filter=Q(status=status)) for status in ActionItemStatus.values})
    return count_figures(dimension="status", choices=ActionItemStatus, counts={
        status: counted[status] for status in ActionItemStatus.values}, measure="action_items", as_of=counted_at)


def _figures(user, scope, since, until) -> dict[str, Figures]:
    window = CaseFilters(registered_since=since, registered_until=until)
    handoffs = HandoffFilters(created_since=since, created_until=until)
    return {
        "new_by_border_point": case_figures(user, group_by=["border_point"], filters=window, scope=scope),
        "new_by_vulnerability": case_figures(user, group_by=["vulnerability"], filters=window, scope=scope),
        "open_by_border_point": case_figures(user, group_by=["border_point"], scope=scope, filters=CaseFilters(
            registered_until=until, status=CaseStatus.OPEN)),
        "handoffs_by_direction": handoff_figures(user, group_by=["direction"], filters=handoffs, scope=scope,
                                                 now=until),
    }


def situation_report(user, meeting: Meeting, *, now: datetime | None = None) -> SituationReport:
    """The report of ``meeting`` as ``user`` may read it (the caller has
    already checked the meeting is visible)."""
    scope = figures_scope(user)
    as_of = min(now or timezone.now(), meeting.starts_at)
    previous = previous_meeting(meeting)
    since = previous.starts_at if previous else None
    period = _figures(user, scope, since, as_of)
    cumulative = _figures(user, scope, None, as_of)
    period["action_items"] = _action_items(meeting, since, as_of)
    cumulative["action_items"] = _action_items(meeting, None, as_of)
    return SituationReport(meeting=meeting, previous=previous, since=since, as_of=as_of, period=period,
                           cumulative=cumulative)
