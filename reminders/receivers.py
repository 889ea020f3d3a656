"""Reminders written when something happens in another app, rather than
found by the sweep: those apps send signals and never import this one."""
from committee.signals import meeting_cancelled

from .models import DeadlineKind
from .services import reminders_write_for_target


def write_cancellation_notices(sender, *, meeting, **kwargs):
    """The notices of a cancelled meeting, written in the cancellation's transaction."""
    reminders_write_for_target(deadline_kind=DeadlineKind.MEETING_CANCELLED, target_id=meeting.pk)


def connect() -> None:
    meeting_cancelled.connect(write_cancellation_notices, dispatch_uid="reminders.meeting_cancelled")
