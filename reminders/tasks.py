"""Celery tasks: the periodic sweep and the send of one reminder. Both take
ids (or nothing), are idempotent and may be delivered more than once."""
from celery import shared_task
from django.conf import settings

from .services import SEND_TASK, Outcome, reminder_send, reminders_sweep


@shared_task(name="reminders.sweep", ignore_result=True)
def sweep_reminders() -> None:
    reminders_sweep(keep_ids=False)


@shared_task(
    name=SEND_TASK, bind=True, ignore_result=True, acks_late=True, max_retries=None,
    soft_time_limit=settings.REMINDERS["SEND_SOFT_TIME_LIMIT"], time_limit=settings.REMINDERS["SEND_TIME_LIMIT"],
)
def send_reminder(self, reminder_id: int) -> None:
    result = reminder_send(reminder_id=reminder_id)
    if result.outcome == Outcome.RETRY:
        # The row already says when; the countdown is a few minutes at most,
        # well inside the broker's visibility timeout.
        raise self.retry(countdown=result.retry_in)
