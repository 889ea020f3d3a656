"""The health check of a reused database connection (``config/postgresql``):
no round trip while the connection is healthy, and a connection the server
has ended is replaced before the request's first statement — with the real
PostgreSQL, the backend ended by ``pg_terminate_backend`` as a restart does."""
import select

import pytest
from django.db import connections

from tests.reliability.test_database_drop import terminate
from tests.services import admin_connection

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def wrapper():
    """A connection of its own, outside the test's transaction, as a worker holds it between requests."""
    conn = connections.create_connection("default")
    conn.health_check_enabled = True
    yield conn
    conn.close()


def last_statement(pid: int) -> str:
    with admin_connection() as admin:
        return admin.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0]


def test_a_healthy_connection_is_checked_without_a_statement(wrapper):
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT 'the last statement'")
    pid = wrapper.connection.info.backend_pid

    assert wrapper.is_usable()

    assert last_statement(pid) == "SELECT 'the last statement'"  # no SELECT 1 was sent
    assert wrapper.connection.info.backend_pid == pid


def test_a_connection_the_server_ended_is_replaced_before_the_next_statement(wrapper):
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT 1")
    pid = wrapper.connection.info.backend_pid
    terminate(pid)
    select.select([wrapper.connection.pgconn.socket], [], [], 5)  # the server's goodbye has arrived

    assert not wrapper.is_usable()
    # What the start of the next request does: the check, then the statement on a new connection.
    wrapper.health_check_done = False
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        new_pid = cursor.fetchone()[0]
    assert new_pid != pid
    assert wrapper.connection.info.backend_pid == new_pid


def test_a_closed_connection_is_not_usable(wrapper):
    wrapper.ensure_connection()
    wrapper.connection.close()

    assert not wrapper.is_usable()
