"""Roles are Django groups; these are their names."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CASEWORKER = "caseworker", _("Caseworker")
    SECRETARIAT = "secretariat", _("Committee secretariat")
    COMMITTEE_MEMBER = "committee_member", _("Committee member")
