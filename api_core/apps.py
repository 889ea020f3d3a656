from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiCoreConfig(AppConfig):
    name = "api_core"
    verbose_name = _("API access")

    def ready(self):
        from . import schema  # noqa: F401  (registers the schema extensions)
        from .token_cache import connect_receivers

        connect_receivers()
