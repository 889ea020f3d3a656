"""What happened and who looked: change history and access log (events: ``outbox``)."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class HistoryEntry(models.Model):
    """One change to a case or to something on it: who, when, which fields
    (old → new). Written by the services in the transaction of the change."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="history", null=True)
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+",
                              verbose_name=_("actor"))
    agency = models.ForeignKey("cases.Agency", on_delete=models.SET_NULL, null=True, related_name="+",
                               verbose_name=_("agency"))
    action = models.CharField(_("action"), max_length=50)
    object_type = models.CharField(_("object type"), max_length=30)
    object_id = models.CharField(_("object id"), max_length=64)
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("history entry")
        verbose_name_plural = _("history")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["case", "-at", "-id"], name="history_case_idx")]

    def __str__(self):
        return f"{self.action} {self.object_type}:{self.object_id}"


class Access(models.TextChoices):
    """How a caller sees a case (the access table in ``cases.selectors``)."""

    OWNER = "owner", _("owner agency")
    COLLABORATOR = "collaborator", _("collaborating agency")
    OVERSIGHT = "oversight", _("oversight (secretariat)")
    LIMITED = "limited", _("limited view")
    FORMER_OWNER = "former_owner", _("former owner agency")


class AccessChannel(models.TextChoices):
    API = "api", _("API")
    ADMIN = "admin", _("Admin")


class CaseAccessLog(models.Model):
    """A read of a full case, or any read by the secretariat."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+", verbose_name=_("case"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+",
                             verbose_name=_("user"))
    agency = models.ForeignKey("cases.Agency", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                               verbose_name=_("agency"))
    access = models.CharField(_("access"), max_length=20, choices=Access.choices)
    channel = models.CharField(_("via"), max_length=10, choices=AccessChannel.choices)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("case access")
        verbose_name_plural = _("case accesses")  # the list counts them: "26 accesos a casos"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["case", "-at"], name="access_case_idx")]

