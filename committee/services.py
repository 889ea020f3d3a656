"""Every write of the committee's work. Functions take keyword-only arguments,
run in one transaction, decide every refusal before writing, lock the meeting
row where two requests can race, and write history and outbox events in the
same transaction. The API, the admin and the demo all come through here."""
import hashlib
import secrets
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from api_core.errors import Conflict, InvalidInput
from api_core.preconditions import IfMatch, check_if_match
from cases.models import validate_time_zone
from cases.services.audit import diff, record, snapshot
from outbox.services import emit

from . import signals
from .models import (
    POSITION_FIELDS,
    QUORUM_ROLES,
    ActionItem,
    ActionItemStatus,
    AgendaItem,
    AgendaItemKind,
    AgendaItemStatus,
    Attendance,
    AttendanceStatus,
    CalendarFeed,
    Decision,
    DecisionOutcome,
    DelegationPosition,
    Meeting,
    MeetingMode,
    MeetingStatus,
    Membership,
    MinutesStatus,
)
from .selectors import (
    can_complete,
    can_manage,
    committees_visible_to,
    docket_for,
    handoff_label,
    next_scheduled_meeting,
)


def _require_manager(actor) -> None:
    if not can_manage(actor):
        raise PermissionDenied


def _lock_meeting(meeting_id) -> Meeting:
    return Meeting.objects.select_for_update(of=("self",)).select_related("committee").get(pk=meeting_id)


def _touch(meeting: Meeting, *fields) -> None:
    meeting.version += 1
    meeting.save(update_fields=[*fields, "version", "updated_at"])


def _full_clean(instance, exclude=None) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise InvalidInput(messages[0], field=None if field == "__all__" else field) from exc


def _refuse_unknown_fields(changes: dict, allowed) -> None:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise InvalidInput(_("These fields cannot be changed here: %(fields)s.") % {"fields": ", ".join(unknown)},
                           code="read_only_field", field=unknown[0])


def _refuse_if_record_closed(meeting: Meeting) -> None:
    """Approved minutes lock the meeting's record: agenda, decisions, attendance."""
    if meeting.minutes_locked:
        raise Conflict(_("The minutes of this meeting are approved; its record can no longer change."),
                       code="minutes_approved")
    if meeting.status == MeetingStatus.CANCELLED:
        raise Conflict(_("The meeting is cancelled."), code="meeting_cancelled")


# --- Meetings --------------------------------------------------------------

MEETING_FIELDS = ["title", "starts_at", "ends_at", "time_zone", "mode", "place", "video_link", "minutes"]
# What a calendar shows: changing any of these on a published meeting is a reschedule.
CALENDAR_FIELDS = ["starts_at", "ends_at", "time_zone", "mode", "place", "video_link"]


def meeting_locked_fields(meeting: Meeting) -> dict[str, Conflict]:
    """The fields of ``meeting`` that can no longer change, each with the
    refusal a change gets: the one rule ``meeting_update`` enforces and the
    admin shows as read-only fields."""
    if meeting.status == MeetingStatus.CANCELLED:
        return dict.fromkeys(MEETING_FIELDS, Conflict(_("The meeting is cancelled."), code="meeting_cancelled"))
    locked = {}
    if meeting.status == MeetingStatus.HELD:
        locked.update(dict.fromkeys(CALENDAR_FIELDS, Conflict(
            _("The meeting has been held; its time and place are history."), code="meeting_held")))
    if meeting.minutes_locked:
        locked["title"] = Conflict(_("The minutes of this meeting are approved; its record can no longer change."),
                                   code="minutes_approved")
        locked["minutes"] = Conflict(_("Approved minutes cannot be changed."), code="minutes_approved")
    elif meeting.minutes_status == MinutesStatus.CIRCULATED:
        locked["minutes"] = Conflict(_("The minutes have been circulated; they can no longer be edited."),
                                     code="minutes_circulated")
    elif meeting.status == MeetingStatus.DRAFT:
        locked["minutes"] = Conflict(_("Minutes are written once the meeting is scheduled."),
                                     code="meeting_not_scheduled")
    return locked


