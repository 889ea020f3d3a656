import datetime

import pytest
from django.utils import timezone

from committee.models import Attendance, Meeting
from committee.selectors import quorum_of
from tests.factories import UserFactory

from .factories import AgendaItemFactory, AttendanceFactory, MembershipFactory


@pytest.fixture
def held(meeting):
    Meeting.objects.filter(pk=meeting.pk).update(status="held", starts_at=timezone.now() - datetime.timedelta(days=1),
                                                 ends_at=timezone.now() - datetime.timedelta(hours=22))
    meeting.refresh_from_db()
    return meeting


def _patch_minutes(client, meeting, text):
    return client.patch(f"/api/v1/meetings/{meeting.pk}/", {"minutes": text}, format="json")


@pytest.mark.django_db
class TestMinutes:
    def test_draft_minutes_are_written_and_read_by_the_secretariat_only(self, client_for, secretariat, pe_delegate,
                                                                        held):
        response = _patch_minutes(client_for(secretariat), held, "Se instala la sesión con quórum.")
        assert response.status_code == 200
        assert response.json()["minutes"] == "Se instala la sesión con quórum."
        member_view = client_for(pe_delegate).get(f"/api/v1/meetings/{held.pk}/").json()
        assert (member_view["minutes"], member_view["minutes_status"]) == (None, "draft")

    def test_circulated_minutes_are_read_by_members_and_no_longer_edited(self, client_for, secretariat, pe_delegate,
                                                                         held):
        client = client_for(secretariat)
        _patch_minutes(client, held, "Acta de la sesión.")
        response = client.post(f"/api/v1/meetings/{held.pk}/minutes/circulate/")
        assert response.status_code == 200
        assert response.json()["minutes_status"] == "circulated"
        assert client_for(pe_delegate).get(f"/api/v1/meetings/{held.pk}/").json()["minutes"] == "Acta de la sesión."
        edit = _patch_minutes(client, held, "Otra cosa")
        assert edit.status_code == 409
        assert edit.json()["code"] == "minutes_circulated"
        held.refresh_from_db()
        assert held.minutes == "Acta de la sesión."

    def test_approved_minutes_are_locked(self, client_for, secretariat, held):
        client = client_for(secretariat)
        _patch_minutes(client, held, "Acta.")
        client.post(f"/api/v1/meetings/{held.pk}/minutes/circulate/")
        response = client.post(f"/api/v1/meetings/{held.pk}/minutes/approve/")
        assert response.status_code == 200
        held.refresh_from_db()
        assert (held.minutes_status, held.minutes_approved_by) == ("approved", secretariat)
        assert held.minutes_approved_at is not None
        for attempt in (_patch_minutes(client, held, "Cambio"),
                        client.post(f"/api/v1/meetings/{held.pk}/minutes/approve/")):
            assert attempt.status_code == 409
            assert attempt.json()["code"] == "minutes_approved"
        held.refresh_from_db()
        assert held.minutes == "Acta."

    def test_approved_minutes_lock_the_agenda_decisions_and_attendance(self, client_for, secretariat, held):
        item = AgendaItemFactory(meeting=held)
        Meeting.objects.filter(pk=held.pk).update(minutes="Acta.", minutes_status="approved",
                                                  minutes_approved_at=timezone.now())
        client = client_for(secretariat)
        attempts = [
            client.post(f"/api/v1/meetings/{held.pk}/agenda-items/", {"title": "x"}, format="json"),
            client.patch(f"/api/v1/agenda-items/{item.pk}/", {"title": "x"}, format="json"),
            client.delete(f"/api/v1/agenda-items/{item.pk}/"),
            client.post(f"/api/v1/meetings/{held.pk}/agenda-items/reorder/", {"order": [str(item.pk)]},
                        format="json"),
            client.post(f"/api/v1/agenda-items/{item.pk}/decisions/", {"text": "x", "outcome": "noted"},
                        format="json"),
            client.put(f"/api/v1/meetings/{held.pk}/attendance/", {"attendance": []}, format="json"),
        ]
        assert [a.status_code for a in attempts] == [409] * 6
        item.refresh_from_db()
        assert item.title != "x" and not item.decisions.exists()
        assert held.agenda_items.count() == 1
        held.refresh_from_db()
        assert not Attendance.objects.exists() and held.version == 1

    def test_minutes_are_circulated_only_after_the_meeting(self, client_for, secretariat, meeting):
        client = client_for(secretariat)
        _patch_minutes(client, meeting, "Borrador previo.")
        response = client.post(f"/api/v1/meetings/{meeting.pk}/minutes/circulate/")
        assert response.status_code == 409
        assert response.json()["code"] == "meeting_not_held"

    def test_empty_minutes_are_not_circulated(self, client_for, secretariat, held):
        response = client_for(secretariat).post(f"/api/v1/meetings/{held.pk}/minutes/circulate/")
        assert response.status_code == 400
        assert response.json()["code"] == "minutes_empty"
        held.refresh_from_db()
        assert held.minutes_status == "draft"

    def test_draft_minutes_are_not_approved(self, client_for, secretariat, held):
        _patch_minutes(client_for(secretariat), held, "Acta.")
        response = client_for(secretariat).post(f"/api/v1/meetings/{held.pk}/minutes/approve/")
        assert response.status_code == 409
        assert response.json()["code"] == "minutes_not_circulated"


