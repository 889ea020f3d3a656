"""`make contract`: prove the OpenAPI contract against the running service.

1. A fresh database of its own (``<DATABASE_URL name>_contract`` on
   the same PostgreSQL server), migrated and seeded with the demo
   agencies and users; real tokens issued with ``issue_token``.
2. gunicorn serving the app on a free loopback port.
3. schemathesis over every operation of /api/v1/schema/ with its default
   checks and a bounded number of examples: any failure fails the run. The
   hooks in ``hooks.py`` make it send a fresh ``Idempotency-Key`` with each
   request, as a correct client does; ``schemathesis.toml`` holds the one
   setting that differs from the defaults (see docs/api/contract.md).
4. A Python client generated from the schema with openapi-python-client
   (warnings are errors), and ``tests/contract/scenario.py`` driven through it.

Environment: DATABASE_URL (optional), CONTRACT_EXAMPLES (examples per
operation, default 25), CONTRACT_SEED, CONTRACT_KEEP=1 to keep the database
and the generated client for a look afterwards.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EXAMPLES = os.environ.get("CONTRACT_EXAMPLES", "25")
SEED = os.environ.get("CONTRACT_SEED", "20260101")
KEEP = os.environ.get("CONTRACT_KEEP") == "1"


def log(message: str) -> None:
    print(f"contract: {message}", flush=True)


def fresh_database(workdir: Path) -> tuple[str, callable]:
    """A database URL nobody else uses, and how to drop it afterwards."""
    import psycopg

    url = os.environ["DATABASE_URL"]
    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_contract"
    admin = urlunsplit(parts._replace(path="/postgres"))

    def run(sql):
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql)

    run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    run(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}")), lambda: run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env, *args) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"contract: manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def wait_until_up(url: str, server: subprocess.Popen, timeout: float = 180) -> None:
    """Until the URL answers 200. Each try may take a while: on a busy machine the
    schema alone takes seconds to build, and a try given up would only queue another."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("contract: the server exited while starting")
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    sys.exit(f"contract: {url} did not answer within {timeout:.0f}s")


def fuzz(base: str, token: str, workdir: Path) -> int:
    log(f"schemathesis, {EXAMPLES} examples per operation, seed {SEED}")
    command = [
        str(BIN / "st"), "--config-file", str(Path(__file__).with_name("schemathesis.toml")),
        "run", f"{base}/api/v1/schema/",
        "--header", f"Authorization: Bearer {token}",
        "--max-examples", EXAMPLES, "--seed", SEED,
        "--workers", "1", "--request-timeout", "20",
        "--report", "junit", "--report-dir", str(workdir / "schemathesis"),
    ]
    # The hooks make the fuzzer a well-behaved client where the contract asks
    # for one (a fresh Idempotency-Key per request): see tests/contract/hooks.py.
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(Path(__file__).with_name("hooks.py"))}
    return subprocess.run(command, cwd=workdir, env=env).returncode


def generate_client(base: str, workdir: Path) -> Path:
    schema = workdir / "openapi.json"
    with urllib.request.urlopen(f"{base}/api/v1/schema/?format=json", timeout=10) as response:
        schema.write_bytes(response.read())
    output = workdir / "client" / "puente_api_client"
    log("generating the Python client with openapi-python-client")
    result = subprocess.run(
        [str(BIN / "openapi-python-client"), "generate", "--path", str(schema), "--output-path", str(output),
         "--meta", "none", "--overwrite", "--fail-on-warning"],
        cwd=workdir, capture_output=True, text=True, env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"},
    )
    print(result.stdout + result.stderr, flush=True)
    if result.returncode != 0 or "warning" in (result.stdout + result.stderr).lower():
        sys.exit("contract: the client generator failed or warned")
    return output.parent


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="puente-contract-"))
    database_url, drop_database = fresh_database(workdir)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url,
        # Tasks queued by requests (a webhook ping) stay in this process: no broker is touched.
        "CELERY_BROKER_URL": "memory://",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
    }
    log(f"database {urlsplit(database_url).path.lstrip('/')}")
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "seed_demo")
    # The fuzzer works as a caseworker of an agency of its own, so what it creates
    # (webhooks up to the limit, preferences) never gets in the scenario's way.
    manage(env, "add_agency", "contract-fuzzer", "--name", "Contract fuzzer", "--country", "PE")
    manage(env, "add_user", "contract.fuzzer", "--email", "fuzzer@contract.invalid", "--agency", "contract-fuzzer",
           "--role", "caseworker")
    tokens = {username: manage(env, "issue_token", username, "--name", "contract").strip().splitlines()[-1]
              for username in ("contract.fuzzer", "pe.migraciones", "cl.sermig", "secretaria")}

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server_log = open(workdir / "server.log", "w")  # noqa: SIM115 - the server writes to it until stopped
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--timeout", "60", "--access-logfile", "-"],
        cwd=ROOT, env=env, stdout=server_log, stderr=subprocess.STDOUT,
    )
    failed = []
    try:
        wait_until_up(f"{base}/api/v1/schema/", server)
        log(f"serving on {base}")
        if fuzz(base, tokens["contract.fuzzer"], workdir) != 0:
            failed.append("schemathesis")
        client = generate_client(base, workdir)
        scenario_env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(client), str(ROOT)]),
            "PUENTE_BASE_URL": base,
            "PUENTE_TOKEN_PE": tokens["pe.migraciones"],
            "PUENTE_TOKEN_CL": tokens["cl.sermig"],
            "PUENTE_TOKEN_SECRETARIAT": tokens["secretaria"],
        }
        log("scenario through the generated client")
        if subprocess.run([sys.executable, "-m", "tests.contract.scenario"], cwd=ROOT, env=scenario_env).returncode:
            failed.append("scenario")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        server_log.close()
        if failed:
            errors = [line for line in (workdir / "server.log").read_text().splitlines() if "Traceback" in line
                      or "Error" in line]
            if errors:
                log("server errors:\n" + "\n".join(errors[-40:]))
        if KEEP:
            log(f"kept {workdir} and {database_url}")
        else:
            drop_database()
            shutil.rmtree(workdir, ignore_errors=True)
    if failed:
        log("FAILED: " + ", ".join(failed))
        return 1
    log("passed: schemathesis and the generated-client scenario")
    return 0


if __name__ == "__main__":
    sys.exit(main())
