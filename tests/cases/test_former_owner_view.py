"""A former owner sees the case as its agency handed it over: the reference and
the status at the transfer, nothing the new owner does afterwards — not in the
body, its tag, the list, its order or its filters."""
import pytest

from cases.roles import Role
from cases.services import casework, handoffs
from tests.factories import UserFactory, case_with_family


def transfer(case, sender, receiver_user):
    handoff = handoffs.handoff_create(actor=sender, case_id=case.pk, to_agency=receiver_user.agency.code,
                                      kind="transfer", reason="Cambio de jurisdicción.",
                                      legal_basis="cooperation_agreement", legal_basis_note="Acuerdo binacional.")
    handoffs.handoff_accept(actor=receiver_user, handoff_id=handoff.pk)
    return handoff


@pytest.fixture
def transferred(pe_agency, pe_caseworker, cl_caseworker):
    """A Peruvian case transferred to the Chilean agency, which accepted it."""
    case = case_with_family(pe_agency, children=1, priority="normal")
    transfer(case, pe_caseworker, cl_caseworker)
    return case


def snapshot(client, case):
    """Everything the former owner can read about the case."""
    detail = client.get(f"/api/v1/cases/{case.pk}/")
    assert detail.status_code == 200
    listed = client.get("/api/v1/cases/")
    assert listed.status_code == 200
    return detail.content, detail["ETag"], listed.content


def work_of_the_new_owner(case, cl_caseworker, int_agency):
    """Priority, flags, a member, a status change and an onward transfer."""
    casework.case_update(actor=cl_caseworker, case_id=case.pk, priority="urgent",
                         vulnerabilities=["unaccompanied_minor", "trafficking_risk"], border_point="arica_city")
    casework.member_add(actor=cl_caseworker, case_id=case.pk, relationship="child", given_names="Nuevo",
                        sex="male")
    casework.case_close(actor=cl_caseworker, case_id=case.pk, reason="other")
    casework.case_reopen(actor=cl_caseworker, case_id=case.pk)
    onward = UserFactory(username="acnur.caseworker", agency=int_agency, roles=[Role.CASEWORKER])
    transfer(case, cl_caseworker, onward)
    return onward


@pytest.mark.django_db
class TestFormerOwnerView:
    def test_it_shows_the_reference_and_the_status_handed_over(self, client_for, transferred, pe_caseworker):
        """The former owner's projection has four fields, and no personal data."""
        body = client_for(pe_caseworker).get(f"/api/v1/cases/{transferred.pk}/").json()
        assert body == {"id": str(transferred.pk), "reference": transferred.reference, "status": "open",
                        "access": "former_owner"}

    def test_it_does_not_change_with_the_new_owners_work(self, client_for, transferred, pe_caseworker,
                                                        cl_caseworker, int_agency):
        """Detail, ETag and list are byte for byte what they were right after the transfer."""
        client = client_for(pe_caseworker)
        before = snapshot(client, transferred)
        work_of_the_new_owner(transferred, cl_caseworker, int_agency)
        transferred.refresh_from_db()
        assert (transferred.priority, transferred.member_count, transferred.owner_agency.code) == (
            "urgent", 3, int_agency.code)
        assert snapshot(client, transferred) == before

    def test_a_closed_case_still_shows_the_status_handed_over(self, client_for, transferred, pe_caseworker,
                                                              cl_caseworker):
        """Frozen at the transfer: the new owner closing the case is not the former owner's to know."""
        client = client_for(pe_caseworker)
        before = snapshot(client, transferred)
        casework.case_close(actor=cl_caseworker, case_id=transferred.pk, reason="resolved")
        assert snapshot(client, transferred) == before
        assert client.get(f"/api/v1/cases/{transferred.pk}/").json()["status"] == "open"

    @pytest.mark.parametrize("query", [
        {"priority": "urgent"}, {"priority": "normal"}, {"vulnerability": "trafficking_risk"},
        {"border_point": "arica_city"}, {"owner_agency": "cl-sermig"}, {"owner_agency": "int-acnur-tacna"},
        {"status": "closed"},
    ])
    def test_filters_on_what_it_does_not_show_never_match_it(self, client_for, transferred, pe_caseworker,
                                                            cl_caseworker, query):
        """A filter is no back door to the live priority, flags, border point, owner or status."""
        casework.case_update(actor=cl_caseworker, case_id=transferred.pk, priority="urgent",
                             vulnerabilities=["trafficking_risk"], border_point="arica_city")
        casework.case_close(actor=cl_caseworker, case_id=transferred.pk, reason="resolved")
        response = client_for(pe_caseworker).get("/api/v1/cases/", query)
        assert response.status_code == 200
        assert response.json()["results"] == []

    def test_the_status_filter_compares_the_status_handed_over(self, client_for, transferred, pe_caseworker,
                                                               cl_caseworker):
        casework.case_close(actor=cl_caseworker, case_id=transferred.pk, reason="resolved")
        rows = client_for(pe_caseworker).get("/api/v1/cases/", {"status": "open"}).json()["results"]
        assert [row["reference"] for row in rows] == [transferred.reference]

    def test_the_new_owner_and_a_pending_recipient_keep_their_views(self, client_for, transferred, cl_caseworker,
                                                                    pe_caseworker, int_agency):
        """The owner reads in full; a former owner that is offered the case back reads the limited view."""
        assert client_for(cl_caseworker).get(f"/api/v1/cases/{transferred.pk}/").json()["access"] == "owner"
        handoffs.handoff_create(actor=cl_caseworker, case_id=transferred.pk, to_agency="pe-migraciones",
                                kind="transfer", reason="Retorno.", legal_basis="cooperation_agreement",
                                legal_basis_note="Acuerdo binacional.")
        body = client_for(pe_caseworker).get(f"/api/v1/cases/{transferred.pk}/").json()
        assert body["access"] == "limited" and body["owner_agency"] == "cl-sermig"

    def test_its_reads_below_the_case_are_refused(self, client_for, transferred, pe_caseworker):
        for sub in ("members/", "notes/", "history/"):
            response = client_for(pe_caseworker).get(f"/api/v1/cases/{transferred.pk}/{sub}")
            assert response.status_code == 403 and response.json()["code"] == "limited_access"


