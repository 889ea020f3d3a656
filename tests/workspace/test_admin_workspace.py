"""The secretariat's workspace in the admin, read as its users read it:
overdue rows, readable names, the case history in words, the meeting's own
time for every reader, dead ends turned into explained pages."""
import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Handoff, HistoryEntry
from cases.roles import Role
from committee.models import Attendance, Meeting
from tests.committee.factories import CommitteeFactory, MeetingFactory, MembershipFactory
from tests.factories import AgencyFactory, CaseFactory, HandoffFactory, UserFactory
from tests.staff import sign_in_to_admin


@pytest.fixture
def signed_in(client):
    def sign_in(user):
        sign_in_to_admin(client, user)
        return client
    return sign_in


@pytest.mark.django_db
class TestHandoffList:
    def test_overdue_rows_read_overdue_most_late_first(self, signed_in, secretariat, pe_agency, cl_agency):
        late = HandoffFactory(case=CaseFactory(owner_agency=pe_agency), to_agency=cl_agency)
        later = HandoffFactory(case=CaseFactory(owner_agency=pe_agency), to_agency=cl_agency)
        on_time = HandoffFactory(case=CaseFactory(owner_agency=pe_agency), to_agency=cl_agency)
        now = timezone.now()
        Handoff.objects.filter(pk=late.pk).update(response_due=now - datetime.timedelta(days=1))
        Handoff.objects.filter(pk=later.pk).update(response_due=now - datetime.timedelta(days=5))
        page = signed_in(secretariat).get(reverse("admin:cases_handoff_changelist") + "?overdue=yes")
        content = page.content.decode()
        assert content.count('class="overdue-badge"') == 2
        assert "⚠ Vencido" in content and "icon-yes.svg" not in content
        assert content.index(later.case.reference) < content.index(late.case.reference)  # most late first
        assert on_time.case.reference not in content
        assert '<abbr class="agency-code" title="Servicio Nacional de Migraciones">cl-sermig</abbr>' in content

    def test_a_handoff_is_named_by_reference_and_agency_code(self, pe_agency, cl_agency):
        handoff = HandoffFactory(case=CaseFactory(owner_agency=pe_agency, reference="BC-2026-000123"),
                                 to_agency=cl_agency)
        assert str(handoff) == "Traspaso BC-2026-000123 → cl-sermig"


@pytest.mark.django_db
class TestCaseHistory:
    def test_the_history_reads_in_words_with_agency_codes(self, signed_in, secretariat, pe_agency, cl_agency):
        case = CaseFactory(owner_agency=cl_agency)
        actor = UserFactory(username="jp", first_name="Juana", last_name="Pérez", agency=pe_agency)
        HistoryEntry.objects.create(case=case, actor=actor, agency=pe_agency, action="case.owner_changed",
                                    object_type="case", object_id=str(case.pk),
                                    changes={"owner_agency": [pe_agency.pk, cl_agency.pk]})
        content = signed_in(secretariat).get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()
        assert "Juana Pérez" in content and "trasladó el caso a otra institución" in content
        assert "pe-migraciones → cl-sermig" in content
        assert "case.owner_changed" not in content and "[" + str(pe_agency.pk) not in content

    def test_the_history_is_paginated(self, signed_in, secretariat, pe_agency):
        case = CaseFactory(owner_agency=pe_agency)
        HistoryEntry.objects.bulk_create([
            HistoryEntry(case=case, action="note.added", object_type="note", object_id=str(n),
                         changes={"visibility": [None, "shared"]}) for n in range(25)])
        client = signed_in(secretariat)
        url = reverse("admin:cases_case_change", args=[case.pk])
        first = client.get(url).content.decode()
        assert first.count("añadió una nota") == 20 and "Página 1 de 2" in first
        assert client.get(url + "?history_page=2").content.decode().count("añadió una nota") == 5


@pytest.fixture
def arica_meeting(db):
    committee = CommitteeFactory(code="binacional-ws", name="Comité Binacional")
    pe_member = UserFactory(username="pe.delegado", roles=[Role.COMMITTEE_MEMBER], is_staff=True,
                            time_zone="America/Lima")
    cl_member = UserFactory(username="cl.delegada", roles=[Role.COMMITTEE_MEMBER], is_staff=True,
                            time_zone="America/Santiago")
    MembershipFactory(committee=committee, user=pe_member, delegation="PE")
    MembershipFactory(committee=committee, user=cl_member, delegation="CL")
    start = datetime.datetime(2026, 12, 13, 15, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=-3)))
    meeting = MeetingFactory(committee=committee, title="Sesión en Arica", starts_at=start,
                             ends_at=start + datetime.timedelta(hours=2), time_zone="America/Santiago")
    return meeting, pe_member, cl_member


