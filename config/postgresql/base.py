"""PostgreSQL as Django's own backend, with a health check that costs no round trip.

Django's ``CONN_HEALTH_CHECKS`` sends ``SELECT 1`` before the first query of
every request that reuses a connection: on the cheapest authenticated request
that round trip was a quarter of the worker's time (docs/performance.md). A
connection the server has ended — PostgreSQL restarted or crashed, the
backend terminated, an idle timeout — is known without asking: the server
sends its last message and closes, so the idle socket turns readable. A
healthy idle connection has nothing to read. The check therefore polls the
socket without waiting and falls back to Django's ``SELECT 1`` only when
something is there (a notice or parameter change is rare, and is simply read
by that query). What no check before a query can see — a server that
vanishes without closing the connection — is no different from before: the
query fails and Django drops the connection at the end of the request.
"""
import select

from django.db.backends.postgresql import base
from psycopg import OperationalError, pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        if self.connection is None:
            return False
        pgconn = self.connection.pgconn
        if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status == pq.TransactionStatus.UNKNOWN:
            return False
        try:
            readable, _, _ = select.select([pgconn.socket], [], [], 0)
        except (OSError, ValueError, OperationalError):
            return False
        return not readable or super().is_usable()
