"""Periodic handoff tasks."""
from celery import shared_task
from django.utils import timezone

from cases.models import Handoff
from cases.services.handoffs import handoff_emit_overdue

# Enough for any real backlog within the time limit; the rest waits a minute.
SWEEP_BATCH = 1000


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=55)
def emit_overdue_handoffs() -> int:
    """Write one ``handoff.overdue`` event per handoff whose deadline passed,
    once per deadline. Safe to run from two beats at once or again and again:
    each event is claimed with a conditional update (see the service)."""
    now = timezone.now()
    ids = list(Handoff.objects.overdue_not_yet_announced(now).order_by("response_due").values_list(
        "pk", flat=True)[:SWEEP_BATCH])
    return sum(handoff_emit_overdue(handoff_id=pk, now=now) for pk in ids)
