"""Calendars, read back with a real iCalendar parser. The VTIMEZONE we send is
turned into a time zone of its own (not looked up by name), so these tests
check the definition a calendar app would use."""
import datetime

import icalendar
import pytest
import time_machine

from committee.models import CalendarFeed, Meeting
from committee.services import meeting_update

from .factories import MeetingFactory, MembershipFactory

UTC = datetime.UTC


def _parse(response) -> icalendar.Calendar:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def _utc(calendar, event, name="DTSTART"):
    """The instant of ``event``'s ``name`` according to the calendar's own VTIMEZONE."""
    prop = event[name]
    tzid = prop.params["TZID"]
    zone = next(tz for tz in calendar.walk("VTIMEZONE") if tz["TZID"] == tzid).to_tz(lookup_tzid=False)
    return prop.dt.replace(tzinfo=None).replace(tzinfo=zone).astimezone(UTC)


def _meeting_ics(client, meeting):
    return _parse(client.get(f"/api/v1/meetings/{meeting.pk}/calendar.ics"))


@pytest.mark.django_db
class TestMeetingCalendar:
    def test_a_lima_meeting_is_at_its_local_hour(self, client_for, pe_delegate, committee):
        meeting = MeetingFactory(committee=committee, time_zone="America/Lima", title="Sesión en Tacna",
                                 starts_at=datetime.datetime(2026, 4, 8, 15, 0, tzinfo=UTC),
                                 ends_at=datetime.datetime(2026, 4, 8, 17, 0, tzinfo=UTC))
        calendar = _meeting_ics(client_for(pe_delegate), meeting)
        event = calendar.events[0]
        assert event["DTSTART"].params["TZID"] == "America/Lima"
        assert event["DTSTART"].dt.replace(tzinfo=None) == datetime.datetime(2026, 4, 8, 10, 0)
        assert _utc(calendar, event) == datetime.datetime(2026, 4, 8, 15, 0, tzinfo=UTC)
        assert _utc(calendar, event, "DTEND") == datetime.datetime(2026, 4, 8, 17, 0, tzinfo=UTC)
        assert str(event["UID"]) == f"meeting-{meeting.pk}@puente"
        assert (event["SEQUENCE"], str(event["STATUS"]), str(event["SUMMARY"])) == (0, "CONFIRMED",
                                                                                    "Sesión en Tacna")
        assert str(event["LOCATION"]) == meeting.place

    def test_santiago_meetings_keep_their_local_hour_across_the_dst_change(self, client_for, secretariat,
                                                                           committee):
        # Chile leaves summer time on 5 April 2026: 10:00 is 13:00 UTC before and 14:00 UTC after.
        before = MeetingFactory(committee=committee, time_zone="America/Santiago", place="Arica",
                                starts_at=datetime.datetime(2026, 4, 2, 13, 0, tzinfo=UTC),
                                ends_at=datetime.datetime(2026, 4, 2, 15, 0, tzinfo=UTC))
        after = MeetingFactory(committee=committee, time_zone="America/Santiago", place="Arica",
                               starts_at=datetime.datetime(2026, 4, 9, 14, 0, tzinfo=UTC),
                               ends_at=datetime.datetime(2026, 4, 9, 16, 0, tzinfo=UTC))
        client = client_for(secretariat)
        for meeting, offset in ((before, -3), (after, -4)):
            calendar = _meeting_ics(client, meeting)
            event = calendar.events[0]
            assert event["DTSTART"].params["TZID"] == "America/Santiago"
            assert event["DTSTART"].dt.replace(tzinfo=None) == datetime.datetime(
                meeting.starts_at.year, 4, meeting.starts_at.day, 10, 0)
            assert _utc(calendar, event) == meeting.starts_at
            assert event["DTSTART"].dt.utcoffset() == datetime.timedelta(hours=offset)

    def test_the_spring_change_too(self, client_for, secretariat, committee):
        # Chile returns to summer time on 6 September 2026.
        meeting = MeetingFactory(committee=committee, time_zone="America/Santiago", place="Arica",
                                 starts_at=datetime.datetime(2026, 9, 7, 13, 0, tzinfo=UTC),
                                 ends_at=datetime.datetime(2026, 9, 7, 14, 0, tzinfo=UTC))
        calendar = _meeting_ics(client_for(secretariat), meeting)
        event = calendar.events[0]
        assert event["DTSTART"].dt.replace(tzinfo=None) == datetime.datetime(2026, 9, 7, 10, 0)
        assert _utc(calendar, event) == meeting.starts_at

    def test_a_reschedule_keeps_the_uid_and_bumps_the_sequence(self, client_for, secretariat, meeting):
        client = client_for(secretariat)
        first = _meeting_ics(client, meeting).events[0]
        meeting_update(actor=secretariat, meeting=meeting, changes={
            "starts_at": meeting.starts_at + datetime.timedelta(hours=3),
            "ends_at": meeting.ends_at + datetime.timedelta(hours=3)})
        meeting.refresh_from_db()
        second_calendar = _meeting_ics(client, meeting)
        second = second_calendar.events[0]
        assert str(second["UID"]) == str(first["UID"])
        assert (first["SEQUENCE"], second["SEQUENCE"]) == (0, 1)
        assert _utc(second_calendar, second) == meeting.starts_at.replace(microsecond=0)

    def test_a_cancelled_meeting_is_published_cancelled(self, client_for, secretariat, pe_delegate, meeting):
        client_for(secretariat).post(f"/api/v1/meetings/{meeting.pk}/cancel/", {"reason": "Paro"}, format="json")
        event = _meeting_ics(client_for(pe_delegate), meeting).events[0]
        assert str(event["STATUS"]) == "CANCELLED"
        assert event["SEQUENCE"] == 1

    def test_an_online_meeting_gives_its_link(self, client_for, secretariat, committee):
        meeting = MeetingFactory(committee=committee, mode="online", place="",
                                 video_link="https://meet.example.org/comite-binacional")
        event = _meeting_ics(client_for(secretariat), meeting).events[0]
        assert str(event["LOCATION"]) == str(event["URL"]) == "https://meet.example.org/comite-binacional"

    def test_a_calendar_app_asking_for_text_calendar_is_answered(self, client_for, pe_delegate, meeting):
        response = client_for(pe_delegate).get(f"/api/v1/meetings/{meeting.pk}/calendar.ics",
                                               HTTP_ACCEPT="text/calendar")
        assert len(_parse(response).events) == 1


