"""Where deadlines come from: one function per deadline kind, registered in
``SOURCES``.

A source function receives a ``DueQuery`` and yields batches of ``Due``
items — (target, deadline, recipients) plus what the email needs. It builds
its queryset of *open* targets (a resolved handoff, a done action item or a
cancelled meeting is simply not in it) and lets the query page through it:

    @register(DeadlineKind.SOMETHING_DUE)
    def something_due(query):
        for batch in query.batches(Something.objects.open().select_related(...), "due_at"):
            yield [Due(target=obj, deadline=obj.due_at, label=..., context={...},
                       recipients=query.recipients(owner_agency=obj.owner_agency, ...)) for obj in batch]

The same function serves the sweep (every open target whose reminder moment
has come and which has no reminder for that rule and deadline yet, in
batches: one statement per batch, the database leaving out the targets
already reminded) and the send task (one target by id, to check it is still
open and its deadline unchanged). A source with many targets may read, in a
sweep (``query.sweeping``), only the columns its rows need with
``query.rows(queryset, deadline_field, *fields)`` — tuples ``(pk, deadline,
*fields)`` instead of models — as long as one function of its own maps them
to recipients in both paths (``_handoff_recipients``).
"""
import datetime
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.conf import settings
from django.db.models import CharField, Exists, Func, Model, OuterRef, Q, QuerySet, UUIDField, Value
from django.db.models.functions import Cast, Replace
from django.urls import reverse

from cases.models import DEFAULT_TIME_ZONES, Agency, Handoff, Language, User
from cases.roles import Role
from committee.calendar import meeting_calendar
from committee.models import ActionItem, Meeting, MeetingStatus, Membership
from dataprotection.models import DataRequest

from .models import DeadlineKind, RecipientKind, Reminder, ReminderRule, Timing

# --- Recipients ----------------------------------------------------------------

@dataclass(frozen=True)
class Recipient:
    key: str
    email: str
    language: str
    time_zone: str
    agency_id: int | None = None
    user_id: int | None = None

    @classmethod
    def for_agency(cls, agency: Agency) -> "Recipient":
        return cls(key=f"agency:{agency.pk}", email=agency.contact_email, language=_language(agency.language),
                   time_zone=agency.time_zone or DEFAULT_TIME_ZONES.get(agency.country, "UTC"), agency_id=agency.pk)

    @classmethod
    def for_user(cls, user: User) -> "Recipient":
        return cls(key=f"user:{user.pk}", email=user.email, language=_language(user.language),
                   time_zone=user.effective_time_zone, user_id=user.pk)

    @classmethod
    def for_reminder(cls, reminder: Reminder) -> "Recipient | None":
        """The recipient as it is now (an address fixed after a failure counts)."""
        if reminder.recipient_user is not None:
            return cls.for_user(reminder.recipient_user)
        if reminder.recipient_agency is not None:
            return cls.for_agency(reminder.recipient_agency)
        return None


def _language(code: str) -> str:
    return code if code in Language.values else Language.SPANISH


class Directory:
    """People who receive reminders whatever the target; loaded once per sweep."""

    def __init__(self):
        self._agencies: dict[int, list[Recipient]] = {}
        self._members: dict = {}

    @cached_property
    def agencies(self) -> dict[int, Agency]:
        """Every agency by id, read once: a few hundred rows, shared by every
        target of a sweep instead of joined and built again for each one."""
        return Agency.objects.in_bulk()

    def agency(self, agency: Agency) -> list[Recipient]:
        if agency.pk not in self._agencies:
            self._agencies[agency.pk] = [Recipient.for_agency(agency)] if agency.active else []
        return self._agencies[agency.pk]

    @cached_property
    def secretariat(self) -> list[Recipient]:
        users = (User.objects.filter(is_active=True, groups__name=Role.SECRETARIAT)
                 .select_related("agency").order_by("pk"))
        return [Recipient.for_user(user) for user in users]

    def committee_members(self, committee_ids: Iterable) -> dict:
        """Committee id → its members (users), loaded in one query for the committees not seen yet."""
        missing = set(committee_ids) - set(self._members)
        if missing:
            for committee_id in missing:
                self._members[committee_id] = []
            memberships = (Membership.objects.filter(committee_id__in=missing)
                           .select_related("user__agency").order_by("pk"))
            for membership in memberships:
                self._members[membership.committee_id].append(membership.user)
        return self._members


# --- Target keys -------------------------------------------------------------------

def target_key(pk) -> str:
    return pk.hex if isinstance(pk, uuid.UUID) else str(pk)


def target_key_sql(model: type[Model]) -> Func:
    """``target_key`` of the outer query's row, in SQL: the text a reminder
    stores in ``target_id`` (a UUID's 32 hex digits, without dashes)."""
    key = Cast(OuterRef("pk"), output_field=CharField())
    if isinstance(model._meta.pk, UUIDField):
        key = Replace(key, Value("-"), Value(""))
    return key


