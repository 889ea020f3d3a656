"""Registering, listing, reading, changing, closing and reopening cases."""
import datetime

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import (
    Case,
    CaseAccessLog,
    CaseMember,
    CaseReferenceCounter,
    DuplicateCandidate,
    HistoryEntry,
    Person,
)
from cases.roles import Role
from cases.services.search import case_search_refresh
from outbox.models import Event
from tests.factories import CaseMemberFactory, HandoffFactory, UserFactory, case_with_family

from .conftest import case_body, member

PROBLEM = "application/problem+json"


def errors_by_field(response):
    assert response["Content-Type"] == PROBLEM
    return {error["field"]: error for error in response.json()["errors"]}


@pytest.mark.django_db
class TestCaseCreate:
    def test_it_registers_a_family_owned_by_the_callers_agency(self, client_for, pe_caseworker):
        response = client_for(pe_caseworker).post("/api/v1/cases/", case_body(), format="json")

        assert response.status_code == 201, response.content
        body = response.json()
        year = timezone.localdate().year
        assert body["reference"] == f"BC-{year}-000001"
        assert (body["status"], body["owner_agency"], body["access"]) == ("open", "pe-migraciones", "owner")
        assert body["member_count"] == 2
        head, child = body["members"]
        assert (head["relationship"], head["given_names"], head["matched_existing"]) == (
            "head", "Yusmary Carolina", False)
        assert child["document_type"] == "birth_certificate"
        assert body["created_at"] and body["updated_at"]
        assert response["Location"].endswith(f"/api/v1/cases/{body['id']}/")
        assert response["ETag"].startswith('"')

        case = Case.objects.get(pk=body["id"])
        assert case.owner_agency.code == "pe-migraciones" and case.created_by == pe_caseworker
        assert case.vulnerabilities == ["family_with_children"]
        assert case.member_count == CaseMember.objects.filter(case=case).count() == 2
        assert Person.objects.get(pk=head["person"]).document_number_normalised == "V12345678"
        actions = sorted(HistoryEntry.objects.filter(case=case).values_list("action", flat=True))
        assert actions == ["case.created", "member.added", "member.added", "person.created", "person.created"]
        assert set(HistoryEntry.objects.values_list("actor__username", "agency__code")) == {
            ("pe.caseworker", "pe-migraciones")}
        event = Event.objects.get()
        assert (event.type, event.object_id, event.case_reference) == ("case.created", str(case.pk), case.reference)
        assert [agency.code for agency in event.agencies.all()] == ["pe-migraciones"]

    @pytest.mark.parametrize("who", ["secretariat", "committee_member", "without_agency"])
    def test_it_requires_a_caseworker_of_an_agency(self, request, client_for, who):
        user = (UserFactory(username="sin.agencia", roles=[Role.CASEWORKER]) if who == "without_agency"
                else request.getfixturevalue(who))
        response = client_for(user).post("/api/v1/cases/", {"members": []}, format="json")
        assert response.status_code == 403
        assert response["Content-Type"] == PROBLEM
        assert response.json()["code"] == "agency_required"
        assert not Case.objects.exists() and not Person.objects.exists()

    @pytest.mark.parametrize("relationships", [["spouse", "child"], ["head", "head"]])
    def test_it_needs_exactly_one_head(self, client_for, pe_caseworker, relationships):
        members = [member(relationship=rel, document_number=f"D{index}") for index, rel in enumerate(relationships)]
        response = client_for(pe_caseworker).post("/api/v1/cases/", case_body(members=members), format="json")
        assert response.status_code == 422
        assert errors_by_field(response)["members"]["code"] == "exactly_one_head"
        assert not Case.objects.exists() and not Person.objects.exists()
        assert not CaseReferenceCounter.objects.filter(last_number__gt=0).exists()

    def test_it_refuses_an_empty_family(self, client_for, pe_caseworker):
        response = client_for(pe_caseworker).post("/api/v1/cases/", case_body(members=[]), format="json")
        assert response.status_code == 400
        assert "members" in errors_by_field(response)

    @pytest.mark.parametrize("language,fragment", [("es", "no es una elección válida"),
                                                   ("en", "is not a valid choice")])
    def test_validation_errors_name_the_fields_in_the_callers_language(self, client_for, pe_caseworker, language,
                                                                       fragment):
        body = case_body(priority="immediate", vulnerabilities=["hunger"],
                         members=[member(relationship="cousin", nationality="XX", date_of_birth="12/04/1991")])
        response = client_for(pe_caseworker, HTTP_ACCEPT_LANGUAGE=language).post("/api/v1/cases/", body,
                                                                                 format="json")
        assert response.status_code == 400
        problem = response.json()
        assert problem["code"] == "validation_error"
        errors = errors_by_field(response)
        assert set(errors) == {"priority", "vulnerabilities.0", "members.0.relationship", "members.0.nationality",
                               "members.0.date_of_birth"}
        assert fragment in errors["priority"]["message"]
        assert errors["priority"]["code"] == "invalid_choice"
        assert not Case.objects.exists()

    @pytest.mark.parametrize("language,message", [
        ("es", "Un caso necesita exactamente un jefe o jefa de familia."),
        ("en", "A case needs exactly one head of family."),
    ])
    def test_rule_errors_follow_the_callers_language(self, client_for, pe_caseworker, language, message):
        body = case_body(members=[member(relationship="spouse")])
        response = client_for(pe_caseworker, HTTP_ACCEPT_LANGUAGE=language).post("/api/v1/cases/", body,
                                                                                 format="json")
        assert response.json()["errors"] == [{"field": "members", "code": "exactly_one_head", "message": message}]

    def test_a_new_person_needs_given_names(self, client_for, pe_caseworker):
        body = case_body(members=[member(given_names="")])
        response = client_for(pe_caseworker).post("/api/v1/cases/", body, format="json")
        assert response.status_code == 400
        assert "members.0.given_names" in errors_by_field(response)

    def test_a_document_number_needs_a_document_type(self, client_for, pe_caseworker):
        body = case_body(members=[member(document_type="none", document_number="123")])
        response = client_for(pe_caseworker).post("/api/v1/cases/", body, format="json")
        assert errors_by_field(response)["members.0.document_type"]["code"] == "document_type_required"
        assert not Person.objects.exists()

    def test_mass_assignment_of_read_only_fields_has_no_effect(self, client_for, pe_caseworker, cl_agency):
        body = case_body(owner_agency="cl-sermig", reference="BC-1999-999999", status="closed", id=
                         "00000000-0000-0000-0000-000000000001", member_count=99, access="oversight", version=50,
                         created_at="2001-01-01T00:00:00Z", anonymised_at="2001-01-01T00:00:00Z",
                         closure_reason="resolved", created_by="cl.caseworker")
        body["members"][0].update(matched_existing=True, created_by_agency="cl-sermig", anonymised_at="2001-01-01")
        response = client_for(pe_caseworker).post("/api/v1/cases/", body, format="json")

        assert response.status_code == 201
        case = Case.objects.get()
        assert str(case.pk) == response.json()["id"] != body["id"]
        assert case.owner_agency.code == "pe-migraciones" and case.created_by == pe_caseworker
        assert case.reference.endswith("-000001") and case.status == "open" and case.closure_reason == ""
        assert (case.member_count, case.version, case.anonymised_at) == (2, 1, None)
        assert case.created_at.year == timezone.now().year
        person = Person.objects.get(pk=response.json()["members"][0]["person"])
        assert person.created_by_agency.code == "pe-migraciones" and person.anonymised_at is None
        assert response.json()["members"][0]["matched_existing"] is False

    def test_a_document_matching_a_person_the_caller_sees_links_that_person(self, client_for, pe_caseworker,
                                                                          pe_agency):
        existing = CaseMemberFactory(case__owner_agency=pe_agency, person__document_number="V12345678",
                                     person__document_type="passport", person__document_country="VE").person
        body = case_body(members=[member(document_number="v-123.456.78")])
        response = client_for(pe_caseworker).post("/api/v1/cases/", body, format="json")

        assert response.status_code == 201
        linked = response.json()["members"][0]
        assert linked["person"] == str(existing.pk) and linked["matched_existing"] is True
        assert Person.objects.count() == 1
        assert not DuplicateCandidate.objects.exists()
        entry = HistoryEntry.objects.get(action="member.added")
        assert entry.changes["matched_existing"] == [None, True]

    def test_a_match_the_caller_cannot_see_is_never_revealed(self, client_for, pe_caseworker, cl_agency):
        hidden = CaseMemberFactory(case__owner_agency=cl_agency, person__document_number="V-12345678",
                                   person__document_type="passport", person__document_country="VE").person
        body = case_body(members=[member(document_number="V12345678")])
        response = client_for(pe_caseworker).post("/api/v1/cases/", body, format="json")

        assert response.status_code == 201
        created = response.json()["members"][0]
        assert created["matched_existing"] is False and created["person"] != str(hidden.pk)
        assert str(hidden.pk) not in response.content.decode()
        candidate = DuplicateCandidate.objects.get()
        assert (str(candidate.new_person_id), candidate.existing_person_id) == (created["person"], hidden.pk)
        assert not HistoryEntry.objects.filter(changes__has_key="matched_existing").exists()

    def test_a_member_can_be_a_person_the_caller_already_sees(self, client_for, pe_caseworker, pe_agency):
        existing = case_with_family(pe_agency, children=0).members.get()
        body = case_body(members=[{"relationship": "head", "person": str(existing.pk)}])
        response = client_for(pe_caseworker).post("/api/v1/cases/", body, format="json")
        assert response.status_code == 201
        assert response.json()["members"][0]["person"] == str(existing.pk)
        assert existing.memberships.count() == 2

    def test_a_person_the_caller_cannot_see_is_like_no_person(self, client_for, pe_caseworker, cl_agency):
        hidden = case_with_family(cl_agency, children=0).members.get()
        for person_id in (str(hidden.pk), "1b4e28ba-2fa1-11d2-883f-0016d3cca427"):
            body = case_body(members=[{"relationship": "head", "person": person_id}])
            response = client_for(pe_caseworker).post("/api/v1/cases/", body, format="json")
            assert response.status_code == 422
            assert errors_by_field(response)["members.0.person"]["code"] == "unknown_person"
        assert Case.objects.filter(owner_agency__code="pe-migraciones").count() == 0

    def test_the_same_person_twice_is_refused(self, client_for, pe_caseworker):
        body = case_body(members=[member(), member(relationship="spouse", document_number="V12345678")])
        response = client_for(pe_caseworker).post("/api/v1/cases/", body, format="json")
        assert errors_by_field(response)["members.1"]["code"] == "duplicate_member"
        assert not Person.objects.exists()

    def test_references_are_sequential_and_a_refused_case_uses_no_number(self, client_for, pe_caseworker):
        client = client_for(pe_caseworker)
        first = client.post("/api/v1/cases/", case_body(), format="json").json()["reference"]
        refused = client.post("/api/v1/cases/", case_body(members=[member(relationship="child")]), format="json")
        second = client.post("/api/v1/cases/", case_body(members=[member(document_number="Z9")]),
                             format="json").json()["reference"]
        assert refused.status_code == 422
        assert (first[-6:], second[-6:]) == ("000001", "000002")

    def test_each_year_starts_its_own_sequence(self, client_for, pe_caseworker):
        client = client_for(pe_caseworker)
        with time_machine.travel(datetime.datetime(2026, 12, 31, 23, 0, tzinfo=datetime.UTC)):
            assert client.post("/api/v1/cases/", case_body(), format="json").json()["reference"] == "BC-2026-000001"
        # 1 January 2027 in Lima, where the committee's year turns.
        with time_machine.travel(datetime.datetime(2027, 1, 1, 5, 30, tzinfo=datetime.UTC)):
            body = case_body(members=[member(document_number="Z9")])
            assert client.post("/api/v1/cases/", body, format="json").json()["reference"] == "BC-2027-000001"


