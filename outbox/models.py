"""The outbox: domain events written in the transaction of the change they
describe, read by the change feed and the webhooks (``integrations``)."""
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    """Every event the outbox accepts; partners subscribe to these (the feed carries them all)."""

    CASE_CREATED = "case.created", _("Case created")
    CASE_UPDATED = "case.updated", _("Case updated")
    CASE_CLOSED = "case.closed", _("Case closed")
    HANDOFF_CREATED = "handoff.created", _("Handoff created")
    HANDOFF_ACCEPTED = "handoff.accepted", _("Handoff accepted")
    HANDOFF_REJECTED = "handoff.rejected", _("Handoff rejected")
    HANDOFF_WITHDRAWN = "handoff.withdrawn", _("Handoff withdrawn")
    HANDOFF_COMPLETED = "handoff.completed", _("Handoff completed")
    HANDOFF_RESCHEDULED = "handoff.rescheduled", _("Handoff rescheduled")
    HANDOFF_OVERDUE = "handoff.overdue", _("Handoff overdue")
    ACTION_ITEM_ASSIGNED = "action_item.assigned", _("Action item assigned")
    ACTION_ITEM_COMPLETED = "action_item.completed", _("Action item completed")
    MEETING_SCHEDULED = "meeting.scheduled", _("Meeting scheduled")
    MEETING_CANCELLED = "meeting.cancelled", _("Meeting cancelled")


class Event(models.Model):
    """One domain event. Thin: types and ids, never personal data.

    ``position`` is the event's place in the change feed. It is not the id:
    ids are handed out at insert but become visible at commit, out of order.
    A single sequencer numbers events once they are committed
    (``outbox.sequencer.sequence_events``), so positions only ever grow in
    the order readers can see them.

    The case and the agencies are foreign keys by name: the outbox stores who
    an event concerns without importing the apps that emit it. The table keeps
    the name it had when the model lived in ``cases``."""

    type = models.CharField(_("type"), max_length=50)
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now)
    object_type = models.CharField(_("object type"), max_length=30)
    object_id = models.CharField(_("object id"), max_length=64)
    case = models.ForeignKey("cases.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    case_reference = models.CharField(_("case reference"), max_length=20, blank=True)
    # The agencies entitled to see the event (owner, sender, receiver…).
    agencies = models.ManyToManyField("cases.Agency", related_name="+", blank=True)
    position = models.BigIntegerField(_("feed position"), null=True, blank=True, unique=True, editable=False)

    class Meta:
        db_table = "cases_event"
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["id"], condition=models.Q(position__isnull=True), name="event_unsequenced_idx"),
        ]

    def __str__(self):
        return f"{self.type} {self.object_type}:{self.object_id}"
