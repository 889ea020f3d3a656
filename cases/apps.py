from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save
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
        # A token's user carries their agency: cached tokens are read again after it changes.
        from api_core.token_cache import changed, invalidate

        from .models import Agency

        post_save.connect(changed, sender=Agency, dispatch_uid="cases.agency_saved.token_cache")
        post_delete.connect(invalidate, sender=Agency, dispatch_uid="cases.agency_deleted.token_cache")