@pytest.mark.django_db
class TestCaseList:
    def test_it_lists_only_what_the_caller_may_see(self, client_for, pe_caseworker, pe_agency, cl_agency):
        own = case_with_family(pe_agency)
        case_with_family(cl_agency)
        body = client_for(pe_caseworker).get("/api/v1/cases/").json()
        assert [(row["reference"], row["access"]) for row in body["results"]] == [(own.reference, "owner")]
        assert body["results"][0]["members"][0]["given_names"]
        logged = CaseAccessLog.objects.values_list("case_id", "user__username", "access", "channel")
        assert list(logged) == [(own.pk, "pe.caseworker", "owner", "api")]

    def test_a_caseworkers_full_reads_are_logged_page_by_page_in_one_insert(self, client_for, pe_caseworker,
                                                                            pe_agency, cl_agency, int_agency):
        """Every case read in full on every page, as a detail read is; the
        limited view shows no personal data and is not logged."""
        own = [case_with_family(pe_agency) for _ in range(2)]
        collaborating = case_with_family(cl_agency)
        HandoffFactory(case=collaborating, kind="referral", to_agency=pe_agency, status="accepted")
        limited = case_with_family(int_agency)
        HandoffFactory(case=limited, kind="transfer", to_agency=pe_agency, status="pending")
        client = client_for(pe_caseworker)
        client.get("/api/v1/me/")  # the token's last-use stamp, written once a minute
        seen, link = [], "/api/v1/cases/?page_size=2"
        while link:
            with CaptureQueriesContext(connection) as queries:
                page = client.get(link).json()
            inserts = [q["sql"] for q in queries if q["sql"].startswith('INSERT INTO "cases_caseaccesslog"')]
            assert len(inserts) == 1
            seen += [(row["id"], row["access"]) for row in page["results"]]
            link = page["next"]
        assert len(seen) == 4
        logged = sorted(CaseAccessLog.objects.values_list("case_id", "user__username", "access", "channel"))
        assert logged == sorted([(case.pk, "pe.caseworker", "owner", "api") for case in own]
                                + [(collaborating.pk, "pe.caseworker", "collaborator", "api")])
        assert not CaseAccessLog.objects.filter(case=limited).exists()

    def test_secretariat_list_reads_are_logged_in_one_go(self, client_for, secretariat, pe_agency, cl_agency):
        cases = [case_with_family(pe_agency), case_with_family(cl_agency)]
        body = client_for(secretariat).get("/api/v1/cases/").json()
        assert {row["access"] for row in body["results"]} == {"oversight"}
        logged = CaseAccessLog.objects.values_list("case_id", "user__username", "access", "channel")
        assert sorted(logged) == sorted((case.pk, "secretaria", "oversight", "api") for case in cases)

    @pytest.mark.parametrize("caller", ["pe_caseworker", "secretariat"])
    def test_the_query_count_does_not_grow_with_the_cases(self, request, client_for, pe_agency,
                                                          django_assert_num_queries, caller):
        client = client_for(request.getfixturevalue(caller))
        case_with_family(pe_agency, children=2)
        client.get("/api/v1/cases/")  # the token read (and remembered), its last use stamped once a minute
        # the page of cases, their members with their people, the access log
        expected = 3
        with django_assert_num_queries(expected):
            assert len(client.get("/api/v1/cases/").json()["results"]) == 1
        for _ in range(49):
            case_with_family(pe_agency, children=2)
        with django_assert_num_queries(expected):
            results = client.get("/api/v1/cases/").json()["results"]
        assert len(results) == 50 and all(len(row["members"]) == 3 for row in results)

    def test_it_filters(self, client_for, pe_caseworker, pe_agency):
        family = case_with_family(pe_agency, priority="high", border_point="chacalluta_santa_rosa")
        minor = case_with_family(pe_agency, children=0, priority="urgent", border_point="tacna_city",
                                 vulnerable_unaccompanied_minor=True)
        minor_person = minor.members.get()
        minor_person.nationality, minor_person.given_names = "CO", "Brayan Stiven"
        minor_person.document_number = "CO-778.123"
        minor_person.save()
        case_search_refresh(case_ids=[minor.pk])  # as person_update does
        Case.objects.filter(pk=minor.pk).update(status="closed", closure_reason="resolved")
        client = client_for(pe_caseworker)

        def refs(query):
            response = client.get(f"/api/v1/cases/?{query}")
            assert response.status_code == 200, response.content
            return {row["reference"] for row in response.json()["results"]}

        assert refs("status=closed") == {minor.reference}
        assert refs("priority=high") == {family.reference}
        assert refs("priority=high&priority=urgent") == {family.reference, minor.reference}
        assert refs("vulnerability=unaccompanied_minor") == {minor.reference}
        assert refs("vulnerability=unaccompanied_minor&vulnerability=pregnancy") == set()
        assert refs("border_point=tacna_city") == {minor.reference}
        assert refs("owner_agency=pe-migraciones") == {family.reference, minor.reference}
        assert refs("owner_agency=cl-sermig") == set()
        assert refs("nationality=co") == {minor.reference}
        assert refs("search=brayan") == {minor.reference}
        assert refs("search=co778123") == {minor.reference}
        assert refs(f"search={family.reference[-6:]}") == {family.reference}

    def test_updated_since_is_for_incremental_sync(self, client_for, pe_caseworker, pe_agency):
        old = case_with_family(pe_agency)
        recent = case_with_family(pe_agency)
        cutoff = timezone.now() - datetime.timedelta(hours=1)
        Case.objects.filter(pk=old.pk).update(updated_at=cutoff - datetime.timedelta(days=2))
        response = client_for(pe_caseworker).get("/api/v1/cases/", {"updated_since": cutoff.isoformat()})
        assert [row["reference"] for row in response.json()["results"]] == [recent.reference]

    def test_a_bad_filter_is_a_validation_problem(self, client_for, pe_caseworker):
        response = client_for(pe_caseworker).get("/api/v1/cases/?updated_since=yesterday&status=lost")
        assert response.status_code == 400
        assert set(errors_by_field(response)) == {"updated_since", "status"}

    def test_it_orders_and_pages_with_a_cursor(self, client_for, pe_caseworker, pe_agency):
        references = sorted(case_with_family(pe_agency).reference for _ in range(5))
        client = client_for(pe_caseworker)
        page = client.get("/api/v1/cases/?ordering=reference&page_size=2").json()
        seen = [row["reference"] for row in page["results"]]
        while page["next"]:
            page = client.get(page["next"]).json()
            seen += [row["reference"] for row in page["results"]]
        assert seen == references


