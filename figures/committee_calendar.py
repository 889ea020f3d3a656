"""The committee's calendar: its time zone, and where its days begin."""
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings


def committee_zone() -> ZoneInfo:
    return ZoneInfo(settings.PUENTE["COMMITTEE_TIME_ZONE"])


def day_start(day: date, *, days_after: int = 0) -> datetime:
    """Midnight of ``day`` (plus ``days_after``) in the committee's zone."""
    return datetime.combine(day + timedelta(days=days_after), time.min, tzinfo=committee_zone())
