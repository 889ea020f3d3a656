"""HTTP load run against gunicorn with the production settings, on loopback.

    .venv/bin/python -m bench.load --cases 100000 [--duration 20] [--warmup 3] [--workers 4] [--connections 8]

For one dataset (made by ``bench.generate`` if it is missing) it clones the
database (``CREATE DATABASE … TEMPLATE``, so every run starts from the same
rows), writes the requests of every endpoint to a file, starts gunicorn
(``config.settings.production``, the clone, the bench Redis db ``BENCH_REDIS_URL``), and runs wrk
against each endpoint in turn: a warm-up, then a fixed measured duration.
Two yardsticks are measured in the same run. The **reference**
(``bench/ceiling_app.py``): a minimal DRF view behind one SHA-256 token lookup,
on the same PostgreSQL server, behind the same gunicorn command — the
framework's own ceiling on this machine. **Ping** (``GET /api/v1/ping/``):
Puente's cheapest authenticated request. Both are measured first over the full
duration, and again right after each endpoint: the endpoint's two ratios
divide by those adjacent figures, so they compare like with like even when
other work on the machine comes and goes. It writes a markdown table and the
raw figures to ``var/bench/`` and prints it.

The two cores of this machine are shared by gunicorn, PostgreSQL and the load
generator: wrk (written in C) runs one thread, and the CPU time each of them
used during every measured window is read from /proc and reported next to the
figures, together with the machine's total, so what the generator took, and
what other processes took, is visible rather than guessed.

Adding an endpoint is one entry in ``ENDPOINTS``: a name and a function that
returns the requests to replay (read what they need from the cloned database).
"""
import argparse
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import psycopg

from bench import common

LUA = Path(__file__).resolve().parent / "wrk" / "replay.lua"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CPUS = os.cpu_count() or 1


# --- What is measured ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    token: str
    body: str = ""
    unique: bool = False  # fresh Idempotency-Key per request; @SEQ@ in the body replaced by it
    once: bool = False    # each request may be sent only once (it uses something up)

    def line(self) -> str:
        flags = ("u" if self.unique else "") + ("o" if self.once else "")
        return "\t".join([self.method, self.path, self.token, flags, self.body])


class Context:
    """What an endpoint's request builder may use: the cloned database, the
    agencies and their tokens, a seeded random generator, the run's length."""

    def __init__(self, conn: psycopg.Connection, manifest: dict, *, seed: int, seconds: float,
                 once_budget: int | None = None):
        self.conn = conn
        self.manifest = manifest
        self.agencies = list(manifest["tokens"])
        self.rng = random.Random(seed)
        self.seconds = seconds
        # How many single-use requests (e.g. handoffs to accept) to prepare; by default
        # more than one endpoint's run at 8 connections can use.
        self.once_budget = once_budget or int(seconds * 400)

    @property
    def member_tokens(self) -> list[str]:
        """API tokens of the committee's members (their delegates and observers)."""
        return [member["token"] for member in self.manifest.get("committee_members", {}).values()
                if member["token"]]

    def token(self, agency: str) -> str:
        return self.manifest["tokens"][agency]

    def agency_id(self, agency: str) -> int:
        return self.manifest["agencies"][agency]["id"]

    def rows(self, sql: str, params=()) -> list[tuple]:
        return self.conn.execute(sql, params).fetchall()

    def for_each_agency(self, make: Callable[[str], list[Request]]) -> list[Request]:
        requests = [request for agency in self.agencies for request in make(agency)]
        self.rng.shuffle(requests)
        return requests


def ceiling(ctx: Context) -> list[Request]:
    return ctx.for_each_agency(lambda agency: [Request("GET", "/api/v1/ping/", ctx.token(agency))])


def reference(ctx: Context) -> list[Request]:
    """The reference app's DRF view, with the same tokens (it stores their digests)."""
    return ctx.for_each_agency(lambda agency: [Request("GET", "/drf/", ctx.token(agency))])


CASE_FILTERS = ["status=open", "status=open&priority=high", "status=open&vulnerability=family_with_children",
                "status=open&border_point=chacalluta_santa_rosa", "priority=urgent"]