@pytest.mark.django_db
class TestCaseDetail:
    def test_the_owner_reads_it_in_full_and_the_read_is_logged(self, client_for, pe_caseworker, family_case):
        response = client_for(pe_caseworker).get(f"/api/v1/cases/{family_case.pk}/")
        assert response.status_code == 200
        body = response.json()
        assert body["access"] == "owner" and len(body["members"]) == 3 and body["summary"]
        assert response["ETag"]
        log = CaseAccessLog.objects.get()
        assert (log.case, log.user, log.agency.code, log.access, log.channel) == (
            family_case, pe_caseworker, "pe-migraciones", "owner", "api")

    def test_a_collaborator_reads_it_in_full(self, client_for, collaborator, family_case):
        body = client_for(collaborator).get(f"/api/v1/cases/{family_case.pk}/").json()
        assert body["access"] == "collaborator" and len(body["members"]) == 3
        assert CaseAccessLog.objects.get().access == "collaborator"

    def test_the_secretariat_reads_it_and_the_read_is_logged(self, client_for, secretariat, family_case):
        body = client_for(secretariat).get(f"/api/v1/cases/{family_case.pk}/").json()
        assert body["access"] == "oversight"
        assert CaseAccessLog.objects.get().user == secretariat

    def test_a_malformed_id_is_a_problem_404(self, client_for, pe_caseworker):
        response = client_for(pe_caseworker).get("/api/v1/cases/not-a-uuid/")
        assert response.status_code == 404 and response["Content-Type"] == PROBLEM


