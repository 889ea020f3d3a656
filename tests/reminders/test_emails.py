"""What a reminder email says: language, local time with the zone named
(Lima vs Santiago, across Chile's daylight-saving changes), links, and no
personal data."""
import datetime

import pytest
import time_machine

from committee.services import meeting_cancel
from reminders.emails import format_moment
from reminders.models import Reminder
from tests.factories import AgencyFactory, UserFactory
from tests.privacy import personal_values

from .conftest import DEADLINE, UTC, add_agenda, send, sweep_and_send
from .smtp import html_of, text_of

H = datetime.timedelta(hours=1)


class TestFormatMoment:
    def test_lima_has_no_daylight_saving(self):
        for moment in (datetime.datetime(2026, 1, 15, 17, tzinfo=UTC), datetime.datetime(2026, 7, 15, 17, tzinfo=UTC)):
            assert format_moment(moment, time_zone="America/Lima", language="en", style="short").endswith(
                "12:00 America/Lima (UTC-05:00)")

    @pytest.mark.parametrize("moment, expected", [
        # Chile's summer time ends at 00:00 on Sunday 5 April 2026 (03:00 UTC): clocks go back to 23:00.
        (datetime.datetime(2026, 4, 5, 2, 59, tzinfo=UTC), "sábado 4 de abril de 2026, 23:59 America/Santiago (UTC-03:00)"),  # noqa: E501
        (datetime.datetime(2026, 4, 5, 3, 0, tzinfo=UTC), "sábado 4 de abril de 2026, 23:00 America/Santiago (UTC-04:00)"),  # noqa: E501
        # And starts at 00:00 on Sunday 6 September 2026 (04:00 UTC): clocks jump to 01:00.
        (datetime.datetime(2026, 9, 6, 3, 59, tzinfo=UTC), "sábado 5 de septiembre de 2026, 23:59 America/Santiago (UTC-04:00)"),  # noqa: E501
        (datetime.datetime(2026, 9, 6, 4, 0, tzinfo=UTC), "domingo 6 de septiembre de 2026, 01:00 America/Santiago (UTC-03:00)"),  # noqa: E501
    ])
    def test_santiago_follows_its_daylight_saving_changes(self, moment, expected):
        assert format_moment(moment, time_zone="America/Santiago", language="es") == expected

    def test_english_names_the_day_and_month_in_english(self):
        moment = datetime.datetime(2026, 4, 7, 20, tzinfo=UTC)
        assert format_moment(moment, time_zone="America/Santiago", language="en") == (
            "Tuesday 7 April 2026, 16:00 America/Santiago (UTC-04:00)")
        assert format_moment(moment, time_zone="America/Lima", language="en", style="short") == (
            "7 Apr 2026, 15:00 America/Lima (UTC-05:00)")