def case_list(ctx: Context) -> list[Request]:
    return ctx.for_each_agency(lambda agency: [
        Request("GET", f"/api/v1/cases/?{query}", ctx.token(agency)) for query in CASE_FILTERS])


def case_detail(ctx: Context) -> list[Request]:
    def make(agency):
        ids = ctx.rows("SELECT id FROM cases_case WHERE owner_agency_id = %s ORDER BY md5(id::text) LIMIT 200",
                       [ctx.agency_id(agency)])
        return [Request("GET", f"/api/v1/cases/{case_id}/", ctx.token(agency)) for (case_id,) in ids]

    return ctx.for_each_agency(make)


def case_search(ctx: Context) -> list[Request]:
    """Half by document number as typed, half by a given name and a family name."""
    def make(agency):
        people = ctx.rows(
            "SELECT p.document_number, p.given_names, p.family_names FROM cases_person p "
            "JOIN cases_casemember m ON m.person_id = p.id JOIN cases_case c ON c.id = m.case_id "
            "WHERE c.owner_agency_id = %s AND p.document_number <> '' ORDER BY md5(p.id::text) LIMIT 100",
            [ctx.agency_id(agency)])
        requests = []
        for number, (document, given, family) in enumerate(people):
            term = document if number % 2 else f"{given.split()[0]} {family.split()[0]}"
            requests.append(Request("GET", f"/api/v1/cases/?search={quote(term)}", ctx.token(agency)))
        return requests

    return ctx.for_each_agency(make)


NEW_FAMILY = json.dumps({
    "summary": "Familia varada en el complejo fronterizo; solicita orientación.",
    "priority": "high", "border_point": "chacalluta_santa_rosa", "vulnerabilities": ["family_with_children"],
    "members": [
        {"relationship": "head", "given_names": "Yusmary", "family_names": "Pérez Rojas", "sex": "female",
         "date_of_birth": "1991-04-12", "nationality": "VE", "document_type": "passport",
         "document_country": "VE", "document_number": "B@SEQ@", "phone": "+58 412 5550101"},
        {"relationship": "spouse", "given_names": "Luis Alberto", "family_names": "Rojas Silva", "sex": "male",
         "date_of_birth": "1989-09-30", "nationality": "VE", "document_type": "national_id",
         "document_country": "VE", "document_number": "S@SEQ@"},
        {"relationship": "child", "given_names": "Sofía", "family_names": "Rojas Pérez", "sex": "female",
         "date_of_birth": "2019-02-03", "nationality": "VE", "document_type": "none"},
    ],
}, ensure_ascii=False)


def case_create(ctx: Context) -> list[Request]:
    return ctx.for_each_agency(lambda agency: [
        Request("POST", "/api/v1/cases/", ctx.token(agency), body=NEW_FAMILY, unique=True)])


def handoffs_incoming(ctx: Context) -> list[Request]:
    return ctx.for_each_agency(lambda agency: [
        Request("GET", "/api/v1/handoffs/?direction=incoming&status=pending", ctx.token(agency))])


def handoffs_overdue(ctx: Context) -> list[Request]:
    """The most overdue first, as someone chasing them reads the list."""
    return ctx.for_each_agency(lambda agency: [
        Request("GET", "/api/v1/handoffs/?direction=incoming&overdue=true&ordering=response_due",
                ctx.token(agency))])


