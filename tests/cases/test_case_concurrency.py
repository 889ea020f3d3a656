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


@pytest.mark.postgres
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
