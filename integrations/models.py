"""Partner integration: webhook endpoints of an agency and the deliveries of
outbox events to them, with every attempt recorded."""
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

PING_TYPE = "webhook.ping"


class DisabledReason(models.TextChoices):
    GONE = "gone", _("The receiver answered 410 Gone")
    FAILING = "failing", _("Too many consecutive failed deliveries")


class WebhookEndpointQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def of_agency(self, agency_id):
        return self.filter(agency_id=agency_id)


class WebhookEndpoint(models.Model):
    """Where an agency wants to be told about events. The signing secret is kept
    in clear because signing needs it; it is shown to the agency only once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agency = models.ForeignKey("cases.Agency", on_delete=models.CASCADE, related_name="webhook_endpoints",
                               verbose_name=_("agency"))
    url = models.URLField(_("URL"), max_length=2000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # Empty: every type.
    event_types = models.JSONField(_("event types"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("disabled because"), max_length=20, choices=DisabledReason.choices,
                                       blank=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(_("previous secret valid until"), null=True, blank=True,
                                                      editable=False)
    # Feed position up to which events have been turned into deliveries.
    feed_position = models.BigIntegerField(_("feed position"), default=0, editable=False)
    # Deliveries that ran out of retries in a row; any success resets it.
    consecutive_failures = models.PositiveIntegerField(_("consecutive failed deliveries"), default=0,
                                                       editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = WebhookEndpointQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["agency", "-created_at"], name="webhook_agency_idx")]

    def __str__(self):
        return self.url

    def signing_secrets(self, now=None) -> list[str]:
        """The secrets to sign with: the current one, and the previous one
        while its grace period after a rotation lasts."""
        now = now or timezone.now()
        secrets = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and self.previous_secret_expires_at > now:
            secrets.append(self.previous_secret)
        return secrets

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class WebhookDeliveryQuerySet(models.QuerySet):
    def due(self, now):
        return self.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)

    def stalled(self, now, lease):
        """Claimed by a worker that has not reported back within the lease: it died."""
        return self.filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - lease)


class WebhookDelivery(models.Model):
    """One event (or ping) for one endpoint. The unique (endpoint, event) row
    and the conditional claim on ``status`` make sure an event is delivered
    successfully at most once per endpoint, however many workers run."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries",
                                 verbose_name=_("endpoint"))
    event = models.ForeignKey("outbox.Event", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                              verbose_name=_("event"))
    event_type = models.CharField(_("event type"), max_length=50)
    message_id = models.CharField(_("message id"), max_length=64)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempt_count = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    # When a dispatcher last put it on the queue; a lost message is queued again later.
    queued_at = models.DateTimeField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    claim = models.UUIDField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="one_delivery_per_event_and_endpoint"),
        ]
        indexes = [
            models.Index(fields=["endpoint", "-created_at", "-id"], name="delivery_endpoint_idx"),
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"),
                         name="delivery_due_idx"),
        ]

    def __str__(self):
        return f"{self.event_type} → {self.endpoint_id}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery: when, the answer's status, or the error."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts",
                                 verbose_name=_("delivery"))
    attempted_at = models.DateTimeField(_("attempted at"), default=timezone.now)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    succeeded = models.BooleanField(_("succeeded"), default=False)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["attempted_at", "id"]

    def __str__(self):
        return f"{self.attempted_at:%Y-%m-%d %H:%M:%S} {self.response_status or self.error}"
