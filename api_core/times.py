"""How every time reads in the admin, the printouts and the dashboard: one
rule, one place.

- A meeting in its own zone, named: the same wall clock for every reader.
- Any other moment (a due date, a deadline, a history entry) in the reader's
  zone (the active one), named, so nobody mistakes it for another zone's.
- A deadline that ends a day (stored as the midnight that ends it, as a
  data request's is) reads as that last day: "8 ene 2027, fin del día".
"""
import datetime
import zoneinfo

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext

# Two unbreakable halves: a narrow column wraps between the time and its zone, never inside either.
ZONE_HTML = '<span class="time-zone">({})</span>'


def _zone(zone) -> datetime.tzinfo:
    if zone is None:
        return timezone.get_current_timezone()
    return zoneinfo.ZoneInfo(zone) if isinstance(zone, str) else zone


def _day(moment: datetime.datetime) -> str:
    # "8 ene 2027" / "8 Jan 2027": short enough for a list column.
    return date_format(moment, pgettext("short date format", "j M Y"))


def zone_name(zone) -> str:
    zone = _zone(zone)
    return getattr(zone, "key", None) or str(zone)


def format_moment(moment, zone=None, *, until=None) -> str:
    """``moment`` (aware) as "19 dic 2026 15:00 (America/Santiago)" in
    ``zone`` (a name or tzinfo; the reader's active zone when None). With
    ``until``, a span: "19 dic 2026 15:00–17:00 (…)" (its end's date is
    added when it ends on another day)."""
    if moment is None:
        return "—"
    zone = _zone(zone)
    start = timezone.localtime(moment, zone)
    text = f"{_day(start)} {start:%H:%M}"
    if until is not None:
        end = timezone.localtime(until, zone)
        text += f"–{end:%H:%M}" if end.date() == start.date() else f" – {_day(end)} {end:%H:%M}"
    return format_html('<span class="moment">{}</span> ' + ZONE_HTML, text, zone_name(zone))


def format_last_day(end_of_day, zone) -> str:
    """A deadline stored as the midnight that ends its day, read as that day:
    "8 ene 2027, fin del día (America/Santiago)"."""
    if end_of_day is None:
        return "—"
    zone = _zone(zone)
    last = timezone.localtime(end_of_day - datetime.timedelta(microseconds=1), zone)
    return format_html('<span class="moment">{}, {}</span> ' + ZONE_HTML, _day(last), gettext("end of day"),
                       zone_name(zone))


def format_meeting(meeting, *, with_end=True) -> str:
    """A meeting's time as its own wall clock, its zone named."""
    return format_moment(meeting.starts_at, meeting.time_zone, until=meeting.ends_at if with_end else None)


# The committee meets in Peru and Chile: their zones first, then every IANA zone.
NEAR_ZONES = ["America/Lima", "America/Santiago", "America/Punta_Arenas", "Pacific/Easter"]


def time_zone_choices() -> list:
    """IANA zones for a select: a zone is chosen, never typed."""
    others = sorted(zoneinfo.available_timezones() - set(NEAR_ZONES) - {"localtime", "Factory"})
    return [(pgettext("time zones", "Peru and Chile"), [(name, name) for name in NEAR_ZONES]),
            (pgettext("time zones", "Other zones"), [(name, name) for name in others])]
