"""Periodic handoff tasks."""
import time

from celery import shared_task
from django.utils import timezone

from cases.services.handoffs import handoffs_emit_overdue

# Handoffs claimed and announced per transaction: large enough that the
# per-statement cost is spread thin, small enough that a batch holds its row
# locks for a fraction of a second.
SWEEP_BATCH = 2000
# A run stops starting batches after this many seconds, safely under the soft
# time limit: a batch takes about a second, and at most 6 s was seen on a
# machine loaded far beyond its cores. The rest waits for the next run.
SWEEP_SECONDS = 30


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=55)
def emit_overdue_handoffs(*, batch: int = SWEEP_BATCH, seconds: float = SWEEP_SECONDS) -> int:
    """Write one ``handoff.overdue`` event per handoff whose deadline passed,
    once per deadline, batch after batch until none is left or the time is
    up. Returns how many were written. Safe to run from two beats at once or
    again and again: each batch is claimed with a conditional update that
    skips rows another run holds (see the service)."""
    now = timezone.now()
    stop_at = time.monotonic() + seconds
    total, after = 0, None
    while True:
        announced = handoffs_emit_overdue(now=now, limit=batch, after=after)
        total += len(announced)
        if len(announced) < batch or time.monotonic() >= stop_at:
            return total
        after = (announced[-1].response_due, announced[-1].pk)
