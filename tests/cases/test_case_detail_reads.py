"""Reading one case: a constant number of queries, and its access-log row
committed without waiting for the disk — only when the read is alone in its
transaction, so a write never loses durability."""
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cases.models import CaseAccessLog
from cases.roles import Role
from cases.selectors import _cases_of_agency, case_for, cases_visible_to, log_case_reads
from tests.factories import CaseMemberFactory, HandoffFactory, UserFactory, case_with_family

ASYNC_COMMIT = "SET LOCAL synchronous_commit = off"
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def statements(queries) -> list[str]:
    return [q["sql"] for q in queries if not q["sql"].upper().startswith(TRANSACTION_CONTROL)]


@pytest.mark.django_db
class TestCaseDetailQueries:
    def test_it_reads_the_same_number_of_queries_whatever_the_family(self, client_for, pe_caseworker, pe_agency):
        client = client_for(pe_caseworker)
        small, large = case_with_family(pe_agency, children=0), case_with_family(pe_agency, children=5)
        for _ in range(3):
            CaseMemberFactory(case=large, relationship="other_relative")
        client.get("/api/v1/me/")  # the token read (and remembered), its last use stamped once a minute
        counts = []
        for case in (small, large):
            with CaptureQueriesContext(connection) as queries:
                body = client.get(f"/api/v1/cases/{case.pk}/").json()
            counts.append(len(statements(queries)))
        assert len(body["members"]) == 9
        # the case with its access, the access log, the members
        assert counts == [3, 3]
        assert CaseAccessLog.objects.filter(user=pe_caseworker).count() == 2

    def test_a_limited_view_reads_no_members_and_logs_nothing(self, client_for, pe_agency, int_agency,
                                                              django_assert_num_queries):
        case = case_with_family(pe_agency, children=3)
        HandoffFactory(case=case, kind="transfer", to_agency=int_agency, status="pending")
        client = client_for(UserFactory(username="acnur", agency=int_agency, roles=[Role.CASEWORKER]))
        client.get("/api/v1/me/")  # the token read and remembered
        with django_assert_num_queries(1):  # the case with its access
            body = client.get(f"/api/v1/cases/{case.pk}/").json()
        assert body["access"] == "limited" and "members" not in body
        assert not CaseAccessLog.objects.exists()

    def test_a_log_written_inside_a_write_shares_its_commit(self, pe_caseworker, pe_agency):
        """No asynchronous commit for the transaction of a write."""
        case = case_with_family(pe_agency)
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            log_case_reads(pe_caseworker, [case_for(pe_caseworker, case.pk)])
        assert ASYNC_COMMIT not in statements(queries)
        assert CaseAccessLog.objects.filter(case=case, user=pe_caseworker, access="owner").count() == 1


@pytest.mark.django_db(transaction=True)
class TestAccessLogCommit:
    def test_a_read_commits_its_log_row_asynchronously(self, client_for, pe_caseworker, pe_agency):
        case = case_with_family(pe_agency)
        client = client_for(pe_caseworker)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 200
        sql = [q["sql"] for q in queries]
        assert sql.count(ASYNC_COMMIT) == 1
        # In its own transaction, right before the log row, and committed.
        at = sql.index(ASYNC_COMMIT)
        assert sql[at - 1] == "BEGIN" and sql[at + 1].startswith('INSERT INTO "cases_caseaccesslog"')
        assert sql[at + 2] == "COMMIT"
        assert not connection.in_atomic_block
        assert CaseAccessLog.objects.filter(case=case, user=pe_caseworker, channel="api").count() == 1
        # LOCAL: the connection's next transactions commit synchronously again.
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"

    def test_the_secretariats_list_reads_are_logged_the_same_way(self, client_for, secretariat, pe_agency):
        cases = [case_with_family(pe_agency) for _ in range(3)]
        with CaptureQueriesContext(connection) as queries:
            assert len(client_for(secretariat).get("/api/v1/cases/").json()["results"]) == 3
        assert [q["sql"] for q in queries].count(ASYNC_COMMIT) == 1
        assert set(CaseAccessLog.objects.values_list("case_id", flat=True)) == {case.pk for case in cases}


@pytest.mark.django_db
class TestVisibleCasesQuery:
    def test_each_agency_gets_its_own_query_and_it_never_holds_rows(self, pe_caseworker, cl_caseworker,
                                                                    pe_agency, cl_agency):
        """The query of an agency's cases is built once per process, but read afresh every time."""
        assert list(cases_visible_to(pe_caseworker)) == []
        case = case_with_family(pe_agency)
        assert [(seen.pk, seen.access) for seen in cases_visible_to(pe_caseworker)] == [(case.pk, "owner")]
        assert list(cases_visible_to(cl_caseworker)) == []
        HandoffFactory(case=case, kind="referral", to_agency=cl_agency, status="accepted")
        assert [seen.access for seen in cases_visible_to(cl_caseworker)] == ["collaborator"]
        assert cases_visible_to(pe_caseworker).query is not cases_visible_to(pe_caseworker).query
        assert _cases_of_agency(pe_agency.pk)._result_cache is None
