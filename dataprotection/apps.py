from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DataProtectionConfig(AppConfig):
    name = "dataprotection"
    verbose_name = _("Data protection")

    def ready(self):
        # Casework asks every registered guard before a write about a person:
        # a person whose processing is restricted is refused there (409).
        from cases.services.guards import register_write_guard

        from .restrictions import refuse_restricted_processing

        register_write_guard(refuse_restricted_processing)
