"""Members of a case and the people behind them."""
import datetime

import pytest

from cases.models import CaseAccessLog, CaseMember, DuplicateCandidate, HistoryEntry, Person
from outbox.models import Event
from tests.factories import CaseMemberFactory, case_with_family

from .conftest import member


def url(case, *rest):
    return "/".join([f"/api/v1/cases/{case.pk}/members", *map(str, rest), ""])


@pytest.mark.django_db
class TestCaseMembers:
    def test_it_lists_the_members_with_their_details(self, client_for, pe_caseworker, family_case):
        response = client_for(pe_caseworker).get(url(family_case))
        assert response.status_code == 200
        rows = response.json()["results"]
        assert [row["relationship"] for row in rows] == ["head", "child", "child"]
        assert {row["person"] for row in rows} == {str(pk) for pk in family_case.members.values_list("pk",
                                                                                                     flat=True)}
        assert rows[0]["given_names"] and rows[0]["document_number"]
        assert CaseAccessLog.objects.get().case == family_case

    def test_the_owner_adds_a_new_person(self, client_for, pe_caseworker, family_case, collaborator):
        body = member(relationship="spouse", given_names="José Gregorio", document_number="V-19.874.552",
                      document_type="national_id")
        response = client_for(pe_caseworker).post(url(family_case), body, format="json")

        assert response.status_code == 201, response.content
        created = response.json()
        assert (created["relationship"], created["given_names"], created["matched_existing"]) == (
            "spouse", "José Gregorio", False)
        family_case.refresh_from_db()
        assert family_case.member_count == CaseMember.objects.filter(case=family_case).count() == 4
        assert family_case.version == 2
        assert sorted(HistoryEntry.objects.values_list("action", flat=True)) == ["member.added", "person.created"]
        event = Event.objects.get()
        assert event.type == "case.updated"
        assert {agency.code for agency in event.agencies.all()} == {"pe-migraciones", "cl-sermig"}

    def test_a_second_head_is_a_conflict(self, client_for, pe_caseworker, family_case):
        response = client_for(pe_caseworker).post(url(family_case), member(document_number="X9"), format="json")
        assert response.status_code == 409 and response.json()["code"] == "head_exists"
        assert family_case.memberships.count() == 3 and not Person.objects.filter(document_number="X9").exists()

    def test_someone_already_on_the_case_is_a_conflict(self, client_for, pe_caseworker, family_case):
        child = family_case.memberships.filter(relationship="child").first().person
        client = client_for(pe_caseworker)
        by_id = client.post(url(family_case), {"relationship": "other", "person": str(child.pk)}, format="json")
        by_document = client.post(url(family_case), member(
            relationship="other", document_type=child.document_type, document_country="VE",
            document_number=child.document_number), format="json")
        assert (by_id.status_code, by_id.json()["code"]) == (409, "already_member")
        assert (by_document.status_code, by_document.json()["code"]) == (409, "already_member")
        family_case.refresh_from_db()
        assert family_case.member_count == 3 and not HistoryEntry.objects.exists()

    def test_a_matching_document_links_a_person_of_another_own_case(self, client_for, pe_caseworker, pe_agency,
                                                                     family_case):
        grandmother = CaseMemberFactory(case__owner_agency=pe_agency, person__document_type="national_id",
                                        person__document_country="VE", person__document_number="V4556201").person
        body = member(relationship="other_relative", given_names="Carmen", document_type="national_id",
                      document_number="V-4.556.201")
        response = client_for(pe_caseworker).post(url(family_case), body, format="json")
        assert response.status_code == 201
        assert (response.json()["person"], response.json()["matched_existing"]) == (str(grandmother.pk), True)
        assert grandmother.memberships.count() == 2

    def test_the_owner_removes_a_member_and_the_person_stays(self, client_for, pe_caseworker, family_case):
        child = family_case.memberships.filter(relationship="child").first().person
        response = client_for(pe_caseworker).delete(url(family_case, child.pk))
        assert response.status_code == 204
        family_case.refresh_from_db()
        assert family_case.member_count == family_case.memberships.count() == 2
        assert Person.objects.filter(pk=child.pk).exists()
        entry = HistoryEntry.objects.get()
        assert (entry.action, entry.actor, entry.changes) == (
            "member.removed", pe_caseworker, {"person": [str(child.pk), None], "relationship": ["child", None]})

    def test_the_head_cannot_be_removed(self, client_for, pe_caseworker, family_case):
        head = family_case.memberships.get(relationship="head").person
        response = client_for(pe_caseworker).delete(url(family_case, head.pk))
        assert response.status_code == 409 and response.json()["code"] == "head_required"
        assert family_case.memberships.filter(person=head).exists()

    def test_removing_someone_not_on_the_case_is_404(self, client_for, pe_caseworker, family_case, pe_agency):
        stranger = case_with_family(pe_agency, children=0).members.get()
        assert client_for(pe_caseworker).delete(url(family_case, stranger.pk)).status_code == 404
        assert stranger.memberships.count() == 1

    def test_making_a_member_the_head_moves_the_current_head(self, client_for, pe_caseworker, family_case):
        head = family_case.memberships.get(relationship="head")
        child = family_case.memberships.filter(relationship="child").first()
        response = client_for(pe_caseworker).patch(
            url(family_case, child.person_id), {"relationship": "head", "previous_head_relationship": "other_relative"},
            format="json")
        assert response.status_code == 200 and response.json()["relationship"] == "head"
        head.refresh_from_db()
        assert head.relationship == "other_relative"
        assert list(family_case.memberships.filter(relationship="head").values_list("pk", flat=True)) == [child.pk]
        changes = sorted(HistoryEntry.objects.filter(action="member.updated").values_list("changes", flat=True),
                         key=str)
        assert changes == [{"relationship": ["child", "head"]}, {"relationship": ["head", "other_relative"]}]

    def test_promoting_needs_the_new_relationship_of_the_current_head(self, client_for, pe_caseworker,
                                                                       family_case):
        child = family_case.memberships.filter(relationship="child").first()
        response = client_for(pe_caseworker).patch(url(family_case, child.person_id), {"relationship": "head"},
                                                   format="json")
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "previous_head_relationship"
        assert family_case.memberships.filter(relationship="head").count() == 1
        assert not HistoryEntry.objects.exists()

    def test_the_head_cannot_be_demoted_directly(self, client_for, pe_caseworker, family_case):
        head = family_case.memberships.get(relationship="head")
        response = client_for(pe_caseworker).patch(url(family_case, head.person_id), {"relationship": "spouse"},
                                                   format="json")
        assert response.status_code == 409 and response.json()["code"] == "head_required"
        head.refresh_from_db()
        assert head.relationship == "head"


