"""What the committee's services announce to the apps above them (reminders),
so that ``committee`` never imports them. Sent inside the transaction of the
change: a receiver's writes commit, or roll back, with it."""
from django.dispatch import Signal

# A scheduled meeting — its members were invited — has been cancelled.
# Arguments: ``meeting``.
meeting_cancelled = Signal()
