"""The secretariat's admin: pages scoped by the selectors, every change made
through the services, printable agenda and minutes (page and PDF) in both languages."""
import datetime
import re
import zoneinfo
from html.parser import HTMLParser

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from api_core import printing
from cases.models import Handoff, HistoryEntry
from committee.models import ActionItem, AgendaItem, CalendarFeed, Meeting
from committee.services import calendar_feed_create
from outbox.models import Event
from tests.factories import CaseFactory, HandoffFactory, PersonFactory
from tests.pdf import pdf_facts
from tests.staff import sign_in_to_admin

from .factories import ActionItemFactory, AgendaItemFactory, AttendanceFactory, DecisionFactory, MeetingFactory


class _FormFields(HTMLParser):
    """The values a browser would submit from the page's main form."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id, self.inside, self.data, self.select, self.textarea = form_id, False, {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside or "name" not in attrs and tag != "option":
            return
        if tag == "input" and attrs.get("type") not in ("submit", "button", "checkbox", "file"):
            self.data[attrs["name"]] = attrs.get("value", "")
        elif tag == "input" and attrs.get("type") == "checkbox" and "checked" in attrs:
            self.data[attrs["name"]] = "on"
        elif tag == "select":
            self.select = attrs["name"]
            self.data.setdefault(self.select, "")
        elif tag == "option" and self.select and "selected" in attrs:
            self.data[self.select] = attrs.get("value", "")
        elif tag == "textarea":
            self.textarea = attrs["name"]
            self.data[self.textarea] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "form":
            self.inside = False

    def handle_data(self, data):
        if self.textarea:
            self.data[self.textarea] += data.lstrip("\n") if not self.data[self.textarea] else data


def _form(response, form_id="meeting_form"):
    parser = _FormFields(form_id)
    parser.feed(response.content.decode())
    return parser.data


def _change_url(meeting):
    return reverse("admin:committee_meeting_change", args=[meeting.pk])


@pytest.fixture
def admin_client_for(client):
    def make(user):
        return sign_in_to_admin(client, user)

    return make


@pytest.mark.django_db
class TestMeetingChangelist:
    def test_the_secretariat_sees_drafts_and_members_do_not(self, admin_client_for, secretariat, pe_delegate,
                                                            meeting, other_committee):
        MeetingFactory(committee=meeting.committee, status="draft", title="Borrador interno")
        MeetingFactory(committee=other_committee, title="Mesa de niñez")
        page = admin_client_for(secretariat).get(reverse("admin:committee_meeting_changelist")).content.decode()
        assert "Borrador interno" in page and "Mesa de niñez" in page and meeting.title in page
        page = admin_client_for(pe_delegate).get(reverse("admin:committee_meeting_changelist")).content.decode()
        assert meeting.title in page
        assert "Borrador interno" not in page and "Mesa de niñez" not in page

    def test_a_caseworker_has_no_admin(self, admin_client_for, pe_caseworker):
        response = admin_client_for(pe_caseworker).get(reverse("admin:committee_meeting_changelist"))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]

    def test_a_member_cannot_open_a_draft_by_its_address(self, admin_client_for, pe_delegate, committee):
        draft = MeetingFactory(committee=committee, status="draft")
        response = admin_client_for(pe_delegate).get(_change_url(draft))
        assert response.status_code == 302  # the admin's answer to an object outside the queryset
        assert Meeting.objects.filter(pk=draft.pk, status="draft").exists()


@pytest.mark.django_db
class TestMeetingChangePage:
    def test_it_shows_the_docket_while_the_meeting_is_prepared(self, admin_client_for, secretariat, meeting):
        handoff = HandoffFactory()
        Handoff.objects.filter(pk=handoff.pk).update(response_due=timezone.now() - datetime.timedelta(hours=1))
        page = admin_client_for(secretariat).get(_change_url(meeting)).content.decode()
        assert handoff.case.reference in page
        assert reverse("admin:committee_meeting_docket", args=[meeting.pk]) in page
        assert reverse("admin:committee_meeting_mark_held", args=[meeting.pk]) in page

    def test_a_locked_agenda_shows_its_numbers(self, admin_client_for, secretariat, committee):
        """Read-only rows (approved minutes) show each item's number under the same heading."""
        past = timezone.now() - datetime.timedelta(days=1)
        approved = MeetingFactory(committee=committee, status="held", starts_at=past,
                                  ends_at=past + datetime.timedelta(hours=2), minutes="Acta.",
                                  minutes_status="approved", minutes_approved_at=past + datetime.timedelta(days=1))
        AgendaItemFactory(meeting=approved, position=1, title="Informe de la frontera")
        page = admin_client_for(secretariat).get(_change_url(approved)).content.decode()
        assert re.search(r'<th class="column-order">\s*N\.º\s*</th>', page)
        assert re.search(r'<td class="field-order">\s*<p>\s*1\s*</p>', page)
        assert not re.search(r"<p>\s*None\s*</p>", page)

    def test_a_new_meeting_is_created_by_the_service_in_its_own_zone(self, admin_client_for, secretariat,
                                                                    committee):
        response = admin_client_for(secretariat).post(reverse("admin:committee_meeting_add"), {
            "committee": committee.pk, "title": "Sesión en Arica", "starts_at": "2027-01-12T15:00",
            "ends_at": "2027-01-12T17:00",
            "time_zone": "America/Santiago", "mode": "in_person", "place": "Arica", "video_link": "",
            **_empty_inlines()})
        assert response.status_code == 302, response.content.decode()[:3000]
        meeting = Meeting.objects.get(title="Sesión en Arica")
        assert meeting.starts_at == datetime.datetime(2027, 1, 12, 18, 0, tzinfo=datetime.UTC)  # 15:00 -03
        assert (meeting.status, meeting.created_by) == ("draft", secretariat)
        assert HistoryEntry.objects.filter(action="meeting_created", object_id=str(meeting.pk)).exists()

    def test_the_agenda_is_reordered_and_extended_from_the_inline(self, admin_client_for, secretariat, meeting):
        first, second = AgendaItemFactory(meeting=meeting, title="Uno"), AgendaItemFactory(meeting=meeting,
                                                                                          title="Dos")
        client = admin_client_for(secretariat)
        data = _form(client.get(_change_url(meeting)))
        rows = {data[f"agenda_items-{i}-id"]: i for i in range(2)}
        data[f"agenda_items-{rows[str(first.pk)]}-order"] = "2"
        data[f"agenda_items-{rows[str(second.pk)]}-order"] = "1"
        data.update({"agenda_items-TOTAL_FORMS": "3", "agenda_items-2-title": "Tres", "agenda_items-2-order": "",
                     "agenda_items-2-kind": "information", "agenda_items-2-status": "pending",
                     "agenda_items-2-meeting": str(meeting.pk)})
        response = client.post(_change_url(meeting), data)
        assert response.status_code == 302, response.content.decode()[:3000]
        assert list(meeting.agenda_items.order_by("position").values_list("title", flat=True)) == [
            "Dos", "Uno", "Tres"]
        assert HistoryEntry.objects.filter(action="agenda_reordered").count() == 1
        assert HistoryEntry.objects.filter(action="agenda_item_added").count() == 1

    def test_moving_the_meeting_in_the_admin_bumps_its_sequence(self, admin_client_for, secretariat, meeting):
        client = admin_client_for(secretariat)
        data = _form(client.get(_change_url(meeting)))
        day = meeting.local_starts_at.date().isoformat()
        data["starts_at"], data["ends_at"] = f"{day}T08:00", f"{day}T09:00"
        response = client.post(_change_url(meeting), data, follow=True)
        assert response.redirect_chain[0][1] == 302
        # Django's own wording would read "El sesión …": the message agrees with any noun.
        (message,) = [str(m) for m in get_messages(response.wsgi_request)]
        assert message.startswith("Se guardaron los cambios: sesión “<a href=") and f">{meeting}</a>”." in message
        meeting.refresh_from_db()
        assert meeting.sequence == 1 and meeting.local_starts_at.hour == 8
        assert Event.objects.filter(type="meeting.scheduled").count() == 1

    def test_a_refusal_by_a_service_is_a_message_and_nothing_is_saved(self, admin_client_for, secretariat, meeting):
        client = admin_client_for(secretariat)
        Meeting.objects.filter(pk=meeting.pk).update(place="")
        data = _form(client.get(_change_url(meeting)))
        data["title"] = "Otro título"
        response = client.post(_change_url(meeting), data, follow=True)
        assert "Indique dónde se realiza la sesión." in response.content.decode()
        meeting.refresh_from_db()
        assert meeting.title != "Otro título"

    def test_members_do_not_see_draft_minutes(self, admin_client_for, pe_delegate, meeting):
        Meeting.objects.filter(pk=meeting.pk).update(minutes="Borrador confidencial del acta")
        page = admin_client_for(pe_delegate).get(_change_url(meeting)).content.decode()
        assert meeting.title in page
        assert "Borrador confidencial" not in page

    def test_only_a_draft_can_be_deleted(self, admin_client_for, secretariat, meeting, committee):
        client = admin_client_for(secretariat)
        assert client.post(reverse("admin:committee_meeting_delete", args=[meeting.pk]),
                           {"post": "yes"}).status_code == 403
        draft = MeetingFactory(committee=committee, status="draft")
        assert client.post(reverse("admin:committee_meeting_delete", args=[draft.pk]),
                           {"post": "yes"}).status_code == 302
        assert list(Meeting.objects.values_list("pk", flat=True)) == [meeting.pk]
        assert HistoryEntry.objects.filter(action="meeting_deleted").count() == 1


