"""The committee's work: committees and their members, meetings, agendas,
decisions, action items, attendance and calendar feeds."""
import uuid
import zoneinfo

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import validate_time_zone


class Delegation(models.TextChoices):
    PERU = "PE", _("Peru")
    CHILE = "CL", _("Chile")
    INTERNATIONAL = "INT", _("International organisations")


class MembershipRole(models.TextChoices):
    CHAIR = "chair", _("Chair")
    SECRETARY = "secretary", _("Secretary")
    MEMBER = "member", _("Member")
    OBSERVER = "observer", _("Observer")


# Delegates who speak for their delegation; the secretary keeps the record and
# observers follow, so neither makes a quorum.
QUORUM_ROLES = (MembershipRole.CHAIR, MembershipRole.MEMBER)


class Committee(models.Model):
    """The binational committee, or one of its working groups (``parent`` set)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="working_groups",
                               verbose_name=_("working group of"))
    # The quorum rule: how many voting members of each delegation must be present.
    quorum_pe = models.PositiveSmallIntegerField(_("quorum: present from Peru"), default=1)
    quorum_cl = models.PositiveSmallIntegerField(_("quorum: present from Chile"), default=1)
    quorum_int = models.PositiveSmallIntegerField(_("quorum: present from international organisations"), default=0)
    active = models.BooleanField(_("active"), default=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="committees")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("committee")
        verbose_name_plural = _("committees")
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    @property
    def quorum_rule(self) -> dict[str, int]:
        return {Delegation.PERU.value: self.quorum_pe, Delegation.CHILE.value: self.quorum_cl,
                Delegation.INTERNATIONAL.value: self.quorum_int}


class Membership(models.Model):
    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="memberships",
                                  verbose_name=_("committee"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="committee_memberships",
                             verbose_name=_("user"))
    role = models.CharField(_("role"), max_length=10, choices=MembershipRole.choices, default=MembershipRole.MEMBER)
    delegation = models.CharField(_("delegation"), max_length=3, choices=Delegation.choices)
    created_at = models.DateTimeField(_("member since"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["delegation", "role", "id"]
        constraints = [models.UniqueConstraint(
            fields=["committee", "user"], name="membership_once",
            violation_error_message=_("This person is already a member of the committee."))]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} ({self.delegation})"


class MeetingMode(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    ONLINE = "online", _("Online")
    HYBRID = "hybrid", _("Hybrid")


class MeetingStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


class MinutesStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CIRCULATED = "circulated", _("Circulated")
    APPROVED = "approved", _("Approved")


# What members see: a draft meeting is still the secretariat's working copy.
PUBLISHED_STATUSES = (MeetingStatus.SCHEDULED, MeetingStatus.HELD, MeetingStatus.CANCELLED)


class MeetingQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status__in=PUBLISHED_STATUSES)

    def scheduled(self):
        return self.filter(status=MeetingStatus.SCHEDULED)


class Meeting(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="meetings",
                                  verbose_name=_("committee"))
    title = models.CharField(_("title"), max_length=200)
    # Stored in UTC like every datetime; ``time_zone`` says how to show them
    # (and which VTIMEZONE the calendar carries).
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    time_zone = models.CharField(_("time zone"), max_length=64, default="America/Lima",
                                 validators=[validate_time_zone],
                                 help_text=_("IANA zone of the place, e.g. America/Lima or America/Santiago."))
    mode = models.CharField(_("mode"), max_length=10, choices=MeetingMode.choices, default=MeetingMode.IN_PERSON)
    place = models.CharField(_("place"), max_length=300, blank=True)
    video_link = models.URLField(_("video link"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.DRAFT)
    # RFC 5545 SEQUENCE: grows on every reschedule and on cancellation, so
    # calendar apps replace their copy instead of keeping the old time.
    sequence = models.PositiveIntegerField(_("calendar sequence"), default=0, editable=False)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True, editable=False)
    cancellation_reason = models.TextField(_("cancellation reason"), blank=True, editable=False)
    minutes = models.TextField(_("minutes"), blank=True)
    minutes_status = models.CharField(_("minutes status"), max_length=10, choices=MinutesStatus.choices,
                                      default=MinutesStatus.DRAFT, editable=False)
    minutes_circulated_at = models.DateTimeField(_("minutes circulated at"), null=True, blank=True, editable=False)
    minutes_approved_at = models.DateTimeField(_("minutes approved at"), null=True, blank=True, editable=False)
    minutes_approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                            blank=True, related_name="+", editable=False,
                                            verbose_name=_("minutes approved by"))
    # Grows with every change to the meeting or its agenda, attendance and
    # decisions: the ETag that If-Match is compared with.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+", editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["committee", "status", "starts_at"], name="meeting_committee_idx")]
        constraints = [
            # Each constraint says in words what it asks (a form shows the message, never the name).
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="meeting_ends_after_start",
                                   violation_error_message=_("The meeting must end after it starts.")),
            models.CheckConstraint(
                condition=~Q(minutes_status="approved") | Q(minutes_approved_at__isnull=False),
                name="meeting_approved_minutes_dated",
                violation_error_message=_("Approved minutes need the date of their approval."),
            ),
        ]

    def __str__(self):
        return f"{self.title} ({timezone.localtime(self.starts_at, self.zone):%Y-%m-%d})"

    @property
    def zone(self):
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def local_starts_at(self):
        return timezone.localtime(self.starts_at, self.zone)

    @property
    def local_ends_at(self):
        return timezone.localtime(self.ends_at, self.zone)

    @property
    def minutes_locked(self) -> bool:
        return self.minutes_status == MinutesStatus.APPROVED


class AgendaItemKind(models.TextChoices):
    INFORMATION = "information", _("Information")
    DISCUSSION = "discussion", _("Discussion")
    DECISION = "decision", _("Decision")
    CASE_REVIEW = "case_review", _("Case review")
    MINUTES_APPROVAL = "minutes_approval", _("Approval of minutes")


class AgendaItemStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DISCUSSED = "discussed", _("Discussed")
    DEFERRED = "deferred", _("Deferred")


class AgendaItem(models.Model):
    """One point of a meeting's agenda. Links to a case, a handoff or an action
    item are SET_NULL with a saved label, so that deleting never breaks an
    agenda; a case appears by its reference only, never with personal data."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items",
                                verbose_name=_("meeting"))
    # 1..n without gaps, kept so by the services under the meeting's row lock.
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=20, choices=AgendaItemKind.choices,
                            default=AgendaItemKind.DISCUSSION)
    title = models.CharField(_("title"), max_length=300)
    notes = models.TextField(_("notes"), blank=True)
    planned_minutes = models.PositiveSmallIntegerField(_("planned minutes"), null=True, blank=True)
    case = models.ForeignKey("cases.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                             verbose_name=_("case"))
    case_label = models.CharField(_("case reference"), max_length=20, blank=True)
    handoff = models.ForeignKey("cases.Handoff", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("handoff"))
    handoff_label = models.CharField(_("handoff"), max_length=200, blank=True)
    action_item = models.ForeignKey("ActionItem", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("action item"))
    action_item_label = models.CharField(_("action item"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=AgendaItemStatus.choices,
                              default=AgendaItemStatus.PENDING)
    deferred_from = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="carried_to", verbose_name=_("carried over from"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["meeting", "position"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "position"], name="agenda_position_once",
                                    violation_error_message=_("Two agenda items cannot share a number.")),
            models.CheckConstraint(condition=Q(position__gte=1), name="agenda_position_from_one",
                                   violation_error_message=_("Agenda items are numbered from 1.")),
        ]

    def __str__(self):
        return f"{self.position}. {self.title}"


class DelegationPosition(models.TextChoices):
    IN_FAVOUR = "in_favour", _("In favour")
    AGAINST = "against", _("Against")
    ABSTAINED = "abstained", _("Abstained")
    RESERVED = "reserved", _("Reserved its position")


class DecisionOutcome(models.TextChoices):
    ADOPTED = "adopted", _("Adopted")
    REJECTED = "rejected", _("Rejected")
    NOTED = "noted", _("Noted")


class Decision(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # PROTECT: a recorded decision outlives any attempt to tidy the agenda.
    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.PROTECT, related_name="decisions",
                                    verbose_name=_("agenda item"))
    text = models.TextField(_("text"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=DecisionOutcome.choices)
    position_pe = models.CharField(_("position of Peru"), max_length=10, choices=DelegationPosition.choices,
                                   blank=True)
    position_cl = models.CharField(_("position of Chile"), max_length=10, choices=DelegationPosition.choices,
                                   blank=True)
    position_int = models.CharField(_("position of international organisations"), max_length=10,
                                    choices=DelegationPosition.choices, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                    related_name="+", editable=False)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.get_outcome_display()}: {self.text[:60]}"

    @property
    def positions(self) -> dict[str, str]:
        return {Delegation.PERU.value: self.position_pe, Delegation.CHILE.value: self.position_cl,
                Delegation.INTERNATIONAL.value: self.position_int}


POSITION_FIELDS = {Delegation.PERU.value: "position_pe", Delegation.CHILE.value: "position_cl",
                   Delegation.INTERNATIONAL.value: "position_int"}


class ActionItemStatus(models.TextChoices):
    OPEN = "open", _("To do")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class ActionItemQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=ActionItemStatus.OPEN)

    def overdue(self, now=None):
        return self.open().filter(due_at__lt=now or timezone.now())


