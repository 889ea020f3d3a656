"""Meetings: 48 h before, every member of the committee, with the agenda
and the event attached; a rescheduled meeting; and the cancellation notice,
written by the cancellation itself and sent once."""
import datetime

import icalendar
import pytest
import time_machine
from django.db import transaction
from django.test import TestCase

from api_core.errors import Conflict
from committee.services import meeting_cancel, meeting_mark_held, meeting_update
from reminders import services as reminder_services
from reminders.models import Reminder, ReminderRule, ReminderStatus
from reminders.services import Outcome, reminder_rules_set_active, reminder_send
from tests.committee.factories import MembershipFactory
from tests.factories import UserFactory

from .conftest import DEADLINE, UTC, add_agenda, send, sweep_and_send, sweep_at
from .smtp import html_of, text_of

H = datetime.timedelta(hours=1)
S = datetime.timedelta(seconds=1)
MEETING = "meeting_start"
MEMBERS = ["delegado.pe@comite.example", "delegate.cl@comite.example"]


def calendar_of(message) -> icalendar.Calendar:
    attachment, = message.iter_attachments()
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename().endswith(".ics")
    return icalendar.Calendar.from_ical(attachment.get_content())


def utc_start(calendar, event) -> datetime.datetime:
    """DTSTART read through the VTIMEZONE the calendar itself carries."""
    tzid = event["DTSTART"].params["TZID"]
    zone = next(tz for tz in calendar.walk("VTIMEZONE") if tz["TZID"] == tzid).to_tz(lookup_tzid=False)
    return event["DTSTART"].dt.replace(tzinfo=None).replace(tzinfo=zone).astimezone(UTC)


