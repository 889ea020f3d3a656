import zoneinfo
from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.roles import Role


class Country(models.TextChoices):
    PERU = "PE", _("Peru")
    CHILE = "CL", _("Chile")
    INTERNATIONAL = "INT", _("International organisation")


class Language(models.TextChoices):
    SPANISH = "es", _("Spanish")
    ENGLISH = "en", _("English")


DEFAULT_TIME_ZONES = {
    Country.PERU: "America/Lima",
    Country.CHILE: "America/Santiago",
    # Field offices of international organisations at this border work on Peruvian time
    # unless set otherwise.
    Country.INTERNATIONAL: "America/Lima",
}


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not an IANA time zone."), params={"value": value},
                              code="invalid_time_zone")


class AgencyKind(models.TextChoices):
    MIGRATION_AUTHORITY = "migration_authority", _("Migration authority")
    POLICE = "police", _("Police")
    CHILD_PROTECTION = "child_protection", _("Child protection")
    OMBUDSMAN = "ombudsman", _("Ombudsman")
    SHELTER = "shelter", _("Shelter")
    HEALTH = "health", _("Health service")
    MINISTRY = "ministry", _("Ministry")
    INTERNATIONAL_ORGANISATION = "international_organisation", _("International organisation")
    OTHER = "other", _("Other")


class AgencyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class Agency(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True,
                            help_text=_("For example pe-migraciones, cl-sermig."))
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country"), max_length=3, choices=Country.choices)
    kind = models.CharField(_("kind"), max_length=40, choices=AgencyKind.choices, default=AgencyKind.OTHER)
    contact_email = models.EmailField(_("contact email"), blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.SPANISH)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, validators=[validate_time_zone])
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = AgencyQuerySet.as_manager()

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs):
        if not self.time_zone:
            self.time_zone = DEFAULT_TIME_ZONES.get(self.country, "UTC")
        super().save(*args, **kwargs)


class User(AbstractUser):
    """A person who signs in. Belongs to at most one agency; roles are groups."""

    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="users", verbose_name=_("agency")
    )
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.SPANISH)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, validators=[validate_time_zone])

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def __str__(self):
        # People are named, not their sign-in names, wherever the admin shows a user.
        return self.get_full_name() or self.username

    @cached_property
    def roles(self) -> frozenset[str]:
        return frozenset(self.groups.values_list("name", flat=True))

    def has_role(self, role: Role | str) -> bool:
        return str(role) in self.roles

    @property
    def effective_time_zone(self) -> str:
        if self.time_zone:
            return self.time_zone
        if self.agency_id:
            return self.agency.time_zone
        return "America/Lima"
