"""Requests of the people whose data Puente holds (access, rectification,
erasure, opposition, portability, blocking), each with its legal deadline."""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .laws import Law, RequestKind


class Channel(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    EMAIL = "email", _("Email")
    LETTER = "letter", _("Letter")
    PHONE = "phone", _("Phone")
    OTHER = "other", _("Other")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("Open")
    COMPLETED = "completed", _("Completed")


class Outcome(models.TextChoices):
    GRANTED = "granted", _("Granted")
    PARTIALLY_GRANTED = "partially_granted", _("Partially granted")
    REFUSED = "refused", _("Refused")


class RefusalGround(models.TextChoices):
    """Grounds both laws accept for refusing a request in whole or in part."""

    IDENTITY_NOT_VERIFIED = "identity_not_verified", _("The requester is not the person, or could not be identified")
    NO_DATA_HELD = "no_data_held", _("No data is held on the person")
    LEGAL_OBLIGATION = "legal_obligation", _("A legal obligation requires the processing")
    PUBLIC_FUNCTION = "public_function", _("The processing is needed for a public function")
    LEGAL_CLAIMS = "legal_claims", _("The data is needed for a judicial or administrative claim")
    THIRD_PARTY_RIGHTS = "third_party_rights", _("Answering would harm the rights of others")
    NOT_APPLICABLE = "not_applicable", _("The right does not apply to this processing")


class ErasureException(models.TextChoices):
    """Why a granted erasure left the person's data in place."""

    OPEN_CASE = "open_case", _("A case of the person is still open (ongoing procedure)")
    LEGAL_OBLIGATION = "legal_obligation", _("A legal obligation requires keeping the data")
    PUBLIC_FUNCTION = "public_function", _("The data is needed for a public function")
    LEGAL_CLAIMS = "legal_claims", _("The data is needed for a judicial or administrative claim")


class DataRequestQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=RequestStatus.OPEN)

    def overdue(self, now):
        return self.open().filter(due_at__lt=now)

    def not_overdue(self, now):
        return self.exclude(status=RequestStatus.OPEN, due_at__lt=now)

    def restricting(self):
        """Requests whose restriction of the person's processing is in force."""
        return self.filter(restriction_started_at__isnull=False, restriction_lifted_at__isnull=True)


class DataRequest(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The only thing emails and the reminder log name: never the person.
    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    person = models.ForeignKey("cases.Person", on_delete=models.PROTECT, related_name="data_requests",
                               verbose_name=_("person"))
    kind = models.CharField(_("right"), max_length=20, choices=RequestKind.choices)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    requester_note = models.TextField(_("requester note"), blank=True)
    received_at = models.DateTimeField(_("received at"))
    law = models.CharField(_("law"), max_length=10, choices=Law.choices)
    due_at = models.DateTimeField(_("due at"))
    handled_by_agency = models.ForeignKey("cases.Agency", on_delete=models.PROTECT, related_name="+",
                                          verbose_name=_("handling agency"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+",
                                   verbose_name=_("recorded by"))
    status = models.CharField(_("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.OPEN)

    original_due_at = models.DateTimeField(_("original due at"), null=True, blank=True)
    extended_at = models.DateTimeField(_("extended at"), null=True, blank=True)
    extension_reason = models.TextField(_("extension reason"), blank=True)

    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("completed by"))
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    refusal_ground = models.CharField(_("legal ground of the refusal"), max_length=30,
                                      choices=RefusalGround.choices, blank=True)
    outcome_note = models.TextField(_("outcome note"), blank=True)

    # Opposition: from receipt until answered. Blocking: from its grant until
    # the rectification, erasure or opposition it accompanies is answered.
    restriction_started_at = models.DateTimeField(_("processing restricted since"), null=True, blank=True)
    restriction_lifted_at = models.DateTimeField(_("restriction lifted at"), null=True, blank=True)

    erasure_exception = models.CharField(_("erasure exception"), max_length=30, choices=ErasureException.choices,
                                         blank=True)
    erasure_exception_note = models.TextField(_("erasure exception note"), blank=True)
    anonymised_at = models.DateTimeField(_("person anonymised at"), null=True, blank=True)

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = DataRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["handled_by_agency", "due_at", "id"], name="datarequest_agency_due_idx"),
            models.Index(fields=["status", "due_at"], name="datarequest_status_due_idx"),
            models.Index(fields=["person"], condition=Q(restriction_started_at__isnull=False,
                                                        restriction_lifted_at__isnull=True),
                         name="datarequest_restricting_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", outcome="") | Q(status="completed") & ~Q(outcome=""),
                name="datarequest_outcome_iff_completed"),
            models.CheckConstraint(
                condition=~Q(outcome="refused") | ~Q(refusal_ground=""),
                name="datarequest_refusal_has_ground"),
        ]

    def __str__(self):
        return self.reference

    @property
    def extended(self) -> bool:
        return self.extended_at is not None

    @property
    def restricts_processing(self) -> bool:
        return self.restriction_started_at is not None and self.restriction_lifted_at is None