def _validate_meeting(meeting: Meeting) -> None:
    if meeting.starts_at and meeting.ends_at and meeting.ends_at <= meeting.starts_at:
        raise InvalidInput(_("A meeting must end after it starts."), code="ends_before_start", field="ends_at")
    try:
        validate_time_zone(meeting.time_zone)
    except ValidationError as exc:
        raise InvalidInput(exc.messages[0], code="invalid_time_zone", field="time_zone") from exc
    _full_clean(meeting, exclude=["committee", "created_by", "minutes_approved_by"])


def _validate_whereabouts(meeting: Meeting) -> None:
    """A published meeting says where it happens."""
    if meeting.mode in (MeetingMode.IN_PERSON, MeetingMode.HYBRID) and not meeting.place.strip():
        raise InvalidInput(_("Say where the meeting takes place."), code="place_required", field="place")
    if meeting.mode in (MeetingMode.ONLINE, MeetingMode.HYBRID) and not meeting.video_link.strip():
        raise InvalidInput(_("Give the video link of the meeting."), code="video_link_required", field="video_link")


@transaction.atomic
def meeting_create(*, actor, committee, title: str, starts_at: datetime, ends_at: datetime,
                   time_zone: str = "America/Lima", mode: str = MeetingMode.IN_PERSON, place: str = "",
                   video_link: str = "") -> Meeting:
    """A draft meeting: visible to the secretariat only until it is scheduled."""
    _require_manager(actor)
    meeting = Meeting(committee=committee, title=title, starts_at=starts_at, ends_at=ends_at, time_zone=time_zone,
                      mode=mode, place=place, video_link=video_link, created_by=actor)
    _validate_meeting(meeting)
    meeting.save()
    record(actor=actor, case=None, action="meeting_created", obj=meeting,
           changes={"title": [None, title], "starts_at": [None, starts_at.isoformat()]})
    return meeting


@transaction.atomic
def meeting_update(*, actor, meeting: Meeting, changes: dict, if_match: IfMatch | None = None) -> Meeting:
    """Change a meeting's details or its draft minutes. Moving a published
    meeting (time, zone, mode, place, link) bumps its calendar sequence."""
    _require_manager(actor)
    meeting = _lock_meeting(meeting.pk)
    check_if_match(if_match, meeting)
    _refuse_unknown_fields(changes, MEETING_FIELDS)
    before = snapshot(meeting, MEETING_FIELDS)
    changed = [name for name, value in changes.items() if getattr(meeting, name) != value]
    if not changed:
        return meeting
    locked = meeting_locked_fields(meeting)
    for name in changed:
        if name in locked:
            raise locked[name]
    moved = [name for name in changed if name in CALENDAR_FIELDS]
    for name in changed:
        setattr(meeting, name, changes[name])
    _validate_meeting(meeting)
    if meeting.status != MeetingStatus.DRAFT:
        _validate_whereabouts(meeting)
    rescheduled = bool(moved) and meeting.status == MeetingStatus.SCHEDULED
    if rescheduled:
        meeting.sequence += 1
    _touch(meeting, *changed, "sequence")
    record(actor=actor, case=None, action="meeting_rescheduled" if rescheduled else "meeting_changed", obj=meeting,
           changes=diff(before, snapshot(meeting, changed)))
    if rescheduled:
        emit("meeting.scheduled", obj=meeting)
    return meeting


@transaction.atomic
def meeting_delete(*, actor, meeting: Meeting) -> None:
    """Throw away a draft. A published meeting is cancelled, never deleted."""
    _require_manager(actor)
    meeting = _lock_meeting(meeting.pk)
    if meeting.status != MeetingStatus.DRAFT:
        raise Conflict(_("Only a draft meeting can be deleted; cancel it instead."), code="not_draft")
    record(actor=actor, case=None, action="meeting_deleted", obj=meeting, changes={"title": [meeting.title, None]})
    ActionItem.objects.filter(meeting=meeting).update(meeting=None, agenda_item=None, decision=None)
    meeting.delete()


