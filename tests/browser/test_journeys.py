"""The secretariat's and the delegates' journeys in Chromium."""
import datetime
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from cases.roles import Role
from committee.models import Meeting
from tests.committee.factories import AgendaItemFactory, CommitteeFactory, MeetingFactory, MembershipFactory
from tests.factories import AgencyFactory, CaseFactory, UserFactory
from tests.pdf import pdf_facts

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(db):
    pe = AgencyFactory(code="pe-migraciones", name="Superintendencia Nacional de Migraciones", country="PE")
    cl = AgencyFactory(code="cl-sermig", name="Servicio Nacional de Migraciones", country="CL")
    committee = CommitteeFactory(code="binacional", name="Comité Binacional Perú–Chile")
    secretary = UserFactory(username="secretaria", first_name="Rosa", last_name="Quispe",
                            roles=[Role.SECRETARIAT], is_staff=True)
    pe_member = UserFactory(username="pe.delegado", first_name="Jorge", last_name="Mamani", agency=pe,
                            roles=[Role.COMMITTEE_MEMBER], is_staff=True, time_zone="America/Lima")
    cl_member = UserFactory(username="cl.delegada", first_name="Camila", last_name="Soto", agency=cl,
                            roles=[Role.COMMITTEE_MEMBER], is_staff=True, time_zone="America/Santiago")
    MembershipFactory(committee=committee, user=pe_member, role="chair", delegation="PE")
    MembershipFactory(committee=committee, user=cl_member, role="member", delegation="CL")
    caseworker = UserFactory(username="pe.caseworker", agency=pe, roles=[Role.CASEWORKER])
    return {"pe": pe, "cl": cl, "committee": committee, "secretary": secretary, "pe_member": pe_member,
            "cl_member": cl_member, "caseworker": caseworker}


def _serious(page) -> list[str]:
    violations = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}" for v in violations
            if v["impact"] in ("serious", "critical")]


def test_the_secretariat_prepares_holds_and_closes_a_meeting(page, live_server, sign_in, screenshot, people):
    meeting = MeetingFactory(committee=people["committee"], title="III Sesión ordinaria", status="draft",
                             starts_at=timezone.now() + datetime.timedelta(hours=2), time_zone="America/Lima")
    AgendaItemFactory(meeting=meeting, title="Apertura", position=1)
    AgendaItemFactory(meeting=meeting, title="Casos de niñez", position=2)
    sign_in(page, people["secretary"])
    change = f"{live_server.url}/admin/committee/meeting/{meeting.pk}/change/"
    page.goto(change)
    rows = page.locator(".agenda-inline tbody tr.form-row.has_original")
    handle = rows.nth(0).locator("td.original p")
    handle.scroll_into_view_if_needed()
    start, target = handle.bounding_box(), rows.nth(1).bounding_box()
    page.mouse.move(start["x"] + 5, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + 5, target["y"] + target["height"] - 3, steps=10)
    page.mouse.up()
    assert [page.locator(".agenda-inline input.agenda-order").nth(i).input_value() for i in range(2)] == ["1", "2"]
    screenshot(page, "meeting-1-agenda-reordered")
    page.click("input[name=_continue]")
    assert list(meeting.agenda_items.order_by("position").values_list("title", flat=True)) == [
        "Casos de niñez", "Apertura"]

    page.click("text=Convocar e invitar a los miembros")
    page.wait_for_load_state()
    meeting.refresh_from_db()
    assert meeting.status == "scheduled"

    # The meeting takes place: its start is now in the past.
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=timezone.now() - datetime.timedelta(hours=2),
                                                 ends_at=timezone.now() - datetime.timedelta(minutes=5))
    page.goto(change)
    page.click("text=Marcar como realizada")
    page.wait_for_load_state()
    page.fill("#id_minutes", "Se abre la sesión a las 10:00. Se revisan los casos de niñez.")
    page.click("input[name=_continue]")
    meeting.refresh_from_db()
    assert (meeting.status, meeting.minutes.startswith("Se abre")) == ("held", True)

    page.click("text=Distribuir el acta…")
    assert "Una vez distribuida" in page.content()
    meeting.refresh_from_db()
    assert meeting.minutes_status == "draft"  # the confirmation page changed nothing
    screenshot(page, "meeting-2-confirm-circulation")
    page.click("input[value='Sí, distribuir el acta']")
    page.click("text=Aprobar el acta…")
    screenshot(page, "meeting-3-confirm-approval")
    page.click("input[value='Sí, aprobar el acta']")
    page.wait_for_load_state()
    meeting.refresh_from_db()
    assert meeting.minutes_status == "approved"
    screenshot(page, "meeting-4-approved")

    with page.expect_download() as download:
        page.click("text=Acta (PDF)")
    minutes = Path(download.value.path()).read_bytes()
    assert download.value.suggested_filename == f"minutes-{meeting.local_starts_at:%Y-%m-%d}-es.pdf"
    facts = pdf_facts(minutes)
    assert facts.language == "es" and facts.titles[-1] == "Acta — III Sesión ordinaria"

    with page.expect_download() as download:
        page.click("text=Añadir al calendario (.ics)")
    assert download.value.suggested_filename.endswith(".ics")


