"""Queueing Celery tasks once a change commits, without letting the broker fail it.

Every task queued after a write goes through ``publish_on_commit``: the work
itself is already a row written in that transaction (a webhook delivery, a
reminder), and the task only starts it sooner. So:

- nothing is queued unless the transaction commits (a rolled-back change
  queues nothing);
- when the broker cannot be reached, a warning naming the task and the kind
  of error — never the arguments, never personal data — is logged and the
  error swallowed: the change is committed and must be answered as such, and
  the periodic sweep that looks for unstarted rows picks the work up
  (docs/reliability.md);
- no retry: a request must not wait for a broker that is down;
- the callback is registered ``robust``, so even an unexpected error in it
  never stops the other callbacks of the commit.
"""
import logging
from collections.abc import Callable, Iterable
from functools import partial

from django.db import transaction

logger = logging.getLogger(__name__)


def publish_on_commit(task_name: str, publish: Callable[[], None]) -> None:
    """Call ``publish`` once the current transaction commits (at once
    outside one). ``task_name`` is what the warning names if it fails."""
    transaction.on_commit(partial(_run, task_name, publish), robust=True)


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Queue ``task(*args, **kwargs)`` once the current transaction commits."""
    publish_on_commit(task.name, partial(publish, task, [(args, kwargs)]))


def enqueue_many_on_commit(task, calls: Iterable) -> None:
    """``enqueue_on_commit`` for a batch: ``calls`` is a list of argument
    tuples, all queued by one callback over one broker connection."""
    calls = [(tuple(args), {}) for args in calls]
    if calls:
        publish_on_commit(task.name, partial(publish, task, calls))


def publish(task, calls: list[tuple[tuple, dict]]) -> None:
    """Send ``task`` once per ``(args, kwargs)`` over one broker connection,
    now. Raises on the first failure: the broker is down, and the rest would
    fail the same way."""
    with task.app.producer_or_acquire() as producer:
        for args, kwargs in calls:
            task.apply_async(args=args, kwargs=kwargs, producer=producer, retry=False)


def _run(task_name: str, publish: Callable[[], None]) -> None:
    try:
        publish()
    except Exception as exc:  # kombu's OperationalError, redis errors, OSError: all mean "not queued"
        logger.warning("Task %s not queued (%s); the periodic sweep will pick the work up",
                       task_name, exc.__class__.__name__)
