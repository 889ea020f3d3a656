"""The committee's admin forms say what is wrong in words, keep what was
typed when a service refuses it, and pick related records from a list."""
import re

import pytest
from django.db import models
from django.urls import reverse
from django.utils import translation

from committee import models as committee_models
from committee.models import ActionItem, AgendaItem, Meeting
from tests.factories import CaseFactory, HandoffFactory
from tests.staff import sign_in_to_admin

from ..committee.factories import ActionItemFactory, AgendaItemFactory, CommitteeFactory, MeetingFactory
from ..committee.test_admin import _empty_inlines, _form


@pytest.fixture
def admin(client, secretariat):
    return sign_in_to_admin(client, secretariat)


@pytest.fixture
def meeting(db):
    return MeetingFactory(committee=CommitteeFactory(code="formularios"), title="II Sesión ordinaria")


def test_every_committee_constraint_has_a_message_in_words():
    """Django's default reads 'Constraint "meeting_ends_after_start" is violated'."""
    constraints = [(model, c) for model in vars(committee_models).values()
                   if isinstance(model, type) and issubclass(model, models.Model) and model._meta.app_label ==
                   "committee" for c in model._meta.constraints]
    assert len(constraints) >= 8
    for model, constraint in constraints:
        for language in ("es", "en"):
            with translation.override(language):
                message = str(constraint.violation_error_message)
            assert constraint.name not in message and message != str(constraint.default_violation_error_message), (
                model, constraint.name)
    with translation.override("es"):
        assert str(Meeting._meta.constraints[0].violation_error_message) == (
            "La sesión debe terminar después de su inicio.")


@pytest.mark.django_db
class TestConstraintMessages:
    def test_a_meeting_ending_before_it_starts_is_refused_in_words(self, admin):
        committee = CommitteeFactory(code="orden")
        response = admin.post(reverse("admin:committee_meeting_add"), {
            "committee": committee.pk, "title": "Sesión al revés", "starts_at": "2027-01-12T15:00",
            "ends_at": "2027-01-12T14:00", "time_zone": "America/Santiago", "mode": "in_person", "place": "Arica",
            **_empty_inlines()})
        content = response.content.decode()
        assert response.status_code == 200
        assert "La sesión debe terminar después de su inicio." in content
        assert "meeting_ends_after_start" not in content
        assert not Meeting.objects.filter(title="Sesión al revés").exists()

    def test_an_action_item_without_an_owner_is_refused_in_words(self, admin):
        response = admin.post(reverse("admin:committee_actionitem_add"), {"title": "Tarea sin dueño"})
        content = response.content.decode()
        assert response.status_code == 200
        assert "Indique la institución responsable de la tarea o la persona asignada." in content
        assert "action_item_has_owner" not in content
        assert not ActionItem.objects.filter(title="Tarea sin dueño").exists()


@pytest.mark.django_db
def test_a_refused_agenda_row_keeps_what_was_typed(admin, meeting, pe_agency):
    """The service refuses a handoff of another case; the page comes back with the row as typed."""
    case, other = CaseFactory(owner_agency=pe_agency), CaseFactory(owner_agency=pe_agency)
    handoff = HandoffFactory(case=other)
    url = reverse("admin:committee_meeting_change", args=[meeting.pk])
    data = _form(admin.get(url))
    data.update({"agenda_items-TOTAL_FORMS": "1", "agenda_items-0-title": "Retorno asistido de la familia Q.",
                 "agenda_items-0-kind": "case_review", "agenda_items-0-status": "pending",
                 "agenda_items-0-planned_minutes": "25", "agenda_items-0-case": str(case.pk),
                 "agenda_items-0-handoff": str(handoff.pk), "agenda_items-0-meeting": str(meeting.pk)})
    response = admin.post(url, data)
    content = response.content.decode()
    assert response.status_code == 200
    assert "El traspaso o derivación no corresponde a este caso." in content
    assert 'value="Retorno asistido de la familia Q."' in content
    assert re.search(r'name="agenda_items-0-planned_minutes"[^>]*value="25"', content)
    assert not AgendaItem.objects.filter(meeting=meeting).exists()


@pytest.mark.django_db
class TestAgendaItemPage:
    def test_the_action_item_is_picked_from_a_list_not_typed_as_an_id(self, admin, meeting, pe_agency):
        item = AgendaItemFactory(meeting=meeting, action_item=ActionItemFactory(owner_agency=pe_agency))
        content = admin.get(reverse("admin:committee_agendaitem_change", args=[item.pk])).content.decode()
        field = re.search(r'<select[^>]*name="action_item"[^>]*>', content)
        assert field is not None and "admin-autocomplete" in field.group(0)
        assert not re.search(r'<input[^>]*name="action_item"', content)

    def test_the_handoff_reads_in_spanish(self, admin, meeting, pe_agency, cl_agency):
        case = CaseFactory(owner_agency=pe_agency, reference="BC-2026-000777")
        handoff = HandoffFactory(case=case, to_agency=cl_agency, kind="transfer")
        item = AgendaItemFactory(meeting=meeting, case=case, handoff=handoff,
                                 handoff_label=f"BC-2026-000777 · transfer · {pe_agency.code} → cl-sermig")
        content = admin.get(reverse("admin:committee_agendaitem_change", args=[item.pk])).content.decode()
        assert f"BC-2026-000777 · Traspaso · {pe_agency.code} → cl-sermig" in content
        assert "· transfer ·" not in content
