"""``?search=`` on the case list: what several words mean. The candidates come
from trigram indexes on PostgreSQL (docs/performance.md); the answers must be
the same on every database."""
import pytest

from tests.factories import CaseMemberFactory, HandoffFactory, case_with_family


def references(client, term) -> set[str]:
    return {row["reference"] for row in client.get("/api/v1/cases/", {"search": term}).json()["results"]}


@pytest.mark.django_db
class TestCaseSearch:
    def test_every_word_must_match_one_and_the_same_member(self, client_for, pe_caseworker, pe_agency):
        together = case_with_family(pe_agency, children=0)
        head = together.members.get()
        head.given_names, head.family_names = "María José", "González Rojas"
        head.save()
        apart = case_with_family(pe_agency, children=0)
        other = apart.members.get()
        other.given_names, other.family_names = "María", "Pérez"
        other.save()
        CaseMemberFactory(case=apart, relationship="child", person__given_names="Luis",
                          person__family_names="González")
        client = client_for(pe_caseworker)
        assert references(client, "maría gonzález") == {together.reference}
        assert references(client, "González ROJAS josé") == {together.reference}
        assert references(client, "gonzález") == {together.reference, apart.reference}

    def test_a_name_and_a_document_number_of_the_same_person(self, client_for, pe_caseworker, pe_agency):
        case = case_with_family(pe_agency, children=1)
        head = case.members.order_by("memberships__added_at").first()
        head.family_names, head.document_number = "Quintero", "V-12.345.678"
        head.save()
        client = client_for(pe_caseworker)
        assert references(client, "quintero v12345678") == {case.reference}
        assert references(client, "quintero 99999999") == set()

    def test_every_word_in_the_reference(self, client_for, pe_caseworker, pe_agency):
        case = case_with_family(pe_agency)
        year, number = case.reference.split("-")[1:]
        assert references(client_for(pe_caseworker), f"{year} {number}") == {case.reference}

    def test_a_limited_viewer_finds_by_reference_only(self, client_for, cl_caseworker, pe_agency, cl_agency):
        case = case_with_family(pe_agency, children=0)
        head = case.members.get()
        HandoffFactory(case=case, to_agency=cl_agency)  # pending: cl-sermig has the limited view
        client = client_for(cl_caseworker)
        assert references(client, case.reference) == {case.reference}
        assert references(client, head.family_names) == set()
        assert references(client, f"{head.given_names} {case.reference}") == set()
