"""Action items: 48 h before and at the due date to the assignee (or the
owner agency), 72 h after to the secretariat; a moved due date, a done or
cancelled item."""
import datetime

import pytest

from committee.services import action_item_cancel, action_item_complete, action_item_update
from reminders.models import Reminder, ReminderStatus
from reminders.services import Outcome

from .conftest import DEADLINE, send, sweep_and_send, sweep_at
from .smtp import html_of, text_of

H = datetime.timedelta(hours=1)
S = datetime.timedelta(seconds=1)
ACTION = "action_item_due"


@pytest.mark.django_db
class TestDefaultActionItemRules:
    def test_it_reminds_the_assignee_48_hours_before_and_not_a_second_earlier(self, rules, make_action_item,
                                                                              members):
        item = make_action_item(assignee=members[1])
        assert sweep_at(DEADLINE - 48 * H - S)[0].created == []
        result, queued = sweep_at(DEADLINE - 48 * H)
        reminder = Reminder.objects.get()
        assert result.created == queued == [reminder.pk]
        assert reminder.rule == rules[(ACTION, "before")]
        assert (reminder.target_id, reminder.deadline, reminder.due_at) == (item.pk.hex, DEADLINE, DEADLINE - 48 * H)
        assert (reminder.recipient_user, reminder.recipient_agency, reminder.email) == (
            members[1], None, "delegate.cl@comite.example")
        assert reminder.target_label == "Enviar el protocolo de recepción"
        assert sweep_at(DEADLINE - 47 * H)[0].created == []

    def test_it_reminds_the_assignee_at_the_due_time_and_only_then(self, rules, make_action_item, members):
        make_action_item(assignee=members[0])
        sweep_at(DEADLINE - 48 * H)
        assert sweep_at(DEADLINE - S)[0].created == []
        result, _ = sweep_at(DEADLINE)
        assert [Reminder.objects.get(pk=pk).rule for pk in result.created] == [rules[(ACTION, "at")]]
        assert sweep_at(DEADLINE + H)[0].created == []
        assert Reminder.objects.count() == 2

    def test_without_an_assignee_the_owner_agency_is_reminded(self, rules, make_action_item, lima_agency):
        make_action_item(assignee=None)
        sweep_at(DEADLINE - 48 * H)
        reminder = Reminder.objects.get()
        assert (reminder.recipient_agency, reminder.recipient_key, reminder.email) == (
            lima_agency, f"agency:{lima_agency.pk}", "upe@tacna.example")

    def test_an_inactive_assignee_falls_back_to_the_owner_agency(self, rules, make_action_item, members, lima_agency):
        members[1].is_active = False
        members[1].save()
        make_action_item(assignee=members[1])
        sweep_at(DEADLINE)
        assert [r.recipient_agency for r in Reminder.objects.all()] == [lima_agency]

    def test_it_escalates_to_every_secretariat_user_72_hours_after(self, rules, make_action_item, members,
                                                                   secretaries):
        make_action_item(assignee=members[0])
        sweep_at(DEADLINE)
        for moment in (DEADLINE + 24 * H, DEADLINE + 72 * H - S):
            assert sweep_at(moment)[0].created == []
        result, queued = sweep_at(DEADLINE + 72 * H)
        escalations = Reminder.objects.filter(pk__in=result.created)
        assert sorted(queued) == sorted(result.created)
        assert {r.recipient_user for r in escalations} == set(secretaries)
        assert {(r.rule, r.due_at) for r in escalations} == {(rules[(ACTION, "after")], DEADLINE + 72 * H)}
        assert sweep_at(DEADLINE + 73 * H)[0].created == []
        assert Reminder.objects.count() == 1 + 2

    def test_an_item_without_a_due_date_gets_none(self, rules, make_action_item, members, secretaries):
        make_action_item(due_at=None, assignee=members[0])
        for moment in (DEADLINE - 48 * H, DEADLINE, DEADLINE + 72 * H):
            assert sweep_at(moment)[0].created == []
        assert not Reminder.objects.exists()


