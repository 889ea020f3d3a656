"""Periodic housekeeping of the API machinery."""
from celery import shared_task

from .services import idempotency_records_purge_expired


@shared_task(name="api_core.purge_expired_idempotency_keys", ignore_result=True)
def purge_expired_idempotency_keys() -> int:
    """Forget idempotency keys past their expiry. Safe to run any number of times."""
    return idempotency_records_purge_expired()