def _empty_inlines():
    data = {}
    for prefix in ("agenda_items", "attendances", "action_items"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0", f"{prefix}-MIN_NUM_FORMS": "0",
                     f"{prefix}-MAX_NUM_FORMS": "1000"})
    return data


@pytest.mark.django_db
class TestMeetingSteps:
    def test_the_schedule_button_publishes_the_draft(self, admin_client_for, secretariat, committee, pe_delegate):
        draft = MeetingFactory(committee=committee, status="draft")
        client = admin_client_for(secretariat)
        url = reverse("admin:committee_meeting_schedule", args=[draft.pk])
        assert client.get(url).status_code == 405
        assert client.post(url).status_code == 302
        draft.refresh_from_db()
        assert draft.status == "scheduled"
        assert Event.objects.filter(type="meeting.scheduled").count() == 1

    def test_a_member_cannot_press_it(self, admin_client_for, pe_delegate, meeting):
        response = admin_client_for(pe_delegate).post(reverse("admin:committee_meeting_mark_held", args=[meeting.pk]))
        assert response.status_code == 403
        meeting.refresh_from_db()
        assert meeting.status == "scheduled"

    def test_cancelling_asks_for_a_reason(self, admin_client_for, secretariat, meeting):
        client = admin_client_for(secretariat)
        url = reverse("admin:committee_meeting_cancel", args=[meeting.pk])
        assert "reason" in client.get(url).content.decode()
        assert client.post(url, {"reason": ""}).status_code == 200
        meeting.refresh_from_db()
        assert meeting.status == "scheduled"
        assert client.post(url, {"reason": "Cierre del paso fronterizo"}).status_code == 302
        meeting.refresh_from_db()
        assert (meeting.status, meeting.cancellation_reason) == ("cancelled", "Cierre del paso fronterizo")

    def test_approving_minutes_asks_first(self, admin_client_for, secretariat, committee):
        """GET shows what approval locks and changes nothing; POST approves."""
        circulated = MeetingFactory(committee=committee, status="held", minutes="Acta.", minutes_status="circulated")
        client = admin_client_for(secretariat)
        url = reverse("admin:committee_meeting_minutes_approve", args=[circulated.pk])
        page = client.get(url)
        assert page.status_code == 200 and "Sí, aprobar el acta" in page.content.decode()
        circulated.refresh_from_db()
        assert circulated.minutes_status == "circulated"
        assert client.post(url).status_code == 302
        circulated.refresh_from_db()
        assert circulated.minutes_status == "approved"

    def test_circulating_minutes_asks_first(self, admin_client_for, secretariat, committee):
        held = MeetingFactory(committee=committee, status="held", minutes="Acta.")
        client = admin_client_for(secretariat)
        url = reverse("admin:committee_meeting_minutes_circulate", args=[held.pk])
        page = client.get(url)
        assert "Sí, distribuir el acta" in page.content.decode()
        held.refresh_from_db()
        assert held.minutes_status == "draft"
        client.post(url, _form(page, form_id="confirm-form"))
        held.refresh_from_db()
        assert held.minutes_status == "circulated"

    def test_circulating_saves_what_was_typed_first_and_shows_it(self, admin_client_for, secretariat, committee):
        """The button submits the page's form: unsaved minutes are saved, not thrown away, then confirmed."""
        held = MeetingFactory(committee=committee, status="held", minutes="Borrador.", place="Arica")
        client = admin_client_for(secretariat)
        page = client.get(_change_url(held)).content.decode()
        button = re.search(r'<button[^>]*name="_circulate"[^>]*>', page)
        assert button is not None and 'form="meeting_form"' in button.group(0)
        assert reverse("admin:committee_meeting_minutes_circulate", args=[held.pk]) + '"' not in page  # no link
        data = _form(client.get(_change_url(held)))
        data["minutes"] = "Acta completa: se acordó el retorno asistido."
        response = client.post(_change_url(held), {**data, "_circulate": "1"})
        circulate = reverse("admin:committee_meeting_minutes_circulate", args=[held.pk])
        assert response.status_code == 302 and response["Location"] == circulate
        held.refresh_from_db()
        assert (held.minutes, held.minutes_status) == ("Acta completa: se acordó el retorno asistido.", "draft")
        confirm = client.get(circulate)
        assert "Acta completa: se acordó el retorno asistido." in confirm.content.decode()
        client.post(circulate, _form(confirm, form_id="confirm-form"))
        held.refresh_from_db()
        assert held.minutes_status == "circulated"

    def test_a_text_other_than_the_one_shown_is_not_circulated(self, admin_client_for, secretariat, committee):
        held = MeetingFactory(committee=committee, status="held", minutes="Versión leída.")
        client = admin_client_for(secretariat)
        url = reverse("admin:committee_meeting_minutes_circulate", args=[held.pk])
        confirmed = _form(client.get(url), form_id="confirm-form")
        Meeting.objects.filter(pk=held.pk).update(minutes="Versión cambiada después.")
        response = client.post(url, confirmed, follow=True)
        assert "El acta cambió desde que se le mostró" in response.content.decode()
        assert "Versión cambiada después." in response.content.decode()  # shown again, to be read
        assert client.post(url).status_code == 302  # a POST that confirms nothing circulates nothing
        held.refresh_from_db()
        assert held.minutes_status == "draft" and held.minutes_circulated_at is None

    def test_there_is_no_bulk_approval_without_confirmation(self, admin_client_for, secretariat, committee):
        circulated = MeetingFactory(committee=committee, status="held", minutes="Acta.", minutes_status="circulated")
        response = admin_client_for(secretariat).post(reverse("admin:committee_meeting_changelist"), {
            "action": "approve_minutes_selected", "_selected_action": [circulated.pk]}, follow=True)
        assert response.status_code == 200
        circulated.refresh_from_db()
        assert circulated.minutes_status == "circulated"

    def test_the_list_action_cancels_after_asking_why(self, admin_client_for, secretariat, meeting):
        client = admin_client_for(secretariat)
        url = reverse("admin:committee_meeting_changelist")
        form = client.post(url, {"action": "cancel_selected", "_selected_action": [meeting.pk]})
        assert form.status_code == 200 and 'name="reason"' in form.content.decode()
        meeting.refresh_from_db()
        assert meeting.status == "scheduled"
        client.post(url, {"action": "cancel_selected", "_selected_action": [meeting.pk], "apply": "1",
                          "reason": "Emergencia en la frontera"})
        meeting.refresh_from_db()
        assert meeting.status == "cancelled"

    def test_the_docket_page_adds_what_is_ticked(self, admin_client_for, secretariat, meeting):
        handoff = HandoffFactory()
        Handoff.objects.filter(pk=handoff.pk).update(response_due=timezone.now() - datetime.timedelta(hours=1))
        client = admin_client_for(secretariat)
        url = reverse("admin:committee_meeting_docket", args=[meeting.pk])
        assert handoff.case.reference in client.get(url).content.decode()
        assert client.post(url, {"proposal": [f"overdue_handoff:{handoff.pk}"]}).status_code == 302
        assert meeting.agenda_items.get().handoff_id == handoff.pk