@pytest.mark.django_db
class TestLocalTimes:
    def test_lima_and_santiago_readers_see_their_own_clock(self, rules, make_handoff, lima_agency, santiago_agency,
                                                           smtp):
        """One deadline, 15:00 UTC on 18 March 2026: 10:00 in Lima, 12:00 in Santiago (summer time)."""
        make_handoff(from_agency=santiago_agency, to_agency=lima_agency)
        make_handoff(from_agency=lima_agency, to_agency=santiago_agency)
        sweep_and_send(DEADLINE - 24 * H)
        lima, = smtp.to("upe@tacna.example")
        santiago, = smtp.to("frontera@pdi.example")
        assert "18 mar 2026, 10:00 America/Lima (UTC-05:00)" in lima["Subject"]
        assert "miércoles 18 de marzo de 2026, 10:00 America/Lima (UTC-05:00)" in text_of(lima)
        assert "18 mar 2026, 12:00 America/Santiago (UTC-03:00)" in santiago["Subject"]
        assert "miércoles 18 de marzo de 2026, 12:00 America/Santiago (UTC-03:00)" in text_of(santiago)
        assert "12:00 America/Santiago (UTC-03:00)" in html_of(santiago)

    @pytest.mark.parametrize("deadline, santiago_time, santiago_offset", [
        # Reminded on 4 April (summer time) of a deadline on 5 April (winter time).
        (datetime.datetime(2026, 4, 5, 12, tzinfo=UTC), "domingo 5 de abril de 2026, 08:00", "UTC-04:00"),
        # Reminded on 5 September (winter time) of a deadline on 6 September (summer time).
        (datetime.datetime(2026, 9, 6, 12, tzinfo=UTC), "domingo 6 de septiembre de 2026, 09:00", "UTC-03:00"),
    ])
    def test_a_reminder_sent_before_chile_changes_clocks_shows_the_deadline_in_the_new_time(
            self, rules, make_handoff, lima_agency, santiago_agency, smtp, deadline, santiago_time, santiago_offset):
        make_handoff(response_due=deadline, from_agency=lima_agency, to_agency=santiago_agency)
        make_handoff(response_due=deadline, from_agency=santiago_agency, to_agency=lima_agency)
        # 24 hours before is 24 real hours, not the same wall-clock time the day before.
        assert sweep_and_send(deadline - 24 * H - datetime.timedelta(seconds=1)) == []
        reminders = sweep_and_send(deadline - 24 * H)
        assert {r.due_at for r in reminders} == {deadline - 24 * H}
        santiago, = smtp.to("frontera@pdi.example")
        lima, = smtp.to("upe@tacna.example")
        assert f"{santiago_time} America/Santiago ({santiago_offset})" in text_of(santiago)
        assert "07:00 America/Lima (UTC-05:00)" in text_of(lima)

    def test_a_user_without_a_time_zone_reads_their_agencys(self, rules, make_handoff, smtp, santiago_agency):
        UserFactory(username="sec.cl", email="sec.cl@comite.example", agency=santiago_agency, time_zone="",
                    roles=["secretariat"])
        make_handoff()
        sweep_and_send(DEADLINE)
        sweep_and_send(DEADLINE + 24 * H)
        message, = smtp.to("sec.cl@comite.example")
        assert "America/Santiago (UTC-03:00)" in text_of(message)