# --- Due items and the query a source pages through -----------------------------

@dataclass
class Due:
    # The target, or only its primary key when a sweep read just the columns
    # its rows need (``DueQuery.rows``).
    target: Any
    deadline: datetime.datetime
    recipients: list[Recipient]
    # Shown in the reminder log and the email: a case reference or a meeting
    # title, never a migrant's name.
    label: str
    context: dict = field(default_factory=dict)
    # More context, built only when the email is written (in the reader's
    # language): what costs queries and is not needed to decide what is due.
    details: Callable[[], dict] | None = None
    # Files for the email, built only when it is sent: (filename, content, mimetype).
    attachments: Callable[[], list[tuple[str, bytes | str, str]]] | None = None

    @property
    def target_pk(self):
        return self.target.pk if isinstance(self.target, Model) else self.target


class DueQuery:
    """The question a source answers: either "what is due for this rule now"
    (a sweep) or "is this one target still open" (a send)."""

    def __init__(self, *, rule: ReminderRule | None = None, now: datetime.datetime | None = None,
                 max_lateness: datetime.timedelta | None = None, batch_size: int = 1000,
                 directory: Directory | None = None, target_id: str | None = None):
        self.rule = rule
        self.now = now
        self.max_lateness = max_lateness
        self.batch_size = batch_size
        self.directory = directory or Directory()
        self.target_id = target_id

    @classmethod
    def for_target(cls, target_id: str) -> "DueQuery":
        return cls(target_id=target_id)

    @property
    def sweeping(self) -> bool:
        """A sweep writes rows (target, deadline, label, recipients) and builds
        no email: a source may leave out what only the email reads."""
        return self.target_id is None

    def wants(self, kind: RecipientKind) -> bool:
        """Whether this query's rule writes to ``kind``: spares a source the
        queries for recipients nobody asked for (and a send, any at all)."""
        return self.rule is not None and self.rule.recipients == kind

    def batches(self, queryset: QuerySet, deadline_field: str) -> Iterator[list[Model]]:
        """The targets due, as model instances, a page at a time (or the one
        target a send asks about)."""
        if self.target_id is not None:
            pk = queryset.model._meta.pk.to_python(self.target_id)
            yield list(queryset.filter(pk=pk)[:1])
            return
        yield from self._pages(queryset, deadline_field, lambda page: page,
                               lambda target: (target.pk, getattr(target, deadline_field)))

    def rows(self, queryset: QuerySet, deadline_field: str, *fields: str) -> Iterator[list[tuple]]:
        """For a sweep (a send reads the target itself, ``batches``): the
        targets due as tuples ``(pk, deadline, *fields)``, a page at a time —
        only the columns the reminder rows need, no model instance built."""
        yield from self._pages(queryset, deadline_field,
                               lambda page: page.values_list("pk", deadline_field, *fields),
                               lambda row: (row[0], row[1]))

    def _pages(self, queryset: QuerySet, deadline_field: str, select: Callable[[QuerySet], QuerySet],
               position: Callable[[Any], tuple]) -> Iterator[list]:
        model = queryset.model
        rule, now = self.rule, self.now
        # The rule fires at deadline + delta; due when that moment lies in
        # [now - max_lateness, now].
        low, high = now - self.max_lateness - rule.delta, now - rule.delta
        window = Q(**{f"{deadline_field}__gte": low, f"{deadline_field}__lte": high})
        if rule.timing == Timing.BEFORE:
            window &= Q(**{f"{deadline_field}__gt": now})  # never "due soon" once it has passed
        candidates = queryset.filter(window).order_by(deadline_field, "pk")
        target = target_key_sql(model)
        after = None
        # One statement a page: the open targets in the window that have no
        # reminder of this rule for their current deadline yet, an anti-join on
        # the reminders' unique key. Targets already reminded cost neither
        # Python nor a round trip, so a sweep that finds nothing to write is one
        # statement per rule whatever the number of open deadlines.
        while True:
            start = low if after is None else after[1]
            # The reminders' deadlines bounded like the page's: whichever join
            # the planner picks reads only the index range this page can match,
            # never the rule's history nor what earlier pages wrote.
            written = Reminder.objects.filter(rule_id=rule.pk, deadline=OuterRef(deadline_field),
                                              deadline__gte=start, deadline__lte=high, target_id=target)
            page = candidates.filter(~Exists(written))
            if after is not None:
                # The first condition is redundant but lets the index skip what is behind us.
                page = page.filter(Q(**{f"{deadline_field}__gte": after[1]}),
                                   Q(**{f"{deadline_field}__gt": after[1]}) | Q(pk__gt=after[0]))
            batch = list(select(page)[:self.batch_size])
            if not batch:
                return
            yield batch
            if len(batch) < self.batch_size:
                return
            after = position(batch[-1])

    def recipients(self, **by_kind: Agency | User | Iterable[User] | None) -> list[Recipient]:
        """The rule's recipients for one target. Sources pass whatever recipient
        kinds they know (``receiving_agency=handoff.to_agency``); the
        secretariat is known to every source."""
        if self.rule is None:
            return []
        kind = self.rule.recipients
        if kind == RecipientKind.SECRETARIAT:
            return self.directory.secretariat
        value = by_kind.get(kind)
        if value is None:
            return []
        if isinstance(value, Agency):
            return self.directory.agency(value)
        if isinstance(value, User):
            return [Recipient.for_user(value)] if value.is_active else []
        return [Recipient.for_user(user) for user in value if user.is_active]


