"""The handoff admin: read-only for everyone, filters, the case's chain, and
the overdue overview for the secretariat."""
import datetime

import pytest
from django.test import Client
from django.utils import timezone

from cases.models import Handoff
from tests.factories import AgencyFactory, CaseFactory, HandoffFactory
from tests.staff import sign_in_to_admin

CHANGELIST = "/admin/cases/handoff/"


@pytest.fixture
def admin_client_for():
    def make(user):
        return sign_in_to_admin(Client(), user)

    return make


@pytest.fixture
def handoffs(pe_agency, cl_agency, int_agency, outsider_agency):
    now = timezone.now()
    return {
        "overdue": HandoffFactory(case=CaseFactory(owner_agency=pe_agency, reference="BC-2026-000101"),
                                  to_agency=cl_agency, response_due=now - datetime.timedelta(hours=30)),
        "pending": HandoffFactory(case=CaseFactory(owner_agency=cl_agency, reference="BC-2026-000102"),
                                  to_agency=pe_agency),
        "domestic": HandoffFactory(case=CaseFactory(owner_agency=pe_agency, reference="BC-2026-000103"),
                                   to_agency=outsider_agency, kind="referral", status="rejected",
                                   rejection_reason="no_capacity", legal_basis=""),
    }


def listed(response):
    assert response.status_code == 200
    return {handoff.pk for handoff in response.context["cl"].result_list}


@pytest.mark.django_db
class TestHandoffAdminList:
    def test_it_lists_every_handoff_for_the_secretariat(self, admin_client_for, secretariat, handoffs):
        assert listed(admin_client_for(secretariat).get(CHANGELIST)) == {h.pk for h in handoffs.values()}

    @pytest.mark.parametrize("query,expected", [
        ("overdue=yes", {"overdue"}),
        ("overdue=no", {"pending", "domestic"}),
        ("cross_border=yes", {"overdue", "pending"}),
        ("cross_border=no", {"domestic"}),
        ("status__exact=rejected", {"domestic"}),
        ("kind__exact=referral", {"domestic"}),
        ("q=BC-2026-000102", {"pending"}),
    ])
    def test_it_filters(self, admin_client_for, secretariat, handoffs, query, expected):
        response = admin_client_for(secretariat).get(f"{CHANGELIST}?{query}")
        assert listed(response) == {handoffs[name].pk for name in expected}

    def test_it_filters_by_sending_and_receiving_agency(self, admin_client_for, secretariat, handoffs, pe_agency):
        client = admin_client_for(secretariat)
        sent = listed(client.get(f"{CHANGELIST}?from_agency__id__exact={pe_agency.pk}"))
        received = listed(client.get(f"{CHANGELIST}?to_agency__id__exact={pe_agency.pk}"))
        assert sent == {handoffs["overdue"].pk, handoffs["domestic"].pk}
        assert received == {handoffs["pending"].pk}

    def test_it_offers_no_add_and_no_bulk_action_but_the_exports(self, admin_client_for, secretariat, handoffs):
        response = admin_client_for(secretariat).get(CHANGELIST)
        assert b"/admin/cases/handoff/add/" not in response.content
        actions = set(response.context["cl"].model_admin.get_actions(response.wsgi_request))
        assert actions == {"export_csv", "export_xlsx"}

    def test_it_is_closed_to_caseworkers_and_committee_members(self, admin_client_for, pe_caseworker,
                                                               committee_member, handoffs):
        assert admin_client_for(pe_caseworker).get(CHANGELIST).status_code == 302  # not staff: to the login
        assert admin_client_for(committee_member).get(CHANGELIST).status_code == 403


@pytest.mark.django_db
class TestHandoffAdminDetail:
    def test_it_shows_the_case_and_its_chain_read_only(self, admin_client_for, secretariat, handoffs, cl_agency,
                                                       int_agency):
        first = handoffs["overdue"]
        second = HandoffFactory(case=first.case, from_agency=first.from_agency, to_agency=int_agency,
                                kind="referral", status="withdrawn")
        response = admin_client_for(secretariat).get(f"{CHANGELIST}{second.pk}/change/")
        assert response.status_code == 200
        body = response.content.decode()
        assert first.case.reference in body
        assert f"/admin/cases/handoff/{first.pk}/change/" in body
        assert "pe-migraciones → cl-sermig" in body and "pe-migraciones → int-acnur-tacna" in body
        assert 'name="_save"' not in body

    def test_it_refuses_every_write_even_to_a_superuser(self, admin_client_for, secretariat, handoffs):
        from tests.factories import UserFactory

        root = UserFactory(username="root", is_staff=True, is_superuser=True)
        handoff = handoffs["pending"]
        for user in (secretariat, root):
            client = admin_client_for(user)
            assert client.post(f"{CHANGELIST}{handoff.pk}/change/", {"status": "accepted"}).status_code == 403
            assert client.post(f"{CHANGELIST}{handoff.pk}/delete/", {"post": "yes"}).status_code == 403
            assert client.post(f"{CHANGELIST}add/", {}).status_code == 403
        handoff.refresh_from_db()
        assert handoff.status == "pending"
        assert Handoff.objects.count() == 3


@pytest.mark.django_db
class TestOverdueOverview:
    def test_it_shows_the_overdue_ones_per_receiving_agency(self, admin_client_for, secretariat, handoffs,
                                                            cl_agency):
        later = HandoffFactory(case=CaseFactory(owner_agency=AgencyFactory(code="pe-upe-tacna")),
                               to_agency=cl_agency, response_due=timezone.now() - datetime.timedelta(hours=2))
        response = admin_client_for(secretariat).get(f"{CHANGELIST}overdue/")
        assert response.status_code == 200
        assert response.context["total"] == 2
        assert [row["to_agency__code"] for row in response.context["per_agency"]] == ["cl-sermig"]
        assert response.context["per_agency"][0]["count"] == 2
        assert [h.pk for h in response.context["handoffs"]] == [handoffs["overdue"].pk, later.pk]  # most late first
        assert handoffs["overdue"].case.reference.encode() in response.content
        assert handoffs["pending"].case.reference.encode() not in response.content

    def test_it_is_linked_from_the_list(self, admin_client_for, secretariat, handoffs):
        assert b"/admin/cases/handoff/overdue/" in admin_client_for(secretariat).get(CHANGELIST).content

    def test_it_is_closed_to_committee_members(self, admin_client_for, committee_member, handoffs):
        assert admin_client_for(committee_member).get(f"{CHANGELIST}overdue/").status_code == 403