def handoff_accept(ctx: Context) -> list[Request]:
    """Each accept uses up a pending handoff: add enough of them first, on open
    cases with nothing pending, from their owner to another agency."""
    wanted = ctx.once_budget
    candidates = ctx.rows(
        "SELECT c.id, c.owner_agency_id, EXISTS (SELECT 1 FROM cases_consent k WHERE k.case_id = c.id "
        "  AND k.scope = 'share_cross_border' AND k.withdrawn_at IS NULL) "
        "FROM cases_case c WHERE c.status = 'open' "
        "AND NOT EXISTS (SELECT 1 FROM cases_handoff h WHERE h.case_id = c.id AND h.status = 'pending') "
        "ORDER BY md5(c.id::text) LIMIT %s", [wanted])
    by_id = {ctx.agency_id(agency): agency for agency in ctx.agencies}
    users = {ctx.agency_id(a): ctx.manifest["agencies"][a]["user"] for a in ctx.agencies}
    now = datetime.now(UTC)
    requests = []
    with ctx.conn.cursor() as cursor, cursor.copy(
            "COPY cases_handoff (id, kind, reason, services_requested, response_due, status, legal_basis, "
            "legal_basis_note, response_note, rejection_reason, completion_note, created_at, updated_at, case_id, "
            "from_agency_id, requested_by_id, to_agency_id) FROM STDIN") as copy:
        for number, (case_id, owner_id, consent) in enumerate(candidates):
            to_id = ctx.rng.choice([agency_id for agency_id in by_id if agency_id != owner_id])
            kind = "transfer" if number % 20 < 11 else "referral"
            handoff_id = f"{ctx.rng.getrandbits(128):032x}"
            basis, note = ("consent", "") if consent else ("cooperation_agreement", "Convenio vigente.")
            copy.write_row([handoff_id, kind, "Continuidad de la atención.",
                            "Orientación legal." if kind == "referral" else "", now.replace(year=now.year + 1),
                            "pending", basis, note, "", "", "", now, now, case_id, owner_id, users[owner_id], to_id])
            requests.append(Request("POST", f"/api/v1/handoffs/{handoff_id[:8]}-{handoff_id[8:12]}-"
                                            f"{handoff_id[12:16]}-{handoff_id[16:20]}-{handoff_id[20:]}/accept/",
                                    ctx.token(by_id[to_id]), body="{}", once=True))
    ctx.conn.commit()
    return requests


def events_feed(ctx: Context) -> list[Request]:
    """A partner system catching up on its agency's change feed: each request
    starts after an event of that agency from the last 30 days (a full page of
    100, as a client back from a pause reads it), not at the beginning."""
    def make(agency):
        positions = ctx.rows(
            "SELECT e.position FROM cases_event e JOIN cases_event_agencies a ON a.event_id = e.id "
            "WHERE a.agency_id = %s AND e.position IS NOT NULL "
            "AND e.occurred_at > (SELECT max(occurred_at) FROM cases_event) - interval '30 days' "
            "ORDER BY md5(e.id::text) LIMIT 50", [ctx.agency_id(agency)])
        return [Request("GET", f"/api/v1/events/?after=p1.{position - 1}", ctx.token(agency))
                for (position,) in positions]

    return ctx.for_each_agency(make)


def meeting_agenda(ctx: Context) -> list[Request]:
    """A committee member reading the agenda (with its decisions) of one of the
    last twenty meetings they may see: the next ones scheduled and the latest held."""
    meetings = ctx.rows("SELECT id FROM committee_meeting WHERE status IN ('scheduled', 'held', 'cancelled') "
                        "ORDER BY starts_at DESC LIMIT 20")
    requests = [Request("GET", f"/api/v1/meetings/{meeting_id}/agenda-items/", token)
                for (meeting_id,) in meetings for token in ctx.member_tokens]
    ctx.rng.shuffle(requests)
    return requests


CASE_STATISTICS = ["group_by=border_point", "group_by=vulnerability", "group_by=owner_agency&group_by=status",
                   "group_by=registered_month&group_by=border_point", "group_by=priority&status=open",
                   "group_by=nationality"]
HANDOFF_STATISTICS = ["group_by=from_country&group_by=to_country", "group_by=to_agency", "group_by=created_week",
                      "group_by=kind&group_by=status"]


def _statistics(ctx: Context, path: str, queries: list[str]) -> list[Request]:
    """Every agency (its own figures) and every committee member (all agencies'), each grouping."""
    tokens = [ctx.token(agency) for agency in ctx.agencies] + ctx.member_tokens
    requests = [Request("GET", f"{path}?{query}", token) for token in tokens for query in queries]
    ctx.rng.shuffle(requests)
    return requests


def statistics_cases(ctx: Context) -> list[Request]:
    return _statistics(ctx, "/api/v1/statistics/cases/", CASE_STATISTICS)