SourceFunction = Callable[[DueQuery], Iterator[list[Due]]]
SOURCES: dict[str, SourceFunction] = {}


def register(kind: DeadlineKind) -> Callable[[SourceFunction], SourceFunction]:
    def decorator(function: SourceFunction) -> SourceFunction:
        SOURCES[kind] = function
        return function
    return decorator


def current_due(kind: str, target_id: str) -> Due | None:
    """The target as it stands now, or None when it is closed (or its kind has no source)."""
    source = SOURCES.get(kind)
    if source is None:
        return None
    for batch in source(DueQuery.for_target(target_id)):
        for due in batch:
            return due
    return None


# --- The sources --------------------------------------------------------------------

def _link_bases() -> tuple[str, str]:
    """Absolute URLs of the API root and the admin index."""
    base = settings.PUBLIC_BASE_URL
    return f"{base}{reverse('v1:root')}", f"{base}{reverse('admin:index')}"


@register(DeadlineKind.HANDOFF_RESPONSE_DUE)
def handoff_response_due(query: DueQuery) -> Iterator[list[Due]]:
    """Pending handoffs, due at ``response_due``: the receiving agency must
    accept or reject; after it passes, the secretariat follows up."""
    handoffs = Handoff.objects.pending()
    agencies = query.directory.agencies
    if query.sweeping:
        # The columns the rows need and no more: at a million deadlines due
        # at once, building models is most of a sweep's Python time.
        for batch in query.rows(handoffs, "response_due", "case__reference", "to_agency_id", "from_agency_id"):
            yield [Due(target=pk, deadline=deadline, label=reference,
                       recipients=_handoff_recipients(query, agencies[to_agency], agencies[from_agency]))
                   for pk, deadline, reference, to_agency, from_agency in batch]
        return
    api, admin = _link_bases()
    for batch in query.batches(handoffs.select_related("case"), "response_due"):
        dues = []
        for handoff in batch:
            to_agency, from_agency = agencies[handoff.to_agency_id], agencies[handoff.from_agency_id]
            dues.append(Due(
                target=handoff,
                deadline=handoff.response_due,
                label=handoff.case.reference,
                recipients=_handoff_recipients(query, to_agency, from_agency),
                # Agency names and the case reference only: never the reason
                # (free text that may name people) nor anything about the members.
                context={
                    "reference": handoff.case.reference,
                    "kind": handoff.kind,
                    "from_agency": from_agency.name,
                    "to_agency": to_agency.name,
                    "api_url": f"{api}handoffs/{handoff.pk}/",
                    "admin_url": f"{admin}cases/handoff/{handoff.pk}/change/",
                },
            ))
        yield dues


def _handoff_recipients(query: DueQuery, to_agency: Agency, from_agency: Agency) -> list[Recipient]:
    return query.recipients(receiving_agency=to_agency, sending_agency=from_agency)


@register(DeadlineKind.ACTION_ITEM_DUE)
def action_item_due(query: DueQuery) -> Iterator[list[Due]]:
    """Open action items with a due date, due at ``due_at``: the assignee is
    reminded (the owner agency when nobody, or nobody active, is assigned);
    after it passes, the secretariat follows up. A done or cancelled item is
    not open, so it gets nothing more."""
    items = (ActionItem.objects.open().filter(due_at__isnull=False)
             .select_related("owner_agency", "assignee__agency", "case", "meeting__committee"))
    api, admin = _link_bases()
    for batch in query.batches(items, "due_at"):
        dues = []
        for item in batch:
            assignee = item.assignee if item.assignee is not None and item.assignee.is_active else None
            reference = item.case.reference if item.case is not None else ""
            dues.append(Due(
                target=item,
                deadline=item.due_at,
                label=f"{reference} · {item.title}" if reference else item.title,
                recipients=query.recipients(assignee=assignee or item.owner_agency, owner_agency=item.owner_agency),
                # The title and references only: the description and the notes
                # of completion or cancellation are free text.
                context={
                    "title": item.title,
                    "reference": reference,
                    "owner_agency": item.owner_agency.name if item.owner_agency is not None else "",
                    "meeting": str(item.meeting) if item.meeting is not None else "",
                    "committee": item.meeting.committee.name if item.meeting is not None else "",
                    "api_url": f"{api}action-items/{item.pk}/",
                    "admin_url": f"{admin}committee/actionitem/{item.pk}/change/",
                },
            ))
        yield dues


