"""CSV exports of handoffs, action items and meetings: what the committee
needs for its reports, and nothing that names a migrant."""
import csv
import io

import pytest
from django.urls import reverse

from tests.committee.factories import ActionItemFactory, CommitteeFactory, MeetingFactory
from tests.factories import CaseFactory, CaseMemberFactory, HandoffFactory, PersonFactory
from tests.staff import sign_in_to_admin


def _rows(response):
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode())))


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
        header, row = _rows(response)
        assert header[:5] == ["case_reference", "kind", "status", "from_agency", "to_agency"]
        assert row[:5] == [named_case.reference, "transfer", "pending", "pe-migraciones", "cl-sermig"]
        text = response.content.decode()
        assert "Yusmary" not in text and "V12345678" not in text and handoff.reason not in text

    def test_action_items_export(self, client, secretariat, named_case, pe_agency):
        item = ActionItemFactory(owner_agency=pe_agency, title="Enviar el informe social", case=named_case)
        sign_in_to_admin(client, secretariat)
        header, row = _rows(client.post(reverse("admin:committee_actionitem_changelist"),
                                        {"action": "export_csv", "_selected_action": [item.pk]}))
        assert dict(zip(header, row, strict=True))["case_reference"] == named_case.reference
        assert row[:2] == ["Enviar el informe social", "pe-migraciones"]

    def test_meetings_export_local_times(self, client, pe_delegate, committee):
        mine = MeetingFactory(committee=committee, title="Sesión de mi comité")
        other = MeetingFactory(committee=CommitteeFactory(code="ajeno"), title="Sesión ajena")
        sign_in_to_admin(client, pe_delegate)
        response = client.post(reverse("admin:committee_meeting_changelist"),
                               {"action": "export_csv", "_selected_action": [mine.pk, other.pk]})
        header, *rows = _rows(response)
        assert [row[1] for row in rows] == ["Sesión de mi comité"]  # the other committee's is not exported
        assert rows[0][2] == mine.local_starts_at.strftime("%Y-%m-%d %H:%M")
