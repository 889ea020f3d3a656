"""One rule for every time in the workspace (api_core.times): a meeting in its
own zone, named; any other moment in the reader's zone, named; a deadline that
ends a day read as that day."""
import datetime
import re
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from api_core.times import format_last_day, format_moment
from cases.models import Handoff
from cases.roles import Role
from committee.models import Meeting
from tests.committee.factories import ActionItemFactory, CommitteeFactory, MeetingFactory, MembershipFactory
from tests.factories import CaseFactory, HandoffFactory, UserFactory
from tests.staff import sign_in_to_admin

SANTIAGO = zoneinfo.ZoneInfo("America/Santiago")
LIMA = zoneinfo.ZoneInfo("America/Lima")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


@pytest.fixture
def lima_secretary(db):
    return UserFactory(username="secretaria.lima", roles=[Role.SECRETARIAT], is_staff=True, time_zone="America/Lima")


@pytest.fixture
def arica_meeting(db):
    """15:00 in Santiago on 19 December 2026 (UTC−3, summer time) is 13:00 in Lima."""
    start = datetime.datetime(2026, 12, 19, 15, 0, tzinfo=SANTIAGO)
    return MeetingFactory(committee=CommitteeFactory(code="binacional-t"), title="Sesión en Arica",
                          starts_at=start, ends_at=start + datetime.timedelta(hours=2),
                          time_zone="America/Santiago", status="scheduled")


class TestTheRule:
    def test_a_moment_reads_in_the_given_zone_with_its_name(self):
        moment = datetime.datetime(2026, 12, 19, 18, 0, tzinfo=datetime.UTC)
        with translation.override("es"):
            assert _text(format_moment(moment, "America/Santiago")) == "19 dic 2026 15:00 (America/Santiago)"
        with translation.override("en"):
            assert _text(format_moment(moment, "America/Lima")) == "19 Dec 2026 13:00 (America/Lima)"

    def test_without_a_zone_it_is_the_readers(self):
        moment = datetime.datetime(2026, 7, 1, 16, 0, tzinfo=datetime.UTC)
        with translation.override("es"), timezone.override(SANTIAGO):
            assert _text(format_moment(moment)) == "1 jul 2026 12:00 (America/Santiago)"

    def test_a_span_over_midnight_names_both_days(self):
        start = datetime.datetime(2026, 12, 19, 23, 0, tzinfo=LIMA)
        with translation.override("es"):
            assert _text(format_moment(start, LIMA, until=start + datetime.timedelta(hours=2))) == (
                "19 dic 2026 23:00 – 20 dic 2026 01:00 (America/Lima)")

    def test_a_deadline_that_ends_a_day_reads_as_that_day(self):
        midnight_ending_the_8th = datetime.datetime(2027, 1, 9, 0, 0, tzinfo=SANTIAGO)
        with translation.override("es"):
            assert _text(format_last_day(midnight_ending_the_8th, "America/Santiago")) == (
                "8 ene 2027, fin del día (America/Santiago)")
        with translation.override("en"):
            assert "8 Jan 2027, end of day" in format_last_day(midnight_ending_the_8th, SANTIAGO)

    def test_nothing_reads_as_a_dash(self):
        assert format_moment(None) == "—" and format_last_day(None, LIMA) == "—"


