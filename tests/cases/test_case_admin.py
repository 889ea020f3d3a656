"""The secretariat's admin pages for cases, people, duplicates and the access log."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from cases.models import Case, CaseAccessLog, DuplicateCandidate
from tests.exports import csv_rows, xlsx_rows
from tests.factories import CaseMemberFactory, PersonFactory, case_with_family
from tests.staff import sign_in_to_admin


@pytest.fixture
def admin_client_for(db):
    def make(user):
        return sign_in_to_admin(Client(), user)

    return make


@pytest.fixture
def cases(pe_agency, cl_agency):
    minor = case_with_family(cl_agency, children=0, vulnerable_unaccompanied_minor=True, priority="urgent")
    return {"family": case_with_family(pe_agency, children=2), "minor": minor}


@pytest.mark.django_db
class TestCaseAdmin:
    def test_the_secretariat_lists_cases_and_the_page_is_logged(self, admin_client_for, secretariat, cases):
        response = admin_client_for(secretariat).get("/admin/cases/case/")
        assert response.status_code == 200
        content = response.content.decode()
        assert cases["family"].reference in content and cases["minor"].reference in content
        logged = set(CaseAccessLog.objects.values_list("case_id", "channel", "access"))
        assert logged == {(cases["family"].pk, "admin", "oversight"), (cases["minor"].pk, "admin", "oversight")}

    @pytest.mark.parametrize("query,expected", [
        ("vulnerability=unaccompanied_minor", {"minor"}),
        ("owner_agency__country__exact=PE", {"family"}),
        ("priority__exact=urgent", {"minor"}),
        ("status__exact=open", {"family", "minor"}),
    ])
    def test_it_filters(self, admin_client_for, secretariat, cases, query, expected):
        response = admin_client_for(secretariat).get(f"/admin/cases/case/?{query}")
        shown = {name for name, case in cases.items() if case.reference in response.content.decode()}
        assert shown == expected

    def test_it_searches_names_and_documents(self, admin_client_for, secretariat, cases):
        person = cases["minor"].members.get()
        client = admin_client_for(secretariat)
        for term in (person.family_names.split()[0], person.document_number):
            content = client.get("/admin/cases/case/", {"q": term}).content.decode()
            assert cases["minor"].reference in content and cases["family"].reference not in content

    def test_the_secretariat_reads_a_case_read_only_and_it_is_logged(self, admin_client_for, secretariat, cases):
        CaseAccessLog.objects.all().delete()
        case = cases["family"]
        client = admin_client_for(secretariat)
        response = client.get(f"/admin/cases/case/{case.pk}/change/")
        assert response.status_code == 200
        content = response.content.decode()
        assert case.members.first().given_names in content
        assert 'name="_save"' not in content  # view only
        log = CaseAccessLog.objects.get()
        assert (log.case, log.user, log.channel) == (case, secretariat, "admin")
        assert client.post(f"/admin/cases/case/{case.pk}/change/", {"priority": "low"}).status_code == 403
        assert client.get("/admin/cases/case/add/").status_code == 403
        assert client.post(f"/admin/cases/case/{case.pk}/delete/", {"post": "yes"}).status_code == 403
        case.refresh_from_db()
        assert case.priority == "normal" and Case.objects.count() == 2

    def test_the_csv_export_has_no_personal_data(self, admin_client_for, secretariat, cases):
        response = admin_client_for(secretariat).post("/admin/cases/case/?owner_agency__country__exact=PE", {
            "action": "export_csv", "select_across": "1", "index": "0",
            ACTION_CHECKBOX_NAME: [str(cases["family"].pk)],
        })
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        rows = csv_rows(response)
        assert rows[0] == ["reference", "status", "priority", "owner_agency", "head_nationality", "member_count",
                           "opened_at", "closed_at"]
        family = cases["family"]
        assert rows[1][:6] == [family.reference, "open", "normal", "pe-migraciones", "VE", "3"]
        assert len(rows) == 2  # the filtered list only
        text = response.content.decode()
        for person in family.members.all():
            assert person.given_names not in text and person.document_number not in text and person.phone not in text

    def test_the_xlsx_export_is_the_csv_export_and_is_logged(self, admin_client_for, secretariat, cases):
        """The same header and rows; each exported case is a logged read, as for the CSV."""
        client = admin_client_for(secretariat)
        selection = {ACTION_CHECKBOX_NAME: [str(cases["family"].pk), str(cases["minor"].pk)]}
        as_csv = csv_rows(client.post("/admin/cases/case/", {"action": "export_csv", **selection}))
        CaseAccessLog.objects.all().delete()
        as_xlsx = xlsx_rows(client.post("/admin/cases/case/", {"action": "export_xlsx", **selection}))
        assert len(as_xlsx) == 3 and as_xlsx == as_csv
        assert set(CaseAccessLog.objects.values_list("case_id", flat=True)) == {cases["family"].pk,
                                                                                cases["minor"].pk}

    def test_other_roles_cannot_open_the_case_pages(self, admin_client_for, committee_member, cases):
        assert admin_client_for(committee_member).get("/admin/cases/case/").status_code == 403
        assert not CaseAccessLog.objects.exists()


@pytest.mark.django_db
class TestPersonAdmin:
    def test_the_secretariat_sees_a_person_with_their_cases(self, admin_client_for, secretariat, cases, pe_agency):
        person = cases["family"].memberships.get(relationship="head").person
        second = CaseMemberFactory(case=case_with_family(pe_agency, children=0), person=person,
                                   relationship="spouse").case
        response = admin_client_for(secretariat).get(f"/admin/cases/person/{person.pk}/change/")
        assert response.status_code == 200
        content = response.content.decode()
        assert cases["family"].reference in content and second.reference in content
        assert set(CaseAccessLog.objects.values_list("case_id", "channel")) == {
            (cases["family"].pk, "admin"), (second.pk, "admin")}


@pytest.mark.django_db
class TestDuplicateCandidateAdmin:
    def test_the_secretariat_reviews_possible_duplicates(self, admin_client_for, secretariat, cases, pe_agency):
        existing = cases["minor"].members.get()
        candidate = DuplicateCandidate.objects.create(new_person=PersonFactory(created_by_agency=pe_agency),
                                                      existing_person=existing)
        client = admin_client_for(secretariat)
        listing = client.get("/admin/cases/duplicatecandidate/")
        assert listing.status_code == 200 and "cl-sermig" in listing.content.decode()
        response = client.post("/admin/cases/duplicatecandidate/", {
            "action": "mark_reviewed", ACTION_CHECKBOX_NAME: [str(candidate.pk)], "index": "0"})
        assert response.status_code == 302
        candidate.refresh_from_db()
        assert candidate.reviewed_by == secretariat and candidate.reviewed_at is not None

    def test_it_is_for_the_secretariat_only(self, admin_client_for, committee_member, admin_user, cases):
        assert admin_client_for(committee_member).get("/admin/cases/duplicatecandidate/").status_code == 403
        assert admin_client_for(admin_user).get("/admin/cases/duplicatecandidate/").status_code == 403


@pytest.mark.django_db
class TestAccessLogAdmin:
    def test_the_secretariat_reads_the_access_log(self, admin_client_for, secretariat, client_for, pe_caseworker,
                                                  cases):
        client_for(pe_caseworker).get(f"/api/v1/cases/{cases['family'].pk}/")
        response = admin_client_for(secretariat).get("/admin/cases/caseaccesslog/?channel__exact=api")
        assert response.status_code == 200
        content = response.content.decode()
        assert cases["family"].reference in content and "pe.caseworker" in content

    def test_kinds_of_access_and_roles_read_in_the_readers_language(self, admin_client_for, secretariat, cases):
        """The log's access column and filter, and the people's roles, by name, not as the API's codes."""
        client = admin_client_for(secretariat)
        client.get("/admin/cases/case/")  # the secretariat's read: oversight
        page = client.get("/admin/cases/caseaccesslog/?access=oversight").content.decode()
        assert page.count('<td class="field-access">supervisión (secretaría)</td>') == 2
        assert "vista limitada" in page  # the filter offers every kind by name
        assert ">oversight<" not in page
        users = client.get("/admin/cases/user/").content.decode()
        assert '<td class="field-role_names">Secretaría del comité</td>' in users
        assert ">secretariat<" not in users and "?role=secretariat" in users
