"""CSV and XLSX exports of handoffs, action items and meetings: what the
committee needs for its reports, and nothing that names a migrant."""
import io

import openpyxl
import pytest
from django.urls import reverse

from tests.committee.factories import ActionItemFactory, CommitteeFactory, MeetingFactory
from tests.exports import csv_rows, xlsx_rows
from tests.factories import CaseFactory, CaseMemberFactory, HandoffFactory, PersonFactory
from tests.staff import sign_in_to_admin


@pytest.fixture
def named_case(pe_agency):
    case = CaseFactory(owner_agency=pe_agency)
    CaseMemberFactory(case=case, person=PersonFactory(given_names="Yusmary", family_names="Contreras",
                                                      document_number="V12345678"), relationship="head")
    return case


@pytest.mark.django_db
class TestExports:
    def test_handoffs_export_references_and_codes_only(self, client, secretariat, named_case, cl_agency):
        handoff = HandoffFactory(case=named_case, to_agency=cl_agency)
        sign_in_to_admin(client, secretariat)
        response = client.post(reverse("admin:cases_handoff_changelist"),
                               {"action": "export_csv", "_selected_action": [handoff.pk]})
        header, row = csv_rows(response)
        assert header[:5] == ["case_reference", "kind", "status", "from_agency", "to_agency"]
        assert row[:5] == [named_case.reference, "transfer", "pending", "pe-migraciones", "cl-sermig"]
        text = response.content.decode()
        assert "Yusmary" not in text and "V12345678" not in text and handoff.reason not in text

    def test_action_items_export(self, client, secretariat, named_case, pe_agency):
        item = ActionItemFactory(owner_agency=pe_agency, title="Enviar el informe social", case=named_case)
        sign_in_to_admin(client, secretariat)
        header, row = csv_rows(client.post(reverse("admin:committee_actionitem_changelist"),
                                        {"action": "export_csv", "_selected_action": [item.pk]}))
        assert dict(zip(header, row, strict=True))["case_reference"] == named_case.reference
        assert row[:2] == ["Enviar el informe social", "pe-migraciones"]

    def test_meetings_export_local_times(self, client, pe_delegate, committee):
        mine = MeetingFactory(committee=committee, title="Sesión de mi comité")
        other = MeetingFactory(committee=CommitteeFactory(code="ajeno"), title="Sesión ajena")
        sign_in_to_admin(client, pe_delegate)
        response = client.post(reverse("admin:committee_meeting_changelist"),
                               {"action": "export_csv", "_selected_action": [mine.pk, other.pk]})
        header, *rows = csv_rows(response)
        assert [row[1] for row in rows] == ["Sesión de mi comité"]  # the other committee's is not exported
        assert rows[0][2] == mine.local_starts_at.strftime("%Y-%m-%d %H:%M")


@pytest.mark.django_db
class TestXlsxExports:
    """Each XLSX is the CSV of the same selection, cell for cell."""

    @pytest.fixture
    def lists(self, named_case, pe_agency, cl_agency, committee):
        handoff = HandoffFactory(case=named_case, to_agency=cl_agency)
        meeting = MeetingFactory(committee=committee, title="Sesión con el caso")
        items = [ActionItemFactory(owner_agency=pe_agency, title="Enviar el informe social", case=named_case,
                                   meeting=meeting),
                 ActionItemFactory(owner_agency=pe_agency, title="Coordinar el albergue")]  # empty cells: no case
        return {"cases_handoff": [handoff], "committee_actionitem": items, "committee_meeting": [meeting]}

    @pytest.mark.parametrize("changelist", ["cases_handoff", "committee_actionitem", "committee_meeting"])
    def test_it_has_the_header_and_rows_of_the_csv(self, client, secretariat, lists, named_case, changelist):
        sign_in_to_admin(client, secretariat)
        url = reverse(f"admin:{changelist}_changelist")
        selected = [obj.pk for obj in lists[changelist]]
        as_csv = csv_rows(client.post(url, {"action": "export_csv", "_selected_action": selected}))
        as_xlsx = xlsx_rows(client.post(url, {"action": "export_xlsx", "_selected_action": selected}))
        assert len(as_xlsx) == len(selected) + 1
        assert as_xlsx == as_csv
        cells = " ".join(" ".join(row) for row in as_xlsx)
        person = named_case.members.get()
        assert person.given_names not in cells and person.document_number not in cells

    def test_a_title_that_looks_like_a_formula_stays_text(self, client, secretariat, pe_agency):
        """A spreadsheet must never run what someone typed into a title."""
        item = ActionItemFactory(owner_agency=pe_agency, title='=HYPERLINK("http://example.org","abrir")')
        sign_in_to_admin(client, secretariat)
        response = client.post(reverse("admin:committee_actionitem_changelist"),
                               {"action": "export_xlsx", "_selected_action": [item.pk]})
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        cell = sheet.cell(row=2, column=1)
        assert (cell.value, cell.data_type) == (item.title, "s")

    def test_a_title_that_looks_like_a_formula_is_text_in_the_csv_too(self, client, secretariat, pe_agency):
        """CSV has no cell types: what would start a formula is written after an apostrophe."""
        items = [ActionItemFactory(owner_agency=pe_agency, title=title)
                 for title in ('=HYPERLINK("http://example.org","abrir")', "+51 952 000 000", "@SUM(A1)",
                               "-1+1", "Revisar el albergue")]
        sign_in_to_admin(client, secretariat)
        header, *rows = csv_rows(client.post(reverse("admin:committee_actionitem_changelist"),
                                          {"action": "export_csv", "_selected_action": [i.pk for i in items]}))
        titles = sorted(row[header.index("title")] for row in rows)
        assert titles == sorted(["'" + i.title for i in items[:4]] + [items[4].title])

    def test_a_member_exports_only_the_meetings_they_may_see(self, client, pe_delegate, committee):
        mine = MeetingFactory(committee=committee, title="Sesión de mi comité")
        other = MeetingFactory(committee=CommitteeFactory(code="ajeno"), title="Sesión ajena")
        sign_in_to_admin(client, pe_delegate)
        header, *rows = xlsx_rows(client.post(reverse("admin:committee_meeting_changelist"),
                                               {"action": "export_xlsx", "_selected_action": [mine.pk, other.pk]}))
        assert header[:2] == ["committee", "title"]
        assert [row[1] for row in rows] == ["Sesión de mi comité"]