@pytest.mark.django_db
class TestActionItemsThatChange:
    @pytest.mark.parametrize("status", ["done", "cancelled"])
    def test_a_done_or_cancelled_item_gets_none(self, rules, make_action_item, members, secretaries, status):
        item = make_action_item(assignee=members[0])
        item.status = status
        item.completed_at = DEADLINE - 72 * H if status == "done" else None
        item.save()
        for moment in (DEADLINE - 48 * H, DEADLINE, DEADLINE + 72 * H):
            assert sweep_at(moment)[0].created == []
        assert not Reminder.objects.exists()

    def test_a_reminder_written_before_the_item_was_done_is_skipped(self, rules, make_action_item, members,
                                                                    secretariat, smtp):
        item = make_action_item(assignee=members[0])
        reminder = Reminder.objects.get(pk__in=sweep_at(DEADLINE)[0].created)
        action_item_complete(actor=secretariat, item=item, note="Enviado por oficio")
        assert send(reminder).outcome == Outcome.SKIPPED
        assert (reminder.status, reminder.last_error, reminder.sent_at) == (
            ReminderStatus.SKIPPED, "target no longer open", None)
        assert smtp.attempts == 0
        assert sweep_at(DEADLINE + 72 * H)[0].created == []

    def test_a_reminder_written_before_the_item_was_cancelled_is_skipped(self, rules, make_action_item, members,
                                                                         secretariat, smtp):
        item = make_action_item(assignee=members[0])
        reminder = Reminder.objects.get(pk__in=sweep_at(DEADLINE - 48 * H)[0].created)
        action_item_cancel(actor=secretariat, item=item, reason="Superado por el acuerdo 3")
        assert send(reminder, DEADLINE - 48 * H).outcome == Outcome.SKIPPED
        assert reminder.status == ReminderStatus.SKIPPED and smtp.attempts == 0

    def test_a_moved_due_date_gets_fresh_reminders_and_the_old_ones_are_skipped(self, rules, make_action_item,
                                                                                members, secretariat, smtp):
        item = make_action_item(assignee=members[0])
        old = Reminder.objects.get(pk__in=sweep_at(DEADLINE - 48 * H)[0].created)
        new_due = DEADLINE + 7 * 24 * H
        action_item_update(actor=secretariat, item=item, changes={"due_at": new_due})
        assert send(old, DEADLINE - 48 * H).outcome == Outcome.SKIPPED
        assert (old.status, old.last_error) == (ReminderStatus.SKIPPED, "deadline moved")
        assert sweep_at(DEADLINE)[0].created == []  # nothing at the old due time
        fresh = sweep_and_send(new_due - 48 * H)
        assert [(r.deadline, r.rule, r.status) for r in fresh] == [
            (new_due, rules[(ACTION, "before")], ReminderStatus.SENT)]
        message, = smtp.messages
        assert "miércoles 25 de marzo de 2026, 10:00 America/Lima (UTC-05:00)" in text_of(message)

    def test_a_new_assignee_is_reminded_at_the_next_moment(self, rules, make_action_item, members, secretariat):
        item = make_action_item(assignee=members[0])
        sweep_at(DEADLINE - 48 * H)
        action_item_update(actor=secretariat, item=item, changes={"assignee": members[1]})
        sweep_at(DEADLINE)
        assert [(r.rule.timing, r.recipient_user) for r in Reminder.objects.order_by("pk")] == [
            ("before", members[0]), ("at", members[1])]


