"""Reminder rules (data the secretariat edits) and the log of every reminder
written, one row per (rule, target, deadline, recipient)."""
import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DeadlineKind(models.TextChoices):
    HANDOFF_RESPONSE_DUE = "handoff_response_due", _("Handoff response due")
    ACTION_ITEM_DUE = "action_item_due", _("Action item due")
    MEETING_START = "meeting_start", _("Meeting start")
    MEETING_CANCELLED = "meeting_cancelled", _("Meeting cancelled")


# Notices of something that happened rather than of a deadline to come: they
# are written when it happens, in its transaction (``reminders.receivers``
# answers the signal of the app where it happens), and go out at once (a rule
# for them fires "at" the event, never before or after).
EVENT_KINDS = {DeadlineKind.MEETING_CANCELLED}


class Timing(models.TextChoices):
    BEFORE = "before", _("before the deadline")
    AT = "at", _("at the deadline")
    AFTER = "after", _("after the deadline")


class RecipientKind(models.TextChoices):
    RECEIVING_AGENCY = "receiving_agency", _("Receiving agency")
    SENDING_AGENCY = "sending_agency", _("Sending agency")
    ASSIGNEE = "assignee", _("Assignee")
    OWNER_AGENCY = "owner_agency", _("Owner agency")
    COMMITTEE_MEMBERS = "committee_members", _("Committee members")
    SECRETARIAT = "secretariat", _("Committee secretariat")


# Who can be told about which deadline.
RECIPIENTS_BY_DEADLINE = {
    DeadlineKind.HANDOFF_RESPONSE_DUE: {
        RecipientKind.RECEIVING_AGENCY, RecipientKind.SENDING_AGENCY, RecipientKind.SECRETARIAT,
    },
    DeadlineKind.ACTION_ITEM_DUE: {
        RecipientKind.ASSIGNEE, RecipientKind.OWNER_AGENCY, RecipientKind.SECRETARIAT,
    },
    DeadlineKind.MEETING_START: {RecipientKind.COMMITTEE_MEMBERS, RecipientKind.SECRETARIAT},
    DeadlineKind.MEETING_CANCELLED: {RecipientKind.COMMITTEE_MEMBERS, RecipientKind.SECRETARIAT},
}


class ReminderRuleQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class ReminderRule(models.Model):
    deadline_kind = models.CharField(_("deadline"), max_length=30, choices=DeadlineKind.choices)
    timing = models.CharField(_("when"), max_length=6, choices=Timing.choices)
    offset = models.DurationField(
        _("offset"), default=datetime.timedelta(0),
        help_text=_("How long before or after the deadline (24:00:00 = 24 hours)."),
    )
    recipients = models.CharField(_("recipients"), max_length=20, choices=RecipientKind.choices)
    active = models.BooleanField(_("active"), default=True, help_text=_("Untick to pause the rule."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ReminderRuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("reminder rule")
        verbose_name_plural = _("reminder rules")
        ordering = ["deadline_kind", "timing", "offset", "recipients"]
        constraints = [
            models.UniqueConstraint(fields=["deadline_kind", "timing", "offset", "recipients"],
                                    name="one_rule_per_deadline_moment_recipients"),
            models.CheckConstraint(
                condition=(Q(timing=Timing.AT, offset=datetime.timedelta(0))
                           | (~Q(timing=Timing.AT) & Q(offset__gt=datetime.timedelta(0)))),
                name="reminder_rule_offset_matches_timing",
                violation_error_message=_("Use an offset of 0 at the deadline and more than 0 before or after it."),
            ),
        ]

    def __str__(self):
        if self.timing == Timing.AT:
            moment = Timing.AT.label
        else:
            moment = f"{_format_offset(self.offset)} {self.get_timing_display()}"
        return f"{self.get_deadline_kind_display()} · {moment} · {self.get_recipients_display()}"

    def clean(self):
        allowed = RECIPIENTS_BY_DEADLINE.get(self.deadline_kind, set())
        if self.deadline_kind and self.recipients and self.recipients not in allowed:
            raise ValidationError({"recipients": _("These recipients do not apply to this deadline.")},
                                  code="recipients_not_applicable")
        if self.deadline_kind in EVENT_KINDS and self.timing and self.timing != Timing.AT:
            raise ValidationError({"timing": _("A notice of this kind goes out when it happens.")},
                                  code="notice_only_at")

    @property
    def delta(self) -> datetime.timedelta:
        """When the rule fires, relative to the deadline (negative: before)."""
        return -self.offset if self.timing == Timing.BEFORE else self.offset


def _format_offset(offset: datetime.timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    if minutes % 60:
        return f"{minutes} min"
    return f"{minutes // 60} h"


class ReminderStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class ReminderQuerySet(models.QuerySet):
    def claimable(self, now):
        """Rows a worker may take: waiting, or taken by a worker whose claim ran out."""
        return self.filter(Q(status=ReminderStatus.PENDING)
                           | Q(status=ReminderStatus.SENDING, claimed_until__lt=now))

    def stranded(self, now, grace):
        """Claimable rows whose message should have been taken ``grace`` ago."""
        return self.claimable(now).filter(next_attempt_at__lt=now - grace)


class Reminder(models.Model):
    # No index of its own: the unique constraint's index starts with it.
    rule = models.ForeignKey(ReminderRule, on_delete=models.PROTECT, related_name="reminders",
                             verbose_name=_("rule"), db_index=False)
    # Copied from the rule: the row must keep meaning the same thing.
    deadline_kind = models.CharField(_("deadline"), max_length=30, choices=DeadlineKind.choices)
    # The target's primary key as text (UUIDs as 32 hex digits), whatever its model.
    target_id = models.CharField(_("target"), max_length=64)
    # What the target is called in the log: a case reference or a meeting
    # title, never a person's name.
    target_label = models.CharField(_("about"), max_length=200, blank=True)
    deadline = models.DateTimeField(_("deadline value"))
    due_at = models.DateTimeField(_("due at"), help_text=_("When the rule fired for this deadline."))
    # "agency:<id>" or "user:<id>": the recipient's identity in the unique constraint.
    recipient_key = models.CharField(_("recipient key"), max_length=40)
    recipient_agency = models.ForeignKey("cases.Agency", on_delete=models.SET_NULL, null=True, blank=True,
                                         related_name="+", verbose_name=_("recipient agency"))
    recipient_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                       related_name="+", verbose_name=_("recipient user"))
    email = models.EmailField(_("email address"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ReminderStatus.choices,
                              default=ReminderStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["-created_at", "-id"]
        constraints = [
            # Deadline second: the sweep looks up what a rule already wrote by deadline range.
            models.UniqueConstraint(fields=["rule", "deadline", "target_id", "recipient_key"],
                                    name="one_reminder_per_rule_deadline_target_recipient"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="reminder_queue_idx"),
            models.Index(fields=["-created_at", "-id"], name="reminder_log_idx"),
        ]

    def __str__(self):
        return f"{self.rule} → {self.email or self.recipient_key} ({self.target_label or self.target_id})"