def walk(client, ordering):
    """Every id of the list in its order, a row per page, through the cursors."""
    ids, url, params = [], "/api/v1/cases/", {"ordering": ordering, "page_size": 1}
    while url:
        page = client.get(url, params).json()
        ids += [row["id"] for row in page["results"]]
        url, params = page["next"], None
    return ids


@pytest.mark.django_db
class TestOrderOfRowsNotReadInFull:
    """A list ordered by ``updated_at`` places a row the caller does not read in
    full by its creation: its place never moves with its owner's work."""

    @pytest.mark.parametrize("ordering", ["updated_at", "-updated_at"])
    def test_the_owners_work_does_not_move_limited_and_former_owner_rows(
            self, client_for, pe_agency, cl_agency, pe_caseworker, cl_caseworker, int_agency, ordering):
        from tests.factories import HandoffFactory

        older = case_with_family(pe_agency)
        pending = case_with_family(cl_agency, summary="Privado.")
        HandoffFactory(case=pending, kind="transfer", from_agency=cl_agency, to_agency=pe_agency, status="pending")
        handed_over = case_with_family(pe_agency)
        transfer(handed_over, pe_caseworker, cl_caseworker)
        newer = case_with_family(pe_agency)
        client = client_for(pe_caseworker)
        before = walk(client, ordering)
        assert sorted(before) == sorted(str(case.pk) for case in (older, pending, handed_over, newer))

        casework.case_update(actor=cl_caseworker, case_id=pending.pk, summary="Nueva entrevista.")
        casework.case_update(actor=cl_caseworker, case_id=pending.pk, priority="urgent")
        casework.case_update(actor=cl_caseworker, case_id=handed_over.pk, priority="urgent")
        casework.note_add(actor=cl_caseworker, case_id=handed_over.pk, body="Privada.")
        assert walk(client, ordering) == before

        # The caller's own cases still follow their real changes.
        casework.case_update(actor=pe_caseworker, case_id=older.pk, summary="Actualizado.")
        after = walk(client, ordering)
        assert (after[-1] if ordering == "updated_at" else after[0]) == str(older.pk)

    def test_updated_since_lists_a_former_owners_row_whatever_the_new_owner_did(
            self, client_for, transferred, pe_caseworker, cl_caseworker):
        import datetime

        from django.utils import timezone

        client = client_for(pe_caseworker)
        later = (timezone.now() + datetime.timedelta(days=1)).isoformat()
        first = client.get("/api/v1/cases/", {"updated_since": later}).json()["results"]
        casework.case_update(actor=cl_caseworker, case_id=transferred.pk, priority="urgent")
        second = client.get("/api/v1/cases/", {"updated_since": later}).json()["results"]
        assert first == second == [{"id": str(transferred.pk), "reference": transferred.reference,
                                    "status": "open", "access": "former_owner"}]