@transaction.atomic
def meeting_schedule(*, actor, meeting: Meeting) -> Meeting:
    """Publish a draft: members see it, its calendar event appears, and every
    member of the committee is invited."""
    _require_manager(actor)
    meeting = _lock_meeting(meeting.pk)
    if meeting.status != MeetingStatus.DRAFT:
        raise Conflict(_("Only a draft meeting can be scheduled (this one is %(status)s).") % {
            "status": meeting.get_status_display()}, code="not_draft")
    _validate_whereabouts(meeting)
    meeting.status = MeetingStatus.SCHEDULED
    _touch(meeting, "status")
    invited = set(meeting.attendances.values_list("user_id", flat=True))
    Attendance.objects.bulk_create([
        Attendance(meeting=meeting, user_id=membership.user_id, delegation=membership.delegation,
                   status=AttendanceStatus.INVITED, counts_for_quorum=membership.role in QUORUM_ROLES)
        for membership in meeting.committee.memberships.all() if membership.user_id not in invited
    ])
    record(actor=actor, case=None, action="meeting_scheduled", obj=meeting, changes={"status": ["draft", "scheduled"]})
    emit("meeting.scheduled", obj=meeting)
    return meeting


@transaction.atomic
def meeting_cancel(*, actor, meeting: Meeting, reason: str) -> Meeting:
    """Call off a published meeting and tell its members. A draft is deleted instead."""
    _require_manager(actor)
    if not (reason or "").strip():
        raise InvalidInput(_("Say why the meeting is cancelled."), code="reason_required", field="reason")
    meeting = _lock_meeting(meeting.pk)
    if meeting.status == MeetingStatus.DRAFT:
        # A cancelled meeting is published: cancelling a draft would show the
        # members a meeting, and the cases on its agenda, that they never saw.
        raise Conflict(_("A draft meeting was never published: delete it instead of cancelling it."),
                       code="not_cancellable")
    if meeting.status in (MeetingStatus.HELD, MeetingStatus.CANCELLED):
        raise Conflict(_("A meeting that is %(status)s cannot be cancelled.") % {
            "status": meeting.get_status_display().lower()}, code="not_cancellable")
    previous = meeting.status
    meeting.status = MeetingStatus.CANCELLED
    meeting.cancelled_at = timezone.now()
    meeting.cancellation_reason = reason.strip()
    meeting.sequence += 1
    _touch(meeting, "status", "cancelled_at", "cancellation_reason", "sequence")
    record(actor=actor, case=None, action="meeting_cancelled", obj=meeting,
           changes={"status": [previous, MeetingStatus.CANCELLED.value]})
    emit("meeting.cancelled", obj=meeting)
    # The members were invited, so they are told it is off (reminders
    # writes the notices in this transaction and queues them on commit).
    signals.meeting_cancelled.send(sender=Meeting, meeting=meeting)
    return meeting


@transaction.atomic
def meeting_mark_held(*, actor, meeting: Meeting) -> Meeting:
    _require_manager(actor)
    meeting = _lock_meeting(meeting.pk)
    if meeting.status != MeetingStatus.SCHEDULED:
        raise Conflict(_("Only a scheduled meeting can be marked as held."), code="not_scheduled")
    if meeting.starts_at > timezone.now():
        raise Conflict(_("The meeting has not started yet."), code="not_started")
    meeting.status = MeetingStatus.HELD
    _touch(meeting, "status")
    record(actor=actor, case=None, action="meeting_held", obj=meeting, changes={"status": ["scheduled", "held"]})
    return meeting


@transaction.atomic
def minutes_circulate(*, actor, meeting: Meeting) -> Meeting:
    """Send the draft minutes round the members for comment: they become
    readable to them and can no longer be edited."""
    _require_manager(actor)
    meeting = _lock_meeting(meeting.pk)
    if meeting.status != MeetingStatus.HELD:
        raise Conflict(_("Minutes are circulated after the meeting has been held."), code="meeting_not_held")
    if meeting.minutes_status != MinutesStatus.DRAFT:
        raise Conflict(_("The minutes are already %(status)s.") % {
            "status": meeting.get_minutes_status_display().lower()}, code="minutes_not_draft")
    if not meeting.minutes.strip():
        raise InvalidInput(_("Write the minutes before circulating them."), code="minutes_empty", field="minutes")
    meeting.minutes_status = MinutesStatus.CIRCULATED
    meeting.minutes_circulated_at = timezone.now()
    _touch(meeting, "minutes_status", "minutes_circulated_at")
    record(actor=actor, case=None, action="minutes_circulated", obj=meeting,
           changes={"minutes_status": ["draft", "circulated"]})
    return meeting