def statistics_handoffs(ctx: Context) -> list[Request]:
    return _statistics(ctx, "/api/v1/statistics/handoffs/", HANDOFF_STATISTICS)


@dataclass(frozen=True)
class Endpoint:
    name: str
    requests: Callable[[Context], list[Request]]
    expect: int = 200
    target: float | None = None  # the share of the reference's throughput aimed at


ENDPOINTS = [
    Endpoint("case list (page of 50, filtered)", case_list, target=0.30),
    Endpoint("case detail", case_detail, target=0.50),
    Endpoint("case search (name or document)", case_search, target=0.30),
    Endpoint("handoff list incoming pending", handoffs_incoming, target=0.40),
    Endpoint("handoff list incoming overdue", handoffs_overdue, target=0.40),
    Endpoint("case create (Idempotency-Key)", case_create, expect=201, target=0.25),
    Endpoint("handoff accept", handoff_accept, target=0.30),
    Endpoint("events feed page", events_feed, target=0.50),
    Endpoint("meeting agenda", meeting_agenda, target=0.50),
    Endpoint("statistics of cases (suppressed)", statistics_cases),
    Endpoint("statistics of handoffs (suppressed)", statistics_handoffs),
]
CEILING = Endpoint("ping: GET /api/v1/ping/", ceiling, target=0.85)
REFERENCE = Endpoint("reference: DRF view + token lookup", reference)


# --- Processes -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, database: str, *, workers: int, log: Path, options: tuple[str, ...] = (),
                 environment: dict[str, str | None] | None = None, app: str = "config.wsgi"):
        """``options`` are added to gunicorn's command line; ``environment``
        changes the server's environment (None removes a variable, so the
        settings' default applies); ``app`` is the WSGI application (the
        reference app is ``bench.ceiling_app:application``)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log.open("w")
        env = common.server_environment(database)
        for name, value in (environment or {}).items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        self.process = subprocess.Popen(
            [str(common.ROOT / ".venv" / "bin" / "gunicorn"), app, "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), "--timeout", "30", "--log-level", "warning", *options],
            cwd=common.ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def wait_ready(self, timeout: float = 60, *, path: str = "/healthz") -> None:
        """Until ``path`` answers ``{"status": "ok"}`` (Puente's health check) or ``{"ok": true}``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{self.url}{path}", timeout=5) as response:
                    answer = json.load(response)
                    if answer.get("status") == "ok" or answer.get("ok") is True:
                        return
            except OSError:
                time.sleep(0.3)
        raise SystemExit("gunicorn did not become healthy in time")

    def pids(self) -> list[int]:
        return [self.process.pid, *children(self.process.pid)]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_ticks(pids) -> dict[int, int]:
    """utime + stime of each process still alive."""
    ticks = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks[pid] = int(fields[11]) + int(fields[12])
    return ticks


def ticks_used(before: dict[int, int], after: dict[int, int]) -> int:
    # A process that ended in between is left out (its time is lost to /proc).
    return sum(after[pid] - before[pid] for pid in before.keys() & after.keys())


def machine_busy_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def database_backends(database: str) -> list[int]:
    with common.admin_connection() as conn:
        return [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'",
            [database]).fetchall()]


# --- The run -------------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    requests: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0
    statuses: dict = field(default_factory=dict)
    cpu: dict = field(default_factory=dict)
    load_before: str = ""
    target: float | None = None
    ceiling_rps: float = 0.0  # ping, measured right after this endpoint
    reference_rps: float = 0.0  # the reference app, measured right after this endpoint

    @property
    def ratio(self) -> float:
        """To ping."""
        return self.rps / self.ceiling_rps if self.ceiling_rps else 0.0

    @property
    def reference_ratio(self) -> float:
        return self.rps / self.reference_rps if self.reference_rps else 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_command(url: str, requests_file: Path, *, seconds: float, connections: int, threads: int, skip: int,
                run_id: str, timeout: float = 10) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "BENCH_REQUESTS": str(requests_file), "BENCH_THREADS": str(threads),
           "BENCH_SKIP": str(skip), "BENCH_RUN_ID": run_id}
    return (["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", f"{timeout:g}s",
             "-s", str(LUA), url], env)


