"""Celery application, configured from Django settings (``CELERY_`` namespace)."""
import os
from collections.abc import Mapping

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

NAMESPACE = "CELERY_"


class CelerySettings(Mapping):
    """The ``CELERY_`` settings of Django, under Celery's own names, and
    nothing else: read through ``namespace="CELERY"``, Celery's configuration
    also holds every other Django setting, and ``celery inspect conf`` shows
    them to anyone on the broker, ``REDIS_URL`` and the caches' locations
    with their passwords. Under its own name ``broker_url`` is one Celery
    masks. Read when Celery first needs its configuration, after Django's
    settings are loaded."""

    def _settings(self) -> dict:
        from django.conf import settings

        return {name.removeprefix(NAMESPACE).lower(): getattr(settings, name)
                for name in dir(settings) if name.startswith(NAMESPACE)}

    def __getitem__(self, key):
        return self._settings()[key]

    def __iter__(self):
        return iter(self._settings())

    def __len__(self):
        return len(self._settings())


app = Celery("puente")
app.config_from_object(CelerySettings())
app.autodiscover_tasks()
