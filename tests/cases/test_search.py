"""``?search=`` on the case list (docs/api/cases.md): what a word matches,
what several words mean, who finds what, and that the services keep the
search document of a case in step with its members. The answers must be the
same on every database; PostgreSQL finds its candidates in a word index."""
from importlib import import_module
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cases.api.case_filters import indexed_words
from cases.models import Case
from cases.services.search import case_search_refresh, search_document, search_words
from tests.factories import CaseMemberFactory, HandoffFactory, case_with_family

from .conftest import case_body, member


def references(client, term) -> set[str]:
    response = client.get("/api/v1/cases/", {"search": term})
    assert response.status_code == 200, response.content
    return {row["reference"] for row in response.json()["results"]}


def case_of(agency, given_names, family_names="", document_number="", **person):
    """A case whose only member has these names and document."""
    return CaseMemberFactory(case__owner_agency=agency, person__given_names=given_names,
                             person__family_names=family_names, person__document_number=document_number,
                             **{f"person__{name}": value for name, value in person.items()}).case


class TestSearchDocument:
    def test_it_drops_accents_and_case_and_splits_on_anything_but_letters_and_digits(self):
        assert search_words("José MUÑOZ-Pérez d'Ávila") == ["jose", "munoz", "perez", "d", "avila"]

    def test_a_line_per_member_with_the_document_with_and_without_its_letters(self):
        document = search_document([("María José", "González", "V-12.345.678"), ("Luis", "", ""), ("", "", "")])
        assert document == "maria jose gonzalez v12345678 12345678\nluis"


@pytest.mark.django_db
class TestWhatAWordMatches:
    def test_accents_and_case_do_not_matter(self, client_for, pe_caseworker, pe_agency):
        jose = case_of(pe_agency, "José", "Muñoz")
        plain = case_of(pe_agency, "JOSE", "MUNOZ")
        client = client_for(pe_caseworker)
        for term in ("jose munoz", "JOSÉ MUÑOZ", "José muñoz", "josé"):
            assert references(client, term) == {jose.reference, plain.reference}, term

    def test_a_word_matches_the_start_of_a_name_word(self, client_for, pe_caseworker, pe_agency):
        case = case_of(pe_agency, "Yusmary Carolina", "Barrios Rodríguez")
        client = client_for(pe_caseworker)
        for term in ("yus", "carol", "barr", "rodr", "Rodríguez", "yusmary barrios"):
            assert references(client, term) == {case.reference}, term
        for term in ("usmary", "olina", "rios", "riguez", "yusmaryc", "rosa"):
            assert references(client, term) == set(), term

    def test_a_hyphenated_or_joined_word(self, client_for, pe_caseworker, pe_agency):
        case = case_of(pe_agency, "Ana", "Pérez Rojas")
        client = client_for(pe_caseworker)
        assert references(client, "pérez-rojas") == {case.reference}
        assert references(client, "ana perez-rojas") == {case.reference}
        assert references(client, "pérez-silva") == set()

    def test_a_document_number_with_or_without_separators(self, client_for, pe_caseworker, pe_agency):
        case = case_of(pe_agency, "Luis", "Rojas", "V-12.345.678")
        client = client_for(pe_caseworker)
        for term in ("V-12.345.678", "v12345678", "V 12345678", "12.345.678", "12345678", "v1234", "1234"):
            assert references(client, term) == {case.reference}, term
        for term in ("345678", "v12345679", "p12345678", "luis-12"):
            assert references(client, term) == set(), term

    def test_a_word_without_letters_or_digits_matches_no_member(self, client_for, pe_caseworker, pe_agency):
        case_of(pe_agency, "Luis", "Rojas")
        assert references(client_for(pe_caseworker), "luis -") == set()


