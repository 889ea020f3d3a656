"""Races between requests, on PostgreSQL with real threads."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone

from cases.models import Case, CaseReferenceCounter, HistoryEntry

from .conftest import case_body, member


def run_together(count, request):
    """Send ``request(index)`` from ``count`` threads released at once."""
    barrier = threading.Barrier(count)

    def worker(index):
        try:
            barrier.wait()
            return request(index)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count)))


@pytest.mark.django_db(transaction=True)
class TestConcurrentCases:
    def test_twenty_concurrent_creations_get_twenty_gapless_references(self, client_for, pe_caseworker,
                                                                      cl_caseworker):
        clients = [client_for(pe_caseworker), client_for(cl_caseworker)]

        def create(index):
            body = case_body(members=[member(document_number=f"P-{index:04d}")])
            response = clients[index % 2].post("/api/v1/cases/", body, format="json")
            return response.status_code, response.json()["reference"]

        results = run_together(20, create)

        year = timezone.localdate().year
        assert {status for status, _ in results} == {201}
        assert sorted(reference for _, reference in results) == [f"BC-{year}-{n:06d}" for n in range(1, 21)]
        assert Case.objects.count() == 20
        assert CaseReferenceCounter.objects.get(year=year).last_number == 20

    def test_keyed_creations_refused_or_not_keep_the_references_gapless(self, client_for, pe_caseworker,
                                                                        cl_caseworker):
        """Twenty creations at once, each with its own Idempotency-Key (the
        answer is stored in the creating transaction, after the reference is
        taken); every fourth is refused (two heads): the refused ones take no
        number, the others get distinct numbers with no gap, and each key
        replays its own case."""
        clients = [client_for(pe_caseworker), client_for(cl_caseworker)]

        def body(index):
            members = [member(document_number=f"K-{index:04d}")]
            if index % 4 == 3:
                members.append(member(document_number=f"H-{index:04d}"))
            return case_body(members=members)

        def create(index):
            response = clients[index % 2].post("/api/v1/cases/", body(index), format="json",
                                               HTTP_IDEMPOTENCY_KEY=f"create-{index}")
            return response.status_code, response.json()

        results = run_together(20, create)

        year = timezone.localdate().year
        assert [status for status, _ in results] == [422 if index % 4 == 3 else 201 for index in range(20)]
        references = sorted(answer["reference"] for status, answer in results if status == 201)
        assert references == [f"BC-{year}-{n:06d}" for n in range(1, 16)]
        assert sorted(Case.objects.values_list("reference", flat=True)) == references
        assert CaseReferenceCounter.objects.get(year=year).last_number == 15
        for index in (0, 3, 5):
            replay = clients[index % 2].post("/api/v1/cases/", body(index), format="json",
                                             HTTP_IDEMPOTENCY_KEY=f"create-{index}")
            assert replay["Idempotent-Replayed"] == "true"
            assert (replay.status_code, replay.json()) == results[index]
        assert Case.objects.count() == 15

    def test_a_creation_sent_many_times_at_once_with_one_key_creates_one_case(self, client_for, pe_caseworker):
        """Duplicates that arrive while the first runs get 409 (its key is
        locked); those that arrive after its commit get its answer replayed."""
        client = client_for(pe_caseworker)

        def create(_index):
            response = client.post("/api/v1/cases/", case_body(), format="json", HTTP_IDEMPOTENCY_KEY="same-key")
            return response.status_code, response.has_header("Idempotent-Replayed"), response.content

        results = run_together(8, create)

        assert {status for status, _, _ in results} <= {201, 409}
        first = [content for status, replayed, content in results if status == 201 and not replayed]
        assert len(first) == 1
        assert all(content == first[0] for status, _, content in results if status == 201)
        assert Case.objects.count() == 1
        assert client.post("/api/v1/cases/", case_body(), format="json",
                           HTTP_IDEMPOTENCY_KEY="same-key").content == first[0]

    def test_concurrent_writes_with_the_same_tag_let_exactly_one_through(self, client_for, pe_caseworker,
                                                                        family_case):
        client = client_for(pe_caseworker)
        tag = client.get(f"/api/v1/cases/{family_case.pk}/")["ETag"]
        priorities = ["low", "high", "urgent"] * 4

        def patch(index):
            return client.patch(f"/api/v1/cases/{family_case.pk}/", {"priority": priorities[index]},
                                format="json", HTTP_IF_MATCH=tag).status_code

        statuses = run_together(len(priorities), patch)

        assert sorted(statuses) == [200] + [412] * (len(priorities) - 1)
        family_case.refresh_from_db()
        assert family_case.version == 2
        assert HistoryEntry.objects.filter(action="case.updated").count() == 1

    def test_concurrent_member_additions_keep_the_count(self, client_for, pe_caseworker, family_case):
        client = client_for(pe_caseworker)

        def add(index):
            body = member(relationship="other_relative", given_names=f"Primo {index}",
                          document_number=f"C-{index}")
            return client.post(f"/api/v1/cases/{family_case.pk}/members/", body, format="json").status_code

        assert run_together(10, add) == [201] * 10
        family_case.refresh_from_db()
        assert family_case.member_count == family_case.memberships.count() == 13
        assert family_case.version == 11
