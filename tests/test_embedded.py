"""The embedded installation: `make run` with nothing configured serves the demo on
its own PostgreSQL and Valkey under one folder, holds up under concurrent writes,
and leaves nothing behind after Ctrl-C or after a crash."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from config.embedded import PG_BIN, Embedded, unreachable_by_server

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def var_dir():
    # A checkout in a folder only root enters (a root user's home, a `mktemp -d`): the
    # server's user cannot run its programs there, and the embedded server says so.
    reason = unreachable_by_server(PG_BIN)
    if reason:
        pytest.skip(reason)
    # Searchable by everyone: started by root, PostgreSQL runs as nobody (and pytest's tmp_path is private).
    path = Path(tempfile.mkdtemp(prefix="puente-var-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    Embedded(path).stop()
    subprocess.run(["rm", "-rf", str(path)], check=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bare_environment(var_dir: Path, **extra) -> dict:
    """This machine's environment as a new user's shell has it: no service configured."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")}
    return {**env, "PUENTE_VAR_DIR": str(var_dir), **extra}


def wait_for(url: str, process: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"make run exited early with {process.returncode}"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {timeout} s")


def token_for(username: str, env: dict) -> str:
    result = subprocess.run([sys.executable, "manage.py", "issue_token", username, "--name", "race"], cwd=ROOT,
                            env=env, capture_output=True, text=True, check=True)
    return result.stdout.strip().splitlines()[-1]


def race(calls) -> list[int]:
    """Send every call at the same moment, each on its own connection; their status codes."""
    barrier = threading.Barrier(len(calls))
    statuses = [None] * len(calls)

    def send(index, method, url, token, body):
        with httpx.Client(timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
            barrier.wait()
            statuses[index] = client.request(method, url, json=body).status_code

    threads = [threading.Thread(target=send, args=(index, *call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_make_run_serves_the_demo_on_embedded_postgresql_and_stops_everything_on_ctrl_c(var_dir):
    port = free_port()
    env = bare_environment(var_dir, PORT=str(port))
    run = subprocess.Popen([sys.executable, "-m", "config.run_local"], cwd=ROOT, env=env, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/healthz", run)
        embedded = Embedded(var_dir)
        assert embedded.postgres_running() and embedded.valkey_running()

        # One token per person (a token has at most two requests running at once).
        receivers = [token_for("cl.sermig", env) for _ in range(3)]
        senders = [token_for("pe.migraciones", env) for _ in range(3)]
        receiver = receivers[0]
        pending = httpx.get(f"{base}/api/v1/handoffs/", params={"status": "pending", "direction": "incoming"},
                            headers={"Authorization": f"Bearer {receiver}"}, timeout=30).json()["results"]
        handoff = next(h for h in pending if h["from_agency"] == "pe-migraciones")
        url = f"{base}/api/v1/handoffs/{handoff['id']}"
        # Nine answers to one handoff at once, as three people of two agencies might send them.
        statuses = race([("POST", f"{url}/accept/", token, {}) for token in receivers]
                        + [("POST", f"{url}/reject/", token, {"reason": "no_capacity"}) for token in receivers]
                        + [("POST", f"{url}/withdraw/", token, {}) for token in senders])
        assert sorted(statuses) == [200] + [409] * 8
    finally:
        os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
        code = run.wait(timeout=60)
    assert code == 0
    assert not Embedded(var_dir).postgres_running()
    assert not Embedded(var_dir).valkey_running()
    leftovers = [p for p in psutil.process_iter(["cmdline"]) if str(var_dir) in " ".join(p.info["cmdline"] or [])]
    assert leftovers == []


def test_a_crashed_run_leaves_nothing_that_blocks_the_next_start(var_dir):
    embedded = Embedded(var_dir)
    assert embedded.start() == ["postgres", "valkey"]
    postmaster = int((embedded.pg_data / "postmaster.pid").read_text().split()[0])
    valkey = int((embedded.valkey_dir / "valkey.pid").read_text())
    for pid in (postmaster, valkey):
        os.kill(pid, signal.SIGKILL)
    psutil.wait_procs([psutil.Process(postmaster)], timeout=10)
    assert (embedded.pg_data / "postmaster.pid").exists()  # stale, as a power cut leaves it
    assert embedded.valkey_socket.exists()

    assert embedded.start() == ["postgres", "valkey"]
    assert embedded.postgres_running() and embedded.valkey_running()
    assert embedded.start() == []  # already running: nothing started twice


def test_the_embedded_postgresql_listens_on_no_network_port(var_dir):
    import psycopg

    embedded = Embedded(var_dir)
    embedded.start()
    with psycopg.connect(host=str(embedded.pg_dir), user="postgres", dbname="puente") as conn:
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == ""
        assert conn.execute("SHOW server_version_num").fetchone()[0] >= "180000"


def test_a_folder_only_root_enters_is_named_as_the_reason():
    """Started by root, the server runs as another user: a private folder is the reason it cannot start."""
    # Not pytest's tmp_path: its own parents are private to root already.
    top = Path(tempfile.mkdtemp(prefix="puente-private-", dir="/tmp"))
    try:
        top.chmod(0o755)
        private = top / "private"
        (private / "bin").mkdir(parents=True)
        private.chmod(0o700)
        reason = unreachable_by_server(private / "bin")
        if os.geteuid() == 0:
            assert reason is not None and str(private / "bin") in reason and "chmod o+x" in reason
            private.chmod(0o755)
            assert unreachable_by_server(private / "bin") is None
        else:
            assert reason is None
    finally:
        subprocess.run(["rm", "-rf", str(top)], check=False)
