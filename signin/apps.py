import logging

from django.apps import AppConfig
from django.conf import settings
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class StaffAdminConfig(admin_apps.AdminConfig):
    """Django's admin, whose default site asks for a second factor (every
    ``@admin.register`` of the project lands on it)."""

    default = False
    default_site = "signin.site.StaffAdminSite"


class SigninConfig(AppConfig):
    default = True
    name = "signin"
    verbose_name = _("Staff sign-in")

    def ready(self):
        from . import receivers  # noqa: F401  (connects the sign-in signals)

        if not settings.OTP_WEBAUTHN_ALLOWED_ORIGINS:
            logging.getLogger("signin").warning(
                "Passkeys are off: no secure origin among %s (passkeys need https://, or http://localhost). "
                "Staff sign in with an authenticator app or a recovery code.",
                ", ".join(settings.WEBAUTHN_CONFIGURED_ORIGINS) or "none")