@pytest.mark.django_db
class TestSeveralWords:
    def test_every_word_must_match_one_and_the_same_member(self, client_for, pe_caseworker, pe_agency):
        together = case_of(pe_agency, "María José", "González Rojas")
        apart = case_of(pe_agency, "María", "Pérez")
        CaseMemberFactory(case=apart, relationship="child", person__given_names="Luis",
                          person__family_names="González")
        client = client_for(pe_caseworker)
        assert references(client, "maría gonzález") == {together.reference}
        assert references(client, "González ROJAS josé") == {together.reference}
        assert references(client, "gonzález") == {together.reference, apart.reference}
        assert references(client, "maría luis") == set()

    def test_a_name_and_a_document_number_of_the_same_person(self, client_for, pe_caseworker, pe_agency):
        case = case_of(pe_agency, "Ana", "Quintero", "V-12.345.678")
        CaseMemberFactory(case=case, relationship="child", person__given_names="Pedro",
                          person__family_names="Quintero", person__document_number="A-555")
        client = client_for(pe_caseworker)
        assert references(client, "quintero v12345678") == {case.reference}
        assert references(client, "ana 12345678") == {case.reference}
        assert references(client, "pedro 12345678") == set()
        assert references(client, "quintero 99999999") == set()

    def test_every_word_in_the_reference(self, client_for, pe_caseworker, pe_agency):
        case = case_with_family(pe_agency)
        year, number = case.reference.split("-")[1:]
        client = client_for(pe_caseworker)
        assert references(client, f"{year} {number}") == {case.reference}
        assert references(client, case.reference.lower()) == {case.reference}

    def test_the_reference_needs_a_word_of_three_characters(self, client_for, pe_caseworker, pe_agency):
        """"bc 20" is in nearly every reference: short words alone are looked
        for in members only, and the references are not read at all."""
        case = case_with_family(pe_agency)
        prefix, year, _number = case.reference.split("-")
        client = client_for(pe_caseworker)
        with CaptureQueriesContext(connection) as short:
            assert references(client, f"{prefix} {year[:2]}") == set()
        assert not [query for query in short.captured_queries if '"reference"::text) LIKE' in query["sql"]]
        with CaptureQueriesContext(connection) as longer:
            assert references(client, f"{prefix} {year}") == {case.reference}
        assert [query for query in longer.captured_queries if '"reference"::text) LIKE' in query["sql"]]


@pytest.mark.django_db
class TestWhoFindsWhat:
    def test_a_limited_viewer_finds_by_reference_only(self, client_for, cl_caseworker, pe_agency, cl_agency):
        case = case_of(pe_agency, "Wilmer", "Camacho", "P-4455")
        HandoffFactory(case=case, to_agency=cl_agency)  # pending: cl-sermig has the limited view
        client = client_for(cl_caseworker)
        assert references(client, case.reference) == {case.reference}
        for term in ("camacho", "wilmer camacho", "p4455", f"wilmer {case.reference}"):
            assert references(client, term) == set(), term

    def test_a_collaborator_and_the_secretariat_find_by_name(self, client_for, cl_caseworker, secretariat,
                                                            pe_agency):
        case = case_of(pe_agency, "Wilmer", "Camacho")
        HandoffFactory(case=case, kind="referral", to_agency=cl_caseworker.agency, status="accepted")
        assert references(client_for(cl_caseworker), "wilmer camacho") == {case.reference}
        assert references(client_for(secretariat), "wilmer camacho") == {case.reference}

    def test_an_outsider_finds_nothing(self, client_for, outsider, pe_agency):
        case = case_of(pe_agency, "Wilmer", "Camacho")
        client = client_for(outsider)
        assert references(client, "wilmer camacho") == set()
        assert references(client, case.reference) == set()

    def test_the_query_count_does_not_depend_on_the_matches(self, client_for, pe_caseworker, pe_agency):
        client = client_for(pe_caseworker)
        case_of(pe_agency, "Wilmer", "Camacho")
        references(client, "wilmer")  # the token's first use of the day is written once
        with CaptureQueriesContext(connection) as one:
            assert len(references(client, "wilmer")) == 1
        for _ in range(5):
            case_with_family(pe_agency, children=2, priority="high")
            case_of(pe_agency, "Wilmer Alberto", "Camacho Silva")
        with CaptureQueriesContext(connection) as six:
            assert len(references(client, "wilmer")) == 6
        assert len(six.captured_queries) == len(one.captured_queries)


