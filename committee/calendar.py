"""Meetings as iCalendar (RFC 5545) events.

Each meeting keeps one ``UID`` for its whole life, so calendar apps update
their copy rather than adding another; ``SEQUENCE`` grows on every reschedule
and on cancellation; times are written in the meeting's own zone (``TZID``)
with a ``VTIMEZONE`` built from the tz database for the span of the events,
so a Santiago meeting stays at its local hour across Chile's DST change; a
cancelled meeting is published with ``STATUS:CANCELLED`` so it disappears.
Events carry no agenda text: a feed URL is a bearer secret and may leak.
"""
from datetime import timedelta

import icalendar
from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Committee, Meeting, MeetingMode, MeetingStatus

PRODID = "-//Puente//Comite Binacional Peru-Chile//ES"
STATUS = {
    MeetingStatus.DRAFT: "TENTATIVE",
    MeetingStatus.SCHEDULED: "CONFIRMED",
    MeetingStatus.HELD: "CONFIRMED",
    MeetingStatus.CANCELLED: "CANCELLED",
}
# A feed lists what is coming and what changed lately (a cancellation must
# reach the calendars that still show the meeting).
FEED_PAST = timedelta(days=60)


def meeting_uid(meeting: Meeting) -> str:
    return f"meeting-{meeting.pk}@puente"


def _event(meeting: Meeting, now) -> icalendar.Event:
    lines = [meeting.committee.name, meeting.get_mode_display()]
    if meeting.video_link:
        lines.append(_("Video link: %(link)s") % {"link": meeting.video_link})
    if meeting.status == MeetingStatus.CANCELLED and meeting.cancellation_reason:
        lines.append(_("Cancelled: %(reason)s") % {"reason": meeting.cancellation_reason})
    lines.append(_("Agenda: %(url)s") % {
        "url": settings.PUBLIC_BASE_URL + reverse("admin:committee_meeting_change", args=[meeting.pk])})
    summary = meeting.title
    if meeting.status == MeetingStatus.CANCELLED:
        summary = _("Cancelled: %(title)s") % {"title": meeting.title}
    return icalendar.Event.new(
        uid=meeting_uid(meeting),
        summary=summary,
        start=timezone.localtime(meeting.starts_at, meeting.zone),
        end=timezone.localtime(meeting.ends_at, meeting.zone),
        stamp=now,
        sequence=meeting.sequence,
        status=STATUS[meeting.status],
        created=meeting.created_at,
        last_modified=meeting.updated_at,
        location=(meeting.video_link if meeting.mode == MeetingMode.ONLINE else meeting.place) or None,
        url=meeting.video_link or None,
        description="\n".join(lines),
    )


def calendar_for(meetings, *, uid: str, name: str, now=None, method: str = "PUBLISH") -> bytes:
    """An iCalendar document with one event per meeting. ``method`` is
    PUBLISH for feeds and downloads, CANCEL for a cancellation notice."""
    now = now or timezone.now()
    meetings = list(meetings)
    calendar = icalendar.Calendar.new(prodid=PRODID, method=method, name=name, uid=uid)
    for meeting in meetings:
        calendar.add_component(_event(meeting, now))
    if meetings:
        first = min(meeting.starts_at for meeting in meetings).date() - timedelta(days=1)
        last = max(meeting.ends_at for meeting in meetings).date() + timedelta(days=366)
        calendar.add_missing_timezones(first_date=first, last_date=last)
    return calendar.to_ical()


def meeting_calendar(meeting: Meeting, *, method: str = "PUBLISH") -> bytes:
    return calendar_for([meeting], uid=meeting_uid(meeting), name=meeting.committee.name, method=method)


def feed_meetings(committee: Committee, *, now=None):
    """Published meetings still to come, or changed within ``FEED_PAST``."""
    now = now or timezone.now()
    since = now - FEED_PAST
    return (Meeting.objects.published().select_related("committee")
            .filter(committee=committee)
            .filter(Q(ends_at__gte=since) | Q(updated_at__gte=since))
            .order_by("starts_at", "id"))


def committee_feed(committee: Committee, *, now=None) -> bytes:
    return calendar_for(feed_meetings(committee, now=now), uid=f"committee-{committee.pk}@puente",
                        name=committee.name, now=now)
