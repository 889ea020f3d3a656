"""The workspace measured in Chromium at a laptop's 1366 px and a phone's
390 px: nothing scrolls sideways, the dashboard keeps Django's header, and the
columns that matter in each list are on screen. Also: unsaved minutes are
saved, not lost, when they are circulated."""
import datetime

import pytest
from django.utils import timezone

from cases.models import Handoff
from cases.roles import Role
from committee.models import Meeting
from tests.committee.factories import ActionItemFactory, CommitteeFactory, MeetingFactory
from tests.factories import AgencyFactory, CaseFactory, HandoffFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def workspace(db):
    pe = AgencyFactory(code="pe-upe-tacna", name="Unidad de Protección Especial de Tacna", country="PE")
    cl = AgencyFactory(code="cl-mejor-ninez-arica", name="Servicio de Protección Especializada, Arica", country="CL")
    committee = CommitteeFactory(code="binacional", name="Comité Binacional Perú–Chile")
    secretary = UserFactory(username="secretaria", first_name="Rosa", last_name="Quispe", roles=[Role.SECRETARIAT],
                            is_staff=True, time_zone="America/Lima")
    for n in range(3):
        case = CaseFactory(owner_agency=pe, border_point="tacna_city", priority="urgent",
                           summary=f"Familia con niños, caso de prueba número {n} con un resumen largo")
        handoff = HandoffFactory(case=case, to_agency=cl, reason="Reunificación familiar en Arica " * 4)
        Handoff.objects.filter(pk=handoff.pk).update(response_due=timezone.now() - datetime.timedelta(days=n + 1))
        ActionItemFactory(owner_agency=cl, title="Confirmar la vacante en el albergue de Arica para la familia " * 2,
                          due_at=timezone.now() - datetime.timedelta(days=n + 1))
    start = timezone.now() + datetime.timedelta(days=5)
    MeetingFactory(committee=committee, title="IV Sesión ordinaria del Comité Binacional Perú–Chile en Arica",
                   starts_at=start, ends_at=start + datetime.timedelta(hours=2), time_zone="America/Santiago",
                   status="scheduled", place="Arica")
    held = MeetingFactory(committee=committee, title="III Sesión ordinaria", status="held", place="Tacna",
                          minutes="Borrador guardado.", starts_at=timezone.now() - datetime.timedelta(days=2),
                          ends_at=timezone.now() - datetime.timedelta(days=2) + datetime.timedelta(hours=2))
    return {"secretary": secretary, "held": held}


def _scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def _right_edge(page, selector) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box["x"] + box["width"]


def _visible_right(page) -> float:
    """Where the list stops being visible: Django scrolls the table inside ``.results``."""
    box = page.locator("#changelist .results").bounding_box()
    return min(box["x"] + box["width"], page.viewport_size["width"])


def test_the_dashboard_keeps_the_header_and_fits_a_laptop_and_a_phone(page, live_server, sign_in, workspace):
    page.set_viewport_size(LAPTOP)
    sign_in(page, workspace["secretary"])
    page.goto(f"{live_server.url}/admin/")
    assert page.locator("#dashboard").is_visible()
    # Our grid must not apply to Django's <body class="dashboard">: the header spans the window.
    assert page.locator("#header").bounding_box()["width"] >= LAPTOP["width"] - 20
    assert page.evaluate("getComputedStyle(document.body).display") != "grid"
    columns = page.evaluate("getComputedStyle(document.getElementById('dashboard')).gridTemplateColumns")
    assert len(columns.split()) >= 3, columns
    assert _scroll_width(page) <= LAPTOP["width"]
    page.set_viewport_size(PHONE)
    page.reload()
    assert _scroll_width(page) <= PHONE["width"], _scroll_width(page)


@pytest.mark.parametrize(("path", "columns"), [
    ("/admin/cases/handoff/", ["th.column-due", "th.column-overdue", "td.field-overdue .overdue-badge"]),
    ("/admin/committee/meeting/", ["th.column-local_start", "th.column-status", "th.column-quorum_reached"]),
    ("/admin/committee/actionitem/", ["th.column-status", "th.column-overdue", "td.field-overdue .overdue-badge"]),
])
def test_the_lists_show_the_columns_that_matter_on_a_laptop(page, live_server, sign_in, workspace, path, columns):
    page.set_viewport_size(LAPTOP)
    sign_in(page, workspace["secretary"])
    page.goto(f"{live_server.url}{path}")
    visible = _visible_right(page)
    for selector in columns:
        assert _right_edge(page, selector) <= visible, (selector, _right_edge(page, selector), visible)
    assert _scroll_width(page) <= LAPTOP["width"], _scroll_width(page)


@pytest.mark.parametrize("path", ["/admin/cases/handoff/", "/admin/committee/meeting/",
                                  "/admin/committee/actionitem/"])
def test_the_lists_do_not_scroll_sideways_on_a_phone(page, live_server, sign_in, workspace, path):
    page.set_viewport_size(PHONE)
    sign_in(page, workspace["secretary"])
    page.goto(f"{live_server.url}{path}")
    assert _scroll_width(page) <= PHONE["width"], _scroll_width(page)


def test_unsaved_minutes_are_saved_then_shown_before_they_are_circulated(page, live_server, sign_in, workspace):
    held, typed = workspace["held"], "Acta escrita y no guardada: se acuerda el retorno asistido."
    sign_in(page, workspace["secretary"])
    page.goto(f"{live_server.url}/admin/committee/meeting/{held.pk}/change/")
    page.fill("#id_minutes", typed)
    page.click("text=Distribuir el acta…")  # without saving first
    page.wait_for_load_state()
    assert typed in page.locator("#minutes-text").inner_text()
    held.refresh_from_db()
    assert (held.minutes_status, held.minutes) == ("draft", typed)
    page.click("input[value='Sí, distribuir el acta']")
    page.wait_for_load_state()
    held = Meeting.objects.get(pk=held.pk)
    assert held.minutes_status == "circulated"
    assert held.minutes == typed