@transaction.atomic
def minutes_approve(*, actor, meeting: Meeting) -> Meeting:
    """Approve circulated minutes. From then on the meeting's record is locked."""
    _require_manager(actor)
    meeting = _lock_meeting(meeting.pk)
    if meeting.minutes_status == MinutesStatus.APPROVED:
        raise Conflict(_("The minutes are already approved."), code="minutes_approved")
    if meeting.minutes_status != MinutesStatus.CIRCULATED:
        raise Conflict(_("Minutes are approved after they have been circulated."), code="minutes_not_circulated")
    meeting.minutes_status = MinutesStatus.APPROVED
    meeting.minutes_approved_at = timezone.now()
    meeting.minutes_approved_by = actor
    _touch(meeting, "minutes_status", "minutes_approved_at", "minutes_approved_by")
    record(actor=actor, case=None, action="minutes_approved", obj=meeting,
           changes={"minutes_status": ["circulated", "approved"]})
    return meeting


# --- Agenda ----------------------------------------------------------------

def _renumber(meeting: Meeting, ordered_ids: list) -> None:
    """Give the items positions 1..n in the order given. Two updates so that
    the unique (meeting, position) never sees two items on one position, on
    any database: first out of the way, then into place."""
    items = list(AgendaItem.objects.filter(meeting=meeting))
    count = len(items)
    if not count:
        return
    AgendaItem.objects.filter(meeting=meeting).update(position=F("position") + count + 1000)
    by_id = {item.pk: item for item in items}
    for position, item_id in enumerate(ordered_ids, start=1):
        by_id[item_id].position = position
    AgendaItem.objects.bulk_update([by_id[item_id] for item_id in ordered_ids], ["position"])


def _current_order(meeting: Meeting) -> list:
    return list(AgendaItem.objects.filter(meeting=meeting).order_by("position").values_list("pk", flat=True))


def _link_labels(item: AgendaItem) -> None:
    if item.handoff_id is not None:
        if item.case_id is None:
            item.case = item.handoff.case
        elif item.handoff.case_id != item.case_id:
            raise InvalidInput(_("The handoff is not about this case."), code="handoff_of_other_case",
                               field="handoff")
        item.handoff_label = handoff_label(item.handoff)
    if item.case_id is not None:
        item.case_label = item.case.reference
    if item.action_item_id is not None:
        item.action_item_label = item.action_item.title[:300]


@transaction.atomic
def agenda_item_add(*, actor, meeting: Meeting, title: str, kind: str = AgendaItemKind.DISCUSSION, notes: str = "",
                    planned_minutes: int | None = None, case=None, handoff=None, action_item=None,
                    position: int | None = None, deferred_from: AgendaItem | None = None) -> AgendaItem:
    """Add an item at ``position`` (1..n+1), or at the end."""
    _require_manager(actor)
    meeting = _lock_meeting(meeting.pk)
    _refuse_if_record_closed(meeting)
    order = _current_order(meeting)
    if position is not None and not 1 <= position <= len(order) + 1:
        raise InvalidInput(_("Position must be between 1 and %(last)d.") % {"last": len(order) + 1},
                           code="invalid_position", field="position")
    item = AgendaItem(meeting=meeting, title=title, kind=kind, notes=notes, planned_minutes=planned_minutes,
                      case=case, handoff=handoff, action_item=action_item, deferred_from=deferred_from,
                      position=len(order) + 1000 + 1)
    _link_labels(item)
    _full_clean(item, exclude=["meeting", "position", "case", "handoff", "action_item", "deferred_from"])
    item.save()
    order.insert((position or len(order) + 1) - 1, item.pk)
    _renumber(meeting, order)
    item.refresh_from_db(fields=["position"])
    _touch(meeting)
    record(actor=actor, case=item.case, action="agenda_item_added", obj=item,
           changes={"meeting": [None, str(meeting.pk)], "position": [None, item.position]})
    return item


AGENDA_ITEM_FIELDS = ["kind", "title", "notes", "planned_minutes", "status", "case", "handoff", "action_item"]


