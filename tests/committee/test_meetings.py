import datetime

import pytest
from django.utils import timezone

from api_core.preconditions import etag_for
from cases.models import HistoryEntry
from committee.models import Attendance, Meeting
from outbox.models import Event
from tests.factories import UserFactory

from .factories import CommitteeFactory, MeetingFactory, MembershipFactory


def _url(meeting, suffix=""):
    return f"/api/v1/meetings/{meeting.pk}/{suffix}"


@pytest.mark.django_db
class TestMeetingList:
    def test_the_secretariat_sees_every_meeting_drafts_included(self, client_for, secretariat, meeting,
                                                                other_committee):
        draft = MeetingFactory(committee=meeting.committee, status="draft")
        elsewhere = MeetingFactory(committee=other_committee)
        body = client_for(secretariat).get("/api/v1/meetings/").json()
        assert {m["id"] for m in body["results"]} == {str(meeting.pk), str(draft.pk), str(elsewhere.pk)}

    def test_a_member_sees_the_published_meetings_of_their_committees(self, client_for, pe_delegate, meeting,
                                                                      other_committee):
        MeetingFactory(committee=meeting.committee, status="draft")
        MeetingFactory(committee=other_committee)
        cancelled = MeetingFactory(committee=meeting.committee, status="cancelled")
        body = client_for(pe_delegate).get("/api/v1/meetings/").json()
        assert {m["id"] for m in body["results"]} == {str(meeting.pk), str(cancelled.pk)}

    def test_a_caseworker_sees_none(self, client_for, pe_caseworker, meeting):
        body = client_for(pe_caseworker).get("/api/v1/meetings/").json()
        assert body["results"] == []

    def test_it_filters_by_status_and_start(self, client_for, secretariat, meeting):
        held = MeetingFactory(committee=meeting.committee, status="held",
                              starts_at=timezone.now() - datetime.timedelta(days=40))
        client = client_for(secretariat)
        assert [m["id"] for m in client.get("/api/v1/meetings/?status=held").json()["results"]] == [str(held.pk)]
        since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
        found = client.get("/api/v1/meetings/", {"starts_after": since}).json()["results"]
        assert [m["id"] for m in found] == [str(meeting.pk)]

    def test_the_number_of_queries_does_not_grow_with_the_meetings(self, client_for, secretariat, committee,
                                                                   django_assert_num_queries):
        client = client_for(secretariat)
        MeetingFactory(committee=committee)
        client.get("/api/v1/meetings/")  # warm the token's last-used stamp
        with django_assert_num_queries(2) as few:  # the token remembered
            client.get("/api/v1/meetings/")
        for _ in range(5):
            MeetingFactory(committee=committee)
        with django_assert_num_queries(len(few.captured_queries)):
            response = client.get("/api/v1/meetings/")
        assert len(response.json()["results"]) == 6


