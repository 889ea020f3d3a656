from django.apps import AppConfig
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
