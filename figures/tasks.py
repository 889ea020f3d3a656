"""Periodic figures tasks."""
from celery import shared_task

from .rollup import refresh


# The first run builds every period (minutes at a million cases); later runs
# rebuild the few periods that changed in the last minute, in well under a second.
@shared_task(ignore_result=True, soft_time_limit=1500, time_limit=1600)
def refresh_statistics() -> int | None:
    """Bring the statistics rollup up to date with the outbox; see ``figures.rollup.refresh``."""
    return refresh()