@pytest.mark.django_db
class TestCasePatch:
    def test_the_owner_changes_fields_and_history_records_each_change(self, client_for, pe_caseworker, family_case,
                                                                      collaborator, pe_agency):
        colleague = UserFactory(username="pe.colega", agency=pe_agency, roles=[Role.CASEWORKER])
        response = client_for(pe_caseworker).patch(f"/api/v1/cases/{family_case.pk}/", {
            "priority": "urgent", "summary": "Nuevo resumen.", "border_point": "tacna_city",
            "vulnerabilities": ["family_with_children", "medical_need"], "assigned_to": "pe.colega",
        }, format="json")

        assert response.status_code == 200, response.content
        assert response.json()["assigned_to"] == "pe.colega"
        family_case.refresh_from_db()
        assert (family_case.priority, family_case.border_point, family_case.assigned_to) == (
            "urgent", "tacna_city", colleague)
        assert family_case.version == 2
        entry = HistoryEntry.objects.get(action="case.updated")
        assert (entry.actor, entry.agency.code, entry.object_id) == (pe_caseworker, "pe-migraciones",
                                                                     str(family_case.pk))
        assert entry.changes == {
            "priority": ["normal", "urgent"],
            "summary": ["Familia varada en el complejo fronterizo de Chacalluta.", "Nuevo resumen."],
            "border_point": ["chacalluta_santa_rosa", "tacna_city"],
            "vulnerabilities": [["family_with_children"], ["family_with_children", "medical_need"]],
            "assigned_to": [None, "pe.colega"],
        }
        event = Event.objects.get()
        assert event.type == "case.updated"
        assert {agency.code for agency in event.agencies.all()} == {"pe-migraciones", "cl-sermig"}

    def test_an_unchanged_value_writes_nothing(self, client_for, pe_caseworker, family_case):
        response = client_for(pe_caseworker).patch(f"/api/v1/cases/{family_case.pk}/", {"priority": "normal"},
                                                    format="json")
        assert response.status_code == 200
        family_case.refresh_from_db()
        assert family_case.version == 1
        assert not HistoryEntry.objects.exists() and not Event.objects.exists()

    def test_mass_assignment_of_read_only_fields_has_no_effect(self, client_for, pe_caseworker, family_case,
                                                              cl_agency):
        before = Case.objects.values().get(pk=family_case.pk)
        response = client_for(pe_caseworker).patch(f"/api/v1/cases/{family_case.pk}/", {
            "owner_agency": "cl-sermig", "reference": "BC-2000-000001", "status": "closed", "closed_at":
            "2020-01-01T00:00:00Z", "created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z",
            "member_count": 0, "version": 99, "access": "oversight", "anonymised_at": "2020-01-01T00:00:00Z",
            "members": [], "id": "00000000-0000-0000-0000-000000000001",
        }, format="json")
        assert response.status_code == 200
        assert Case.objects.values().get(pk=family_case.pk) == before
        assert not HistoryEntry.objects.exists()

    def test_the_assignee_must_be_a_caseworker_of_the_owner(self, client_for, pe_caseworker, family_case,
                                                            cl_caseworker):
        response = client_for(pe_caseworker).patch(f"/api/v1/cases/{family_case.pk}/",
                                                    {"assigned_to": "cl.caseworker"}, format="json")
        assert response.status_code == 422
        assert errors_by_field(response)["assigned_to"]["code"] == "unknown_assignee"
        family_case.refresh_from_db()
        assert family_case.assigned_to is None

    def test_a_closed_case_cannot_be_changed(self, client_for, pe_caseworker, family_case):
        Case.objects.filter(pk=family_case.pk).update(status="closed", closure_reason="other")
        response = client_for(pe_caseworker).patch(f"/api/v1/cases/{family_case.pk}/", {"priority": "low"},
                                                    format="json")
        assert response.status_code == 409 and response.json()["code"] == "case_closed"
        family_case.refresh_from_db()
        assert family_case.priority == "normal"

    def test_a_collaborator_cannot_change_the_case(self, client_for, collaborator, family_case):
        response = client_for(collaborator).patch(f"/api/v1/cases/{family_case.pk}/", {"priority": "low"},
                                                  format="json")
        assert response.status_code == 403 and response.json()["code"] == "owner_only"
        family_case.refresh_from_db()
        assert family_case.priority == "normal"


