from collections import Counter
from datetime import timedelta

from django.core.management.base import BaseCommand

from reminders.services import Outcome, reminder_send, reminders_sweep


class Command(BaseCommand):
    help = ("Run one reminder sweep and send what is due in this process, without a worker "
            "(for cron, or to catch up by hand).")

    def handle(self, *args, **options):
        # Nothing goes to the broker: this process sends. No grace period either:
        # whatever is waiting, including retries whose time has come, goes now.
        result = reminders_sweep(enqueue=lambda ids: None, requeue_after=timedelta(0))
        outcomes = Counter(reminder_send(reminder_id=reminder_id).outcome
                           for reminder_id in result.created + result.requeued)
        self.stdout.write(
            f"created {len(result.created)}, sent {outcomes[Outcome.SENT]}, skipped {outcomes[Outcome.SKIPPED]}, "
            f"failed {outcomes[Outcome.FAILED]}, to retry {outcomes[Outcome.RETRY]}"
        )
