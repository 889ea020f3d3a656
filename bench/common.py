"""What every benchmark script shares: where the datasets live, the
environment the production settings need on a bench machine, and the
connection to the PostgreSQL server that holds the bench databases.

Nothing here reaches beyond loopback: PostgreSQL and Redis on 127.0.0.1.
"""
import hashlib
import json
import os
import re
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "var" / "bench"
DATASETS_DIR = OUT_DIR / "datasets"

# Only databases with this prefix are ever created or dropped by the scripts.
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "puente_perf")
SERVER_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")

SCALES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}


def scale_label(cases: int) -> str:
    for label, count in SCALES.items():
        if count == cases:
            return label
    return str(cases)


def database_url(name: str) -> str:
    return f"{SERVER_URL}/{name}"


def check_name(name: str) -> str:
    if not re.fullmatch(rf"{re.escape(DB_PREFIX)}_[a-z0-9_]+", name):
        raise SystemExit(f"refusing to touch database {name!r}: bench databases are named {DB_PREFIX}_*")
    return name


def admin_connection() -> psycopg.Connection:
    """Autocommit connection to the maintenance database, for CREATE/DROP DATABASE."""
    return psycopg.connect(database_url("postgres"), autocommit=True)


def database_exists(name: str) -> bool:
    with admin_connection() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def drop_database(name: str) -> None:
    check_name(name)
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Per-database planner settings of the bench databases (a template's are not
# copied, so every clone gets them again). The data is cached in memory and on
# SSD: a random page costs about what a sequential one does, and with the
# default of 4.0 the planner prefers hashing a whole table to a few thousand
# index probes. Recommended for production too (docs/performance.md).
DATABASE_SETTINGS = {"random_page_cost": "1.1"}


def create_database(name: str, *, template: str | None = None) -> None:
    check_name(name)
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if template:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{check_name(template)}"')
        else:
            conn.execute(f'CREATE DATABASE "{name}"')
        for setting, value in DATABASE_SETTINGS.items():
            conn.execute(f'ALTER DATABASE "{name}" SET {setting} = {value}')


def server_environment(database: str) -> dict[str, str]:
    """Production settings pointed at a bench database and the bench Redis db.
    The secret key is local to the bench and never used for anything else."""
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "bench-only-local-secret-key-not-for-any-deployment-0123456789",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url(database),
        "REDIS_URL": REDIS_URL,
        "DJANGO_LOG_LEVEL": "WARNING",
        # Each worker keeps its connection for the whole run (the steady state of
        # a busy server), so the CPU time of its backend can be read throughout.
        "DATABASE_CONN_MAX_AGE": "600",
        # Every agency's system shares one token here; the per-token limit
        # stays in force (the counter is still read and written per request)
        # but high enough not to answer 429 to the load generator.
        "PUENTE_THROTTLE_RATE": "10000000/minute",
        # Likewise the requests in flight per token: counted, never refused here
        # (8 connections share 11 tokens at random).
        "PUENTE_MAX_CONCURRENT_REQUESTS": "1000",
        # And the server time per token: charged, never refused here.
        "PUENTE_SERVER_SECONDS_PER_MINUTE": "100000",
    })
    return env


def django_setup(database: str) -> None:
    """Configure Django in this process for ``database`` with production settings."""
    os.environ.update(server_environment(database))
    import django

    django.setup()


def manifest_path(database: str) -> Path:
    return DATASETS_DIR / f"{database}.json"


def read_manifest(database: str) -> dict | None:
    path = manifest_path(database)
    if not path.exists() or not database_exists(database):
        return None
    return json.loads(path.read_text())


def schema_fingerprint() -> str:
    """Changes whenever a migration is added or edited: a dataset made before is stale."""
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/[0-9]*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])