@pytest.mark.django_db
class TestMeetingTimes:
    def test_every_reader_sees_the_meetings_own_time_and_zone(self, signed_in, arica_meeting):
        meeting, pe_member, cl_member = arica_meeting
        for member in (pe_member, cl_member):
            content = signed_in(member).get(reverse("admin:committee_meeting_change",
                                                    args=[meeting.pk])).content.decode()
            assert "15:00–17:00" in content and "(America/Santiago)" in content, member
            assert "13:00" not in content
            assert "por delante de la hora del servidor" not in content

    def test_the_meeting_is_offered_as_an_ics_file(self, signed_in, arica_meeting):
        meeting, pe_member, _ = arica_meeting
        response = signed_in(pe_member).get(reverse("admin:committee_meeting_ics", args=[meeting.pk]))
        assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
        assert b"BEGIN:VEVENT" in response.content and b"TZID=America/Santiago" in response.content

    def test_no_ics_for_a_meeting_outside_ones_committees(self, signed_in, arica_meeting):
        meeting, *_ = arica_meeting
        outsider = UserFactory(username="otro.delegado", roles=[Role.COMMITTEE_MEMBER], is_staff=True)
        assert signed_in(outsider).get(reverse("admin:committee_meeting_ics", args=[meeting.pk])).status_code == 404

    def test_no_attendance_is_taken_for_a_meeting_still_ahead(self, signed_in, secretariat, arica_meeting):
        meeting, pe_member, _ = arica_meeting
        Meeting.objects.filter(pk=meeting.pk).update(starts_at=timezone.now() + datetime.timedelta(days=12),
                                                     ends_at=timezone.now() + datetime.timedelta(days=12, hours=2))
        content = signed_in(secretariat).get(reverse("admin:committee_meeting_change",
                                                     args=[meeting.pk])).content.decode()
        assert 'id="attendances-empty"' not in content  # no row to add
        assert not Attendance.objects.filter(meeting=meeting).exists()


@pytest.mark.django_db
class TestDeadEnds:
    def test_a_refusal_is_an_explained_translated_page(self, signed_in, committee_member):
        meeting = MeetingFactory(committee=CommitteeFactory(code="c-403"))
        MembershipFactory(committee=meeting.committee, user=committee_member, delegation="PE")
        response = signed_in(committee_member).get(reverse("admin:committee_meeting_docket", args=[meeting.pk]))
        assert response.status_code == 403
        content = response.content.decode()
        assert "No disponible para usted" in content and "Volver a la página de inicio" in content
        assert "403 Forbidden" not in content

    def test_a_missing_page_is_styled_and_translated(self, signed_in, secretariat):
        response = signed_in(secretariat).get("/nada/")
        assert response.status_code == 404
        assert "Página no encontrada" in response.content.decode()

    def test_no_link_to_a_site_that_does_not_exist(self, signed_in, secretariat):
        content = signed_in(secretariat).get(reverse("admin:index")).content.decode()
        assert "Ver el sitio" not in content and 'href="/"' not in content


@pytest.mark.django_db
def test_people_are_named_by_full_name():
    user = UserFactory(username="mrojas", first_name="María", last_name="Rojas")
    assert str(user) == "María Rojas"
    assert str(UserFactory(username="sin.nombre")) == "sin.nombre"


@pytest.mark.django_db
def test_the_access_log_count_reads_in_the_plural(signed_in, secretariat):
    content = signed_in(secretariat).get(reverse("admin:cases_caseaccesslog_changelist")).content.decode()
    assert "accesos a casos" in content and "registro de accesos" not in content


@pytest.mark.django_db
def test_an_agency_column_fits_a_laptop(signed_in, secretariat):
    AgencyFactory(code="cl-sermig", name="Servicio Nacional de Migraciones", country="CL")
    content = signed_in(secretariat).get(reverse("admin:cases_handoff_changelist")).content.decode()
    assert "cases/admin.css" in content