@pytest.mark.django_db
class TestActionItemEmail:
    def test_the_assignee_reads_it_in_their_language_and_time(self, rules, make_action_item, members, committee,
                                                              make_meeting, case_on_agenda, smtp):
        meeting = make_meeting(starts_at=DEADLINE - 10 * 24 * H)
        item = make_action_item(assignee=members[1], meeting=meeting, case=case_on_agenda)
        sweep_and_send(DEADLINE - 48 * H)
        message, = smtp.to("delegate.cl@comite.example")
        assert message["Subject"].strip() == (
            "Reminder: the action item “Enviar el protocolo de recepción” is due "
            "18 Mar 2026, 12:00 America/Santiago (UTC-03:00)")
        assert message["Content-Language"] == "en"
        body = text_of(message)
        for line in ("Action item: Enviar el protocolo de recepción",
                     f"Case: {case_on_agenda.reference}",
                     "Agreed at: II Sesión ordinaria (2026-03-08), Comité Binacional Perú–Chile",
                     "Owner agency: UPE Tacna",
                     "It is due on Wednesday 18 March 2026, 12:00 America/Santiago (UTC-03:00).",
                     "Once it is done, mark it as done in Puente.",
                     "You receive this because the action item is assigned to you."):
            assert line in body
        api = f"https://puente.example.org/api/v1/action-items/{item.pk}/"
        admin = f"https://puente.example.org/admin/committee/actionitem/{item.pk}/change/"
        assert api in body and admin in body
        assert f'href="{api}"' in html_of(message) and f'href="{admin}"' in html_of(message)
        assert list(message.iter_attachments()) == []

    def test_the_owner_agency_reads_it_in_spanish(self, rules, make_action_item, smtp):
        make_action_item()
        sweep_and_send(DEADLINE)
        message, = smtp.messages
        assert message["Subject"].strip() == "Vence ahora: la tarea «Enviar el protocolo de recepción»"
        assert message["Content-Language"] == "es"
        body = text_of(message)
        assert "Vence ahora: miércoles 18 de marzo de 2026, 10:00 America/Lima (UTC-05:00)." in body
        assert "Recibe este mensaje como dirección de contacto de su agencia." in body

    def test_the_secretariat_reads_that_it_is_overdue(self, rules, make_action_item, secretaries, smtp):
        make_action_item()
        sweep_and_send(DEADLINE + 72 * H)
        spanish, = smtp.to("secretaria.lima@comite.example")
        english, = smtp.to("secretary.santiago@comite.example")
        assert spanish["Subject"].strip() == ("Vencida: la tarea «Enviar el protocolo de recepción» sigue pendiente "
                                              "desde el 18 mar 2026, 10:00 America/Lima (UTC-05:00)")
        assert english["Subject"].strip() == ("Overdue: the action item “Enviar el protocolo de recepción” is still "
                                              "open since 18 Mar 2026, 12:00 America/Santiago (UTC-03:00)")
        assert "Por favor, haga seguimiento con la agencia responsable o la persona asignada." in text_of(spanish)
        assert "It was due on Wednesday 18 March 2026, 12:00 America/Santiago (UTC-03:00) and is still open." in (
            text_of(english))

    @pytest.mark.parametrize("due, santiago, santiago_offset", [
        # Reminded on 3 April (summer time) of a due date on 5 April (winter time).
        (datetime.datetime(2026, 4, 5, 12, tzinfo=datetime.UTC), "domingo 5 de abril de 2026, 08:00", "UTC-04:00"),
        # Reminded on 4 September (winter time) of a due date on 6 September (summer time).
        (datetime.datetime(2026, 9, 6, 12, tzinfo=datetime.UTC), "domingo 6 de septiembre de 2026, 09:00",
         "UTC-03:00"),
    ])
    def test_lima_and_santiago_across_chiles_clock_change(self, rules, make_action_item, santiago_agency, members,
                                                          smtp, due, santiago, santiago_offset):
        make_action_item(due_at=due, owner_agency=santiago_agency)
        make_action_item(due_at=due, assignee=members[0])
        assert sweep_and_send(due - 48 * H - S) == []
        assert {r.due_at for r in sweep_and_send(due - 48 * H)} == {due - 48 * H}
        chile, = smtp.to("frontera@pdi.example")
        peru, = smtp.to("delegado.pe@comite.example")
        assert f"{santiago} America/Santiago ({santiago_offset})" in text_of(chile)
        assert "07:00 America/Lima (UTC-05:00)" in text_of(peru)
