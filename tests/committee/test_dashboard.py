"""The admin's start page: figures from plain aggregates, each linking to
its filtered list; members see only their committees."""
import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Handoff
from committee.dashboard import dashboard_for, handoff_figures
from tests.committee.factories import ActionItemFactory, CommitteeFactory, MeetingFactory
from tests.factories import CaseFactory, HandoffFactory
from tests.staff import sign_in_to_admin


@pytest.fixture
def figures(pe_agency, cl_agency):
    CaseFactory(owner_agency=pe_agency, border_point="tacna_city", priority="urgent", vulnerable_pregnancy=True)
    CaseFactory(owner_agency=pe_agency, border_point="tacna_city")
    CaseFactory(owner_agency=cl_agency, border_point="arica_city", status="closed",
                closure_reason="resolved", closed_at=timezone.now())
    late = HandoffFactory(case=CaseFactory(owner_agency=pe_agency, border_point="other"), to_agency=cl_agency)
    Handoff.objects.filter(pk=late.pk).update(response_due=timezone.now() - datetime.timedelta(hours=3))
    answered = HandoffFactory(case=CaseFactory(owner_agency=pe_agency), to_agency=cl_agency, status="accepted")
    Handoff.objects.filter(pk=answered.pk).update(created_at=timezone.now() - datetime.timedelta(hours=10),
                                                  responded_at=timezone.now() - datetime.timedelta(hours=4))
    ActionItemFactory(owner_agency=cl_agency, due_at=timezone.now() - datetime.timedelta(days=2))
    return late


@pytest.mark.django_db
class TestDashboard:
    def test_the_secretariat_sees_every_figure_linked_to_its_list(self, client, secretariat, figures):
        sign_in_to_admin(client, secretariat)
        content = client.get(reverse("admin:index")).content.decode()
        assert 'id="dashboard"' in content and "<svg" in content and "cdn" not in content.lower()
        assert "?status__exact=open&amp;border_point__exact=tacna_city" in content
        assert "?status__exact=open&amp;vulnerability=pregnancy" in content
        assert f"?overdue=yes&amp;to_agency__id__exact={figures.to_agency_id}" in content
        assert "?overdue=yes&amp;owner_agency__id__exact=" in content

    def test_handoff_figures_count_pending_overdue_and_the_median_answer(self, figures, cl_agency):
        (row,) = handoff_figures()
        assert (row["to_agency__code"], row["pending"], row["overdue"], row["median_hours"]) == (
            "cl-sermig", 1, 1, 6.0)

    def test_the_case_figures_count_open_cases_only(self, secretariat, figures):
        cases = dashboard_for(secretariat)["cases"]
        assert {row["border_point"]: row["count"] for row in cases["by_border"]}["tacna_city"] == 2
        assert "arica_city" not in {row["border_point"] for row in cases["by_border"]}
        assert cases["open_total"] == 4

    def test_a_member_sees_their_committees_and_no_case_figure(self, client, pe_delegate, committee, figures):
        mine = MeetingFactory(committee=committee, title="Sesión de mi comité")
        MeetingFactory(committee=CommitteeFactory(code="otro"), title="Sesión ajena")
        figures_for_member = dashboard_for(pe_delegate)
        assert figures_for_member["cases"] is None and figures_for_member["handoffs"] is None
        sign_in_to_admin(client, pe_delegate)
        content = client.get(reverse("admin:index")).content.decode()
        assert mine.title in content and "Sesión ajena" not in content
        assert "border_point__exact" not in content

    def test_the_start_page_costs_a_fixed_number_of_queries(self, client, secretariat, figures,
                                                            django_assert_max_num_queries):
        sign_in_to_admin(client, secretariat)
        with django_assert_max_num_queries(20):
            assert client.get(reverse("admin:index")).status_code == 200
