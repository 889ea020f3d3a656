"""Queueing Celery tasks from a request without letting the broker fail it."""
import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Queue ``task(*args, **kwargs)`` once the current transaction commits.

    The work itself must already be a row written in that transaction; the
    task only starts it sooner. So when the broker cannot be reached the
    error is logged and swallowed: the client's write is committed and must
    be answered as such, and the periodic sweep that looks for unstarted rows
    picks the work up (docs/reliability.md). No retry here either: a request
    must not wait for a broker that is down."""
    transaction.on_commit(lambda: _send(task, [(args, kwargs)]))


def enqueue_many_on_commit(task, calls) -> None:
    """``enqueue_on_commit`` for a batch: ``calls`` is a list of argument
    tuples, all queued by one callback once the transaction commits."""
    calls = [(tuple(args), {}) for args in calls]
    if calls:
        transaction.on_commit(lambda: _send(task, calls))


def _send(task, calls) -> None:
    for args, kwargs in calls:
        try:
            task.apply_async(args=args, kwargs=kwargs, retry=False)
        except Exception as exc:  # kombu's OperationalError, redis errors, OSError: all mean "not queued"
            logger.warning("Task %s not queued (%s); the periodic sweep will pick the work up",
                           task.name, exc.__class__.__name__)
            return  # the broker is down: the rest would fail the same way