@transaction.atomic
def agenda_item_update(*, actor, item: AgendaItem, changes: dict) -> AgendaItem:
    _require_manager(actor)
    meeting = _lock_meeting(item.meeting_id)
    _refuse_if_record_closed(meeting)
    item = AgendaItem.objects.select_related("case", "handoff").get(pk=item.pk)
    _refuse_unknown_fields(changes, AGENDA_ITEM_FIELDS)
    before = snapshot(item, AGENDA_ITEM_FIELDS)
    for name, value in changes.items():
        setattr(item, name, value)
    # Unlinking on purpose forgets the label; only a deleted case leaves it behind.
    for link in ("case", "handoff", "action_item"):
        if link in changes and changes[link] is None:
            setattr(item, f"{link}_label", "")
    _link_labels(item)
    _full_clean(item, exclude=["meeting", "case", "handoff", "action_item", "deferred_from"])
    changed = diff(before, snapshot(item, AGENDA_ITEM_FIELDS))
    if not changed:
        return item
    item.save()
    _touch(meeting)
    record(actor=actor, case=item.case, action="agenda_item_changed", obj=item, changes=changed)
    return item


@transaction.atomic
def agenda_item_delete(*, actor, item: AgendaItem) -> None:
    _require_manager(actor)
    meeting = _lock_meeting(item.meeting_id)
    _refuse_if_record_closed(meeting)
    if item.decisions.exists():
        raise Conflict(_("This item has recorded decisions and cannot be removed."), code="has_decisions")
    record(actor=actor, case=item.case, action="agenda_item_removed", obj=item,
           changes={"meeting": [str(meeting.pk), None], "title": [item.title, None]})
    item.delete()
    _renumber(meeting, _current_order(meeting))
    _touch(meeting)


@transaction.atomic
def agenda_reorder(*, actor, meeting: Meeting, order: list, if_match: IfMatch | None = None) -> Meeting:
    """Put the agenda in ``order`` (every item id of the meeting, once)."""
    _require_manager(actor)
    meeting = _lock_meeting(meeting.pk)
    check_if_match(if_match, meeting)
    _refuse_if_record_closed(meeting)
    current = _current_order(meeting)
    wanted = [str(item_id) for item_id in order]
    if len(set(wanted)) != len(wanted):
        raise InvalidInput(_("An item appears more than once in the order."), code="duplicate_ids", field="order")
    known = {str(pk): pk for pk in current}
    foreign = [item_id for item_id in wanted if item_id not in known]
    if foreign:
        raise InvalidInput(_("Not items of this meeting: %(ids)s.") % {"ids": ", ".join(foreign)},
                           code="foreign_ids", field="order")
    missing = [item_id for item_id in known if item_id not in wanted]
    if missing:
        raise InvalidInput(_("The order leaves out items: %(ids)s.") % {"ids": ", ".join(missing)},
                           code="missing_ids", field="order")
    if [known[item_id] for item_id in wanted] != current:
        _renumber(meeting, [known[item_id] for item_id in wanted])
        _touch(meeting)
        record(actor=actor, case=None, action="agenda_reordered", obj=meeting,
               changes={"order": [[str(pk) for pk in current], wanted]})
    return meeting


@transaction.atomic
def agenda_item_defer(*, actor, item: AgendaItem) -> AgendaItem:
    """Carry a pending item to the committee's next scheduled meeting, at the
    end of its agenda. Returns the new item there."""
    _require_manager(actor)
    source = _lock_meeting(item.meeting_id)
    item = AgendaItem.objects.select_related("case", "handoff", "action_item").get(pk=item.pk)
    if source.minutes_locked:
        raise Conflict(_("The minutes of this meeting are approved; its record can no longer change."),
                       code="minutes_approved")
    if item.status != AgendaItemStatus.PENDING:
        raise Conflict(_("Only a pending item can be deferred (this one is %(status)s).") % {
            "status": item.get_status_display().lower()}, code="not_pending")
    target = next_scheduled_meeting(source)
    if target is None:
        raise Conflict(_("The committee has no later scheduled meeting to carry the item to."),
                       code="no_next_meeting")
    # Meetings are always locked in time order (this one, then a later one),
    # so two deferrals can never wait on each other.
    target = _lock_meeting(target.pk)
    item.status = AgendaItemStatus.DEFERRED
    item.save(update_fields=["status", "updated_at"])
    _touch(source)
    carried = AgendaItem(meeting=target, title=item.title, kind=item.kind, notes=item.notes,
                         planned_minutes=item.planned_minutes, case=item.case, case_label=item.case_label,
                         handoff=item.handoff, handoff_label=item.handoff_label, action_item=item.action_item,
                         action_item_label=item.action_item_label, deferred_from=item,
                         position=AgendaItem.objects.filter(meeting=target).count() + 1)
    carried.save()
    _touch(target)
    record(actor=actor, case=item.case, action="agenda_item_deferred", obj=item,
           changes={"meeting": [str(source.pk), str(target.pk)], "status": ["pending", "deferred"]})
    return carried


