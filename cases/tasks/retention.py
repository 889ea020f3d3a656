"""Retention: anonymise closed cases after the configured period."""
from celery import shared_task

from cases.services.retention import anonymise_due_cases, cases_due_for_anonymisation

# One run stays well inside the task time limit; a backlog continues in the next run.
BATCH = 200


@shared_task(acks_late=True, max_retries=0)
def anonymise_closed_cases() -> int:
    """Idempotent: each case is claimed under a row lock and skipped when done."""
    done = anonymise_due_cases(limit=BATCH)
    if len(done) == BATCH and cases_due_for_anonymisation().exists():
        anonymise_closed_cases.delay()
    return len(done)
