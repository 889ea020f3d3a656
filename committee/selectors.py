"""Committee reads that depend on who is asking, and the docket.

| viewer                       | committees, meetings, agendas, decisions     | action items                        |
| ---------------------------- | -------------------------------------------- | ----------------------------------- |
| secretariat                  | everything (drafts too)                      | every one                           |
| committee member             | their committees; meetings once published    | of their committees' meetings, and  |
|                              | (scheduled, held, cancelled); minutes once   | those assigned to them              |
|                              | circulated                                   |                                     |
| caseworker                   | nothing                                      | of their own agency, and those      |
|                              |                                              | assigned to them                    |
| anyone else                  | nothing (404)                                | nothing (404)                       |

A case on an agenda is shown as ``{id, reference}``; the full case endpoint
gives committee members the ``limited`` view through ``cases.selectors``.
"""
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import Case, Handoff, HandoffKind, HandoffStatus
from cases.roles import Role

from .models import (
    PUBLISHED_STATUSES,
    ActionItem,
    AgendaItem,
    AgendaItemKind,
    AgendaItemStatus,
    Committee,
    Decision,
    Meeting,
    MeetingStatus,
    MinutesStatus,
)


def is_secretariat(user) -> bool:
    return user.is_authenticated and user.has_role(Role.SECRETARIAT)


def _is_member(user) -> bool:
    return user.is_authenticated and user.has_role(Role.COMMITTEE_MEMBER)


def committees_visible_to(user) -> models.QuerySet:
    if is_secretariat(user):
        return Committee.objects.all()
    if _is_member(user):
        return Committee.objects.filter(memberships__user=user)
    return Committee.objects.none()


def meetings_visible_to(user) -> models.QuerySet:
    meetings = Meeting.objects.select_related("committee")
    if is_secretariat(user):
        return meetings
    if _is_member(user):
        return meetings.published().filter(committee__memberships__user=user)
    return meetings.none()


def committee_for(user, committee_id) -> Committee:
    return _get_or_404(committees_visible_to(user), committee_id)


def meeting_for(user, meeting_id) -> Meeting:
    return _get_or_404(meetings_visible_to(user), meeting_id)


def agenda_item_for(user, item_id) -> AgendaItem:
    return _get_or_404(agenda_items_visible_to(user).select_related("meeting", "case", "handoff"), item_id)


def decision_for(user, decision_id) -> Decision:
    return _get_or_404(decisions_visible_to(user), decision_id)


def action_item_for(user, item_id) -> ActionItem:
    return _get_or_404(action_items_visible_to(user), item_id)


def agenda_items_visible_to(user) -> models.QuerySet:
    return AgendaItem.objects.filter(meeting__in=meetings_visible_to(user).values("pk"))


def agenda_of(meeting: Meeting) -> models.QuerySet:
    """The agenda in order, with what a reader of it needs in two queries."""
    return (meeting.agenda_items.select_related("case", "handoff")
            .prefetch_related(Prefetch("decisions", queryset=Decision.objects.order_by("created_at", "id")))
            .order_by("position"))


def decisions_visible_to(user) -> models.QuerySet:
    return Decision.objects.select_related("agenda_item").filter(
        agenda_item__meeting__in=meetings_visible_to(user).values("pk"))


def action_items_visible_to(user) -> models.QuerySet:
    items = ActionItem.objects.select_related("owner_agency", "assignee", "case", "completed_by")
    if is_secretariat(user):
        return items
    if not user.is_authenticated:
        return items.none()
    scope = Q(assignee=user)
    if user.has_role(Role.CASEWORKER) and user.agency_id is not None:
        scope |= Q(owner_agency_id=user.agency_id)
    if _is_member(user):
        scope |= Q(meeting__in=meetings_visible_to(user).values("pk"))
    return items.filter(scope)


def can_manage(user) -> bool:
    """Writes to committees, meetings, agendas, decisions and action items."""
    return is_secretariat(user)


def can_complete(user, item: ActionItem) -> bool:
    """The secretariat, the owner agency's caseworkers and the assignee."""
    if is_secretariat(user) or item.assignee_id == user.pk:
        return True
    return (user.has_role(Role.CASEWORKER) and user.agency_id is not None
            and item.owner_agency_id == user.agency_id)