# --- Decisions -------------------------------------------------------------

@transaction.atomic
def decision_record(*, actor, agenda_item: AgendaItem, text: str, outcome: str, positions: dict | None = None
                    ) -> Decision:
    """Record what the committee decided on an item; the item is then discussed."""
    _require_manager(actor)
    meeting = _lock_meeting(agenda_item.meeting_id)
    _refuse_if_record_closed(meeting)
    if meeting.status == MeetingStatus.DRAFT:
        raise Conflict(_("Decisions are recorded once the meeting is scheduled."), code="meeting_not_scheduled")
    if not (text or "").strip():
        raise InvalidInput(_("Write the decision."), code="required", field="text")
    if outcome not in DecisionOutcome.values:
        raise InvalidInput(_("Unknown outcome."), code="invalid_choice", field="outcome")
    decision = Decision(agenda_item=agenda_item, text=text.strip(), outcome=outcome, recorded_by=actor)
    for delegation, position in (positions or {}).items():
        if delegation not in POSITION_FIELDS:
            raise InvalidInput(_("Unknown delegation %(delegation)s.") % {"delegation": delegation},
                               code="invalid_delegation", field=f"positions.{delegation}")
        if position and position not in DelegationPosition.values:
            raise InvalidInput(_("Unknown position."), code="invalid_choice", field=f"positions.{delegation}")
        setattr(decision, POSITION_FIELDS[delegation], position or "")
    decision.save()
    AgendaItem.objects.filter(pk=agenda_item.pk, status=AgendaItemStatus.PENDING).update(
        status=AgendaItemStatus.DISCUSSED, updated_at=timezone.now())
    _touch(meeting)
    record(actor=actor, case=agenda_item.case, action="decision_recorded", obj=decision,
           changes={"outcome": [None, outcome]})
    return decision


# --- Attendance ------------------------------------------------------------

@transaction.atomic
def attendance_set(*, actor, meeting: Meeting, entries: list[dict],
                   if_match: IfMatch | None = None) -> list[Attendance]:
    """Replace the meeting's attendance list. Each entry: ``user``, ``status``
    and, for someone who is not a member, ``delegation``."""
    _require_manager(actor)
    meeting = _lock_meeting(meeting.pk)
    check_if_match(if_match, meeting)
    _refuse_if_record_closed(meeting)
    memberships = {m.user_id: m for m in Membership.objects.filter(committee_id=meeting.committee_id)}
    seen = set()
    rows = []
    for index, entry in enumerate(entries):
        user = entry["user"]
        if user.pk in seen:
            raise InvalidInput(_("%(user)s appears twice.") % {"user": user.username}, code="duplicate_user",
                               field=f"attendance.{index}.user")
        seen.add(user.pk)
        status = entry.get("status", AttendanceStatus.INVITED)
        if status not in AttendanceStatus.values:
            raise InvalidInput(_("Unknown attendance status."), code="invalid_choice",
                               field=f"attendance.{index}.status")
        membership = memberships.get(user.pk)
        delegation = entry.get("delegation") or (membership.delegation if membership else None)
        if not delegation:
            raise InvalidInput(_("%(user)s is not a member: say which delegation they attend for.") % {
                "user": user.username}, code="delegation_required", field=f"attendance.{index}.delegation")
        rows.append(Attendance(meeting=meeting, user=user, delegation=delegation,
                               status=status,
                               counts_for_quorum=membership is not None and membership.role in QUORUM_ROLES))
    before = {a.user_id: a.status for a in meeting.attendances.all()}
    meeting.attendances.all().delete()
    Attendance.objects.bulk_create(rows)
    _touch(meeting)
    record(actor=actor, case=None, action="attendance_recorded", obj=meeting,
           changes={"attendance": [{str(k): v for k, v in before.items()},
                                   {str(row.user_id): row.status for row in rows}]})
    return list(meeting.attendances.select_related("user").order_by("delegation", "user__username"))


# --- Docket ----------------------------------------------------------------