@pytest.mark.django_db
class TestTheServicesKeepTheDocument:
    def test_a_new_case_is_found_by_its_members(self, client_for, pe_caseworker):
        client = client_for(pe_caseworker)
        response = client.post("/api/v1/cases/", case_body(), format="json")
        assert response.status_code == 201, response.content
        reference = response.json()["reference"]
        assert references(client, "yusmary rodriguez") == {reference}
        assert references(client, "santiago ac99123") == {reference}

    def test_a_member_added_and_removed(self, client_for, pe_caseworker, pe_agency):
        case = case_of(pe_agency, "Ana", "Rojas")
        client = client_for(pe_caseworker)
        body = member(relationship="spouse", given_names="Fabiola", family_names="Urdaneta",
                      document_number="N-777")
        response = client.post(f"/api/v1/cases/{case.pk}/members/", body, format="json")
        assert response.status_code == 201, response.content
        assert references(client, "fabiola urdaneta") == {case.reference}
        assert references(client, "n777") == {case.reference}
        added = case.members.get(given_names="Fabiola")
        assert client.delete(f"/api/v1/cases/{case.pk}/members/{added.pk}/").status_code == 204
        assert references(client, "fabiola") == set()
        assert references(client, "ana rojas") == {case.reference}

    def test_a_corrected_name_or_document(self, client_for, pe_caseworker, pe_agency):
        case = case_of(pe_agency, "Ana", "Rojas", "P-1")
        other = CaseMemberFactory(case__owner_agency=pe_agency, person=case.members.get()).case
        client = client_for(pe_caseworker)
        person = case.members.get()
        response = client.patch(f"/api/v1/people/{person.pk}/", {"family_names": "Rojas de Medina",
                                                                  "document_number": "P-2"}, format="json")
        assert response.status_code == 200, response.content
        assert references(client, "ana medina") == {case.reference, other.reference}
        assert references(client, "p2") == {case.reference, other.reference}
        assert references(client, "p1") == set()

    def test_a_phone_change_leaves_the_document_alone(self, client_for, pe_caseworker, pe_agency):
        case = case_of(pe_agency, "Ana", "Rojas", "P-1")
        before = Case.objects.get(pk=case.pk).search_document
        person = case.members.get()
        with CaptureQueriesContext(connection) as queries:
            response = client_for(pe_caseworker).patch(f"/api/v1/people/{person.pk}/", {"phone": "+51 1"},
                                                        format="json")
        assert response.status_code == 200, response.content
        assert not [q for q in queries.captured_queries
                    if "search_document" in q["sql"] and not q["sql"].startswith("SELECT")]
        assert Case.objects.get(pk=case.pk).search_document == before == "ana rojas p1 1"

    def test_the_backfill_writes_every_case(self, pe_agency):
        first = case_of(pe_agency, "José", "Muñoz", "V-1")
        second = case_with_family(pe_agency, children=1)
        Case.objects.update(search_document="")
        migration = import_module("cases.migrations.0004_case_search_document")
        migration.backfill(apps, SimpleNamespace(connection=connection))
        assert Case.objects.get(pk=first.pk).search_document == "jose munoz v1 1"
        expected = {case_id: document for case_id, document in Case.objects.values_list("pk", "search_document")}
        case_search_refresh(case_ids=[first.pk, second.pk])
        assert dict(Case.objects.values_list("pk", "search_document")) == expected
        assert expected[second.pk].count("\n") == 1


@pytest.mark.django_db
def test_postgresql_finds_the_candidates_in_the_index_of_word_starts(client_for, pe_caseworker, pe_agency):
    """The search compares the very expression the index holds, or the index is never used."""
    case_of(pe_agency, "Wilmer", "Camacho")
    with CaptureQueriesContext(connection) as queries:
        assert references(client_for(pe_caseworker), "wilmer camacho") != set()
    assert any("case_search_prefixes" in q["sql"] for q in queries.captured_queries)
    # The candidates alone: with a handful of rows the planner may start the whole
    # search elsewhere, but the candidates' condition must be one the index answers.
    candidates = Case.objects.filter(indexed_words(["wilmer", "camacho"])).values("pk")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = candidates.explain()
    assert "case_search_document_idx" in plan