@pytest.mark.django_db
class TestMeetingCreate:
    def test_it_creates_a_draft(self, client_for, secretariat, committee):
        response = client_for(secretariat).post("/api/v1/meetings/", {
            "committee": str(committee.pk), "title": "III Sesión ordinaria",
            "starts_at": "2027-03-02T10:00:00-03:00", "ends_at": "2027-03-02T13:00:00-03:00",
            "time_zone": "America/Santiago", "mode": "hybrid", "place": "Gobernación de Arica",
            "video_link": "https://meet.example.org/comite"}, format="json")
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["status"] == "draft" and body["sequence"] == 0 and body["version"] == 1
        assert response["ETag"] == etag_for(Meeting.objects.get(pk=response.json()["id"]))
        meeting = Meeting.objects.get(pk=body["id"])
        assert meeting.starts_at == datetime.datetime(2027, 3, 2, 13, 0, tzinfo=datetime.UTC)
        assert HistoryEntry.objects.filter(action="meeting_created", object_id=str(meeting.pk)).exists()
        assert not Event.objects.exists()  # a draft is announced to nobody

    def test_it_refuses_an_end_before_the_start(self, client_for, secretariat, committee):
        response = client_for(secretariat).post("/api/v1/meetings/", {
            "committee": str(committee.pk), "title": "x", "starts_at": "2027-03-02T10:00:00-05:00",
            "ends_at": "2027-03-02T09:00:00-05:00"}, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "ends_before_start"
        assert response.json()["errors"][0]["field"] == "ends_at"
        assert not Meeting.objects.exists()

    def test_its_time_zones_are_the_ones_the_schema_lists(self, client_for, secretariat, committee):
        from tests.openapi import published_schema

        schema = published_schema()["components"]["schemas"]
        zone = schema["MeetingCreateRequest"]["properties"]["time_zone"]["allOf"][0]["$ref"].rsplit("/", 1)[-1]
        assert "America/Coyhaique" in schema[zone]["enum"] and "America/Tacna" not in schema[zone]["enum"]
        response = client_for(secretariat).post("/api/v1/meetings/", {
            "committee": str(committee.pk), "title": "Mesa en Aysén", "starts_at": "2027-03-02T10:00:00-03:00",
            "ends_at": "2027-03-02T11:00:00-03:00", "time_zone": "America/Coyhaique"}, format="json")
        assert response.status_code == 201, response.content
        assert Meeting.objects.get().time_zone == "America/Coyhaique"

    def test_it_refuses_an_unknown_time_zone(self, client_for, secretariat, committee):
        response = client_for(secretariat).post("/api/v1/meetings/", {
            "committee": str(committee.pk), "title": "x", "starts_at": "2027-03-02T10:00:00-05:00",
            "ends_at": "2027-03-02T11:00:00-05:00", "time_zone": "America/Tacna"}, format="json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "time_zone"
        assert not Meeting.objects.exists()


@pytest.mark.django_db
class TestMeetingDetail:
    def test_it_carries_an_etag_and_the_quorum(self, client_for, pe_delegate, meeting):
        response = client_for(pe_delegate).get(_url(meeting))
        assert response.status_code == 200
        assert response["ETag"] == etag_for(meeting)
        assert response.json()["quorum"] == {"reached": False, "required": {"PE": 1, "CL": 1, "INT": 0},
                                             "present": {"PE": 0, "CL": 0, "INT": 0}}

    def test_moving_a_scheduled_meeting_bumps_its_calendar_sequence(self, client_for, secretariat, meeting):
        new_start = meeting.starts_at + datetime.timedelta(days=1)
        response = client_for(secretariat).patch(_url(meeting), {
            "starts_at": new_start.isoformat(), "ends_at": (new_start + datetime.timedelta(hours=2)).isoformat()},
            format="json")
        assert response.status_code == 200
        meeting.refresh_from_db()
        assert (meeting.sequence, meeting.starts_at) == (1, new_start)
        assert response.json()["sequence"] == 1
        assert Event.objects.filter(type="meeting.scheduled", object_id=str(meeting.pk)).count() == 1

    def test_a_new_title_is_not_a_reschedule(self, client_for, secretariat, meeting):
        response = client_for(secretariat).patch(_url(meeting), {"title": "Sesión extraordinaria"}, format="json")
        assert response.status_code == 200
        meeting.refresh_from_db()
        assert (meeting.title, meeting.sequence, meeting.version) == ("Sesión extraordinaria", 0, 2)
        assert not Event.objects.exists()

    def test_a_stale_if_match_is_refused(self, client_for, secretariat, meeting):
        client = client_for(secretariat)
        etag = client.get(_url(meeting))["ETag"]
        assert client.patch(_url(meeting), {"title": "A"}, format="json", HTTP_IF_MATCH=etag).status_code == 200
        response = client.patch(_url(meeting), {"title": "B"}, format="json", HTTP_IF_MATCH=etag)
        assert response.status_code == 412
        assert response.json()["code"] == "precondition_failed"
        meeting.refresh_from_db()
        assert meeting.title == "A"

    def test_a_held_meeting_keeps_its_time(self, client_for, secretariat, meeting):
        Meeting.objects.filter(pk=meeting.pk).update(status="held")
        response = client_for(secretariat).patch(_url(meeting), {"place": "Arica"}, format="json")
        assert response.status_code == 409
        assert response.json()["code"] == "meeting_held"

    def test_an_unknown_meeting_is_404(self, client_for, secretariat):
        assert client_for(secretariat).get("/api/v1/meetings/00000000-0000-0000-0000-000000000000/").status_code == 404


@pytest.mark.django_db
class TestMeetingSchedule:
    def test_it_publishes_a_draft_and_invites_the_members(self, client_for, secretariat, committee, pe_delegate,
                                                          cl_delegate):
        MembershipFactory(committee=committee, user=UserFactory(username="oim.observer"), role="observer",
                          delegation="INT")
        draft = MeetingFactory(committee=committee, status="draft")
        response = client_for(secretariat).post(_url(draft, "schedule/"))
        assert response.status_code == 200
        assert response.json()["status"] == "scheduled"
        invited = {(a.user.username, a.delegation, a.status, a.counts_for_quorum)
                   for a in Attendance.objects.filter(meeting=draft).select_related("user")}
        assert invited == {("delegado", "PE", "invited", True), ("delegada.cl", "CL", "invited", True),
                           ("oim.observer", "INT", "invited", False)}
        assert Event.objects.filter(type="meeting.scheduled", object_id=str(draft.pk)).count() == 1

    def test_it_needs_a_place_for_an_in_person_meeting(self, client_for, secretariat, committee):
        draft = MeetingFactory(committee=committee, status="draft", place="")
        response = client_for(secretariat).post(_url(draft, "schedule/"))
        assert response.status_code == 400
        assert response.json()["code"] == "place_required"
        draft.refresh_from_db()
        assert draft.status == "draft"

    def test_it_schedules_only_drafts(self, client_for, secretariat, meeting):
        response = client_for(secretariat).post(_url(meeting, "schedule/"))
        assert response.status_code == 409
        assert response.json()["code"] == "not_draft"
        assert not Event.objects.exists()


@pytest.mark.django_db
class TestMeetingCancel:
    def test_it_cancels_with_a_reason(self, client_for, secretariat, meeting):
        response = client_for(secretariat).post(_url(meeting, "cancel/"), {"reason": "Cierre de frontera"},
                                                format="json")
        assert response.status_code == 200
        meeting.refresh_from_db()
        assert (meeting.status, meeting.sequence, meeting.cancellation_reason) == ("cancelled", 1,
                                                                                   "Cierre de frontera")
        assert Event.objects.filter(type="meeting.cancelled", object_id=str(meeting.pk)).count() == 1

    def test_a_reason_is_required(self, client_for, secretariat, meeting):
        response = client_for(secretariat).post(_url(meeting, "cancel/"), {"reason": ""}, format="json")
        assert response.status_code == 400
        meeting.refresh_from_db()
        assert meeting.status == "scheduled"

    def test_a_held_meeting_cannot_be_cancelled(self, client_for, secretariat, meeting):
        Meeting.objects.filter(pk=meeting.pk).update(status="held")
        response = client_for(secretariat).post(_url(meeting, "cancel/"), {"reason": "x"}, format="json")
        assert response.status_code == 409
        assert not Event.objects.exists()


@pytest.mark.django_db
class TestMeetingMarkHeld:
    def test_it_refuses_a_meeting_that_has_not_started(self, client_for, secretariat, meeting):
        response = client_for(secretariat).post(_url(meeting, "mark-held/"))
        assert response.status_code == 409
        assert response.json()["code"] == "not_started"
        meeting.refresh_from_db()
        assert meeting.status == "scheduled"

    def test_it_marks_a_started_meeting_held(self, client_for, secretariat, committee):
        started = MeetingFactory(committee=committee, starts_at=timezone.now() - datetime.timedelta(minutes=5))
        response = client_for(secretariat).post(_url(started, "mark-held/"))
        assert response.status_code == 200
        started.refresh_from_db()
        assert started.status == "held"


@pytest.mark.django_db
class TestCommittees:
    def test_a_member_lists_their_committees_with_members(self, client_for, pe_delegate, cl_delegate, committee,
                                                          other_committee):
        client = client_for(pe_delegate)
        listed = client.get("/api/v1/committees/").json()["results"]
        assert [c["code"] for c in listed] == ["binacional"]
        detail = client.get(f"/api/v1/committees/{committee.pk}/").json()
        assert detail["quorum"] == {"PE": 1, "CL": 1, "INT": 0}
        assert {(m["username"], m["role"], m["delegation"]) for m in detail["members"]} == {
            ("delegado", "chair", "PE"), ("delegada.cl", "member", "CL")}

    def test_a_caseworker_lists_none(self, client_for, pe_caseworker, committee):
        assert client_for(pe_caseworker).get("/api/v1/committees/").json()["results"] == []

    def test_the_secretariat_lists_all(self, client_for, secretariat, committee, other_committee):
        CommitteeFactory(code="mesa-salud", name="Mesa de salud")
        listed = client_for(secretariat).get("/api/v1/committees/").json()["results"]
        assert len(listed) == 3
