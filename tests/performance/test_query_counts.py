"""Query counts of the writes on the hot paths: the same number of queries
whatever else is stored, so a write costs the same at ten thousand cases as
at a million (docs/performance.md). The lists have their own tests beside
their endpoints."""
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Case, Handoff
from tests.factories import (
    AgencyFactory,
    CaseMemberFactory,
    ConsentFactory,
    HandoffFactory,
    NoteFactory,
    PersonFactory,
    case_with_family,
)


def family(size: int, tag: str) -> dict:
    members = [{"relationship": "head", "given_names": "Yusmary", "family_names": "Pérez",
                "document_type": "passport", "document_country": "VE", "document_number": f"P{tag}0"}]
    members += [{"relationship": "child", "given_names": f"Hijo {n}", "family_names": "Pérez",
                 "document_type": "birth_certificate", "document_country": "VE", "document_number": f"A{tag}{n}"}
                for n in range(1, size)]
    return {"summary": "Familia en Chacalluta.", "members": members}


def more_of_everything(pe_agency, cl_agency):
    """Other cases, people, documents, consents, notes and handoffs, some of
    them the caller's, some another agency's."""
    other = AgencyFactory(code="cl-pdi-chacalluta", country="CL")
    for agency in (pe_agency, cl_agency, other):
        for _ in range(4):
            case = case_with_family(agency, children=3)
            ConsentFactory(case=case, given_by=case.members.first())
            NoteFactory(case=case)
            HandoffFactory(case=case, to_agency=other if agency != other else cl_agency, status="rejected",
                           kind="referral")
    PersonFactory.create_batch(10, created_by_agency=cl_agency)


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def count(client, method, path, body=None, **headers) -> tuple[int, object]:
    """Statements that read or write data (not transaction control, which
    depends on whether the test runs in a transaction)."""
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(path, body, format="json", **headers)
    return sum(not q["sql"].upper().startswith(TRANSACTION_CONTROL) for q in queries), response


@pytest.mark.django_db
class TestCaseCreateQueries:
    def test_it_takes_the_same_queries_whatever_is_stored(self, client_for, pe_caseworker, pe_agency, cl_agency):
        client = client_for(pe_caseworker)
        client.get("/api/v1/me/")  # the token read and remembered, its last use stamped once a minute
        before, response = count(client, "post", "/api/v1/cases/", family(3, "a"), HTTP_IDEMPOTENCY_KEY="k1")
        assert response.status_code == 201, response.content
        more_of_everything(pe_agency, cl_agency)
        after, response = count(client, "post", "/api/v1/cases/", family(3, "b"), HTTP_IDEMPOTENCY_KEY="k2")
        assert response.status_code == 201
        assert after == before
        assert Case.objects.filter(owner_agency=pe_agency, created_by=pe_caseworker).count() == 2
        # the key: its lock, a stored answer looked for, the answer stored; the documents of the family;
        # the case, its people, the possible duplicates (one statement whatever it finds), its memberships,
        # the reference, the history of all of them, the event and its audience (the token remembered)
        assert before == 13

    def test_without_a_key_it_skips_the_key_statements(self, client_for, pe_caseworker):
        client = client_for(pe_caseworker)
        client.get("/api/v1/me/")
        statements, response = count(client, "post", "/api/v1/cases/", family(3, "f"))
        assert response.status_code == 201
        assert statements == 10

    def test_each_member_costs_the_same_number_of_queries(self, client_for, pe_caseworker):
        client = client_for(pe_caseworker)
        client.get("/api/v1/me/")
        one, _ = count(client, "post", "/api/v1/cases/", family(1, "c"))
        two, _ = count(client, "post", "/api/v1/cases/", family(2, "d"))
        five, response = count(client, "post", "/api/v1/cases/", family(5, "e"))
        assert response.status_code == 201
        # people, memberships and history are written in one insert each, documents checked in one query
        assert one == two == five


@pytest.mark.django_db
class TestHandoffAcceptQueries:
    @pytest.mark.parametrize("kind", ["transfer", "referral"])
    def test_it_takes_the_same_queries_whatever_is_stored(self, client_for, cl_caseworker, pe_agency, cl_agency,
                                                          kind):
        client = client_for(cl_caseworker)
        client.get("/api/v1/me/")
        due = timezone.now() + datetime.timedelta(days=2)

        def pending(case):
            return HandoffFactory(case=case, kind=kind, to_agency=cl_agency, response_due=due,
                                  legal_basis="cooperation_agreement", legal_basis_note="Convenio.")

        small = pending(case_with_family(pe_agency, children=0))
        before, response = count(client, "post", f"/api/v1/handoffs/{small.pk}/accept/", {})
        assert response.status_code == 200, response.content

        more_of_everything(pe_agency, cl_agency)
        big = case_with_family(pe_agency, children=6)
        for _ in range(3):
            CaseMemberFactory(case=big, relationship="other_relative")
        ConsentFactory(case=big, given_by=big.members.first())
        HandoffFactory(case=big, to_agency=cl_agency, status="rejected", kind="referral")
        large = pending(big)
        after, response = count(client, "post", f"/api/v1/handoffs/{large.pk}/accept/", {})
        assert response.status_code == 200
        assert after == before
        assert Handoff.objects.get(pk=large.pk).status == "accepted"
        # the handoff's case, the case locked, the handoff locked with
        # its two agencies, whether a member's processing is restricted, the update, history, event and
        # its audience; a transfer also moves the owner, records it and looks for the pending handoffs it
        # leaves behind (none here); the token remembered
        assert before == (11 if kind == "transfer" else 8)
