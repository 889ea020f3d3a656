"""Whether a sign-in is refused for earlier failures, read from the sign-in events.

Two locks, on top of axes' count of failed passwords per username:
- **the account**: each lockout of a username within a day lasts twice as long
  as the one before (``AXES_COOLOFF_TIME``, doubled up to ``SIGNIN["LOCKOUT_MAX"]``);
  a sign-in that passes the second factor, or the secretariat lifting the lock,
  starts the doubling again;
- **the address**: only when failed passwords for ``SIGNIN["ADDRESS_USERNAME_LIMIT"]``
  different usernames came from it within the cool-off time (someone trying
  many accounts). A border post or a ministry signs in from one NAT address:
  one person's typos lock their own account, never their colleagues'.
"""
import datetime
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from .models import SignInEvent, SignInEventKind

# Lockouts of one username further apart than this do not make the next one longer.
GROWTH_WINDOW = datetime.timedelta(days=1)
# Failures that count towards the address lock.
ADDRESS_FAILURE_KINDS = (SignInEventKind.PASSWORD_FAILED, SignInEventKind.REFUSED_NOT_STAFF)


@dataclass(frozen=True)
class Lock:
    reason: str  # "account" or "address"
    duration: datetime.timedelta
    until: datetime.datetime


def account_lockout_duration(lockouts_before: int) -> datetime.timedelta:
    """How long the lockout that follows ``lockouts_before`` others (within the day) lasts."""
    base, ceiling = settings.AXES_COOLOFF_TIME, settings.SIGNIN["LOCKOUT_MAX"]
    return min(base * 2 ** min(lockouts_before, 20), max(base, ceiling))


def account_lock(username: str, now: datetime.datetime) -> Lock | None:
    """The lockout of ``username`` in force at ``now``, if any."""
    if not username:
        return None
    steps = 2 + int(settings.SIGNIN["LOCKOUT_MAX"] / settings.AXES_COOLOFF_TIME).bit_length()
    recent = (SignInEvent.objects
              .filter(username=username, at__gte=now - GROWTH_WINDOW,
                      kind__in=[SignInEventKind.LOCKED_OUT, SignInEventKind.LOCKOUT_LIFTED,
                                SignInEventKind.SIGNED_IN])
              .order_by("-at", "-id").values_list("kind", "at")[:steps])
    lockouts = []
    for kind, at in recent:
        if kind != SignInEventKind.LOCKED_OUT:
            break
        lockouts.append(at)
    if not lockouts:
        return None
    duration = account_lockout_duration(len(lockouts) - 1)
    until = lockouts[0] + duration
    return Lock("account", duration, until) if now < until else None


def address_lock(ip_address: str | None, now: datetime.datetime) -> Lock | None:
    """The lock of an address that tried too many usernames, if in force at ``now``."""
    if not ip_address:
        return None
    window = settings.AXES_COOLOFF_TIME
    failed = (SignInEvent.objects
              .filter(ip_address=ip_address, kind__in=ADDRESS_FAILURE_KINDS, at__gte=now - window)
              .values("username").distinct())
    if failed.count() < settings.SIGNIN["ADDRESS_USERNAME_LIMIT"]:
        return None
    return Lock("address", window, now + window)


def sign_in_lock(*, username: str, ip_address: str | None, now: datetime.datetime | None = None) -> Lock | None:
    now = now or timezone.now()
    return account_lock(username, now) or address_lock(ip_address, now)