@pytest.fixture
def record(meeting, pe_delegate, cl_delegate, pe_agency):
    """A meeting with a case on its agenda, a decision, attendance, an action item and
    draft minutes; a person whose name must never reach a printout. Returns the case."""
    case = CaseFactory(owner_agency=pe_agency)
    PersonFactory(given_names="Yusmary", created_by_agency=pe_agency)
    item = AgendaItemFactory(meeting=meeting, title="Revisión del caso", kind="case_review", case=case)
    DecisionFactory(agenda_item=item, text="Se acuerda el traslado a Arica.")
    AttendanceFactory(meeting=meeting, user=pe_delegate, delegation="PE")
    AttendanceFactory(meeting=meeting, user=cl_delegate, delegation="CL", status="excused")
    ActionItemFactory(meeting=meeting, owner_agency=pe_agency, title="Enviar el informe social")
    Meeting.objects.filter(pk=meeting.pk).update(minutes="Se abre la sesión.")
    return case


@pytest.mark.django_db
class TestPrintablePages:

    def test_the_agenda_prints_in_spanish_and_in_english(self, admin_client_for, secretariat, meeting, record):
        client = admin_client_for(secretariat)
        url = reverse("admin:committee_meeting_agenda_print", args=[meeting.pk])
        spanish = client.get(url + "?lang=es").content.decode()
        assert "Orden del día" in spanish and "Revisión de caso" in spanish and record.reference in spanish
        english = client.get(url + "?lang=en").content.decode()
        assert "Agenda:" in english and "Case review" in english and "Orden del día" not in english
        assert "Yusmary" not in spanish + english

    def test_the_minutes_print_attendance_decisions_and_action_items(self, admin_client_for, secretariat, meeting,
                                                                     record):
        Meeting.objects.filter(pk=meeting.pk).update(status="held")
        page = admin_client_for(secretariat).get(
            reverse("admin:committee_meeting_minutes_print", args=[meeting.pk]) + "?lang=es").content.decode()
        for text in ("Asistencia", "delegada.cl", "Excusado", "No hubo quórum", "Se acuerda el traslado a Arica.",
                     "A favor", "Enviar el informe social", "Se abre la sesión.", "No aprobada (Borrador)"):
            assert text in page, text

    def test_no_quorum_is_judged_before_the_meeting_and_the_date_reads_well(self, admin_client_for, secretariat,
                                                                             committee):
        start = datetime.datetime(2026, 12, 13, 15, 0, tzinfo=zoneinfo.ZoneInfo("America/Santiago"))
        meeting = MeetingFactory(committee=committee, starts_at=start, ends_at=start + datetime.timedelta(hours=2),
                                 time_zone="America/Santiago")
        page = admin_client_for(secretariat).get(
            reverse("admin:committee_meeting_minutes_print", args=[meeting.pk]) + "?lang=es").content.decode()
        assert "domingo, 13 de diciembre de 2026" in page
        assert "quórum" not in page.lower().replace("cuenta para el quórum", "")

    def test_a_member_cannot_print_draft_minutes(self, admin_client_for, pe_delegate, meeting, record):
        """Draft minutes are the secretariat's working copy: not even their printout."""
        client = admin_client_for(pe_delegate)
        response = client.get(reverse("admin:committee_meeting_minutes_print", args=[meeting.pk]))
        assert response.status_code == 404
        assert "Se abre la sesión." not in response.content.decode()
        assert client.get(reverse("admin:committee_meeting_agenda_print", args=[meeting.pk])).status_code == 200
        Meeting.objects.filter(pk=meeting.pk).update(status="held", minutes_status="circulated")
        page = client.get(reverse("admin:committee_meeting_minutes_print", args=[meeting.pk])).content.decode()
        assert "Se acuerda el traslado a Arica." in page and "Se abre la sesión." in page

    def test_times_are_those_of_the_meeting_place(self, admin_client_for, secretariat, committee):
        meeting = MeetingFactory(committee=committee, time_zone="America/Santiago",
                                 starts_at=datetime.datetime(2026, 4, 9, 14, 0, tzinfo=datetime.UTC),
                                 ends_at=datetime.datetime(2026, 4, 9, 16, 0, tzinfo=datetime.UTC))
        page = admin_client_for(secretariat).get(
            reverse("admin:committee_meeting_agenda_print", args=[meeting.pk])).content.decode()
        assert "10:00–12:00 (America/Santiago)" in page