def can_read_minutes(user, meeting: Meeting) -> bool:
    """Draft minutes are the secretariat's working copy."""
    return is_secretariat(user) or meeting.minutes_status != MinutesStatus.DRAFT


def case_ids_on_agendas_of_member(user):
    """Ids (a queryset) of cases on an agenda of a published meeting of a
    committee ``user`` belongs to."""
    return (AgendaItem.objects
            .filter(meeting__status__in=PUBLISHED_STATUSES, meeting__committee__memberships__user=user,
                    case__isnull=False)
            .values_list("case_id", flat=True))


def attendance_of(meeting: Meeting) -> models.QuerySet:
    return meeting.attendances.select_related("user", "user__agency").order_by("delegation", "user__username")


def quorum_of(meeting: Meeting, attendances=None) -> dict:
    """Whether the committee's quorum rule is met by who is recorded present.
    ``attendances`` may be passed when already loaded."""
    if attendances is None:
        attendances = list(meeting.attendances.all())
    rule = meeting.committee.quorum_rule
    present = {delegation: 0 for delegation in rule}
    for attendance in attendances:
        if attendance.status == "present" and attendance.counts_for_quorum:
            present[attendance.delegation] = present.get(attendance.delegation, 0) + 1
    reached = all(present.get(delegation, 0) >= needed for delegation, needed in rule.items())
    return {"reached": reached, "required": rule, "present": present}


def next_scheduled_meeting(meeting: Meeting) -> Meeting | None:
    return (Meeting.objects.scheduled()
            .filter(committee_id=meeting.committee_id, starts_at__gt=meeting.starts_at)
            .exclude(pk=meeting.pk).order_by("starts_at", "id").first())


def previous_meeting(meeting: Meeting) -> Meeting | None:
    return (Meeting.objects
            .filter(committee_id=meeting.committee_id, starts_at__lt=meeting.starts_at,
                    status__in=[MeetingStatus.HELD, MeetingStatus.CANCELLED])
            .exclude(pk=meeting.pk).order_by("-starts_at", "-id").first())


def _get_or_404(queryset, pk):
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404 from None


# --- Docket ----------------------------------------------------------------

class DocketSource(models.TextChoices):
    OVERDUE_HANDOFF = "overdue_handoff", gettext_lazy("Pending handoff past its deadline")
    REJECTED_TRANSFER = "rejected_transfer", gettext_lazy("Case with a rejected transfer")
    OVERDUE_ACTION_ITEM = "overdue_action_item", gettext_lazy("Overdue action item")
    DEFERRED_ITEM = "deferred_item", gettext_lazy("Item deferred from the previous meeting")


@dataclass
class Proposal:
    """Something the committee should look at, and the agenda item it would become."""

    source: str
    id: str  # of the handoff, case, action item or deferred agenda item
    title: str
    kind: str
    reason: str
    case: Case | None = None
    handoff: Handoff | None = None
    action_item: ActionItem | None = None
    deferred_item: AgendaItem | None = None
    due_at: object = field(default=None)

    @property
    def key(self) -> tuple[str, str]:
        return self.source, self.id


def handoff_label(handoff: Handoff) -> str:
    """A handoff named without personal data: reference, kind and agencies."""
    return f"{handoff.case.reference} · {handoff.kind} · {handoff.from_agency.code} → {handoff.to_agency.code}"


