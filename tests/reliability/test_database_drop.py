"""PostgreSQL drops the connection of a request in the middle of it (what a
restart, a failover or ``pg_terminate_backend`` does to every open
connection). The rule: the client gets a 5xx and nothing half-written, or the
write is committed — never a 2xx for a write that is not in the database, and
a retry with the same ``Idempotency-Key`` never writes it twice.

The backend of the request is terminated from a second connection, at a
chosen statement, with the real PostgreSQL (marked ``postgres``)."""
import datetime

import psycopg
import pytest
from django.db import connection
from django.db.models import F

from api_core.models import IdempotencyRecord
from cases.models import Case, CaseMember, Event, Person
from tests.integration.test_redis_down import FAMILY

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def terminate(pid: int) -> None:
    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                         password=db["PASSWORD"] or None, dbname=db["NAME"], autocommit=True) as admin:
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


def test_dropped_after_the_commit_a_retry_with_the_same_key_does_not_write_the_case_twice(pe, settings):
    """The case commits; the connection dies before the idempotency record is
    marked completed (the record is written in its own transaction, after the
    view's). The client hears 500 and retries with the same key, as the API
    documentation tells it to. Until the claim is considered abandoned the
    retry gets 409; after that it must not create a second case."""

    def after_commit(sql, seen):
        return any(s.startswith('INSERT INTO "cases_event"') for s in seen[:-1]) and not connection.in_atomic_block

    drop = DropAt(after_commit)
    with connection.execute_wrapper(drop):
        response = pe.post("/api/v1/cases/", FAMILY, format="json", HTTP_IDEMPOTENCY_KEY="drop-2")
    assert drop.fired.startswith('UPDATE "api_core_idempotencyrecord"'), drop.fired
    assert response.status_code == 500, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert counts() == (1, 2, 2, 1)  # committed before the drop: a 5xx, but the write is there

    retried = pe.post("/api/v1/cases/", FAMILY, format="json", HTTP_IDEMPOTENCY_KEY="drop-2")
    assert retried.status_code == 409 and retried.json()["code"] == "idempotency_request_in_progress"
    # The client keeps retrying; once the lock timeout has passed the claim counts as abandoned.
    IdempotencyRecord.objects.filter(key="drop-2").update(
        created_at=F("created_at") - settings.PUENTE["IDEMPOTENCY_LOCK_TIMEOUT"] - datetime.timedelta(seconds=1))
    retried = pe.post("/api/v1/cases/", FAMILY, format="json", HTTP_IDEMPOTENCY_KEY="drop-2")
    assert retried.status_code in (200, 201, 409, 422), retried.content
    assert counts() == (1, 2, 2, 1), "the retry wrote the case a second time"