@pytest.fixture
def pdf_sources(monkeypatch):
    """The HTML each PDF is made from; the real PDF is still made from it."""
    sources = []
    make = printing.pdf_of

    def recording(html):
        sources.append(html)
        return make(html)

    monkeypatch.setattr(printing, "pdf_of", recording)
    return sources


def _pdf(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    return pdf_facts(response.content)


@pytest.mark.django_db
class TestPdfs:
    @pytest.fixture
    def record(self, record, meeting):
        """The same record, of a meeting that has been held."""
        Meeting.objects.filter(pk=meeting.pk).update(status="held")
        return record

    def test_the_agenda_pdf_is_in_the_readers_language(self, admin_client_for, secretariat, meeting, record):
        """The reader's own language, unless ``?lang=`` asks for the other one."""
        client = admin_client_for(secretariat)
        url = reverse("admin:committee_meeting_agenda_pdf", args=[meeting.pk])
        response = client.get(url)
        spanish = _pdf(response)
        assert response["Content-Disposition"] == (
            f'attachment; filename="agenda-{meeting.local_starts_at:%Y-%m-%d}-es.pdf"')
        assert spanish.language == "es"
        assert spanish.titles[-1] == "Orden del día — II Sesión ordinaria"  # the document's title
        assert "Orden del día: II Sesión ordinaria" in spanish.titles  # its heading
        secretariat.language = "en"
        secretariat.save(update_fields=["language"])
        english = _pdf(client.get(url))
        assert english.language == "en" and english.titles[-1] == "Agenda — II Sesión ordinaria"
        assert _pdf(client.get(url, {"lang": "es"})).language == "es"

    def test_the_minutes_pdf_is_the_printable_page(self, admin_client_for, secretariat, meeting, record,
                                                    pdf_sources):
        """The same HTML as the page, made into a PDF with its headings."""
        with time_machine.travel(timezone.now(), tick=False):
            client = admin_client_for(secretariat)
            page = client.get(reverse("admin:committee_meeting_minutes_print", args=[meeting.pk]), {"lang": "en"})
            facts = _pdf(client.get(reverse("admin:committee_meeting_minutes_pdf", args=[meeting.pk]),
                                    {"lang": "en"}))
        assert pdf_sources == [page.content.decode()]
        for text in ("Se acuerda el traslado a Arica.", "Se abre la sesión.", "Enviar el informe social",
                     record.reference):
            assert text in pdf_sources[0], text
        assert "Yusmary" not in pdf_sources[0]
        assert facts.language == "en"
        assert {"Minutes: II Sesión ordinaria", "Attendance", "Record of the meeting",
                "Action items"} <= set(facts.titles)

    def test_a_member_gets_no_pdf_of_draft_minutes(self, admin_client_for, pe_delegate, meeting, record,
                                                   pdf_sources):
        """As for the printable page: draft minutes are the secretariat's working copy."""
        client = admin_client_for(pe_delegate)
        minutes = reverse("admin:committee_meeting_minutes_pdf", args=[meeting.pk])
        response = client.get(minutes)
        assert response.status_code == 404 and response["Content-Type"] != "application/pdf"
        assert pdf_sources == []  # nothing was rendered
        change = client.get(_change_url(meeting)).content.decode()
        assert minutes not in change
        assert reverse("admin:committee_meeting_agenda_pdf", args=[meeting.pk]) in change
        assert _pdf(client.get(reverse("admin:committee_meeting_agenda_pdf", args=[meeting.pk]))).language == "es"
        Meeting.objects.filter(pk=meeting.pk).update(minutes_status="circulated")
        assert "Desarrollo de la sesión" in _pdf(client.get(minutes)).titles
        assert minutes in client.get(_change_url(meeting)).content.decode()

    @pytest.mark.parametrize("kind", ["agenda", "minutes"])
    def test_others_get_the_404_of_the_meeting(self, admin_client_for, other_member, secretariat, meeting, record,
                                              pdf_sources, kind):
        """A member of another committee, or a meeting that does not exist: 404, nothing rendered."""
        client = admin_client_for(other_member)
        assert client.get(reverse(f"admin:committee_meeting_{kind}_pdf", args=[meeting.pk])).status_code == 404
        client = admin_client_for(secretariat)
        missing = "00000000-0000-4000-8000-000000000000"
        assert client.get(reverse(f"admin:committee_meeting_{kind}_pdf", args=[missing])).status_code == 404
        assert pdf_sources == []

    def test_a_caseworker_is_sent_to_sign_in(self, client, meeting, record, pdf_sources, pe_caseworker):
        client.force_login(pe_caseworker)
        response = client.get(reverse("admin:committee_meeting_agenda_pdf", args=[meeting.pk]))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
        assert pdf_sources == []


@pytest.mark.django_db
class TestActionItemAdmin:
    def test_the_overdue_filter(self, admin_client_for, secretariat, pe_agency):
        ActionItemFactory(title="Atrasada", owner_agency=pe_agency, due_at=timezone.now() - datetime.timedelta(days=2))
        ActionItemFactory(title="A tiempo", owner_agency=pe_agency)
        page = admin_client_for(secretariat).get(
            reverse("admin:committee_actionitem_changelist") + "?overdue=yes").content.decode()
        assert "Atrasada" in page and "A tiempo" not in page

    def test_completing_from_the_list_goes_through_the_service(self, admin_client_for, secretariat, pe_agency):
        item = ActionItemFactory(owner_agency=pe_agency)
        admin_client_for(secretariat).post(reverse("admin:committee_actionitem_changelist"), {
            "action": "complete_selected", "_selected_action": [item.pk]})
        item.refresh_from_db()
        assert (item.status, item.completed_by) == ("done", secretariat)
        assert Event.objects.filter(type="action_item.completed").count() == 1

    def test_no_decision_is_recorded_before_the_meeting(self, admin_client_for, secretariat, meeting):
        """A meeting still ahead has no decisions to record: a posted one is ignored."""
        item = AgendaItemFactory(meeting=meeting)
        client = admin_client_for(secretariat)
        url = reverse("admin:committee_agendaitem_change", args=[item.pk])
        data = _form(client.get(url), "agendaitem_form")
        data.update({"decisions-TOTAL_FORMS": "1", "decisions-0-text": "Se aprueba.", "decisions-0-outcome": "adopted",
                     "decisions-0-position_pe": "in_favour", "decisions-0-position_cl": "in_favour",
                     "decisions-0-position_int": "", "decisions-0-agenda_item": str(item.pk)})
        client.post(url, data)
        assert not item.decisions.exists()
        assert AgendaItem.objects.get(pk=item.pk).status == "pending"

    def test_a_decision_is_recorded_from_the_agenda_item_page(self, admin_client_for, secretariat, meeting):
        Meeting.objects.filter(pk=meeting.pk).update(status="held")
        item = AgendaItemFactory(meeting=meeting)
        client = admin_client_for(secretariat)
        url = reverse("admin:committee_agendaitem_change", args=[item.pk])
        data = _form(client.get(url), "agendaitem_form")
        data.update({"decisions-TOTAL_FORMS": "1", "decisions-0-text": "Se aprueba.", "decisions-0-outcome": "adopted",
                     "decisions-0-position_pe": "in_favour", "decisions-0-position_cl": "in_favour",
                     "decisions-0-position_int": "", "decisions-0-agenda_item": str(item.pk)})
        response = client.post(url, data)
        assert response.status_code == 302, response.content.decode()[:3000]
        decision = item.decisions.get()
        assert (decision.text, decision.position_cl, decision.recorded_by) == ("Se aprueba.", "in_favour",
                                                                               secretariat)
        assert AgendaItem.objects.get(pk=item.pk).status == "discussed"
        assert not ActionItem.objects.exists()


@pytest.mark.django_db
class TestCalendarFeedAdmin:
    def test_a_member_makes_their_own_address_and_sees_it_once(self, admin_client_for, pe_delegate, committee,
                                                               other_committee):
        client = admin_client_for(pe_delegate)
        form = client.get(reverse("admin:committee_calendarfeed_add")).content.decode()
        assert committee.name in form and other_committee.name not in form
        response = client.post(reverse("admin:committee_calendarfeed_add"), {"committee": committee.pk})
        feed = CalendarFeed.objects.get()
        assert feed.user == pe_delegate
        # On the answer to the add itself, never in the messages cookie for the next page.
        assert response.status_code == 200 and "no-store" in response["Cache-Control"]
        page = response.content.decode()
        assert "/api/v1/calendars/cal_" in page and feed.prefix in page
        assert all("cal_" not in morsel.value for morsel in response.cookies.values())
        assert not list(get_messages(response.wsgi_request))
        assert "/api/v1/calendars/cal_" not in client.get(
            reverse("admin:committee_calendarfeed_changelist")).content.decode()

    def test_revoking_from_the_list(self, admin_client_for, pe_delegate, committee):
        feed, _ = calendar_feed_create(user=pe_delegate, committee=committee)
        admin_client_for(pe_delegate).post(reverse("admin:committee_calendarfeed_changelist"), {
            "action": "revoke_selected", "_selected_action": [feed.pk]})
        feed.refresh_from_db()
        assert feed.revoked_at is not None

    def test_a_member_sees_only_their_own_feeds(self, admin_client_for, pe_delegate, cl_delegate, committee):
        calendar_feed_create(user=cl_delegate, committee=committee)
        page = admin_client_for(pe_delegate).get(reverse("admin:committee_calendarfeed_changelist")).content.decode()
        assert "delegada.cl" not in page