@pytest.mark.django_db
class TestTheWorkspace:
    def test_the_dashboard_shows_a_lima_reader_the_meetings_own_time(self, client, lima_secretary, arica_meeting):
        """The bug: 13:00 (the reader's Lima time) labelled America/Santiago."""
        sign_in_to_admin(client, lima_secretary)
        content = _text(client.get(reverse("admin:index")).content.decode())
        assert "19 dic 2026 15:00–17:00 (America/Santiago)" in content
        assert "13:00" not in content

    def test_the_meeting_list_and_page_show_its_own_time(self, client, lima_secretary, arica_meeting):
        sign_in_to_admin(client, lima_secretary)
        listing = _text(client.get(reverse("admin:committee_meeting_changelist")).content.decode())
        assert "19 dic 2026 15:00 (America/Santiago)" in listing and "13:00" not in listing
        page = _text(client.get(reverse("admin:committee_meeting_change", args=[arica_meeting.pk])).content.decode())
        assert "19 dic 2026 15:00–17:00 (America/Santiago)" in page

    def test_an_action_items_due_time_names_the_readers_zone(self, client, lima_secretary, pe_agency):
        ActionItemFactory(owner_agency=pe_agency, due_at=datetime.datetime(2026, 12, 20, 23, 30, tzinfo=datetime.UTC))
        sign_in_to_admin(client, lima_secretary)
        content = _text(client.get(reverse("admin:committee_actionitem_changelist")).content.decode())
        assert "20 dic 2026 18:30 (America/Lima)" in content

    def test_the_docket_names_the_zone_of_a_deadline(self, client, lima_secretary, arica_meeting, pe_agency,
                                                     cl_agency):
        late = HandoffFactory(case=CaseFactory(owner_agency=pe_agency), to_agency=cl_agency)
        due = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)
        Handoff.objects.filter(pk=late.pk).update(response_due=due)
        sign_in_to_admin(client, lima_secretary)
        content = _text(client.get(reverse("admin:committee_meeting_docket", args=[arica_meeting.pk]))
                        .content.decode())
        assert "1 dic 2026 07:00 (America/Lima)" in content

    def test_the_handoff_chain_reads_in_the_readers_zone_not_utc(self, client, pe_agency, cl_agency):
        reader = UserFactory(username="secretaria.stgo", roles=[Role.SECRETARIAT], is_staff=True,
                             time_zone="America/Santiago")
        handoff = HandoffFactory(case=CaseFactory(owner_agency=pe_agency), to_agency=cl_agency)
        Handoff.objects.filter(pk=handoff.pk).update(
            created_at=datetime.datetime(2026, 12, 2, 2, 15, tzinfo=datetime.UTC),
            response_due=datetime.datetime(2026, 12, 5, 2, 15, tzinfo=datetime.UTC))
        sign_in_to_admin(client, reader)
        page = _text(client.get(reverse("admin:cases_handoff_change", args=[handoff.pk])).content.decode())
        assert "1 dic 2026 23:15 (America/Santiago)" in page  # created, in the chain and below
        assert "2026-12-02 02:15" not in page
        assert "4 dic 2026 23:15 (America/Santiago)" in page  # the response deadline
        listing = _text(client.get(reverse("admin:cases_handoff_changelist")).content.decode())
        assert "4 dic 2026 23:15 (America/Santiago)" in listing


@pytest.mark.django_db
class TestTheMeetingsZoneIsChosen:
    def test_the_zone_is_a_list_of_iana_zones(self, client, secretariat):
        sign_in_to_admin(client, secretariat)
        content = client.get(reverse("admin:committee_meeting_add")).content.decode()
        field = re.search(r'<select name="time_zone"[^>]*>(.*?)</select>', content, re.S)
        assert field is not None
        assert '<option value="America/Santiago">' in field.group(1)
        assert '<option value="America/Lima" selected>' in field.group(1)
        assert '<option value="Europe/Madrid">' in field.group(1)

    def test_a_zone_not_in_the_list_is_refused_and_nothing_is_created(self, client, secretariat):
        committee = CommitteeFactory(code="zona")
        sign_in_to_admin(client, secretariat)
        response = client.post(reverse("admin:committee_meeting_add"), {
            "committee": committee.pk, "title": "Sesión", "starts_at": "2026-12-19T15:00",
            "ends_at": "2026-12-19T17:00", "time_zone": "Chile/Arica", "mode": "in_person",
            **_empty_inlines()})
        assert response.status_code == 200
        assert "time_zone" in response.context["adminform"].form.errors
        assert not Meeting.objects.filter(title="Sesión").exists()


def _empty_inlines():
    return {f"{prefix}-{key}": value for prefix in ("agenda_items", "attendances", "action_items")
            for key, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"))}


@pytest.mark.django_db
def test_a_member_in_lima_reads_the_meetings_time_too(client, arica_meeting):
    member = UserFactory(username="delegado.lima", roles=[Role.COMMITTEE_MEMBER], is_staff=True,
                         time_zone="America/Lima")
    MembershipFactory(committee=arica_meeting.committee, user=member, delegation="PE")
    sign_in_to_admin(client, member)
    content = _text(client.get(reverse("admin:index")).content.decode())
    assert "19 dic 2026 15:00–17:00 (America/Santiago)" in content and "13:00" not in content