def wrk_result(stdout: str, stderr: str = "") -> dict:
    for line in stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line.removeprefix("BENCH_RESULT "))
    raise SystemExit(f"wrk gave no result:\n{stdout}\n{stderr}")


def run_wrk(url: str, requests_file: Path, *, seconds: float, connections: int, threads: int, skip: int,
            run_id: str) -> dict:
    command, env = wrk_command(url, requests_file, seconds=seconds, connections=connections, threads=threads,
                               skip=skip, run_id=run_id)
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
    return wrk_result(result.stdout, result.stderr)


def measure(endpoint: Endpoint, requests_file: Path, server: Gunicorn, database: str, args, run_id: str, *,
            warmup: bool = True, seconds: float | None = None) -> Result:
    consumable = "o" in requests_file.read_text().split("\n", 1)[0].split("\t")[3]
    skip = 0
    if warmup:
        warm = run_wrk(server.url, requests_file, seconds=args.warmup, connections=args.connections,
                       threads=args.threads, skip=0, run_id=f"{run_id}w")
        # Requests still in flight when the warm-up stopped were answered too: skip past them.
        skip = warm["requests"] + args.connections + 10 if consumable else 0
    seconds = seconds or args.duration
    backends = database_backends(database)
    app_pids = server.pids()
    load_before = common.load_average()
    before = (cpu_ticks(app_pids), cpu_ticks(backends), machine_busy_ticks())
    wrk_before = wrk_children_ticks()
    started = time.monotonic()
    raw = run_wrk(server.url, requests_file, seconds=seconds, connections=args.connections,
                  threads=args.threads, skip=skip, run_id=run_id)
    wall = time.monotonic() - started
    busy_after = machine_busy_ticks()
    app, db = ticks_used(before[0], cpu_ticks(app_pids)), ticks_used(before[1], cpu_ticks(backends))
    busy, total = busy_after[0] - before[2][0], busy_after[1] - before[2][1]
    capacity = wall * CLOCK_TICKS * CPUS
    # wrk's CPU time is added to this process's children's times when it exits.
    wrk_ticks = wrk_children_ticks() - wrk_before
    statuses = {int(k): v for k, v in raw["statuses"].items()}
    errors = raw["socket_errors"] + raw["timeouts"] + sum(v for k, v in statuses.items() if k != endpoint.expect)
    return Result(
        name=endpoint.name, requests=raw["requests"], seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000, p95_ms=raw["p95_us"] / 1000, p99_ms=raw["p99_us"] / 1000, errors=errors,
        statuses=statuses, load_before=load_before, target=endpoint.target,
        cpu={"app": 100 * app / capacity, "db": 100 * db / capacity, "wrk": 100 * wrk_ticks / capacity,
             "machine": 100 * busy / total if total else 0.0,
             # What one request cost, whatever share of the machine the server got.
             "ms_per_request": 1000 * (app + db) / CLOCK_TICKS / raw["requests"] if raw["requests"] else 0.0})


def wrk_children_ticks() -> int:
    usage = os.times()
    return int((usage.children_user + usage.children_system) * CLOCK_TICKS)


def ensure_dataset(cases: int, seed: int) -> tuple[str, dict]:
    database = f"{common.DB_PREFIX}_{common.scale_label(cases)}"
    manifest = common.read_manifest(database)
    if manifest is None or (manifest["seed"], manifest["cases"], manifest.get("schema")) != (
            seed, cases, common.schema_fingerprint()):
        subprocess.run([sys.executable, "-m", "bench.generate", "--cases", str(cases), "--seed", str(seed),
                        "--database", database], cwd=common.ROOT, check=True)
        manifest = common.read_manifest(database)
    return database, manifest