@pytest.mark.django_db
class TestPeople:
    def test_it_reads_a_person_on_a_visible_case_and_logs_it(self, client_for, collaborator, family_case):
        person = family_case.members.first()
        response = client_for(collaborator).get(f"/api/v1/people/{person.pk}/")
        assert response.status_code == 200
        body = response.json()
        assert (body["id"], body["given_names"], body["nationality"]) == (str(person.pk), person.given_names, "VE")
        assert response["ETag"]
        log = CaseAccessLog.objects.get()
        assert (log.case, log.user, log.access) == (family_case, collaborator, "collaborator")

    def test_a_person_on_an_invisible_case_is_404(self, client_for, outsider, family_case):
        response = client_for(outsider).get(f"/api/v1/people/{family_case.members.first().pk}/")
        assert response.status_code == 404 and response.json()["code"] == "not_found"
        assert not CaseAccessLog.objects.exists()

    def test_the_owner_corrects_details_and_every_case_of_the_person_records_it(self, client_for, pe_caseworker,
                                                                                pe_agency, family_case):
        person = family_case.memberships.get(relationship="head").person
        other_case = CaseMemberFactory(case__owner_agency=pe_agency, person=person, relationship="head").case
        old_family_names = person.family_names
        response = client_for(pe_caseworker).patch(f"/api/v1/people/{person.pk}/", {
            "family_names": "Rodríguez de Mendoza", "date_of_birth": "1990-05-18", "id": "x",
            "created_by_agency": "cl-sermig", "anonymised_at": "2020-01-01T00:00:00Z",
        }, format="json")

        assert response.status_code == 200, response.content
        person.refresh_from_db()
        assert person.family_names == "Rodríguez de Mendoza" and person.date_of_birth == datetime.date(1990, 5, 18)
        assert person.version == 2 and person.anonymised_at is None
        entries = HistoryEntry.objects.filter(action="person.updated")
        assert {entry.case_id for entry in entries} == {family_case.pk, other_case.pk}
        assert entries[0].changes == {"family_names": [old_family_names, "Rodríguez de Mendoza"],
                                      "date_of_birth": ["1990-05-17", "1990-05-18"]}
        assert entries[0].actor == pe_caseworker
        family_case.refresh_from_db()
        assert family_case.version == 2
        assert Event.objects.filter(type="case.updated").count() == 2

    def test_a_new_document_matching_someone_else_is_flagged_for_the_secretariat(
            self, client_for, pe_caseworker, family_case, cl_agency):
        hidden = CaseMemberFactory(case__owner_agency=cl_agency, person__document_type="passport",
                                   person__document_country="VE", person__document_number="145236987").person
        person = family_case.memberships.get(relationship="head").person
        response = client_for(pe_caseworker).patch(f"/api/v1/people/{person.pk}/",
                                                   {"document_number": "145-236-987"}, format="json")
        assert response.status_code == 200
        assert str(hidden.pk) not in response.content.decode()
        assert DuplicateCandidate.objects.filter(new_person=person, existing_person=hidden).exists()

    def test_a_collaborator_cannot_change_a_person(self, client_for, collaborator, family_case):
        person = family_case.members.first()
        response = client_for(collaborator).patch(f"/api/v1/people/{person.pk}/", {"phone": "1"}, format="json")
        assert response.status_code == 403 and response.json()["code"] == "owner_only"
        person.refresh_from_db()
        assert person.phone != "1" and person.version == 1

    def test_inconsistent_document_details_are_refused(self, client_for, pe_caseworker, family_case):
        person = family_case.members.first()
        response = client_for(pe_caseworker).patch(f"/api/v1/people/{person.pk}/",
                                                   {"document_number": ""}, format="json")
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "document_number"
        person.refresh_from_db()
        assert person.document_number

    def test_a_date_of_birth_in_the_future_is_refused(self, client_for, pe_caseworker, family_case):
        person = family_case.members.first()
        tomorrow = datetime.date.today() + datetime.timedelta(days=2)
        response = client_for(pe_caseworker).patch(f"/api/v1/people/{person.pk}/",
                                                   {"date_of_birth": tomorrow.isoformat()}, format="json")
        assert response.status_code == 422 and response.json()["errors"][0]["code"] == "in_future"
