"""The record of every staff sign-in attempt and of what was done to an
account's sign-in (factors reset, lockout lifted)."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SignInEventKind(models.TextChoices):
    PASSWORD_ACCEPTED = "password_accepted", _("Password accepted")
    PASSWORD_FAILED = "password_failed", _("Wrong username or password")
    LOCKED_OUT = "locked_out", _("Locked out after repeated failures")
    REFUSED_LOCKED_OUT = "refused_locked_out", _("Refused: locked out")
    REFUSED_NOT_STAFF = "refused_not_staff", _("Refused: account works through the API")
    SIGNED_IN = "signed_in", _("Signed in (second factor passed)")
    SECOND_FACTOR_FAILED = "second_factor_failed", _("Wrong second-factor code")
    FACTOR_ENROLLED = "factor_enrolled", _("Second factor enrolled")
    RECOVERY_CODES_ISSUED = "recovery_codes_issued", _("Recovery codes issued")
    FACTORS_RESET = "factors_reset", _("Second factors reset")
    LOCKOUT_LIFTED = "lockout_lifted", _("Lockout lifted")
    SIGNED_OUT = "signed_out", _("Signed out")
    SESSION_EXPIRED = "session_expired", _("Session expired")


class SignInEvent(models.Model):
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    kind = models.CharField(_("event"), max_length=30, choices=SignInEventKind.choices)
    # What was typed: an attempt for a username that does not exist is recorded too.
    username = models.CharField(_("username"), max_length=150, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("user"))
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    # Who acted on the account (factors reset, lockout lifted); empty for the person's own attempts.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+", verbose_name=_("by"))
    detail = models.CharField(_("detail"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("sign-in event")
        verbose_name_plural = _("sign-in events")
        ordering = ["-at", "-id"]
        # Not a table permission: who may reset another person's factors and lift lockouts.
        permissions = [("manage_signin", _("Can reset second factors and lift sign-in lockouts"))]
        indexes = [
            models.Index(fields=["username", "-at"], name="signin_event_username_idx"),
            # The address lock counts an address's recent failures (signin.lockout).
            models.Index(fields=["ip_address", "-at"], name="signin_event_address_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.username}"