@register(DeadlineKind.MEETING_START)
def meeting_start(query: DueQuery) -> Iterator[list[Due]]:
    """Scheduled meetings, due at ``starts_at``: every member of the committee
    receives the time, the place and the agenda, with the event attached. A
    cancelled (or held) meeting is not scheduled, so it gets nothing more; a
    rescheduled one has a new deadline, so it gets fresh reminders."""
    meetings = Meeting.objects.scheduled().select_related("committee")
    links = _link_bases()
    for batch in query.batches(meetings, "starts_at"):
        members = _members_of(query, batch)
        yield [_meeting_due(query, meeting, deadline=meeting.starts_at, members=members.get(meeting.committee_id, []),
                            method="PUBLISH", links=links) for meeting in batch]


@register(DeadlineKind.MEETING_CANCELLED)
def meeting_cancelled(query: DueQuery) -> Iterator[list[Due]]:
    """Cancelled meetings, "due" when they were cancelled: the members are
    told, with an event that removes the meeting from their calendars. Its
    reminders are written by the cancellation itself (``EVENT_KINDS``), which
    alone knows whether the members had been invited."""
    meetings = (Meeting.objects.filter(status=MeetingStatus.CANCELLED, cancelled_at__isnull=False)
                .select_related("committee"))
    links = _link_bases()
    for batch in query.batches(meetings, "cancelled_at"):
        members = _members_of(query, batch)
        yield [_meeting_due(query, meeting, deadline=meeting.cancelled_at,
                            members=members.get(meeting.committee_id, []),
                            method="CANCEL", links=links) for meeting in batch]


def _members_of(query: DueQuery, meetings: list[Meeting]) -> dict:
    if not query.wants(RecipientKind.COMMITTEE_MEMBERS):
        return {}
    return query.directory.committee_members({meeting.committee_id for meeting in meetings})


def _meeting_due(query: DueQuery, meeting: Meeting, *, deadline: datetime.datetime, members: list[User],
                 method: str, links: tuple[str, str]) -> Due:
    api, admin = links
    return Due(
        target=meeting,
        deadline=deadline,
        label=meeting.title,
        recipients=query.recipients(committee_members=members),
        context={
            "title": meeting.title,
            "committee": meeting.committee.name,
            "starts_at": meeting.starts_at,
            "ends_at": meeting.ends_at,
            "meeting_zone": meeting.time_zone,
            "mode": meeting.mode,
            "place": meeting.place,
            "video_link": meeting.video_link,
            "cancellation_reason": meeting.cancellation_reason,
            "api_url": f"{api}meetings/{meeting.pk}/",
            "admin_url": f"{admin}committee/meeting/{meeting.pk}/change/",
        },
        details=lambda: {"mode_label": meeting.get_mode_display(), "agenda": _agenda(meeting)},
        attachments=lambda: [(f"meeting-{meeting.local_starts_at:%Y-%m-%d}.ics",
                              meeting_calendar(meeting, method=method), "text/calendar")],
    )


def _agenda(meeting: Meeting) -> list[dict]:
    """The agenda as the email shows it: an item about a case is named by the
    case's reference alone, since its title is free text and may name people."""
    agenda = []
    for item in meeting.agenda_items.select_related("case").order_by("position"):
        reference = item.case.reference if item.case is not None else item.case_label
        agenda.append({"position": item.position, "kind": item.get_kind_display(), "reference": reference,
                       "title": "" if reference else item.title})
    return agenda


@register(DeadlineKind.DATA_REQUEST_DUE)
def data_request_due(query: DueQuery) -> Iterator[list[Due]]:
    """Open data-subject requests, due at their legal deadline: the handling
    agency is reminded. The email names the request by its reference alone:
    never the person, nor the kind of right they exercise."""
    requests = DataRequest.objects.open().select_related("handled_by_agency")
    api, admin = _link_bases()
    for batch in query.batches(requests, "due_at"):
        yield [Due(
            target=request,
            deadline=request.due_at,
            label=request.reference,
            recipients=query.recipients(handling_agency=request.handled_by_agency),
            context={
                "reference": request.reference,
                "api_url": f"{api}data-requests/{request.pk}/",
                "admin_url": f"{admin}dataprotection/datarequest/{request.pk}/change/",
            },
        ) for request in batch]