@transaction.atomic
def docket_add(*, actor, meeting: Meeting, items: list[dict]) -> list[AgendaItem]:
    """Add chosen docket proposals (``{source, id}``) to the end of the agenda,
    linked to their case, handoff or action item. Only what the docket
    proposes right now is accepted."""
    _require_manager(actor)
    meeting = _lock_meeting(meeting.pk)
    _refuse_if_record_closed(meeting)
    proposals = {proposal.key: proposal for proposal in docket_for(meeting)}
    chosen = []
    for index, entry in enumerate(items):
        key = (entry["source"], str(entry["id"]))
        if key not in proposals:
            raise InvalidInput(_("Not on this meeting's docket: %(source)s %(id)s.") % {
                "source": key[0], "id": key[1]}, code="not_on_docket", field=f"items.{index}")
        if key in [proposal.key for proposal in chosen]:
            raise InvalidInput(_("Chosen twice: %(source)s %(id)s.") % {"source": key[0], "id": key[1]},
                               code="duplicate_ids", field=f"items.{index}")
        chosen.append(proposals[key])
    added = []
    for proposal in chosen:
        added.append(agenda_item_add(
            actor=actor, meeting=meeting, title=proposal.title[:300], kind=proposal.kind,
            notes=proposal.deferred_item.notes if proposal.deferred_item else "",
            planned_minutes=proposal.deferred_item.planned_minutes if proposal.deferred_item else None,
            case=proposal.case, handoff=proposal.handoff, action_item=proposal.action_item,
            deferred_from=proposal.deferred_item))
    return added


# --- Action items ----------------------------------------------------------

def _audience(item: ActionItem):
    if item.owner_agency_id is not None:
        return [item.owner_agency_id]
    return [item.assignee.agency_id] if item.assignee is not None and item.assignee.agency_id else []


def _link_action_item(item: ActionItem) -> None:
    if item.owner_agency_id is None and item.assignee_id is None:
        raise InvalidInput(_("Give an owner agency, an assignee, or both."), code="owner_required",
                           field="owner_agency")
    if item.assignee is not None and not item.assignee.is_active:
        raise InvalidInput(_("The assignee's account is inactive."), code="inactive_user", field="assignee")
    if item.decision is not None:
        if item.agenda_item_id not in (None, item.decision.agenda_item_id):
            raise InvalidInput(_("The decision belongs to another agenda item."), code="mismatch", field="decision")
        item.agenda_item = item.decision.agenda_item
    if item.agenda_item is not None:
        if item.meeting_id not in (None, item.agenda_item.meeting_id):
            raise InvalidInput(_("The agenda item belongs to another meeting."), code="mismatch",
                               field="agenda_item")
        item.meeting_id = item.agenda_item.meeting_id
        if item.case_id is None and item.agenda_item.case_id is not None:
            item.case_id = item.agenda_item.case_id


ACTION_ITEM_FIELDS = ["title", "description", "owner_agency", "assignee", "due_at", "meeting", "agenda_item",
                      "decision", "case"]


@transaction.atomic
def action_item_create(*, actor, title: str, description: str = "", owner_agency=None, assignee=None,
                       due_at: datetime | None = None, meeting=None, agenda_item=None, decision=None,
                       case=None) -> ActionItem:
    _require_manager(actor)
    item = ActionItem(title=title, description=description, owner_agency=owner_agency, assignee=assignee,
                      due_at=due_at, meeting=meeting, agenda_item=agenda_item, decision=decision, case=case,
                      created_by=actor)
    _link_action_item(item)
    _full_clean(item, exclude=["owner_agency", "assignee", "meeting", "agenda_item", "decision", "case"])
    item.save()
    record(actor=actor, case=item.case, action="action_item_created", obj=item,
           changes=diff({}, snapshot(item, ["title", "owner_agency", "assignee", "due_at"])))
    emit("action_item.assigned", obj=item, case=item.case, agencies=_audience(item))
    return item


def _lock_action_item(item: ActionItem) -> ActionItem:
    return (ActionItem.objects.select_for_update(of=("self",))
            .select_related("owner_agency", "assignee", "case", "decision", "agenda_item").get(pk=item.pk))


