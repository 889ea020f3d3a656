"""Deadlines: ``is_overdue`` around the deadline, and the sweep that writes
``handoff.overdue`` once per (handoff, deadline)."""
import datetime

import pytest
import time_machine

from cases.models import Handoff
from cases.services import handoffs as services
from cases.tasks.handoffs import emit_overdue_handoffs
from outbox.models import Event

DUE = datetime.datetime(2026, 12, 4, 17, 0, tzinfo=datetime.UTC)  # 12:00 in Lima, 14:00 in Santiago
SECOND = datetime.timedelta(seconds=1)


def overdue_events(handoff):
    return Event.objects.filter(type="handoff.overdue", object_id=str(handoff.pk))


@pytest.mark.django_db
class TestIsOverdue:
    def test_it_turns_overdue_just_after_the_deadline(self, client_for, cl_caseworker, make_handoff):
        with time_machine.travel(DUE - datetime.timedelta(days=3), tick=False):
            handoff = make_handoff(response_due=DUE)
        client = client_for(cl_caseworker)
        for moment, overdue in ((DUE - SECOND, False), (DUE, False), (DUE + SECOND, True)):
            with time_machine.travel(moment, tick=False):
                assert Handoff.objects.get(pk=handoff.pk).is_overdue is overdue
                assert client.get(f"/api/v1/handoffs/{handoff.pk}/").json()["is_overdue"] is overdue
                listed = client.get("/api/v1/handoffs/", {"overdue": "true"}).json()["results"]
                assert [row["id"] for row in listed] == ([str(handoff.pk)] if overdue else [])

    @pytest.mark.parametrize("status", ["accepted", "rejected", "withdrawn", "completed"])
    def test_it_is_never_overdue_once_answered(self, client_for, cl_caseworker, make_handoff, status):
        with time_machine.travel(DUE - datetime.timedelta(days=3), tick=False):
            handoff = make_handoff(status=status, response_due=DUE)
        with time_machine.travel(DUE + datetime.timedelta(days=30), tick=False):
            assert client_for(cl_caseworker).get(f"/api/v1/handoffs/{handoff.pk}/").json()["is_overdue"] is False
            assert not Handoff.objects.overdue().exists()

    def test_it_can_still_be_answered_after_the_deadline(self, client_for, cl_caseworker, make_handoff):
        with time_machine.travel(DUE - datetime.timedelta(days=3), tick=False):
            handoff = make_handoff(response_due=DUE)
        with time_machine.travel(DUE + datetime.timedelta(hours=5), tick=False):
            response = client_for(cl_caseworker).post(f"/api/v1/handoffs/{handoff.pk}/accept/", {})
        assert response.status_code == 200
        assert response.json()["is_overdue"] is False


@pytest.mark.django_db
class TestEmitOverdueHandoffs:
    def test_it_emits_once_per_deadline(self, pe_caseworker, make_handoff):
        with time_machine.travel(DUE - datetime.timedelta(days=3), tick=False):
            handoff = make_handoff(response_due=DUE)
        with time_machine.travel(DUE - SECOND, tick=False):
            assert emit_overdue_handoffs() == 0
        assert not overdue_events(handoff).exists()
        with time_machine.travel(DUE + SECOND, tick=False):
            assert emit_overdue_handoffs() == 1
            assert emit_overdue_handoffs() == 0  # a second sweep, or a second beat
        with time_machine.travel(DUE + datetime.timedelta(hours=6), tick=False):
            assert emit_overdue_handoffs() == 0
        event = overdue_events(handoff).get()
        assert event.case_id == handoff.case_id
        assert set(event.agencies.values_list("code", flat=True)) == {"pe-migraciones", "cl-sermig"}
        handoff.refresh_from_db()
        assert handoff.overdue_emitted_for == DUE

    def test_it_emits_again_for_a_moved_deadline_that_passes(self, pe_caseworker, make_handoff):
        with time_machine.travel(DUE - datetime.timedelta(days=3), tick=False):
            handoff = make_handoff(response_due=DUE)
        with time_machine.travel(DUE + SECOND, tick=False):
            emit_overdue_handoffs()
            later = DUE + datetime.timedelta(days=2)
            services.handoff_reschedule(actor=pe_caseworker, handoff_id=handoff.pk, response_due=later)
            assert emit_overdue_handoffs() == 0  # the new deadline has not passed
        with time_machine.travel(later + SECOND, tick=False):
            assert emit_overdue_handoffs() == 1
            assert emit_overdue_handoffs() == 0
        assert overdue_events(handoff).count() == 2
        handoff.refresh_from_db()
        assert handoff.overdue_emitted_for == later

    def test_it_ignores_answered_handoffs(self, make_handoff):
        with time_machine.travel(DUE - datetime.timedelta(days=3), tick=False):
            answered = [make_handoff(status=status, response_due=DUE, kind="referral")
                        for status in ("accepted", "rejected", "withdrawn", "completed")]
        with time_machine.travel(DUE + datetime.timedelta(days=1), tick=False):
            assert emit_overdue_handoffs() == 0
        assert not Event.objects.filter(type="handoff.overdue").exists()
        assert all(Handoff.objects.get(pk=h.pk).overdue_emitted_for is None for h in answered)

    def test_it_does_not_touch_the_handoffs_updated_at(self, make_handoff):
        """Writing the event is bookkeeping, not a change partners must sync."""
        with time_machine.travel(DUE - datetime.timedelta(days=3), tick=False):
            handoff = make_handoff(response_due=DUE)
        with time_machine.travel(DUE + SECOND, tick=False):
            emit_overdue_handoffs()
        assert Handoff.objects.get(pk=handoff.pk).updated_at == handoff.updated_at

    def test_it_is_on_the_beat_schedule_every_minute(self, settings):
        entry = settings.CELERY_BEAT_SCHEDULE["handoffs-emit-overdue"]
        assert entry["task"] == emit_overdue_handoffs.name == "cases.tasks.handoffs.emit_overdue_handoffs"
        assert entry["schedule"] == 60.0
