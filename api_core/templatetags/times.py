"""``{% load times %}``: the template side of ``api_core.times`` (the one rule
of how times read).

    {{ handoff.response_due|moment }}             the reader's zone, named
    {{ item.due_at|moment:meeting.time_zone }}    a given zone, named
    {% meeting_time meeting %}                    the meeting's own wall clock, named
    {{ request.due_at|last_day:"America/Santiago" }}  "8 ene 2027, fin del día (…)"
"""
from django import template

from api_core.times import format_last_day, format_meeting, format_moment

register = template.Library()


@register.filter
def moment(value, zone=None):
    return format_moment(value, zone or None)


@register.filter
def last_day(value, zone):
    return format_last_day(value, zone)


@register.simple_tag
def meeting_time(meeting, with_end=True):
    return format_meeting(meeting, with_end=with_end)