@pytest.fixture
def cancel(secretariat, monkeypatch):
    """Cancel through the committee's service, as the API and the admin do;
    returns the reminder ids queued once the transaction committed."""
    queued = []
    monkeypatch.setattr(reminder_services, "queue_sends", queued.extend)

    def run(meeting, moment=DEADLINE - 24 * H, reason="Cierre del paso fronterizo"):
        with time_machine.travel(moment, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
            meeting_cancel(actor=secretariat, meeting=meeting, reason=reason)
        return queued

    return run


@pytest.mark.django_db
class TestMeetingReminder:
    def test_every_member_is_reminded_48_hours_before_and_not_a_second_earlier(self, rules, make_meeting, members):
        meeting = make_meeting()
        assert sweep_at(DEADLINE - 48 * H - S)[0].created == []
        result, queued = sweep_at(DEADLINE - 48 * H)
        reminders = Reminder.objects.order_by("pk")
        assert result.created == queued == [r.pk for r in reminders]
        assert [(r.recipient_user, r.email) for r in reminders] == [(user, user.email) for user in members]
        assert {(r.rule, r.target_id, r.deadline, r.due_at, r.target_label) for r in reminders} == {
            (rules[(MEETING, "before")], meeting.pk.hex, DEADLINE, DEADLINE - 48 * H, "II Sesión ordinaria")}
        for moment in (DEADLINE - 47 * H, DEADLINE, DEADLINE + 48 * H):
            assert sweep_at(moment)[0].created == []
        assert Reminder.objects.count() == 2

    def test_only_active_members_of_that_committee_are_reminded(self, rules, make_meeting, members, committee,
                                                                other_members):
        gone = UserFactory(username="ex.delegado", is_active=False)
        MembershipFactory(committee=committee, user=gone)
        make_meeting()
        sweep_at(DEADLINE - 48 * H)
        assert set(Reminder.objects.values_list("email", flat=True)) == set(MEMBERS)

    @pytest.mark.parametrize("status", ["draft", "held", "cancelled"])
    def test_a_meeting_that_is_not_scheduled_gets_none(self, rules, make_meeting, status):
        make_meeting(status=status)
        assert sweep_at(DEADLINE - 48 * H)[0].created == []
        assert not Reminder.objects.exists()

    def test_a_reminder_for_a_meeting_cancelled_since_is_skipped(self, rules, make_meeting, smtp, cancel):
        meeting = make_meeting()
        written = sweep_at(DEADLINE - 48 * H)[0].created
        cancel(meeting, DEADLINE - 48 * H)
        for reminder in Reminder.objects.filter(pk__in=written):
            assert send(reminder, DEADLINE - 48 * H).outcome == Outcome.SKIPPED
            assert (reminder.status, reminder.last_error) == (ReminderStatus.SKIPPED, "target no longer open")
        assert smtp.attempts == 0

    def test_a_rescheduled_meeting_gets_fresh_reminders_and_the_old_ones_are_skipped(
            self, rules, make_meeting, members, secretariat, smtp):
        meeting = make_meeting()
        old = list(Reminder.objects.filter(pk__in=sweep_at(DEADLINE - 48 * H)[0].created))
        new_start = DEADLINE + 24 * H
        with time_machine.travel(DEADLINE - 47 * H, tick=False):
            meeting_update(actor=secretariat, meeting=meeting,
                           changes={"starts_at": new_start, "ends_at": new_start + 2 * H})
        for reminder in old:
            assert send(reminder, DEADLINE - 47 * H).outcome == Outcome.SKIPPED
            assert reminder.last_error == "deadline moved"
        assert smtp.messages == []
        assert sweep_at(new_start - 48 * H - S)[0].created == []
        fresh = sweep_and_send(new_start - 48 * H)
        assert {(r.deadline, r.status) for r in fresh} == {(new_start, ReminderStatus.SENT)}
        assert sorted(m["To"] for m in smtp.messages) == sorted(MEMBERS)
        event = calendar_of(smtp.messages[0]).events[0]
        assert event["SEQUENCE"] == 1  # calendar apps replace the old time
        assert "jueves 19 de marzo de 2026, 10:00 America/Lima" in text_of(smtp.to(MEMBERS[0])[0])

    def test_a_reminder_still_waiting_when_the_meeting_is_held_is_skipped(self, rules, make_meeting, secretariat, smtp):
        meeting = make_meeting()
        reminder = Reminder.objects.filter(pk__in=sweep_at(DEADLINE - 48 * H)[0].created).first()
        with time_machine.travel(DEADLINE + H, tick=False):
            meeting_mark_held(actor=secretariat, meeting=meeting)
        assert send(reminder, DEADLINE + H).outcome == Outcome.SKIPPED
        assert smtp.attempts == 0


@pytest.mark.django_db
class TestMeetingEmail:
    def test_it_gives_date_time_place_and_agenda_in_each_members_language_and_zone(
            self, rules, make_meeting, members, case_on_agenda, smtp):
        meeting = make_meeting(time_zone="America/Lima")
        add_agenda(meeting, case_on_agenda)
        sweep_and_send(DEADLINE - 48 * H)
        spanish, = smtp.to(MEMBERS[0])
        english, = smtp.to(MEMBERS[1])
        assert spanish["Subject"].strip() == "Reunión el 18 mar 2026, 10:00 America/Lima (UTC-05:00): II Sesión ordinaria"  # noqa: E501
        assert english["Subject"].strip() == (
            "Meeting 18 Mar 2026, 12:00 America/Santiago (UTC-03:00): II Sesión ordinaria")
        assert (spanish["Content-Language"], english["Content-Language"]) == ("es", "en")
        text = text_of(english)
        reference = case_on_agenda.reference
        for line in ("Comité Binacional Perú–Chile meets: II Sesión ordinaria.",
                     "When: Wednesday 18 March 2026, 12:00 America/Santiago (UTC-03:00), until 14:00",
                     "At the meeting's place: Wednesday 18 March 2026, 10:00 America/Lima (UTC-05:00)",
                     "Format: In person",
                     "Place: Gobierno Regional de Tacna, sala de sesiones",
                     "1. Aprobación del acta de la I Sesión",
                     f"2. Case {reference} (Case review)",
                     "3. Albergue temporal en Tacna",
                     "The meeting is attached as a calendar event (.ics).",
                     f"https://puente.example.org/api/v1/meetings/{meeting.pk}/",
                     f"https://puente.example.org/admin/committee/meeting/{meeting.pk}/change/",
                     "You receive this as a member of Comité Binacional Perú–Chile."):
            assert line in text
        texto = text_of(spanish)
        for line in ("Se reúne Comité Binacional Perú–Chile: II Sesión ordinaria.",
                     "Cuándo: miércoles 18 de marzo de 2026, 10:00 America/Lima (UTC-05:00), hasta las 12:00",
                     "Modalidad: Presencial",
                     f"2. Caso {reference} (Revisión de caso)",
                     "Recibe este mensaje como integrante de Comité Binacional Perú–Chile."):
            assert line in texto
        assert "En el lugar de la reunión" not in texto  # the reader's zone is the meeting's
        html = html_of(english)
        assert '<li value="2">Case ' in html and "12:00 America/Santiago (UTC-03:00)" in html

    def test_an_online_meeting_gives_its_video_link(self, rules, make_meeting, members, smtp):
        make_meeting(mode="online", place="", video_link="https://video.example.org/comite-ii")
        sweep_and_send(DEADLINE - 48 * H)
        message = smtp.to(MEMBERS[1])[0]
        assert "Video link: https://video.example.org/comite-ii" in text_of(message)
        assert "Place:" not in text_of(message)
        assert '<a href="https://video.example.org/comite-ii">' in html_of(message)
        assert "Format: Online" in text_of(message)

    def test_an_empty_agenda_says_so(self, rules, make_meeting, members, smtp):
        make_meeting()
        sweep_and_send(DEADLINE - 48 * H)
        assert "El orden del día aún no está fijado." in text_of(smtp.to(MEMBERS[0])[0])

    def test_the_attached_event_is_the_meetings(self, rules, make_meeting, members, smtp):
        meeting = make_meeting(time_zone="America/Santiago")
        sweep_and_send(DEADLINE - 48 * H)
        for message in smtp.messages:
            calendar = calendar_of(message)
            assert str(calendar["METHOD"]) == "PUBLISH"
            event, = calendar.events
            assert str(event["UID"]) == f"meeting-{meeting.pk}@puente"
            assert (event["SEQUENCE"], str(event["STATUS"])) == (0, "CONFIRMED")
            assert event["DTSTART"].params["TZID"] == "America/Santiago"
            assert event["DTSTART"].dt.replace(tzinfo=None) == datetime.datetime(2026, 3, 18, 12, 0)
            assert utc_start(calendar, event) == DEADLINE

    @pytest.mark.parametrize("start, santiago, lima, there", [
        # A Santiago meeting on Monday 6 April (winter time), reminded on 4 April (summer time).
        (datetime.datetime(2026, 4, 6, 13, tzinfo=UTC), "Monday 6 April 2026, 09:00 America/Santiago (UTC-04:00)",
         "lunes 6 de abril de 2026, 08:00 America/Lima (UTC-05:00)",
         "lunes 6 de abril de 2026, 09:00 America/Santiago (UTC-04:00)"),
        # On Monday 7 September (summer time), reminded on 5 September (winter time).
        (datetime.datetime(2026, 9, 7, 13, tzinfo=UTC),
         "Monday 7 September 2026, 10:00 America/Santiago (UTC-03:00)",
         "lunes 7 de septiembre de 2026, 08:00 America/Lima (UTC-05:00)",
         "lunes 7 de septiembre de 2026, 10:00 America/Santiago (UTC-03:00)"),
    ])
    def test_lima_and_santiago_members_across_chiles_clock_change(self, rules, make_meeting, members, smtp,
                                                                  start, santiago, lima, there):
        meeting = make_meeting(starts_at=start, time_zone="America/Santiago")
        assert sweep_and_send(start - 48 * H - S) == []
        assert len(sweep_and_send(start - 48 * H)) == 2
        english, = smtp.to(MEMBERS[1])
        spanish, = smtp.to(MEMBERS[0])
        assert f"When: {santiago}, until" in text_of(english)
        assert "At the meeting's place" not in text_of(english)
        assert f"Cuándo: {lima}, hasta las" in text_of(spanish)
        assert f"En el lugar de la reunión: {there}" in text_of(spanish)
        calendar = calendar_of(english)
        assert utc_start(calendar, calendar.events[0]) == meeting.starts_at


@pytest.mark.django_db
class TestCancellationNotice:
    def test_cancelling_writes_one_notice_per_member_and_queues_them_on_commit(
            self, rules, make_meeting, members, cancel, smtp):
        meeting = make_meeting()
        queued = cancel(meeting)
        notices = Reminder.objects.filter(deadline_kind="meeting_cancelled").order_by("pk")
        assert queued == [n.pk for n in notices]
        meeting.refresh_from_db()
        assert [(n.recipient_user, n.status) for n in notices] == [(user, ReminderStatus.PENDING) for user in members]
        assert {(n.rule, n.target_id, n.deadline, n.due_at) for n in notices} == {
            (rules[("meeting_cancelled", "at")], meeting.pk.hex, meeting.cancelled_at, meeting.cancelled_at)}
        assert smtp.attempts == 0  # nothing is sent inside the cancellation
        assert [send(n, DEADLINE - 24 * H).outcome for n in notices] == [Outcome.SENT, Outcome.SENT]
        assert sorted(m["To"] for m in smtp.messages) == sorted(MEMBERS)

    def test_the_notice_goes_out_once(self, rules, make_meeting, members, cancel, smtp, secretaries):
        meeting = make_meeting()
        cancel(meeting)
        for notice in Reminder.objects.all():
            send(notice, DEADLINE - 24 * H)
            assert send(notice, DEADLINE - 24 * H).outcome == Outcome.NOT_CLAIMED
        for moment in (DEADLINE - 24 * H, DEADLINE - 23 * H, DEADLINE - 48 * H, DEADLINE):
            assert sweep_at(moment)[0].created == []  # sweeps never write notices, nor reminders of it
        again = reminder_services.reminders_write_for_target(
            deadline_kind="meeting_cancelled", target_id=meeting.pk, enqueue=lambda ids: None)
        assert again == []
        assert Reminder.objects.count() == 2 and len(smtp.messages) == 2

    def test_it_says_what_was_cancelled_in_each_members_language_and_zone(self, rules, make_meeting, members,
                                                                         cancel, smtp):
        meeting = make_meeting(time_zone="America/Lima")
        cancel(meeting)
        for notice in Reminder.objects.all():
            send(notice, DEADLINE - 24 * H)
        spanish, = smtp.to(MEMBERS[0])
        english, = smtp.to(MEMBERS[1])
        assert spanish["Subject"].strip() == "Cancelada: II Sesión ordinaria, 18 mar 2026, 10:00 America/Lima (UTC-05:00)"  # noqa: E501
        assert english["Subject"].strip() == (
            "Cancelled: II Sesión ordinaria, 18 Mar 2026, 12:00 America/Santiago (UTC-03:00)")
        assert ("The meeting “II Sesión ordinaria” of Comité Binacional Perú–Chile, planned for Wednesday "
                "18 March 2026, 12:00 America/Santiago (UTC-03:00), has been cancelled.") in text_of(english)
        assert "At the meeting's place: Wednesday 18 March 2026, 10:00 America/Lima (UTC-05:00)" in text_of(english)
        assert "Reason: Cierre del paso fronterizo" in text_of(english)
        assert ("La reunión «II Sesión ordinaria» de Comité Binacional Perú–Chile, prevista para el miércoles "
                "18 de marzo de 2026, 10:00 America/Lima (UTC-05:00), ha sido cancelada.") in text_of(spanish)
        assert "Motivo: Cierre del paso fronterizo" in text_of(spanish)
        assert f"https://puente.example.org/api/v1/meetings/{meeting.pk}/" in html_of(spanish)

    def test_its_event_cancels_the_one_in_the_calendar(self, rules, make_meeting, members, cancel, smtp):
        meeting = make_meeting()
        cancel(meeting)
        for notice in Reminder.objects.all():
            send(notice, DEADLINE - 24 * H)
        calendar = calendar_of(smtp.messages[0])
        assert str(calendar["METHOD"]) == "CANCEL"
        event, = calendar.events
        assert str(event["UID"]) == f"meeting-{meeting.pk}@puente"
        assert (event["SEQUENCE"], str(event["STATUS"])) == (1, "CANCELLED")
        assert utc_start(calendar, event) == DEADLINE

    def test_a_rescheduled_then_cancelled_meeting_carries_the_latest_sequence(self, rules, make_meeting, members,
                                                                             secretariat, cancel, smtp):
        meeting = make_meeting()
        meeting_update(actor=secretariat, meeting=meeting, changes={"place": "Municipalidad de Arica"})
        cancel(meeting)
        send(Reminder.objects.first(), DEADLINE - 24 * H)
        assert calendar_of(smtp.messages[0]).events[0]["SEQUENCE"] == 2

    def test_a_cancellation_rolled_back_leaves_no_notice(self, rules, make_meeting, members, secretariat,
                                                         monkeypatch, smtp):
        """The notices are written in the cancellation's transaction: they go where it goes."""
        queued = []
        monkeypatch.setattr(reminder_services, "queue_sends", queued.extend)
        meeting = make_meeting()
        with (time_machine.travel(DEADLINE - 24 * H, tick=False), TestCase.captureOnCommitCallbacks(execute=True),
              pytest.raises(RuntimeError), transaction.atomic()):
            meeting_cancel(actor=secretariat, meeting=meeting, reason="Cierre del paso fronterizo")
            assert Reminder.objects.filter(deadline_kind="meeting_cancelled").count() == 2
            raise RuntimeError("the surrounding transaction fails")
        meeting.refresh_from_db()
        assert meeting.status == "scheduled"
        assert not Reminder.objects.exists() and queued == [] and smtp.attempts == 0

    def test_a_draft_cancelled_sends_nothing(self, rules, make_meeting, members, cancel):
        """Members never saw a draft: it cannot be cancelled (it is deleted), and nothing is sent."""
        meeting = make_meeting(status="draft")
        with pytest.raises(Conflict):
            cancel(meeting)
        assert not Reminder.objects.exists()

    def test_a_paused_notice_rule_writes_nothing(self, rules, make_meeting, members, cancel):
        reminder_rules_set_active(rule_ids=[rules[("meeting_cancelled", "at")].pk], active=False)
        assert cancel(make_meeting()) == []
        assert not Reminder.objects.exists()

    def test_the_secretariat_is_told_too_when_a_rule_says_so(self, rules, make_meeting, members, secretaries,
                                                             cancel, secretariat):
        ReminderRule.objects.create(deadline_kind="meeting_cancelled", timing="at", recipients="secretariat")
        cancel(make_meeting())
        assert set(Reminder.objects.values_list("recipient_user", flat=True)) == {
            user.pk for user in [*members, *secretaries, secretariat]}


@pytest.mark.django_db
class TestCancellationThroughTheApi:
    def test_the_request_queues_the_notices_and_sends_nothing(self, rules, make_meeting, members, client_for,
                                                              secretariat, smtp, monkeypatch,
                                                              django_capture_on_commit_callbacks):
        queued = []
        monkeypatch.setattr(reminder_services, "queue_sends", queued.extend)
        meeting = make_meeting()
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = client_for(secretariat).post(f"/api/v1/meetings/{meeting.pk}/cancel/",
                                                    {"reason": "Paro de transportistas"}, format="json")
        assert response.status_code == 200, response.content
        assert smtp.attempts == 0 and queued == []  # nothing sent, nothing queued before the commit
        for callback in callbacks:
            callback()
        notices = list(Reminder.objects.filter(deadline_kind="meeting_cancelled"))
        assert sorted(queued) == sorted(n.pk for n in notices) and len(notices) == 2
        assert {reminder_send(reminder_id=pk).outcome for pk in queued} == {Outcome.SENT}
        assert sorted(m["To"] for m in smtp.messages) == sorted(MEMBERS)
        assert client_for(secretariat).post(f"/api/v1/meetings/{meeting.pk}/cancel/", {"reason": "Otra vez"},
                                            format="json").status_code == 409
        assert Reminder.objects.count() == 2


@pytest.fixture
def other_members(db):
    """A member of another committee only."""
    user = UserFactory(username="delegado.otro", email="delegado.otro@comite.example")
    MembershipFactory(user=user)
    return [user]
