"""GET /api/v1/handoffs/ and /api/v1/handoffs/{id}/."""
import datetime

import pytest
from django.utils import timezone

from cases.models import Handoff
from tests.factories import AgencyFactory, CaseFactory, HandoffFactory

URL = "/api/v1/handoffs/"


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def traffic(pe_agency, cl_agency, int_agency, outsider_agency):
    """Handoffs to and from pe-migraciones, and one it has nothing to do with."""
    now = timezone.now()
    pdi = AgencyFactory(code="cl-pdi-chacalluta", country="CL")
    return {
        "out_pending": HandoffFactory(case=CaseFactory(owner_agency=pe_agency), to_agency=cl_agency),
        "out_overdue": HandoffFactory(case=CaseFactory(owner_agency=pe_agency), to_agency=int_agency,
                                      kind="referral", response_due=now - datetime.timedelta(hours=1)),
        "out_domestic": HandoffFactory(case=CaseFactory(owner_agency=pe_agency), to_agency=outsider_agency,
                                       kind="referral", legal_basis=""),
        "in_accepted": HandoffFactory(case=CaseFactory(owner_agency=cl_agency), to_agency=pe_agency,
                                      status="accepted", response_due=now - datetime.timedelta(days=1)),
        "in_rejected": HandoffFactory(case=CaseFactory(owner_agency=pdi), to_agency=pe_agency,
                                      status="rejected", rejection_reason="duplicate"),
        "elsewhere": HandoffFactory(case=CaseFactory(owner_agency=cl_agency), to_agency=int_agency),
    }


def names(traffic, *keys):
    return {str(traffic[key].pk) for key in keys}


