"""A case passed from one agency to another: a transfer or a referral."""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .accounts import Country


class HandoffKind(models.TextChoices):
    TRANSFER = "transfer", _("Transfer")
    REFERRAL = "referral", _("Referral")


class HandoffStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    COMPLETED = "completed", _("Completed")


class RejectionReason(models.TextChoices):
    NO_CAPACITY = "no_capacity", _("No capacity")
    OUT_OF_MANDATE = "out_of_mandate", _("Out of mandate")
    INSUFFICIENT_INFORMATION = "insufficient_information", _("Insufficient information")
    PERSON_NOT_LOCATED = "person_not_located", _("Person not located")
    DUPLICATE = "duplicate", _("Duplicate")
    OTHER = "other", _("Other")


class LegalBasis(models.TextChoices):
    CONSENT = "consent", _("Consent")
    VITAL_INTEREST = "vital_interest", _("Vital interest")
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation")
    COOPERATION_AGREEMENT = "cooperation_agreement", _("Cooperation agreement")


def crosses_border(from_country: str, to_country: str) -> bool:
    """Data leaves one national jurisdiction for another. An international
    organisation answers to neither country's law, so a handoff to, from or
    between such organisations counts as crossing a border too."""
    return from_country != to_country or Country.INTERNATIONAL in (from_country, to_country)


# The same rule as ``crosses_border``, as a filter on handoffs.
CROSS_BORDER = (
    ~Q(from_agency__country=models.F("to_agency__country"))
    | Q(from_agency__country=Country.INTERNATIONAL)
    | Q(to_agency__country=Country.INTERNATIONAL)
)


class HandoffQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=HandoffStatus.PENDING)

    def overdue(self, now=None):
        return self.pending().filter(response_due__lt=now or timezone.now())

    def not_overdue(self, now=None):
        return self.exclude(status=HandoffStatus.PENDING, response_due__lt=now or timezone.now())

    def involving(self, agency):
        return self.filter(Q(from_agency=agency) | Q(to_agency=agency))

    def cross_border(self):
        return self.filter(CROSS_BORDER)

    def domestic(self):
        return self.exclude(CROSS_BORDER)

    def overdue_not_yet_announced(self, now=None):
        """Overdue handoffs whose current deadline has no ``handoff.overdue``
        event yet (a moved deadline counts as new)."""
        return self.overdue(now).exclude(overdue_emitted_for=models.F("response_due"))


class Handoff(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=HandoffKind.choices)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="handoffs")
    # Snapshotted at creation: the case's owner may change later.
    from_agency = models.ForeignKey("cases.Agency", on_delete=models.PROTECT, related_name="outgoing_handoffs",
                                    verbose_name=_("from agency"))
    to_agency = models.ForeignKey("cases.Agency", on_delete=models.PROTECT, related_name="incoming_handoffs",
                                  verbose_name=_("to agency"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                     related_name="+", verbose_name=_("requested by"))
    reason = models.TextField(_("reason"))
    services_requested = models.TextField(_("services requested"), blank=True)
    response_due = models.DateTimeField(_("response due"))
    status = models.CharField(_("status"), max_length=10, choices=HandoffStatus.choices,
                              default=HandoffStatus.PENDING)
    legal_basis = models.CharField(_("legal basis"), max_length=30, choices=LegalBasis.choices, blank=True)
    legal_basis_note = models.TextField(_("legal basis justification"), blank=True)
    responded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("responded by"))
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    response_note = models.TextField(_("response note"), blank=True)
    rejection_reason = models.CharField(_("rejection reason"), max_length=30, choices=RejectionReason.choices,
                                        blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("completed by"))
    completion_note = models.TextField(_("completion note"), blank=True)
    # The deadline for which ``handoff.overdue`` was emitted: a moved deadline
    # that passes again gets its own event, a repeated sweep none.
    overdue_emitted_for = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = HandoffQuerySet.as_manager()

    class Meta:
        verbose_name = _("handoff")
        verbose_name_plural = _("handoffs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(kind="transfer", status="pending"),
                name="one_pending_transfer_per_case",
            ),
            models.CheckConstraint(condition=~Q(from_agency=models.F("to_agency")), name="handoff_between_agencies"),
        ]
        indexes = [
            # In the order of the lists (newest first, the id last), so a page is read off the index.
            models.Index(fields=["to_agency", "status", "-created_at", "-id"], name="handoff_incoming_idx"),
            models.Index(fields=["from_agency", "status", "-created_at", "-id"], name="handoff_outgoing_idx"),
            models.Index(fields=["to_agency", "status", "response_due", "id"], name="handoff_incoming_due_idx"),
            models.Index(fields=["status", "response_due"], name="handoff_due_idx"),
            models.Index(fields=["updated_at", "id"], name="handoff_updated_idx"),
        ]

    def __str__(self):
        # Reads as "Traspaso BC-2026-000123 → cl-sermig" wherever a handoff is named.
        return f"{self.get_kind_display()} {self.case.reference} → {self.to_agency.code}"

    @property
    def is_overdue(self) -> bool:
        return self.status == HandoffStatus.PENDING and self.response_due < timezone.now()

    @property
    def is_cross_border(self) -> bool:
        return crosses_border(self.from_agency.country, self.to_agency.country)