@pytest.fixture
def feed_url(client_for, pe_delegate, committee):
    response = client_for(pe_delegate).post(f"/api/v1/committees/{committee.pk}/calendar-feeds/")
    assert response.status_code == 201
    return response.json()["url"]


@pytest.mark.django_db
class TestCalendarFeed:
    def test_the_feed_needs_no_header_and_lists_upcoming_and_recently_changed_meetings(
            self, api_client, feed_url, committee, other_committee):
        with time_machine.travel(datetime.datetime(2026, 3, 20, 12, 0, tzinfo=UTC), tick=False):
            upcoming = MeetingFactory(committee=committee, time_zone="America/Santiago",
                                      starts_at=datetime.datetime(2026, 4, 9, 14, 0, tzinfo=UTC))
            cancelled = MeetingFactory(committee=committee, status="cancelled", sequence=1,
                                       starts_at=datetime.datetime(2026, 4, 2, 13, 0, tzinfo=UTC))
            MeetingFactory(committee=committee, status="draft",
                           starts_at=datetime.datetime(2026, 5, 1, 13, 0, tzinfo=UTC))
            MeetingFactory(committee=other_committee, starts_at=datetime.datetime(2026, 5, 1, 13, 0, tzinfo=UTC))
        with time_machine.travel(datetime.datetime(2025, 1, 1, tzinfo=UTC), tick=False):
            MeetingFactory(committee=committee, status="held",
                           starts_at=datetime.datetime(2025, 1, 10, 13, 0, tzinfo=UTC))
        with time_machine.travel(datetime.datetime(2026, 3, 20, 12, 0, tzinfo=UTC), tick=False):
            calendar = _parse(api_client.get(feed_url))
        events = {str(e["UID"]): e for e in calendar.events}
        assert set(events) == {f"meeting-{upcoming.pk}@puente", f"meeting-{cancelled.pk}@puente"}
        assert str(events[f"meeting-{cancelled.pk}@puente"]["STATUS"]) == "CANCELLED"
        assert _utc(calendar, events[f"meeting-{upcoming.pk}@puente"]) == upcoming.starts_at
        assert str(calendar["NAME"]) == committee.name

    def test_the_secret_is_shown_once_and_stored_hashed(self, client_for, pe_delegate, committee, feed_url):
        secret = feed_url.rsplit("/", 1)[1].removesuffix(".ics")
        feed = CalendarFeed.objects.get()
        assert secret not in (feed.digest, feed.prefix) and secret.startswith(feed.prefix)
        listed = client_for(pe_delegate).get(f"/api/v1/committees/{committee.pk}/calendar-feeds/").json()
        assert secret not in str(listed) and listed[0]["prefix"] == feed.prefix

    def test_a_revoked_feed_is_gone(self, api_client, client_for, pe_delegate, feed_url):
        feed = CalendarFeed.objects.get()
        response = client_for(pe_delegate).delete(f"/api/v1/calendar-feeds/{feed.pk}/")
        assert response.status_code == 204
        assert api_client.get(feed_url).status_code == 404
        feed.refresh_from_db()
        assert feed.revoked_at is not None

    def test_a_feed_dies_with_the_membership(self, api_client, committee, pe_delegate, feed_url):
        committee.memberships.filter(user=pe_delegate).delete()
        assert api_client.get(feed_url).status_code == 404

    def test_an_unknown_secret_is_404(self, api_client):
        assert api_client.get("/api/v1/calendars/cal_nothing-here.ics").status_code == 404

    def test_no_feed_for_a_committee_one_does_not_belong_to(self, client_for, other_member, committee):
        response = client_for(other_member).post(f"/api/v1/committees/{committee.pk}/calendar-feeds/")
        assert response.status_code == 404
        assert not CalendarFeed.objects.exists()

    def test_a_working_group_member_gets_a_feed_of_their_own(self, client_for, committee, other_committee,
                                                             other_member):
        MembershipFactory(committee=committee, user=other_member, delegation="PE")
        response = client_for(other_member).post(f"/api/v1/committees/{committee.pk}/calendar-feeds/")
        assert response.status_code == 201
        assert CalendarFeed.objects.get().user == other_member
        assert Meeting.objects.count() == 0