@pytest.mark.django_db
class TestHandoffList:
    def test_it_lists_what_the_agency_sent_or_received(self, client_for, pe_caseworker, traffic):
        assert ids(client_for(pe_caseworker).get(URL)) == names(
            traffic, "out_pending", "out_overdue", "out_domestic", "in_accepted", "in_rejected")

    def test_it_lists_everything_for_the_secretariat(self, client_for, secretariat, traffic):
        assert ids(client_for(secretariat).get(URL)) == names(traffic, *traffic)

    def test_it_lists_nothing_for_a_committee_member_or_a_user_without_agency(self, client_for, committee_member,
                                                                              traffic):
        assert ids(client_for(committee_member).get(URL)) == set()

    @pytest.mark.parametrize("query,expected", [
        ("direction=incoming", {"in_accepted", "in_rejected"}),
        ("direction=outgoing", {"out_pending", "out_overdue", "out_domestic"}),
        ("status=pending", {"out_pending", "out_overdue", "out_domestic"}),
        ("status=accepted&status=rejected", {"in_accepted", "in_rejected"}),
        ("kind=referral", {"out_overdue", "out_domestic"}),
        ("overdue=true", {"out_overdue"}),
        ("overdue=false", {"out_pending", "out_domestic", "in_accepted", "in_rejected"}),
        ("cross_border=false", {"out_domestic"}),
        ("to_agency=int-acnur-tacna", {"out_overdue"}),
        ("from_agency=cl-pdi-chacalluta", {"in_rejected"}),
        ("direction=outgoing&overdue=true", {"out_overdue"}),
    ])
    def test_it_filters(self, client_for, pe_caseworker, traffic, query, expected):
        assert ids(client_for(pe_caseworker).get(f"{URL}?{query}")) == names(traffic, *expected)

    def test_it_filters_by_case_and_reference(self, client_for, pe_caseworker, traffic):
        case = traffic["in_accepted"].case
        assert ids(client_for(pe_caseworker).get(f"{URL}?case={case.pk}")) == names(traffic, "in_accepted")
        assert ids(client_for(pe_caseworker).get(f"{URL}?search={case.reference}")) == names(traffic, "in_accepted")

    def test_it_filters_by_updated_since(self, client_for, pe_caseworker, traffic):
        since = timezone.now() + datetime.timedelta(minutes=5)
        Handoff.objects.filter(pk=traffic["in_rejected"].pk).update(updated_at=since + datetime.timedelta(seconds=1))
        response = client_for(pe_caseworker).get(URL, {"updated_since": since.isoformat()})
        assert ids(response) == names(traffic, "in_rejected")

    def test_it_gives_the_secretariat_no_direction(self, client_for, secretariat, traffic):
        assert ids(client_for(secretariat).get(f"{URL}?direction=incoming")) == set()

    def test_it_rejects_a_bad_filter_value(self, client_for, pe_caseworker, traffic):
        response = client_for(pe_caseworker).get(f"{URL}?direction=sideways")
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "direction"

    def test_it_pages_with_a_cursor_newest_first(self, client_for, pe_caseworker, traffic):
        client = client_for(pe_caseworker)
        first = client.get(URL, {"page_size": 2}).json()
        second = client.get(first["next"]).json()
        third = client.get(second["next"]).json()
        seen = [row["id"] for page in (first, second, third) for row in page["results"]]
        assert len(seen) == len(set(seen)) == 5
        created = [Handoff.objects.get(pk=pk).created_at for pk in seen]
        assert created == sorted(created, reverse=True)
        assert third["next"] is None

    def test_it_orders_by_deadline(self, client_for, pe_caseworker, traffic):
        rows = client_for(pe_caseworker).get(URL, {"ordering": "response_due"}).json()["results"]
        dues = [row["response_due"] for row in rows]
        assert [datetime.datetime.fromisoformat(due) for due in dues] == sorted(
            datetime.datetime.fromisoformat(due) for due in dues)

    def test_it_reads_the_same_number_of_queries_for_one_or_many(self, client_for, pe_caseworker, pe_agency,
                                                                 cl_agency, django_assert_num_queries):
        client = client_for(pe_caseworker)
        HandoffFactory(case=CaseFactory(owner_agency=pe_agency), to_agency=cl_agency)
        client.get(URL)  # the token read and remembered, its last use stamped
        with django_assert_num_queries(1):  # the page
            assert len(client.get(URL).json()["results"]) == 1
        for _ in range(30):
            HandoffFactory(case=CaseFactory(owner_agency=pe_agency), to_agency=cl_agency)
            HandoffFactory(case=CaseFactory(owner_agency=cl_agency), to_agency=pe_agency, kind="referral")
        with django_assert_num_queries(1):
            assert len(client.get(URL).json()["results"]) == 50

    def test_it_reads_the_same_number_of_queries_for_a_case_chain(self, client_for, pe_caseworker, pe_case,
                                                                  make_handoff, int_agency,
                                                                  django_assert_num_queries):
        client = client_for(pe_caseworker)
        make_handoff(status="rejected")
        client.get(f"/api/v1/cases/{pe_case.pk}/handoffs/")  # the token read and remembered
        # the case with its access, the page
        with django_assert_num_queries(2):
            client.get(f"/api/v1/cases/{pe_case.pk}/handoffs/")
        for status in ("withdrawn", "rejected", "accepted"):
            make_handoff(status=status, to_agency=int_agency, kind="referral")
        with django_assert_num_queries(2):
            assert len(client.get(f"/api/v1/cases/{pe_case.pk}/handoffs/").json()["results"]) == 4


@pytest.mark.django_db
class TestHandoffDetail:
    def test_it_shows_a_handoff_to_both_parties(self, client_for, pe_caseworker, cl_caseworker, make_handoff):
        handoff = make_handoff()
        for user in (pe_caseworker, cl_caseworker):
            body = client_for(user).get(f"{URL}{handoff.pk}/").json()
            assert body["id"] == str(handoff.pk) and body["status"] == "pending"

    def test_it_answers_404_to_anyone_else(self, client_for, outsider, committee_member, make_handoff):
        handoff = make_handoff()
        for user in (outsider, committee_member):
            response = client_for(user).get(f"{URL}{handoff.pk}/")
            assert response.status_code == 404
            assert response.json()["code"] == "not_found"

    def test_it_refuses_other_methods(self, client_for, pe_caseworker, make_handoff):
        handoff = make_handoff()
        client = client_for(pe_caseworker)
        assert client.patch(f"{URL}{handoff.pk}/", {"status": "accepted"}).status_code == 405
        assert client.delete(f"{URL}{handoff.pk}/").status_code == 405
        assert Handoff.objects.get(pk=handoff.pk).status == "pending"

    def test_it_needs_authentication(self, api_client, make_handoff):
        handoff = make_handoff()
        assert api_client.get(f"{URL}{handoff.pk}/").status_code == 401
        assert api_client.post(f"{URL}{handoff.pk}/accept/", {}).status_code == 401