@pytest.mark.django_db
class TestCaseClose:
    def test_the_owner_closes_it(self, client_for, pe_caseworker, family_case, collaborator):
        response = client_for(pe_caseworker).post(f"/api/v1/cases/{family_case.pk}/close/",
                                                  {"reason": "left_region", "note": "Siguió viaje a Lima."},
                                                  format="json")
        assert response.status_code == 200
        body = response.json()
        assert (body["status"], body["closure_reason"], body["closure_note"]) == (
            "closed", "left_region", "Siguió viaje a Lima.")
        family_case.refresh_from_db()
        assert family_case.status == "closed" and family_case.closed_at is not None
        entry = HistoryEntry.objects.get(action="case.closed")
        assert entry.changes["status"] == ["open", "closed"] and entry.actor == pe_caseworker
        event = Event.objects.get(type="case.closed")
        assert {agency.code for agency in event.agencies.all()} == {"pe-migraciones", "cl-sermig"}

    def test_it_needs_a_known_reason(self, client_for, pe_caseworker, family_case):
        response = client_for(pe_caseworker).post(f"/api/v1/cases/{family_case.pk}/close/", {"reason": "bored"},
                                                  format="json")
        assert response.status_code == 400 and "reason" in errors_by_field(response)
        family_case.refresh_from_db()
        assert family_case.status == "open"

    def test_closing_twice_is_a_conflict(self, client_for, pe_caseworker, family_case):
        client = client_for(pe_caseworker)
        client.post(f"/api/v1/cases/{family_case.pk}/close/", {"reason": "resolved"}, format="json")
        response = client.post(f"/api/v1/cases/{family_case.pk}/close/", {"reason": "other"}, format="json")
        assert response.status_code == 409 and response.json()["code"] == "case_closed"
        family_case.refresh_from_db()
        assert family_case.closure_reason == "resolved"
        assert HistoryEntry.objects.filter(action="case.closed").count() == 1