def run(args) -> Path:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install wrk` (Debian), or run `make bench`")
    selected = [endpoint for endpoint in ENDPOINTS
                if not args.only or any(text.lower() in endpoint.name.lower() for text in args.only)]
    yardstick_only = any(text.lower() in yardstick.name.lower() for text in args.only
                         for yardstick in (CEILING, REFERENCE))
    if not selected and not yardstick_only:
        raise SystemExit(f"--only matches no endpoint: {', '.join(endpoint.name for endpoint in ENDPOINTS)}")
    dataset, manifest = ensure_dataset(args.cases, args.seed)
    label = common.scale_label(args.cases)
    clone = f"{common.DB_PREFIX}_run"
    reference_db = f"{common.DB_PREFIX}_ceiling"
    work = common.OUT_DIR / "run"
    work.mkdir(parents=True, exist_ok=True)
    print(f"cloning {dataset} into {clone}", flush=True)
    common.create_database(clone, template=dataset)
    common.create_database(reference_db)
    server = reference_server = None
    try:
        reference_env = {"CEILING_DATABASE_URL": common.database_url(reference_db)}
        subprocess.run([sys.executable, "-m", "bench.ceiling_app", *manifest["tokens"].values()],
                       cwd=common.ROOT, env={**os.environ, **reference_env}, check=True)
        files = {}
        with psycopg.connect(common.database_url(clone)) as conn:
            ctx = Context(conn, manifest, seed=args.seed, seconds=args.duration + args.warmup)
            for endpoint in [CEILING, REFERENCE, *selected]:
                requests = endpoint.requests(ctx)
                path = work / f"{slug(endpoint.name)}.tsv"
                path.write_text("\n".join(request.line() for request in requests) + "\n")
                files[endpoint.name] = path
        with psycopg.connect(common.database_url(clone), autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE) cases_handoff")
        server = Gunicorn(clone, workers=args.workers, log=work / "gunicorn.log")
        reference_server = Gunicorn(reference_db, workers=args.workers, log=work / "gunicorn-reference.log",
                                    app="bench.ceiling_app:application", environment=reference_env)
        server.wait_ready()
        reference_server.wait_ready(path="/django/")
        started_at = datetime.now(UTC)

        def yardsticks(run_id: str, **kwargs) -> tuple[Result, Result]:
            return (measure(CEILING, files[CEILING.name], server, clone, args, run_id=f"c{run_id}", **kwargs),
                    measure(REFERENCE, files[REFERENCE.name], reference_server, reference_db, args,
                            run_id=f"f{run_id}", **kwargs))

        # Both yardsticks over the full duration first; then each endpoint
        # followed by a short run of each, so its ratios compare like with
        # like even when other work on the machine comes and goes.
        ping, ref = yardsticks("0")
        for result in (ping, ref):
            result.ceiling_rps, result.reference_rps = ping.rps, ref.rps
        results = [ref, ping]
        print(f"  {REFERENCE.name}: {ref.rps:.0f} req/s; {CEILING.name}: {ping.rps:.0f} req/s "
              f"({ping.reference_ratio:.2f})", flush=True)
        for number, endpoint in enumerate(selected, start=1):
            result = measure(endpoint, files[endpoint.name], server, clone, args, run_id=f"r{number}")
            ping, ref = yardsticks(str(number), warmup=False, seconds=args.ceiling_slice)
            result.ceiling_rps, result.reference_rps = ping.rps, ref.rps
            results.append(result)
            print(f"  {result.name}: {result.rps:.0f} req/s ({result.reference_ratio:.2f} of the reference's "
                  f"{result.reference_rps:.0f}, {result.ratio:.2f} of ping's {result.ceiling_rps:.0f}), "
                  f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, errors {result.errors}", flush=True)
    finally:
        for running in (server, reference_server):
            if running is not None:
                running.stop()
        common.drop_database(clone)
        common.drop_database(reference_db)
    return report(results, manifest=manifest, label=label, args=args, started_at=started_at)


def slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")[:60]


# --- The report ----------------------------------------------------------------------------------------


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    memory_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                         if line.startswith("MemTotal")))
    with common.admin_connection() as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
    return {"cpus": CPUS, "cpu_model": model, "memory_gib": round(memory_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "postgresql": postgres, "kernel": platform.release()}


def report(results: list[Result], *, manifest: dict, label: str, args, started_at: datetime) -> Path:
    reference, ceiling = results[0], results[1]
    info = machine()
    lines = [
        f"## {label} cases — {started_at:%Y-%m-%d %H:%M} UTC",
        "",
        (f"Machine: {info['cpus']} CPUs ({info['cpu_model']}), {info['memory_gib']} GiB; PostgreSQL "
         f"{info['postgresql']}, Python {info['python']}. Dataset `{manifest['database']}`: "
         + ", ".join(f"{k} {v:,}" for k, v in manifest["rows"].items())
         + f" (seed {manifest['seed']}, generated in {manifest['seconds']} s)."),
        "",
        (f"gunicorn {args.workers} sync workers, production settings; wrk {args.threads} thread, "
         f"{args.connections} connections; per endpoint {args.warmup} s warm-up, {args.duration} s measured, "
         f"then ping and the reference for {args.ceiling_slice} s each: the ratios divide by those adjacent "
         f"figures. Reference: `bench/ceiling_app.py` (a DRF view behind one SHA-256 token lookup, same "
         f"PostgreSQL server, same gunicorn command). Errors: any answer other than the expected status, "
         f"and socket errors or timeouts."),
        "",
        ("| endpoint | req/s | p50 ms | p95 ms | p99 ms | errors | adjacent reference / ping req/s "
         "| ratio to reference | goal | ratio to ping | CPU app/db/wrk/machine % | CPU ms per request "
         "| load avg before |"),
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- | ---: | --- |",
    ]
    for result in results:
        target = ""
        if result.target:
            target = f"≥ {result.target:.2f} {'met' if result.reference_ratio >= result.target else 'not met'}"
        cpu = "/".join(f"{result.cpu[k]:.0f}" for k in ("app", "db", "wrk", "machine"))
        lines.append(f"| {result.name} | {result.rps:.0f} | {result.p50_ms:.1f} | {result.p95_ms:.1f} | "
                     f"{result.p99_ms:.1f} | {result.errors} | {result.reference_rps:.0f} / {result.ceiling_rps:.0f} "
                     f"| {result.reference_ratio:.2f} | {target} | {result.ratio:.2f} | {cpu} | "
                     f"{result.cpu.get('ms_per_request', 0):.1f} | {result.load_before} |")
    lines += ["", ("CPU columns: share of the machine's total CPU capacity during the measured window used by "
                   "gunicorn (app; the reference's own gunicorn on its row), the PostgreSQL backends serving it "
                   "(db), wrk, and by every process "
                   "(machine, including other work on this host). CPU ms per request: the CPU time of app and db "
                   "in the window divided by the requests answered — what a request costs, however little of "
                   "the machine the server got."), ""]
    text = "\n".join(lines)
    common.OUT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = started_at.strftime("%Y%m%d-%H%M%S")
    path = common.OUT_DIR / f"{stamp}-{label}.md"
    path.write_text(text)
    (common.OUT_DIR / f"latest-{label}.md").write_text(text)
    (common.OUT_DIR / f"{stamp}-{label}.json").write_text(json.dumps({
        "label": label, "started_at": started_at.isoformat(), "machine": info, "dataset": {
            k: v for k, v in manifest.items() if k not in ("tokens", "agencies")},
        "args": vars(args), "ceiling_rps": ceiling.rps, "reference_rps": reference.rps,
        "results": [{**vars(r), "rps": r.rps, "ratio": r.ratio, "reference_ratio": r.reference_ratio}
                    for r in results]}, indent=2))
    print(text, flush=True)
    return path


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duration", type=int, default=20, help="measured seconds per endpoint")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured seconds before each endpoint")
    parser.add_argument("--ceiling-slice", type=int, default=5,
                        help="seconds of ping, then of the reference, measured after each endpoint")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (README: 4)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent wrk connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--only", action="append", default=[], metavar="TEXT",
                        help="measure only the endpoints whose name contains TEXT (repeatable); "
                             "ping and the reference always (`--only ping`: only those two)")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    run(parse_args(argv))


if __name__ == "__main__":
    main()
