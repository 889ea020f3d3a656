"""Celery tasks of the casework app (autodiscovered through this package)."""
from . import handoffs, retention  # noqa: F401