def docket_for(meeting: Meeting, *, now=None) -> list[Proposal]:
    """What the committee should look at in ``meeting``, none of it already on
    its agenda: pending handoffs past their deadline, open cases whose latest
    transfer was rejected (and not put on an agenda since), overdue action
    items, and items deferred from the previous meeting and not carried yet."""
    now = now or timezone.now()
    on_agenda = meeting.agenda_items.all()
    cases_on_agenda = {case_id for case_id in on_agenda.values_list("case_id", flat=True) if case_id}
    handoffs_on_agenda = {pk for pk in on_agenda.values_list("handoff_id", flat=True) if pk}
    actions_on_agenda = {pk for pk in on_agenda.values_list("action_item_id", flat=True) if pk}
    proposals: list[Proposal] = []

    overdue = (Handoff.objects.overdue(now).select_related("case", "from_agency", "to_agency")
               .order_by("response_due", "id"))
    for handoff in overdue:
        if handoff.pk in handoffs_on_agenda or handoff.case_id in cases_on_agenda:
            continue
        cases_on_agenda.add(handoff.case_id)  # one proposal per case
        proposals.append(Proposal(
            source=DocketSource.OVERDUE_HANDOFF, id=str(handoff.pk), kind=AgendaItemKind.CASE_REVIEW,
            title=(_("Overdue transfer: %(reference)s (%(sender)s → %(receiver)s)")
                   if handoff.kind == HandoffKind.TRANSFER else
                   _("Overdue referral: %(reference)s (%(sender)s → %(receiver)s)")) % {
                "reference": handoff.case.reference, "sender": handoff.from_agency.code,
                "receiver": handoff.to_agency.code},
            reason=str(DocketSource.OVERDUE_HANDOFF.label), case=handoff.case, handoff=handoff,
            due_at=handoff.response_due))

    transfers = Handoff.objects.filter(case=OuterRef("pk"), kind=HandoffKind.TRANSFER).order_by("-created_at", "-id")
    reviewed_since = AgendaItem.objects.filter(
        case=OuterRef("pk"), meeting__committee_id=meeting.committee_id,
        created_at__gte=OuterRef("rejected_at")).exclude(meeting__status=MeetingStatus.CANCELLED)
    rejected = list(Case.objects.open()
                .annotate(latest_transfer_status=Subquery(transfers.values("status")[:1]),
                          latest_transfer_id=Subquery(transfers.values("pk")[:1]),
                          rejected_at=Subquery(transfers.values("responded_at")[:1]))
                .filter(latest_transfer_status=HandoffStatus.REJECTED)
                .exclude(Exists(reviewed_since))
                .order_by("rejected_at", "reference"))
    rejected = [case for case in rejected if case.pk not in cases_on_agenda]
    rejected_handoffs = Handoff.objects.select_related("case", "from_agency", "to_agency").in_bulk(
        [case.latest_transfer_id for case in rejected])
    for case in rejected:
        cases_on_agenda.add(case.pk)
        handoff = rejected_handoffs[case.latest_transfer_id]
        proposals.append(Proposal(
            source=DocketSource.REJECTED_TRANSFER, id=str(case.pk), kind=AgendaItemKind.CASE_REVIEW,
            title=_("Rejected transfer: %(reference)s (%(sender)s → %(receiver)s)") % {
                "reference": case.reference, "sender": handoff.from_agency.code,
                "receiver": handoff.to_agency.code},
            reason=str(DocketSource.REJECTED_TRANSFER.label), case=case, handoff=handoff,
            due_at=case.rejected_at))

    actions = (ActionItem.objects.overdue(now)
               .filter(Q(meeting__committee_id=meeting.committee_id) | Q(meeting__isnull=True))
               .exclude(pk__in=actions_on_agenda)
               .select_related("owner_agency", "assignee", "case").order_by("due_at", "id"))
    for item in actions:
        proposals.append(Proposal(
            source=DocketSource.OVERDUE_ACTION_ITEM, id=str(item.pk), kind=AgendaItemKind.DISCUSSION,
            title=_("Overdue action item: %(title)s") % {"title": item.title},
            reason=str(DocketSource.OVERDUE_ACTION_ITEM.label), action_item=item, case=item.case,
            due_at=item.due_at))

    previous = previous_meeting(meeting)
    if previous is not None:
        carried_statuses = [AgendaItemStatus.DEFERRED]
        if previous.status == MeetingStatus.CANCELLED:
            carried_statuses.append(AgendaItemStatus.PENDING)  # never reached
        leftovers = (previous.agenda_items.filter(status__in=carried_statuses)
                     .exclude(Exists(AgendaItem.objects.filter(deferred_from=OuterRef("pk"))))
                     .select_related("case", "handoff").order_by("position"))
        for item in leftovers:
            proposals.append(Proposal(
                source=DocketSource.DEFERRED_ITEM, id=str(item.pk), kind=item.kind, title=item.title,
                reason=str(DocketSource.DEFERRED_ITEM.label), deferred_item=item, case=item.case,
                handoff=item.handoff))
    return proposals