@pytest.mark.django_db
class TestDecisions:
    def test_a_decision_records_each_delegations_position(self, client_for, secretariat, pe_delegate, meeting):
        item = AgendaItemFactory(meeting=meeting)
        response = client_for(secretariat).post(f"/api/v1/agenda-items/{item.pk}/decisions/", {
            "text": "Se acuerda una ventanilla binacional en Chacalluta.", "outcome": "adopted",
            "positions": {"PE": "in_favour", "CL": "reserved"}}, format="json")
        assert response.status_code == 201
        body = client_for(pe_delegate).get(f"/api/v1/decisions/{response.json()['id']}/").json()
        assert body["positions"] == {"PE": "in_favour", "CL": "reserved", "INT": ""}
        assert body["meeting"] == str(meeting.pk)
        item.refresh_from_db()
        assert item.status == "discussed"

    def test_an_unknown_position_is_refused(self, client_for, secretariat, meeting):
        item = AgendaItemFactory(meeting=meeting)
        response = client_for(secretariat).post(f"/api/v1/agenda-items/{item.pk}/decisions/", {
            "text": "x", "outcome": "adopted", "positions": {"PE": "maybe"}}, format="json")
        assert response.status_code == 400
        assert not item.decisions.exists()


@pytest.mark.django_db
class TestAttendance:
    def _put(self, client, meeting, entries, **headers):
        return client.put(f"/api/v1/meetings/{meeting.pk}/attendance/", {"attendance": entries}, format="json",
                          **headers)

    def test_one_present_member_of_each_delegation_makes_the_quorum(self, client_for, secretariat, pe_delegate,
                                                                    cl_delegate, meeting):
        response = self._put(client_for(secretariat), meeting, [
            {"user": "delegado", "status": "present"}, {"user": "delegada.cl", "status": "present"}])
        assert response.status_code == 200
        assert response.json()["quorum"] == {"reached": True, "required": {"PE": 1, "CL": 1, "INT": 0},
                                             "present": {"PE": 1, "CL": 1, "INT": 0}}
        assert client_for(pe_delegate).get(f"/api/v1/meetings/{meeting.pk}/").json()["quorum"]["reached"] is True
        assert set(Attendance.objects.filter(meeting=meeting).values_list("user__username", "delegation", "status")) \
            == {("delegado", "PE", "present"), ("delegada.cl", "CL", "present")}

    def test_a_missing_delegation_means_no_quorum(self, client_for, secretariat, pe_delegate, cl_delegate, meeting):
        response = self._put(client_for(secretariat), meeting, [
            {"user": "delegado", "status": "present"}, {"user": "delegada.cl", "status": "excused"}])
        assert response.json()["quorum"]["reached"] is False

    def test_observers_secretaries_and_guests_do_not_count(self, client_for, secretariat, committee, pe_delegate,
                                                           meeting):
        observer = UserFactory(username="observador.cl")
        MembershipFactory(committee=committee, user=observer, role="observer", delegation="CL")
        clerk = UserFactory(username="secretario.cl")
        MembershipFactory(committee=committee, user=clerk, role="secretary", delegation="CL")
        UserFactory(username="invitado.cl")
        response = self._put(client_for(secretariat), meeting, [
            {"user": "delegado", "status": "present"}, {"user": "observador.cl", "status": "present"},
            {"user": "secretario.cl", "status": "present"},
            {"user": "invitado.cl", "status": "present", "delegation": "CL"}])
        assert response.status_code == 200
        assert response.json()["quorum"]["present"] == {"PE": 1, "CL": 0, "INT": 0}
        assert response.json()["quorum"]["reached"] is False

    def test_the_committee_sets_its_own_rule(self, committee, pe_delegate, cl_delegate, meeting, client_for,
                                             secretariat):
        committee.quorum_int = 1
        committee.quorum_cl = 2
        committee.save()
        response = self._put(client_for(secretariat), meeting, [
            {"user": "delegado", "status": "present"}, {"user": "delegada.cl", "status": "present"}])
        assert response.json()["quorum"]["required"] == {"PE": 1, "CL": 2, "INT": 1}
        assert response.json()["quorum"]["reached"] is False

    def test_the_quorum_of_a_held_meeting_survives_a_change_of_role(self, committee, pe_delegate, cl_delegate,
                                                                    meeting):
        AttendanceFactory(meeting=meeting, user=pe_delegate, delegation="PE")
        AttendanceFactory(meeting=meeting, user=cl_delegate, delegation="CL")
        committee.memberships.filter(user=cl_delegate).update(role="observer")
        assert quorum_of(meeting)["reached"] is True

    def test_a_guest_needs_a_delegation(self, client_for, secretariat, meeting):
        UserFactory(username="invitado")
        response = self._put(client_for(secretariat), meeting, [{"user": "invitado", "status": "present"}])
        assert response.status_code == 400
        assert response.json()["code"] == "delegation_required"
        assert not Attendance.objects.exists()

    def test_a_person_appears_once(self, client_for, secretariat, pe_delegate, meeting):
        AttendanceFactory(meeting=meeting, user=pe_delegate, status="invited")
        response = self._put(client_for(secretariat), meeting, [
            {"user": "delegado", "status": "present"}, {"user": "delegado", "status": "absent"}])
        assert response.status_code == 400
        assert response.json()["code"] == "duplicate_user"
        assert list(Attendance.objects.values_list("status", flat=True)) == ["invited"]

    def test_a_stale_if_match_is_refused(self, client_for, secretariat, pe_delegate, meeting):
        client = client_for(secretariat)
        etag = client.get(f"/api/v1/meetings/{meeting.pk}/attendance/")["ETag"]
        assert self._put(client, meeting, [{"user": "delegado", "status": "confirmed"}],
                         HTTP_IF_MATCH=etag).status_code == 200
        response = self._put(client, meeting, [{"user": "delegado", "status": "absent"}], HTTP_IF_MATCH=etag)
        assert response.status_code == 412
        assert list(Attendance.objects.values_list("status", flat=True)) == ["confirmed"]

    def test_a_member_reads_the_attendance(self, client_for, pe_delegate, cl_delegate, meeting):
        AttendanceFactory(meeting=meeting, user=pe_delegate, delegation="PE")
        response = client_for(cl_delegate).get(f"/api/v1/meetings/{meeting.pk}/attendance/")
        assert response.status_code == 200
        assert response.json()["attendance"] == [{"username": "delegado", "name": "", "delegation": "PE",
                                                  "status": "present", "counts_for_quorum": True}]


@pytest.mark.django_db
class TestTheMeetingRecordLock:
    """One rule says which meeting fields can no longer change; the API and the admin both follow it."""

    @pytest.fixture
    def approved(self, held):
        Meeting.objects.filter(pk=held.pk).update(minutes="Acta.", minutes_status="approved",
                                                  minutes_approved_at=timezone.now())
        held.refresh_from_db()
        return held

    def test_the_api_refuses_a_new_title(self, client_for, secretariat, approved):
        response = client_for(secretariat).patch(f"/api/v1/meetings/{approved.pk}/", {"title": "Otro título"},
                                                 format="json")
        assert response.status_code == 409, response.content
        assert response.json()["code"] == "minutes_approved"
        approved.refresh_from_db()
        assert approved.title != "Otro título" and approved.version == 1

    def test_the_admin_shows_the_same_fields_read_only(self, rf, secretariat, approved):
        from django.contrib.admin.sites import site

        from committee.services import meeting_locked_fields

        request = rf.get("/")
        request.user = secretariat
        readonly = set(site._registry[Meeting].get_readonly_fields(request, approved))
        assert set(meeting_locked_fields(approved)) <= readonly
        assert {"title", "minutes", "starts_at", "place"} <= set(meeting_locked_fields(approved))
