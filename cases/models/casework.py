"""People, cases, members, consents and notes."""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class DocumentType(models.TextChoices):
    PASSPORT = "passport", _("Passport")
    NATIONAL_ID = "national_id", _("National identity card")
    RESIDENCE_PERMIT = "residence_permit", _("Residence permit")
    REFUGEE_ID = "refugee_id", _("Refugee identity document")
    BIRTH_CERTIFICATE = "birth_certificate", _("Birth certificate")
    OTHER = "other", _("Other document")
    NONE = "none", _("No document")


class PersonQuerySet(models.QuerySet):
    def with_document(self, document_type: str, document_country: str, document_number: str):
        return self.filter(
            document_type=document_type,
            document_country=document_country,
            document_number_normalised=normalise_document_number(document_number),
        ).exclude(document_type=DocumentType.NONE)


def normalise_document_number(number: str) -> str:
    """Documents are typed by hand at a border post: compare them without
    spaces, dashes, dots or case."""
    return "".join(ch for ch in (number or "").upper() if ch.isalnum())


class Person(models.Model):
    """A migrant. Never deleted through the API; anonymised by retention."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    given_names = models.CharField(_("given names"), max_length=200)
    family_names = models.CharField(_("family names"), max_length=200, blank=True)
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    date_of_birth_is_estimate = models.BooleanField(_("date of birth is an estimate"), default=False)
    nationality = CountryField(_("nationality"), blank=True)
    document_type = models.CharField(_("document type"), max_length=20, choices=DocumentType.choices,
                                     default=DocumentType.NONE)
    document_country = CountryField(_("document issuing country"), blank=True)
    document_number = models.CharField(_("document number"), max_length=50, blank=True)
    document_number_normalised = models.CharField(max_length=50, blank=True, editable=False)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    created_by_agency = models.ForeignKey("cases.Agency", on_delete=models.PROTECT, related_name="+",
                                          verbose_name=_("registered by agency"))
    version = models.PositiveIntegerField(default=1, editable=False)
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        indexes = [
            models.Index(fields=["document_type", "document_country", "document_number_normalised"],
                         name="person_document_idx"),
            models.Index(fields=["family_names", "given_names"], name="person_names_idx"),
        ]

    def __str__(self):
        return f"{self.given_names} {self.family_names}".strip()

    def save(self, *args, **kwargs):
        self.document_number_normalised = normalise_document_number(self.document_number)
        super().save(*args, **kwargs)


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class ClosureReason(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    DUPLICATE = "duplicate", _("Duplicate")
    NO_CONTACT = "no_contact", _("No contact")
    LEFT_REGION = "left_region", _("Left the region")
    OTHER = "other", _("Other")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class BorderPoint(models.TextChoices):
    CHACALLUTA_SANTA_ROSA = "chacalluta_santa_rosa", _("Chacalluta–Santa Rosa")
    TACNA_CITY = "tacna_city", _("Tacna city")
    ARICA_CITY = "arica_city", _("Arica city")
    OTHER = "other", _("Other")


class Vulnerability(models.TextChoices):
    UNACCOMPANIED_MINOR = "unaccompanied_minor", _("Unaccompanied minor")
    FAMILY_WITH_CHILDREN = "family_with_children", _("Family with children")
    PREGNANCY = "pregnancy", _("Pregnancy")
    DISABILITY = "disability", _("Disability")
    MEDICAL_NEED = "medical_need", _("Medical need")
    ELDERLY = "elderly", _("Elderly")
    ASYLUM_SEEKER = "asylum_seeker", _("Asylum seeker")
    TRAFFICKING_RISK = "trafficking_risk", _("Trafficking risk")
    GBV_RISK = "gbv_risk", _("Gender-based violence risk")


# Each flag is a boolean column ``vulnerable_<flag>``: filterable and indexable on
# every database, unlike membership tests inside a JSON list.
VULNERABILITIES = tuple(Vulnerability.values)


def vulnerability_field(flag: str) -> str:
    return f"vulnerable_{flag}"


class CaseQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=CaseStatus.OPEN)

    def with_vulnerability(self, flag: str):
        return self.filter(**{vulnerability_field(flag): True})


class Case(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    summary = models.TextField(_("summary"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    closure_reason = models.CharField(_("closure reason"), max_length=20, choices=ClosureReason.choices, blank=True)
    closure_note = models.TextField(_("closure note"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    border_point = models.CharField(_("border point"), max_length=30, choices=BorderPoint.choices,
                                    default=BorderPoint.OTHER)
    vulnerable_unaccompanied_minor = models.BooleanField(_("unaccompanied minor"), default=False)
    vulnerable_family_with_children = models.BooleanField(_("family with children"), default=False)
    vulnerable_pregnancy = models.BooleanField(_("pregnancy"), default=False)
    vulnerable_disability = models.BooleanField(_("disability"), default=False)
    vulnerable_medical_need = models.BooleanField(_("medical need"), default=False)
    vulnerable_elderly = models.BooleanField(_("elderly"), default=False)
    vulnerable_asylum_seeker = models.BooleanField(_("asylum seeker"), default=False)
    vulnerable_trafficking_risk = models.BooleanField(_("trafficking risk"), default=False)
    vulnerable_gbv_risk = models.BooleanField(_("gender-based violence risk"), default=False)
    owner_agency = models.ForeignKey("cases.Agency", on_delete=models.PROTECT, related_name="owned_cases",
                                     verbose_name=_("owner agency"))
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="assigned_cases", verbose_name=_("assigned caseworker"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+", verbose_name=_("created by"))
    members = models.ManyToManyField(Person, through="CaseMember", related_name="cases")
    # Kept by the services in the same transaction as the membership change, so
    # lists never count rows.
    member_count = models.PositiveIntegerField(_("members"), default=0, editable=False)
    # What ?search= compares members with: a line of words per member, without
    # accents, in lower case (cases.services.search). Kept by the services in
    # the same transaction as the change of a member or a person; indexed on
    # PostgreSQL by migration 0004_case_search_document.
    search_document = models.TextField(default="", blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(fields=["owner_agency", "-created_at", "-id"], name="case_owner_created_idx"),
            models.Index(fields=["-created_at", "-id"], name="case_created_idx"),
            models.Index(fields=["updated_at", "id"], name="case_updated_idx"),
            models.Index(fields=["status", "closed_at"], name="case_status_closed_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", closure_reason="") | Q(status="closed") & ~Q(closure_reason=""),
                name="case_closure_reason_iff_closed",
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def vulnerabilities(self) -> list[str]:
        return [flag for flag in VULNERABILITIES if getattr(self, vulnerability_field(flag))]

    def set_vulnerabilities(self, flags) -> None:
        chosen = set(flags)
        for flag in VULNERABILITIES:
            setattr(self, vulnerability_field(flag), flag in chosen)


class CaseReferenceCounter(models.Model):
    """The last reference number handed out per year. Incremented under a row
    lock inside the creating transaction, so a rolled-back creation gives its
    number back and references stay gapless."""

    year = models.PositiveIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("case reference counter")


class Relationship(models.TextChoices):
    HEAD = "head", _("Head of family")
    SPOUSE = "spouse", _("Spouse or partner")
    CHILD = "child", _("Child")
    OTHER_RELATIVE = "other_relative", _("Other relative")
    OTHER = "other", _("Other")


class CaseMember(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships")
    relationship = models.CharField(_("relationship"), max_length=20, choices=Relationship.choices)
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("case member")
        verbose_name_plural = _("case members")
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "person"], name="case_member_once"),
            models.UniqueConstraint(fields=["case"], condition=Q(relationship="head"), name="case_one_head"),
        ]

    def __str__(self):
        return f"{self.case} · {self.get_relationship_display()}"


class ConsentScope(models.TextChoices):
    SHARE_CROSS_BORDER = "share_cross_border", _("Share across the border")
    SHARE_COMMITTEE = "share_committee", _("Share with the committee")


class ConsentMethod(models.TextChoices):
    VERBAL = "verbal", _("Verbal")
    WRITTEN = "written", _("Written")
    DIGITAL = "digital", _("Digital")


class ConsentQuerySet(models.QuerySet):
    def active(self):
        return self.filter(withdrawn_at__isnull=True)


class Consent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consents")
    scope = models.CharField(_("scope"), max_length=30, choices=ConsentScope.choices)
    method = models.CharField(_("how given"), max_length=10, choices=ConsentMethod.choices)
    given_at = models.DateTimeField(_("given at"))
    given_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("given by"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                    related_name="+", verbose_name=_("recorded by"))
    recorded_by_agency = models.ForeignKey("cases.Agency", on_delete=models.PROTECT, related_name="+",
                                           verbose_name=_("recording agency"))
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("withdrawn by"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_at"]
        indexes = [models.Index(fields=["case", "scope", "withdrawn_at"], name="consent_active_idx")]

    def __str__(self):
        return f"{self.case} · {self.get_scope_display()}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


class NoteVisibility(models.TextChoices):
    AGENCY = "agency", _("Own agency only")
    SHARED = "shared", _("Every agency with access")


class Note(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                               related_name="+", verbose_name=_("author"))
    agency = models.ForeignKey("cases.Agency", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("agency"))
    body = models.TextField(_("text"))
    visibility = models.CharField(_("visibility"), max_length=10, choices=NoteVisibility.choices,
                                  default=NoteVisibility.AGENCY)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.case} · {self.created_at:%Y-%m-%d}"


class DuplicateCandidate(models.Model):
    """A new person whose document matches one the registering agency could not
    see. The secretariat reviews these; the agency is never told."""

    new_person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+", verbose_name=_("new person"))
    existing_person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+",
                                        verbose_name=_("existing person"))
    detected_at = models.DateTimeField(_("detected at"), auto_now_add=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("reviewed by"))

    class Meta:
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        ordering = ["-detected_at"]
        constraints = [
            models.UniqueConstraint(fields=["new_person", "existing_person"], name="duplicate_pair_once"),
        ]
