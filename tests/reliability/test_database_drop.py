"""PostgreSQL drops the connection of a request in the middle of it (what a
restart, a failover or ``pg_terminate_backend`` does to every open
connection). The rule: the client gets a 5xx and nothing half-written, or the
write is committed — never a 2xx for a write that is not in the database, and
a retry with the same ``Idempotency-Key`` never writes it twice.

The backend of the request is terminated from a second connection, at a
chosen statement, with the real PostgreSQL (marked ``postgres``)."""

import pytest
from django.db import connection

from api_core.models import IdempotencyRecord
from cases.models import Case, CaseMember, Person
from outbox.models import Event
from tests.integration.test_redis_down import FAMILY
from tests.services import admin_connection

pytestmark = [pytest.mark.django_db(transaction=True)]


def terminate(pid: int) -> None:
    with admin_connection() as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
        # Wait until the backend is gone, so the request's next statement meets a dead connection.
        for _ in range(200):
            if not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
                return
            admin.execute("SELECT pg_sleep(0.01)")
        raise AssertionError("the backend did not go away")


class DropAt:
    """Terminate this connection's backend just before the first statement for which ``when(sql)`` is true."""

    def __init__(self, when):
        self.when, self.fired, self.seen = when, None, []

    def __call__(self, execute, sql, params, many, context):
        self.seen.append(sql)
        if self.fired is None and self.when(sql, self.seen):
            self.fired = sql
            terminate(connection.connection.info.backend_pid)
        return execute(sql, params, many, context)


def counts():
    connection.close()  # the request's connection is dead: count on a fresh one
    return (Case.objects.count(), Person.objects.count(), CaseMember.objects.count(),
            Event.objects.filter(type="case.created").count())


@pytest.fixture(autouse=True)
def fresh_connection_for_the_flush():
    yield
    connection.close()  # the flush after a transactional test must not meet a dead connection


@pytest.fixture
def pe(client_for, pe_caseworker):
    client = client_for(pe_caseworker, HTTP_ACCEPT_LANGUAGE="en")
    client.raise_request_exception = False  # answer the 500 as a server does
    return client


@pytest.mark.schema_exempt(reason="a 500 drill: the database fails under the request on purpose")
def test_dropped_before_the_commit_is_a_5xx_and_writes_nothing(pe):
    drop = DropAt(lambda sql, seen: sql.startswith('INSERT INTO "cases_event"'))  # the last write of the case
    with connection.execute_wrapper(drop):
        response = pe.post("/api/v1/cases/", FAMILY, format="json", HTTP_IDEMPOTENCY_KEY="drop-1")
    assert drop.fired, drop.seen
    assert response.status_code == 500, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert any(sql.startswith('INSERT INTO "cases_case"') for sql in drop.seen)  # it was written, then lost
    assert counts() == (0, 0, 0, 0)

    # The client retries with the same key: the abandoned claim does not block it for ever, and it writes once.
    record = IdempotencyRecord.objects.filter(key="drop-1").first()
    assert record is None or record.state != IdempotencyRecord.State.COMPLETED
    retried = pe.post("/api/v1/cases/", FAMILY, format="json", HTTP_IDEMPOTENCY_KEY="drop-1")
    if retried.status_code == 409:  # claim still held by the request that died: the client waits and retries
        assert retried.json()["code"] == "idempotency_request_in_progress"
        IdempotencyRecord.objects.filter(key="drop-1").delete()  # as the lock timeout would, minutes later
        retried = pe.post("/api/v1/cases/", FAMILY, format="json", HTTP_IDEMPOTENCY_KEY="drop-1")
    assert retried.status_code == 201, retried.content
    assert counts() == (1, 2, 2, 1)


@pytest.mark.schema_exempt(reason="a 500 drill: the database fails under the request on purpose")
def test_dropped_as_the_answer_is_stored_nothing_is_written_and_the_retry_writes_once(pe):
    """The answer of a keyed request is stored in the transaction of its
    writes, last. The connection dies as the answer is stored, before the commit:
    the client hears 500, nothing of the case nor of the key is left, and the
    retry with the same key writes the case once."""
    drop = DropAt(lambda sql, seen: sql.startswith('INSERT INTO "api_core_idempotencyrecord"'))
    with connection.execute_wrapper(drop):
        response = pe.post("/api/v1/cases/", FAMILY, format="json", HTTP_IDEMPOTENCY_KEY="drop-2")
    assert drop.fired, drop.seen
    assert any(sql.startswith('INSERT INTO "cases_event"') for sql in drop.seen)  # every write of the case came first
    assert response.status_code == 500, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert counts() == (0, 0, 0, 0)
    assert not IdempotencyRecord.objects.filter(key="drop-2").exists()

    retried = pe.post("/api/v1/cases/", FAMILY, format="json", HTTP_IDEMPOTENCY_KEY="drop-2")
    assert retried.status_code == 201, retried.content
    assert counts() == (1, 2, 2, 1)


def test_an_answer_lost_on_the_way_is_replayed_not_written_twice(pe):
    """The write and its stored answer commit together, so a client that
    never heard the 201 (its connection dropped) and retries gets the same
    answer, and the case exists once."""
    first = pe.post("/api/v1/cases/", FAMILY, format="json", HTTP_IDEMPOTENCY_KEY="drop-3")
    assert first.status_code == 201, first.content
    retried = pe.post("/api/v1/cases/", FAMILY, format="json", HTTP_IDEMPOTENCY_KEY="drop-3")
    assert retried.status_code == 201, retried.content
    assert retried.json()["id"] == first.json()["id"]
    assert counts() == (1, 2, 2, 1)