@pytest.mark.django_db
class TestCaseReopen:
    def test_the_owner_reopens_a_closed_case(self, client_for, pe_caseworker, family_case):
        client = client_for(pe_caseworker)
        client.post(f"/api/v1/cases/{family_case.pk}/close/", {"reason": "no_contact"}, format="json")
        response = client.post(f"/api/v1/cases/{family_case.pk}/reopen/")
        assert response.status_code == 200
        assert (response.json()["status"], response.json()["closure_reason"]) == ("open", "")
        family_case.refresh_from_db()
        assert family_case.status == "open" and family_case.closed_at is None
        assert HistoryEntry.objects.get(action="case.reopened").changes["status"] == ["closed", "open"]
        assert list(Event.objects.values_list("type", flat=True)) == ["case.closed", "case.updated"]

    def test_an_open_case_cannot_be_reopened(self, client_for, pe_caseworker, family_case):
        response = client_for(pe_caseworker).post(f"/api/v1/cases/{family_case.pk}/reopen/")
        assert response.status_code == 409 and response.json()["code"] == "case_not_closed"
        assert not HistoryEntry.objects.exists()


@pytest.mark.django_db
class TestBrowsableApi:
    def test_the_case_pages_render_for_a_signed_in_caseworker(self, pe_caseworker, family_case):
        client = Client()
        client.force_login(pe_caseworker)
        person = family_case.members.first()
        base = f"/api/v1/cases/{family_case.pk}"
        for url in ("/api/v1/cases/", f"{base}/", f"{base}/members/", f"{base}/notes/", f"{base}/consents/",
                    f"{base}/history/", f"/api/v1/people/{person.pk}/"):
            response = client.get(url, HTTP_ACCEPT="text/html")
            assert response.status_code == 200, url
            assert response["Content-Type"].startswith("text/html")
        assert family_case.reference in client.get(f"{base}/", HTTP_ACCEPT="text/html").content.decode()
