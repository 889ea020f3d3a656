"""A person can be on the cases of several agencies. Only an agency owning
every one of those cases edits them; only people on the caller's own cases
are linked into another case; and a collaborator's read of a person ends with
its collaboration. The document check does the same work whether or not a
person the caller cannot see holds the document."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import CaseMember, DuplicateCandidate, Person
from tests.factories import CaseMemberFactory, HandoffFactory, case_with_family

from .conftest import case_body, member


def members_url(case):
    return f"/api/v1/cases/{case.pk}/members/"


@pytest.fixture
def owners_person(family_case):
    return family_case.memberships.get(relationship="head").person


@pytest.fixture
def referral(family_case, cl_caseworker):
    return HandoffFactory(case=family_case, kind="referral", to_agency=cl_caseworker.agency, status="accepted",
                          services_requested="Albergue.")


@pytest.fixture
def collaborators_case(cl_agency):
    return case_with_family(cl_agency, children=0)


@pytest.mark.django_db
class TestLinkingAPerson:
    def test_a_collaborator_cannot_link_the_owners_person_into_its_case(
            self, client_for, cl_caseworker, referral, collaborators_case, owners_person):
        """The person is read in full through the collaboration, yet is like no person here."""
        response = client_for(cl_caseworker).post(
            members_url(collaborators_case), {"relationship": "other", "person": str(owners_person.pk)},
            format="json")
        assert response.status_code == 422, response.content
        assert response.json()["errors"][0]["code"] == "unknown_person"
        assert not CaseMember.objects.filter(case=collaborators_case, person=owners_person).exists()

    def test_a_collaborator_is_not_linked_by_typing_the_document(
            self, client_for, cl_caseworker, referral, collaborators_case, owners_person):
        """The same document makes a new person, flagged as a possible duplicate."""
        body = member(relationship="other", document_type=owners_person.document_type,
                      document_country=owners_person.document_country.code,
                      document_number=owners_person.document_number)
        response = client_for(cl_caseworker).post(members_url(collaborators_case), body, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["matched_existing"] is False
        assert response.json()["person"] != str(owners_person.pk)
        assert not CaseMember.objects.filter(case=collaborators_case, person=owners_person).exists()
        assert DuplicateCandidate.objects.filter(existing_person=owners_person).count() == 1

    def test_the_collaborator_loses_the_person_when_the_collaboration_ends(
            self, client_for, cl_caseworker, referral, collaborators_case, owners_person):
        client = client_for(cl_caseworker)
        client.post(members_url(collaborators_case), {"relationship": "other", "person": str(owners_person.pk)},
                    format="json")
        assert client.get(f"/api/v1/people/{owners_person.pk}/").status_code == 200
        assert client.post(f"/api/v1/handoffs/{referral.pk}/complete/", {}).status_code == 200
        assert client.get(f"/api/v1/people/{owners_person.pk}/").status_code == 404

    def test_the_owner_still_links_its_own_person(self, client_for, pe_caseworker, pe_agency, owners_person):
        other = case_with_family(pe_agency, children=0)
        response = client_for(pe_caseworker).post(
            members_url(other), {"relationship": "other", "person": str(owners_person.pk)}, format="json")
        assert response.status_code == 201, response.content
        assert CaseMember.objects.filter(case=other, person=owners_person).exists()


@pytest.mark.django_db
class TestEditingASharedPerson:
    @pytest.fixture
    def shared_person(self, owners_person, collaborators_case):
        """The person is on a case of each agency (linked before the rule above)."""
        CaseMember.objects.create(case=collaborators_case, person=owners_person, relationship="other")
        return owners_person

    def test_an_agency_owning_only_one_of_the_cases_cannot_edit(self, client_for, cl_caseworker, shared_person):
        before = Person.objects.filter(pk=shared_person.pk).values().get()
        response = client_for(cl_caseworker).patch(f"/api/v1/people/{shared_person.pk}/",
                                                   {"document_number": "X-0001"}, format="json")
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "person_on_other_agencies_cases"
        assert Person.objects.filter(pk=shared_person.pk).values().get() == before

    def test_neither_can_the_other_owner(self, client_for, pe_caseworker, shared_person):
        response = client_for(pe_caseworker).patch(f"/api/v1/people/{shared_person.pk}/",
                                                   {"given_names": "Otra"}, format="json")
        assert response.status_code == 403
        shared_person.refresh_from_db()
        assert shared_person.given_names != "Otra"

    def test_an_agency_owning_every_case_edits(self, client_for, pe_caseworker, owners_person):
        response = client_for(pe_caseworker).patch(f"/api/v1/people/{owners_person.pk}/",
                                                   {"given_names": "Otra"}, format="json")
        assert response.status_code == 200, response.content
        owners_person.refresh_from_db()
        assert owners_person.given_names == "Otra"


@pytest.mark.django_db
class TestTheDocumentCheck:
    def _statements(self, client, body):
        with CaptureQueriesContext(connection) as queries:
            response = client.post("/api/v1/cases/", body, format="json")
        assert response.status_code == 201, response.content
        return [query["sql"] for query in queries.captured_queries]

    def test_it_runs_the_same_statements_whether_or_not_a_hidden_person_holds_the_document(
            self, client_for, pe_caseworker, cl_agency):
        client = client_for(pe_caseworker)
        client.get("/api/v1/me/")
        CaseMemberFactory(case__owner_agency=cl_agency, person__document_type="passport",
                          person__document_country="VE", person__document_number="V-55555555")
        hidden = self._statements(client, case_body(members=[member(document_number="V55555555")]))
        nothing = self._statements(client, case_body(members=[member(document_number="V77777777")]))
        assert len(hidden) == len(nothing)
        assert DuplicateCandidate.objects.count() == 1

    def test_a_refused_member_list_looks_nothing_up(self, client_for, pe_caseworker):
        """Validation that can fail comes before any look-up of people."""
        client = client_for(pe_caseworker)
        client.get("/api/v1/me/")
        body = case_body(members=[member(), member(relationship="child", document_type="none",
                                                         document_number="V1")])
        with CaptureQueriesContext(connection) as queries:
            response = client.post("/api/v1/cases/", body, format="json")
        assert response.status_code == 422, response.content
        person_table = Person._meta.db_table
        assert not [query for query in queries.captured_queries if person_table in query["sql"]]

    def test_two_heads_are_refused_before_any_look_up(self, client_for, pe_caseworker):
        client = client_for(pe_caseworker)
        client.get("/api/v1/me/")
        body = case_body(members=[member(), member(document_number="V2")])
        with CaptureQueriesContext(connection) as queries:
            response = client.post("/api/v1/cases/", body, format="json")
        assert response.status_code == 422, response.content
        person_table = Person._meta.db_table
        assert not [query for query in queries.captured_queries if person_table in query["sql"]]
