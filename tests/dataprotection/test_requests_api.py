"""Filing, reading, extending and answering requests through the API."""
import datetime

import pytest
import time_machine
from django.utils import timezone

from cases.roles import Role
from dataprotection.models import DataRequest
from tests.factories import UserFactory, case_with_family

UTC = datetime.UTC
RECEIVED = datetime.datetime(2026, 7, 20, 15, 0, tzinfo=UTC)  # 10:00 in Lima


@pytest.mark.django_db
class TestCreate:
    def test_it_records_the_request_with_the_deadline_of_the_agencys_law(self, pe_caseworker, head, file_request):
        """Peru, access: 20 business days, holidays skipped."""
        response = file_request(pe_caseworker, head, "access", received_at=RECEIVED, requester_note="En persona.")
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["status"] == "open" and body["law"] == "PE-29733" and body["handled_by_agency"] == "pe-migraciones"
        assert body["due_at"] == "2026-08-22T05:00:00Z"
        assert body["person"] == str(head.pk) and body["reference"].startswith("DP-2026-")
        stored = DataRequest.objects.get(pk=body["id"])
        assert (stored.kind, stored.created_by, stored.restricts_processing) == ("access", pe_caseworker, False)

    def test_a_chilean_agency_answers_under_the_chilean_law(self, cl_caseworker, file_request):
        case = case_with_family(cl_caseworker.agency, children=0)
        person = case.members.get()
        response = file_request(cl_caseworker, person, "rectification", received_at=RECEIVED)
        assert response.json()["law"] == "CL-21719"
        assert response.json()["due_at"] == "2026-08-20T04:00:00Z"  # 19 August ends at midnight in Santiago (UTC-4)

    def test_an_opposition_restricts_the_processing_at_once(self, pe_caseworker, head, file_request):
        body = file_request(pe_caseworker, head, "opposition").json()
        assert body["restricts_processing"] and body["processing_restricted"]

    @pytest.mark.parametrize("role", ["outsider", "cl_caseworker", "secretariat", "committee_member"])
    def test_others_do_not_find_the_person(self, request, role, head, file_request):
        """Only an agency owning a case of the person files a request: others
        get the 404 of a missing person (the secretariat, a 403: no agency)."""
        response = file_request(request.getfixturevalue(role), head, "access")
        expected = 403 if role in ("secretariat", "committee_member") else 404
        assert response.status_code == expected
        assert response["Content-Type"] == "application/problem+json"
        assert not DataRequest.objects.exists()

    def test_a_collaborator_cannot_file_for_the_owner(self, client_for, family_case, head, cl_caseworker,
                                                      file_request):
        from tests.factories import HandoffFactory

        HandoffFactory(case=family_case, kind="referral", to_agency=cl_caseworker.agency, status="accepted")
        assert file_request(cl_caseworker, head, "access").status_code == 404
        assert not DataRequest.objects.exists()

    def test_a_request_received_in_the_future_is_refused(self, pe_caseworker, head, file_request):
        response = file_request(pe_caseworker, head, "access", received_at=timezone.now() + datetime.timedelta(days=1))
        assert response.status_code == 422 and response.json()["code"] == "in_future"
        assert not DataRequest.objects.exists()

    def test_an_unknown_kind_is_a_400(self, pe_caseworker, head, file_request):
        response = file_request(pe_caseworker, head, "forget_me")
        assert response.status_code == 400
        assert not DataRequest.objects.exists()


@pytest.mark.django_db
class TestList:
    def test_each_agency_reads_its_own_and_the_secretariat_all(self, client_for, pe_caseworker, cl_caseworker,
                                                                 secretariat, outsider, head, file_request):
        mine = file_request(pe_caseworker, head, "access").json()["id"]
        chilean = case_with_family(cl_caseworker.agency, children=0).members.get()
        theirs = file_request(cl_caseworker, chilean, "erasure").json()["id"]

        def ids(user, query=""):
            return {row["id"] for row in client_for(user).get(f"/api/v1/data-requests/{query}").json()["results"]}

        assert ids(pe_caseworker) == {mine}
        assert ids(cl_caseworker) == {theirs}
        assert ids(secretariat) == {mine, theirs}
        assert ids(outsider) == set()
        assert client_for(outsider).get(f"/api/v1/data-requests/{mine}/").status_code == 404
        assert client_for(secretariat).get(f"/api/v1/data-requests/{mine}/").status_code == 200

    def test_it_filters_by_status_kind_and_overdue(self, client_for, pe_caseworker, head, child, file_request):
        old = file_request(pe_caseworker, head, "access", received_at=RECEIVED).json()["id"]
        recent = file_request(pe_caseworker, child, "rectification").json()["id"]
        client = client_for(pe_caseworker)

        def ids(query):
            response = client.get(f"/api/v1/data-requests/?{query}")
            assert response.status_code == 200, response.content
            return [row["id"] for row in response.json()["results"]]

        assert ids("overdue=true") == [old]
        assert ids("overdue=false") == [recent]
        assert ids("kind=rectification") == [recent]
        assert ids("status=open") == [old, recent]  # earliest deadline first
        assert ids("status=completed") == []
        assert client.get("/api/v1/data-requests/?overdue=maybe").status_code == 400

    def test_the_list_costs_the_same_queries_whatever_its_length(self, client_for, pe_caseworker, head, child,
                                                                 file_request, django_assert_num_queries):
        client = client_for(pe_caseworker)
        file_request(pe_caseworker, head, "access")
        client.get("/api/v1/data-requests/")  # the token's first use is recorded once
        with django_assert_num_queries(1):  # the page (the token remembered)
            assert len(client.get("/api/v1/data-requests/").json()["results"]) == 1
        for kind in ("rectification", "opposition", "portability"):
            file_request(pe_caseworker, child, kind)
        with django_assert_num_queries(1):
            assert len(client.get("/api/v1/data-requests/").json()["results"]) == 4