@transaction.atomic
def action_item_update(*, actor, item: ActionItem, changes: dict, if_match: IfMatch | None = None) -> ActionItem:
    """Change an open action item. A new owner or assignee is told again."""
    _require_manager(actor)
    item = _lock_action_item(item)
    check_if_match(if_match, item)
    _refuse_unknown_fields(changes, ACTION_ITEM_FIELDS)
    before = snapshot(item, ACTION_ITEM_FIELDS)
    for name, value in changes.items():
        setattr(item, name, value)
    changed = diff(before, snapshot(item, ACTION_ITEM_FIELDS))
    if not changed:
        return item
    if item.status != ActionItemStatus.OPEN:
        raise Conflict(_("The action item is %(status)s and can no longer change.") % {
            "status": item.get_status_display().lower()}, code="not_open")
    _link_action_item(item)
    _full_clean(item, exclude=["owner_agency", "assignee", "meeting", "agenda_item", "decision", "case"])
    item.version += 1
    item.save()
    record(actor=actor, case=item.case, action="action_item_changed", obj=item, changes=changed)
    if "owner_agency" in changed or "assignee" in changed:
        emit("action_item.assigned", obj=item, case=item.case, agencies=_audience(item))
    return item


@transaction.atomic
def action_item_complete(*, actor, item: ActionItem, note: str = "") -> ActionItem:
    """Mark an open action item done: the secretariat, the owner agency's
    caseworkers or the assignee."""
    if not can_complete(actor, item):
        raise PermissionDenied
    item = _lock_action_item(item)
    if item.status != ActionItemStatus.OPEN:
        raise Conflict(_("The action item is already %(status)s.") % {
            "status": item.get_status_display().lower()}, code="not_open")
    item.status = ActionItemStatus.DONE
    item.completed_at = timezone.now()
    item.completed_by = actor
    item.completion_note = (note or "").strip()
    item.version += 1
    item.save(update_fields=["status", "completed_at", "completed_by", "completion_note", "version", "updated_at"])
    record(actor=actor, case=item.case, action="action_item_completed", obj=item, changes={"status": ["open", "done"]})
    emit("action_item.completed", obj=item, case=item.case, agencies=_audience(item))
    return item


@transaction.atomic
def action_item_cancel(*, actor, item: ActionItem, reason: str = "") -> ActionItem:
    _require_manager(actor)
    item = _lock_action_item(item)
    if item.status != ActionItemStatus.OPEN:
        raise Conflict(_("The action item is already %(status)s.") % {
            "status": item.get_status_display().lower()}, code="not_open")
    item.status = ActionItemStatus.CANCELLED
    item.cancelled_at = timezone.now()
    item.cancellation_reason = (reason or "").strip()
    item.version += 1
    item.save(update_fields=["status", "cancelled_at", "cancellation_reason", "version", "updated_at"])
    record(actor=actor, case=item.case, action="action_item_cancelled", obj=item,
           changes={"status": ["open", "cancelled"]})
    return item


# --- Calendar feeds --------------------------------------------------------

FEED_PREFIX = "cal_"


def feed_digest(secret: str) -> str:
    # 256 random bits: a fast hash is enough, there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def calendar_feed_create(*, user, committee) -> tuple[CalendarFeed, str]:
    """A secret calendar address for ``user`` and one of their committees.
    Returns the row and the secret, which is not stored and is shown once."""
    if not committees_visible_to(user).filter(pk=committee.pk).exists():
        raise Http404
    secret = FEED_PREFIX + secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(user=user, committee=committee, prefix=secret[:12], digest=feed_digest(secret))
    return feed, secret


def calendar_feed_revoke(*, actor, feed: CalendarFeed) -> CalendarFeed:
    if feed.user_id != actor.pk and not can_manage(actor):
        raise PermissionDenied
    CalendarFeed.objects.filter(pk=feed.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    feed.refresh_from_db()
    return feed


def calendar_feed_use(*, secret: str) -> CalendarFeed:
    """The live feed for ``secret``, else 404: revoked, unknown, or its user no
    longer active or no longer entitled to the committee."""
    from .selectors import committees_visible_to

    feed = (CalendarFeed.objects.active().select_related("user", "committee")
            .filter(digest=feed_digest(secret or "")).first())
    if feed is None or not feed.user.is_active or not committees_visible_to(feed.user).filter(
            pk=feed.committee_id).exists():
        raise Http404
    now = timezone.now()
    if feed.last_used_at is None or (now - feed.last_used_at).total_seconds() > 60:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
    return feed
