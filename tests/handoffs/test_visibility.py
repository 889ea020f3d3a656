"""Who sees the case, and what, before and after each step of a handoff —
through the access rules (``cases_visible_to``) and through the handoff
endpoints, whose bodies never carry personal data."""
import pytest

from cases.selectors import cases_visible_to
from cases.services import handoffs as services
from tests.privacy import assert_no_personal_data

# (kind, steps from pending, access of sender, of receiver, of outsider)
AFTER = [
    ("transfer", [], "owner", "limited"),
    ("transfer", ["accept"], "former_owner", "owner"),
    ("transfer", ["accept", "complete"], "former_owner", "owner"),
    ("transfer", ["reject"], "owner", None),
    ("transfer", ["withdraw"], "owner", None),
    ("referral", [], "owner", "limited"),
    ("referral", ["accept"], "owner", "collaborator"),
    ("referral", ["accept", "complete"], "owner", None),
    ("referral", ["reject"], "owner", None),
    ("referral", ["withdraw"], "owner", None),
]


def access_of(user, case):
    row = cases_visible_to(user).filter(pk=case.pk).values_list("access", flat=True).first()
    return row


def play(steps, handoff, sender, receiver):
    for step in steps:
        if step == "reject":
            services.handoff_reject(actor=receiver, handoff_id=handoff.pk, reason="no_capacity")
        else:
            actor = sender if step == "withdraw" else receiver
            getattr(services, f"handoff_{step}")(actor=actor, handoff_id=handoff.pk)


@pytest.mark.django_db
class TestCaseAccessThroughHandoffs:
    @pytest.mark.parametrize("kind,steps,sender_access,receiver_access", AFTER,
                             ids=[f"{row[0]}-{'-'.join(row[1]) or 'pending'}" for row in AFTER])
    def test_it_gives_each_agency_the_access_of_the_design(self, pe_caseworker, cl_caseworker, outsider,
                                                           secretariat, make_handoff, pe_case, kind, steps,
                                                           sender_access, receiver_access):
        assert access_of(cl_caseworker, pe_case) is None  # nothing before the handoff
        handoff = make_handoff(kind=kind, services_requested="Atención." if kind == "referral" else "")
        play(steps, handoff, pe_caseworker, cl_caseworker)
        assert access_of(pe_caseworker, pe_case) == sender_access
        assert access_of(cl_caseworker, pe_case) == receiver_access
        assert access_of(outsider, pe_case) is None
        assert access_of(secretariat, pe_case) == "oversight"


@pytest.mark.django_db
class TestHandoffBodiesCarryNoPersonalData:
    @pytest.mark.parametrize("kind,steps,sender_access,receiver_access", AFTER,
                             ids=[f"{row[0]}-{'-'.join(row[1]) or 'pending'}" for row in AFTER])
    def test_it_shows_the_handoff_to_both_parties_and_never_the_people(
            self, client_for, pe_caseworker, cl_caseworker, outsider, secretariat, make_handoff, pe_case, kind,
            steps, sender_access, receiver_access):
        handoff = make_handoff(kind=kind, services_requested="Atención." if kind == "referral" else "")
        play(steps, handoff, pe_caseworker, cl_caseworker)
        for user in (pe_caseworker, cl_caseworker, secretariat):
            client = client_for(user)
            detail = client.get(f"/api/v1/handoffs/{handoff.pk}/")
            listing = client.get("/api/v1/handoffs/")
            assert detail.status_code == listing.status_code == 200
            assert [row["id"] for row in listing.json()["results"]] == [str(handoff.pk)]
            assert_no_personal_data(detail, pe_case)
            assert_no_personal_data(listing, pe_case)
        assert client_for(outsider).get(f"/api/v1/handoffs/{handoff.pk}/").status_code == 404
        assert client_for(outsider).get("/api/v1/handoffs/").json()["results"] == []

        # The case's chain: readable while the caller can see the case at all.
        for user, access in ((pe_caseworker, sender_access), (cl_caseworker, receiver_access)):
            chain = client_for(user).get(f"/api/v1/cases/{pe_case.pk}/handoffs/")
            if access is None:
                assert chain.status_code == 404
                assert chain.json()["code"] == "not_found"
            else:
                assert chain.status_code == 200
                assert [row["id"] for row in chain.json()["results"]] == [str(handoff.pk)]
                assert_no_personal_data(chain, pe_case)


@pytest.mark.django_db
class TestCaseHandoffList:
    def test_it_shows_the_owner_the_whole_chain_and_a_limited_viewer_its_own(
            self, client_for, pe_caseworker, cl_caseworker, int_agency, make_handoff, pe_case):
        """A pending recipient (limited view) sees only the handoffs its agency
        is party to, not the case's other handoffs."""
        to_int = make_handoff(kind="referral", to_agency=int_agency, status="rejected",
                              rejection_reason="out_of_mandate", services_requested="Refugio.")
        to_cl = make_handoff()
        owner_view = client_for(pe_caseworker).get(f"/api/v1/cases/{pe_case.pk}/handoffs/").json()["results"]
        assert [row["id"] for row in owner_view] == [str(to_int.pk), str(to_cl.pk)]  # oldest first
        limited_view = client_for(cl_caseworker).get(f"/api/v1/cases/{pe_case.pk}/handoffs/").json()["results"]
        assert [row["id"] for row in limited_view] == [str(to_cl.pk)]

    def test_it_hides_the_case_from_an_outsider(self, client_for, outsider, committee_member, make_handoff, pe_case):
        make_handoff()
        for user in (outsider, committee_member):
            response = client_for(user).get(f"/api/v1/cases/{pe_case.pk}/handoffs/")
            assert response.status_code == 404
        assert client_for(outsider).get("/api/v1/cases/not-a-uuid/handoffs/").status_code == 404

    def test_it_shows_the_secretariat_everything(self, client_for, secretariat, make_handoff, pe_case):
        handoff = make_handoff()
        response = client_for(secretariat).get(f"/api/v1/cases/{pe_case.pk}/handoffs/")
        assert [row["id"] for row in response.json()["results"]] == [str(handoff.pk)]


@pytest.mark.django_db
class TestCaseEndpointsThroughHandoffs:
    """The same table, read through the case endpoints that partner systems call."""

    @pytest.mark.parametrize("kind,steps,sender_access,receiver_access", AFTER,
                             ids=[f"{row[0]}-{'-'.join(row[1]) or 'pending'}" for row in AFTER])
    def test_each_party_reads_the_case_as_the_design_says(self, client_for, pe_caseworker, cl_caseworker, outsider,
                                                         make_handoff, pe_case, kind, steps, sender_access,
                                                         receiver_access):
        handoff = make_handoff(kind=kind, services_requested="Atención." if kind == "referral" else "")
        play(steps, handoff, pe_caseworker, cl_caseworker)
        url = f"/api/v1/cases/{pe_case.pk}/"
        for user, expected in ((pe_caseworker, sender_access), (cl_caseworker, receiver_access), (outsider, None)):
            response = client_for(user).get(url)
            if expected is None:
                assert response.status_code == 404
                assert response["Content-Type"] == "application/problem+json"
                continue
            assert response.status_code == 200
            body = response.json()
            assert body["access"] == expected
            if expected in ("limited", "former_owner"):
                assert_no_personal_data(body, pe_case)
                assert client_for(user).get(f"{url}notes/").status_code == 403
            else:
                assert {m["person"] for m in body["members"]} == {str(p.pk) for p in pe_case.members.all()}
