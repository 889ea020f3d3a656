from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_role_groups(sender, **kwargs):
    from .services import ensure_role_groups

    ensure_role_groups(sync_permissions=True)


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Casework")

    def ready(self):
        # After each app migrates (cheap): permissions of later apps exist only then.
        post_migrate.connect(_sync_role_groups, dispatch_uid="cases.sync_role_groups")