@pytest.mark.parametrize("member", ["pe_member", "cl_member"])
def test_each_delegate_sees_the_meeting_at_its_local_time(page, live_server, sign_in, screenshot, people, member):
    start = datetime.datetime(2026, 12, 13, 15, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=-3)))
    meeting = MeetingFactory(committee=people["committee"], title="Sesión en Arica", starts_at=start,
                             ends_at=start + datetime.timedelta(hours=2), time_zone="America/Santiago")
    sign_in(page, people[member])
    page.goto(f"{live_server.url}/admin/committee/meeting/{meeting.pk}/change/")
    text = page.locator(".field-local_times").inner_text()
    assert "15:00–17:00" in text and "America/Santiago" in text
    assert "por delante" not in page.content()
    screenshot(page, f"delegate-{member}")


def test_a_caseworker_is_turned_away_politely(page, live_server, sign_in, screenshot, people):
    sign_in(page, people["caseworker"])
    assert "/admin/login/" in page.url
    assert page.locator(".errornote").count() == 1
    assert "403" not in page.content() and "Forbidden" not in page.content()
    screenshot(page, "caseworker-turned-away")


def test_the_case_list_is_usable_390_px_wide(page, live_server, sign_in, screenshot, people):
    cases = [CaseFactory(owner_agency=people["pe"]) for _ in range(3)]
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, people["secretary"])
    page.goto(f"{live_server.url}/admin/cases/case/")
    link = page.get_by_role("link", name=cases[0].reference)
    assert link.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 400  # no sideways scroll of the page
    screenshot(page, "case-list-390px")
    link.click()
    assert re.search(r"/admin/cases/case/[0-9a-f-]+/change/", page.url)


def test_no_serious_accessibility_violations(page, live_server, sign_in, people):
    meeting = MeetingFactory(committee=people["committee"], title="Sesión accesible")
    CaseFactory(owner_agency=people["pe"])
    sign_in(page, people["secretary"])
    for path in ("/admin/", "/admin/cases/handoff/", f"/admin/committee/meeting/{meeting.pk}/change/"):
        page.goto(live_server.url + path)
        assert _serious(page) == [], path


def test_the_dashboard_renders_its_figures(page, live_server, sign_in, screenshot, people):
    CaseFactory(owner_agency=people["pe"], border_point="tacna_city", priority="urgent")
    CaseFactory(owner_agency=people["pe"], border_point="tacna_city")
    MeetingFactory(committee=people["committee"], title="IV Sesión ordinaria")
    sign_in(page, people["secretary"])
    dashboard = page.locator("#dashboard")
    assert dashboard.is_visible()
    assert "Casos abiertos por punto fronterizo" in dashboard.inner_text()
    bar = dashboard.locator("svg rect").first
    assert dashboard.locator("svg rect").count() >= 2 and bar.bounding_box()["width"] > 20
    assert "IV Sesión ordinaria" in dashboard.inner_text()
    screenshot(page, "dashboard")
    dashboard.get_by_role("link", name="Ciudad de Tacna").click()
    assert "border_point__exact=tacna_city" in page.url
    page.locator("#result_list tbody tr").first.wait_for()
    assert page.locator("#result_list tbody tr").count() == 2