class ActionItem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    owner_agency = models.ForeignKey("cases.Agency", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="committee_action_items", verbose_name=_("owner agency"))
    # PROTECT: an item owned only by its assignee must never lose its owner;
    # people leave by being deactivated.
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="committee_action_items", verbose_name=_("assignee"))
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ActionItemStatus.choices,
                              default=ActionItemStatus.OPEN)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True, editable=False)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", editable=False, verbose_name=_("completed by"))
    completion_note = models.TextField(_("completion note"), blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True, editable=False)
    cancellation_reason = models.TextField(_("cancellation reason"), blank=True)
    meeting = models.ForeignKey(Meeting, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="action_items", verbose_name=_("meeting"))
    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="action_items", verbose_name=_("agenda item"))
    decision = models.ForeignKey(Decision, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="action_items", verbose_name=_("decision"))
    case = models.ForeignKey("cases.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                             verbose_name=_("case"))
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+", editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ActionItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner_agency", "status", "due_at"], name="action_owner_idx"),
            models.Index(fields=["status", "due_at"], name="action_due_idx"),
            models.Index(fields=["-created_at", "-id"], name="action_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(owner_agency__isnull=False) | Q(assignee__isnull=False),
                                   name="action_item_has_owner",
                                   violation_error_message=_("Give the action item an owner agency or an assignee.")),
            models.CheckConstraint(
                condition=Q(status="done", completed_at__isnull=False) | (~Q(status="done") & Q(completed_at=None)),
                name="action_item_completed_iff_done",
                violation_error_message=_("An action item is done exactly when its completion is dated."),
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_overdue(self) -> bool:
        return self.status == ActionItemStatus.OPEN and self.due_at is not None and self.due_at < timezone.now()


class AttendanceStatus(models.TextChoices):
    INVITED = "invited", _("Invited")
    CONFIRMED = "confirmed", _("Confirmed")
    PRESENT = "present", _("Present")
    EXCUSED = "excused", _("Excused")
    ABSENT = "absent", _("Absent")


class Attendance(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendances",
                                verbose_name=_("meeting"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("participant"))
    delegation = models.CharField(_("delegation"), max_length=3, choices=Delegation.choices)
    status = models.CharField(_("status"), max_length=10, choices=AttendanceStatus.choices,
                              default=AttendanceStatus.INVITED)
    # Copied from the membership when recorded: a later change of role must
    # not change the quorum of a meeting already held.
    counts_for_quorum = models.BooleanField(_("counts for quorum"), default=False, editable=False)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["delegation", "id"]
        constraints = [models.UniqueConstraint(
            fields=["meeting", "user"], name="attendance_once",
            violation_error_message=_("This person is already on the attendance list."))]

    def __str__(self):
        return f"{self.user} · {self.get_status_display()}"


class CalendarFeedQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class CalendarFeed(models.Model):
    """A user's secret calendar address for one committee. Calendar apps cannot
    send a Bearer header, so the secret in the URL is the credential: only its
    digest is stored, it is shown once, and it can be revoked."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds",
                             verbose_name=_("user"))
    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="calendar_feeds",
                                  verbose_name=_("committee"))
    prefix = models.CharField(_("prefix"), max_length=12, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    objects = CalendarFeedQuerySet.as_manager()

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.prefix}… ({self.user} · {self.committee})"
