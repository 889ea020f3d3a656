"""What the processes a test starts (workers, servers) need to reach the same services."""
import os
from urllib.parse import urlsplit, urlunsplit

import psycopg
from django.db import connection


def worker_database_url() -> str:
    """DATABASE_URL naming the test database (the settings put DATABASE_URL in the environment)."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


def admin_connection() -> psycopg.Connection:
    """A separate autocommit connection to the test database, made with Django's own parameters
    (TCP server or the embedded server's socket alike), to watch or end other backends."""
    return psycopg.connect(**connection.get_connection_params(), autocommit=True)