@pytest.mark.django_db
class TestExtend:
    def test_it_extends_once_by_the_term_of_the_law(self, client_for, pe_caseworker, head, file_request):
        with time_machine.travel(RECEIVED + datetime.timedelta(days=3), tick=False):
            request_id = file_request(pe_caseworker, head, "access", received_at=RECEIVED).json()["id"]
            client = client_for(pe_caseworker)
            response = client.post(f"/api/v1/data-requests/{request_id}/extend/", {"reason": "Volumen de archivos."},
                                   format="json")
            assert response.status_code == 200, response.content
            assert response.json()["due_at"] == "2026-09-19T05:00:00Z"
            assert response.json()["original_due_at"] == "2026-08-22T05:00:00Z" and response.json()["extended"]
            again = client.post(f"/api/v1/data-requests/{request_id}/extend/", {"reason": "Otra vez."}, format="json")
        assert again.status_code == 409 and again.json()["code"] == "already_extended"
        assert DataRequest.objects.get(pk=request_id).extension_reason == "Volumen de archivos."

    def test_a_chilean_blocking_has_no_extension(self, client_for, cl_caseworker, file_request):
        person = case_with_family(cl_caseworker.agency, children=0).members.get()
        request_id = file_request(cl_caseworker, person, "blocking").json()["id"]
        response = client_for(cl_caseworker).post(f"/api/v1/data-requests/{request_id}/extend/", {"reason": "x"},
                                                  format="json")
        assert response.status_code == 409 and response.json()["code"] == "extension_not_allowed"
        assert DataRequest.objects.get(pk=request_id).extended_at is None

    def test_a_passed_deadline_cannot_be_extended(self, client_for, pe_caseworker, head, file_request):
        request_id = file_request(pe_caseworker, head, "access", received_at=RECEIVED).json()["id"]
        response = client_for(pe_caseworker).post(f"/api/v1/data-requests/{request_id}/extend/", {"reason": "Tarde."},
                                                  format="json")
        assert response.status_code == 409 and response.json()["code"] == "deadline_passed"
        assert DataRequest.objects.get(pk=request_id).due_at == datetime.datetime(2026, 8, 22, 5, tzinfo=UTC)

    def test_the_secretariat_reads_but_does_not_extend(self, client_for, pe_caseworker, secretariat, head,
                                                      file_request):
        request_id = file_request(pe_caseworker, head, "access").json()["id"]
        response = client_for(secretariat).post(f"/api/v1/data-requests/{request_id}/extend/", {"reason": "x"},
                                                format="json")
        assert response.status_code == 403
        assert DataRequest.objects.get(pk=request_id).extended_at is None


@pytest.mark.django_db
class TestComplete:
    def test_a_refusal_needs_its_legal_ground(self, client_for, pe_caseworker, head, file_request):
        request_id = file_request(pe_caseworker, head, "access").json()["id"]
        client = client_for(pe_caseworker)
        url = f"/api/v1/data-requests/{request_id}/complete/"
        missing = client.post(url, {"outcome": "refused"}, format="json")
        assert missing.status_code == 422 and missing.json()["code"] == "refusal_ground_required"
        assert DataRequest.objects.get(pk=request_id).status == "open"
        response = client.post(url, {"outcome": "refused", "refusal_ground": "identity_not_verified",
                                     "note": "No presentó documento."}, format="json")
        assert response.status_code == 200, response.content
        stored = DataRequest.objects.get(pk=request_id)
        assert (stored.status, stored.outcome, stored.refusal_ground, stored.completed_by) == (
            "completed", "refused", "identity_not_verified", pe_caseworker)
        assert client.post(url, {"outcome": "granted"}, format="json").json()["code"] == "request_completed"

    def test_a_granted_rectification_applies_its_corrections(self, client_for, pe_caseworker, head, file_request):
        request_id = file_request(pe_caseworker, head, "rectification").json()["id"]
        response = client_for(pe_caseworker).post(f"/api/v1/data-requests/{request_id}/complete/", {
            "outcome": "granted", "corrections": {"phone": "+51 952 333 444"}}, format="json")
        assert response.status_code == 200, response.content
        head.refresh_from_db()
        assert head.phone == "+51 952 333 444"

    def test_another_agency_does_not_find_the_request(self, client_for, pe_caseworker, outsider, head, file_request):
        request_id = file_request(pe_caseworker, head, "access").json()["id"]
        response = client_for(outsider).post(f"/api/v1/data-requests/{request_id}/complete/", {"outcome": "granted"},
                                             format="json")
        assert response.status_code == 404
        assert DataRequest.objects.get(pk=request_id).status == "open"


def test_a_caseworker_without_agency_sees_nothing(db, client_for):
    user = UserFactory(username="sin.agencia", roles=[Role.CASEWORKER])
    assert client_for(user).get("/api/v1/data-requests/").json()["results"] == []