@pytest.mark.django_db
class TestLanguageAndContent:
    def test_spanish_for_a_spanish_reader(self, rules, make_handoff, smtp):
        handoff = make_handoff()
        sweep_and_send(DEADLINE - 24 * H)
        message, = smtp.messages
        reference = handoff.case.reference
        assert message["Subject"] == (
            f"Recordatorio: la respuesta sobre el traspaso del caso {reference} vence el "
            "18 mar 2026, 12:00 America/Santiago (UTC-03:00)")
        assert message["Content-Language"] == "es"
        body = text_of(message)
        assert "UPE Tacna envió el traspaso del caso" in body
        assert "Por favor, responda en Puente: aceptar o rechazar." in body
        assert "Las horas se muestran en America/Santiago." in body

    def test_english_for_an_english_reader(self, rules, make_handoff, santiago_agency, smtp):
        santiago_agency.language = "en"
        santiago_agency.save()
        handoff = make_handoff(kind="referral")
        sweep_and_send(DEADLINE)
        message, = smtp.messages
        assert message["Subject"] == f"Due now: a response to the referral of case {handoff.case.reference}"
        assert message["Content-Language"] == "en"
        body = text_of(message)
        assert "UPE Tacna has sent the referral of case" in body
        assert "The deadline for a response is now: Wednesday 18 March 2026, 12:00 America/Santiago" in body

    def test_the_secretariat_escalation_reads_as_overdue_in_each_readers_language(self, rules, make_handoff,
                                                                                 secretaries, smtp):
        handoff = make_handoff()
        sweep_and_send(DEADLINE)
        sweep_and_send(DEADLINE + 24 * H)
        spanish, = smtp.to("secretaria.lima@comite.example")
        english, = smtp.to("secretary.santiago@comite.example")
        reference = handoff.case.reference
        assert spanish["Subject"] == (f"Vencido: sin respuesta sobre el traspaso del caso {reference} desde el "
                                      "18 mar 2026, 10:00 America/Lima (UTC-05:00)")
        assert english["Subject"] == (f"Overdue: no response to the transfer of case {reference} since "
                                      "18 Mar 2026, 12:00 America/Santiago (UTC-03:00)")
        assert "Por favor, haga seguimiento con la agencia receptora." in text_of(spanish)
        assert "You receive this as a member of the committee secretariat." in text_of(english)

    def test_it_links_to_the_handoff_in_the_api_and_the_admin(self, rules, make_handoff, smtp):
        handoff = make_handoff()
        sweep_and_send(DEADLINE)
        message, = smtp.messages
        api = f"https://puente.example.org/api/v1/handoffs/{handoff.pk}/"
        admin = f"https://puente.example.org/admin/cases/handoff/{handoff.pk}/change/"
        for body in (text_of(message), html_of(message)):
            assert api in body and admin in body
        assert f'href="{api}"' in html_of(message)

    def test_no_personal_data_in_any_email(self, rules, make_handoff, secretaries, smtp):
        handoff = make_handoff(reason="Yusmary Rodríguez pide reunirse con su hermano en Arica.")
        people = [member.person for member in handoff.case.memberships.select_related("person")]
        assert len(people) == 3
        for moment in (DEADLINE - 24 * H, DEADLINE, DEADLINE + 24 * H):
            sweep_and_send(moment)
        assert len(smtp.messages) == 1 + 1 + 2
        forbidden = {handoff.reason, "Yusmary", "+51 952", "1990"}
        for person in people:
            forbidden |= {person.given_names, person.family_names, person.document_number, person.phone,
                          person.date_of_birth.isoformat()}
        for message in smtp.messages:
            everything = " ".join([message["Subject"], text_of(message), html_of(message)])
            assert handoff.case.reference in everything
            leaked = {value for value in forbidden if value and value in everything}
            assert leaked == set()

    def test_html_escapes_agency_names(self, rules, make_handoff, smtp):
        make_handoff(from_agency=AgencyFactory(code="pe-a-b", name="Albergue <A&B>", country="PE"))
        sweep_and_send(DEADLINE)
        message, = smtp.messages
        assert "Albergue &lt;A&amp;B&gt;" in html_of(message)
        assert "Albergue <A&B> envió" in text_of(message)


@pytest.mark.django_db
class TestNoPersonalDataInCommitteeEmails:
    def test_action_items_meetings_and_cancellations_name_a_case_by_its_reference_only(
            self, rules, make_action_item, make_meeting, members, case_on_agenda, secretaries, secretariat, smtp):
        meeting = make_meeting(starts_at=DEADLINE)
        add_agenda(meeting, case_on_agenda)  # one item's title names the family
        make_action_item(assignee=members[1], case=case_on_agenda, meeting=meeting,
                         description="Llamar a Yusmary al +51 952 000 111")
        cancelled = make_meeting(starts_at=DEADLINE + 100 * H)
        add_agenda(cancelled, case_on_agenda)
        for moment in (DEADLINE - 48 * H, DEADLINE, DEADLINE + 72 * H):
            sweep_and_send(moment)
        with time_machine.travel(DEADLINE + 73 * H, tick=False):
            meeting_cancel(actor=secretariat, meeting=cancelled, reason="Cierre del paso fronterizo")
        for notice in Reminder.objects.filter(deadline_kind="meeting_cancelled"):
            send(notice, DEADLINE + 73 * H)
        kinds = {r.deadline_kind for r in Reminder.objects.filter(status="sent")}
        assert kinds == {"action_item_due", "meeting_start", "meeting_cancelled"}
        forbidden = personal_values(case_on_agenda) | {"Yusmary", "+51 952", "Situación de la familia"}
        assert len(forbidden) > 5
        for message in smtp.messages:
            parts = [message["Subject"], text_of(message), html_of(message)]
            parts += [part.get_content() for part in message.iter_attachments()]
            everything = " ".join(parts)
            leaked = {value for value in forbidden if value in everything}
            assert leaked == set(), (message["Subject"], leaked)
        assert all(case_on_agenda.reference in text_of(m) for m in smtp.messages
                   if "Cancel" not in m["Subject"])
