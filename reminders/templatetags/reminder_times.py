"""Times in reminder emails, in a given zone and the active language."""
import datetime
import zoneinfo

from django import template

from reminders.emails import format_moment

register = template.Library()


@register.simple_tag
def moment(value: datetime.datetime, zone: str, style: str = "long") -> str:
    """``{% moment starts_at time_zone %}``: the time in ``zone``, the zone named."""
    return format_moment(value, time_zone=zone, style=style)


@register.simple_tag
def until(starts_at: datetime.datetime, ends_at: datetime.datetime, zone: str) -> str:
    """The end of something that starts at ``starts_at``: its clock time in
    ``zone``, or the whole date and time when it ends on another day there."""
    tz = zoneinfo.ZoneInfo(zone)
    if starts_at.astimezone(tz).date() == ends_at.astimezone(tz).date():
        return f"{ends_at.astimezone(tz):%H:%M}"
    return format_moment(ends_at, time_zone=zone, style="short")
