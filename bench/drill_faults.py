"""Fault drills against the real processes: gunicorn (production settings), a
Celery worker with beat on the Redis broker, PostgreSQL, an SMTP server and a
webhook receiver, all on loopback.

    .venv/bin/python -m bench.drill_faults crash [--seconds 36] [--clients 3]
    .venv/bin/python -m bench.drill_faults abuse [--seconds 20] [--hammers 12] [--rate 120]

PostgreSQL is a throwaway cluster made for the run (``initdb`` into a
temporary directory, on a free loopback port, as the ``postgres`` user when
run as root) and removed at the end, so it can be crashed and restarted
without touching the shared server. Redis is ``BENCH_REDIS_URL`` (its
database is emptied before and after).

``crash``: clients write cases and handoffs through gunicorn, each with an
``Idempotency-Key`` and retrying with it on a 5xx or a broken connection, as
the API documentation asks partners to; every handoff makes a reminder due at
once and every event a webhook delivery to two endpoints. During the load the
worker is killed with SIGKILL while it holds claims, and PostgreSQL is
crashed (``pg_ctl stop -m immediate``) and started again. Once everything is
quiet the drill checks: every write answered 2xx is in the database, no
write exists twice, every reminder is sent and reached the SMTP server once,
every (endpoint, event) has one delivery recorded as succeeded and reached
the receiver (at least once: the contract is at-least-once with
``webhook-id``, see docs/reliability.md).

``abuse``: one token hammers the API over many connections while another
token's latency is measured, before and during; then a 10 MiB body is sent
with and without ``Content-Length``, and the time until the 413 is measured.

Writes a markdown report to ``var/drills/`` and prints it; exits 1 when a
check of the crash drill fails."""
import argparse
import collections
import contextlib
import http.client
import json
import os
import pwd
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("PUENTE_DRILL_PG_BIN", "/usr/lib/postgresql/15/bin"))
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
SECRET_KEY = "drill-only-local-secret-key-not-for-any-deployment-0123456789"
PE, CL = "pe-migraciones", "cl-sermig"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


# --- A throwaway PostgreSQL ------------------------------------------------------------


class Cluster:
    """A PostgreSQL cluster of its own in a temporary directory."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="puente-drill-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.logfile = self.root / "postgres.log"
        self.as_root = os.geteuid() == 0
        if self.as_root:  # PostgreSQL refuses to run as root
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        command = [str(PG_BIN / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C",
                  "--no-sync")
        self.start()
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE puente")

    def start(self) -> None:
        # fsync off: the drill crashes the server process, not the machine; a
        # committed transaction is in the WAL the restarted server replays.
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
                   "-c fsync=off -c max_connections=60")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "60", "-o", options, "start")

    def crash(self) -> None:
        """Stop without a checkpoint or a goodbye to clients: what a crash looks like to everyone else."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


# --- The receivers -------------------------------------------------------------------------


class WebhookReceiver:
    """Counts the POSTs it receives by ``webhook-id``; answers 200 after ``delay`` seconds."""

    def __init__(self, delay: float):
        self.seen: collections.Counter = collections.Counter()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(delay)  # widen the window in which a worker can die mid-send
                with receiver.lock:
                    receiver.seen[self.headers.get("webhook-id")] += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


# --- The processes ----------------------------------------------------------------------------


class Process:
    def __init__(self, command: list[str], env: dict, logfile: Path):
        self.logfile = logfile
        self.out = logfile.open("w")
        self.popen = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.out, stderr=subprocess.STDOUT,
                                      start_new_session=True)

    def kill(self) -> None:
        """SIGKILL to the whole process group: no warm shutdown, nothing acknowledged."""
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        self.out.close()


def worker_env(cluster: Cluster, smtp_port: int, beat_file: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "EMAIL_", "PUENTE_", "DJANGO_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "bench.drill_settings",
        "DATABASE_URL": cluster.url("puente"),
        "REDIS_URL": REDIS_URL,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "EMAIL_TIMEOUT": "5",
        "PUBLIC_BASE_URL": "https://puente.example.org",
        "DJANGO_LOG_LEVEL": "WARNING",
        "PUENTE_DRILL_BEAT_FILE": str(beat_file),
        # Short, in production's proportions: the claim outlives the send's hard time limit.
        "PUENTE_REMINDER_SWEEP_SECONDS": "2",
        "PUENTE_WEBHOOK_DISPATCH_SECONDS": "1",
        "PUENTE_REMINDER_RETRY_BASE_SECONDS": "1",
        "PUENTE_REMINDER_SEND_SOFT_TIME_LIMIT": "3",
        "PUENTE_REMINDER_SEND_TIME_LIMIT": "4",
        "PUENTE_REMINDER_CLAIM_SECONDS": "5",
        "PUENTE_REMINDER_REQUEUE_AFTER_SECONDS": "3",
    })
    return env


def start_worker(env: dict, logdir: Path, number: int) -> Process:
    return Process([sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "--concurrency=3",
                    "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
                    "-n", f"drill-{number}@%h", "-s", env["PUENTE_DRILL_BEAT_FILE"]],
                   env, logdir / f"worker-{number}.log")


def start_gunicorn(cluster: Cluster, logdir: Path, *, rate: str, workers: int = 2) -> tuple[Process, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PUENTE_", "DJANGO_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": cluster.url("puente"),
        "REDIS_URL": REDIS_URL,
        "DJANGO_LOG_LEVEL": "ERROR",
        "PUENTE_THROTTLE_RATE": rate,
    })
    port = free_port()
    process = Process([str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}",
                       "--workers", str(workers), "--timeout", "30", "--log-level", "warning"],
                      env, logdir / "gunicorn.log")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, _, _ = call("127.0.0.1", port, "GET", "/healthz", None, {})
            if status == 200:
                return process, f"127.0.0.1:{port}"
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not start; see {process.logfile}")


def call(host, port, method, path, body, headers, timeout=30.0):
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        connection.request(method, path, body=data, headers={"Content-Type": "application/json", **headers})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


# --- Django in this process: seeding and checking ---------------------------------------------


def django_setup(cluster: Cluster, smtp_port: int) -> None:
    os.environ.update(worker_env(cluster, smtp_port, Path("/dev/null")))
    import django

    django.setup()


def migrate_and_seed(receiver: WebhookReceiver) -> dict:
    from django.core.management import call_command

    from api_core.services import token_issue
    from cases.demo.accounts import seed_accounts
    from cases.roles import Role
    from cases.services import user_upsert
    from integrations.services import endpoint_create

    call_command("migrate", verbosity=0)
    seed_accounts()
    tokens = {}
    for code in (PE, CL, "pe-upe-tacna"):
        user, _ = user_upsert(username=f"drill.{code}", email=f"drill@{code}.example", agency_code=code,
                              role=Role.CASEWORKER, language="es")
        tokens[code] = token_issue(user=user, name="drill")[1]
        if code in (PE, CL):
            endpoint_create(user=user, url=f"{receiver.url}/{code}")
    return tokens


# --- The crash drill --------------------------------------------------------------------------


class Client(threading.Thread):
    """Writes cases and handoffs until told to stop, each with an Idempotency-Key,
    retrying with the same key on a 5xx, a 409 in progress or a broken connection."""

    RETRY_FOR = 60.0

    def __init__(self, number: int, address: str, tokens: dict, stop: threading.Event, pause: float):
        super().__init__(daemon=True)
        self.number, self.stop, self.pause = number, stop, pause
        self.host, port = address.split(":")
        self.port = int(port)
        self.tokens = tokens
        self.cases: dict[str, str] = {}      # key → id, for every 2xx
        self.handoffs: dict[str, str] = {}   # key → id, for every 2xx
        self.unanswered: list[str] = []      # keys given up on without a 2xx
        self.statuses: collections.Counter = collections.Counter()

    def write(self, path: str, body: dict, key: str, token: str) -> str | None:
        started = time.monotonic()
        while time.monotonic() - started < self.RETRY_FOR:
            try:
                status, _, content = call(self.host, self.port, "POST", path, body,
                                          {"Authorization": f"Bearer {token}", "Idempotency-Key": key})
            except OSError as exc:
                self.statuses[exc.__class__.__name__] += 1
                time.sleep(0.5)
                continue
            self.statuses[status] += 1
            if 200 <= status < 300:
                return json.loads(content)["id"]
            if status >= 500 or status == 409:
                time.sleep(0.5)
                continue
            raise SystemExit(f"{path} answered {status}: {content[:300]!r}")
        self.unanswered.append(key)
        return None

    def run(self):
        number = 0
        while not self.stop.is_set():
            number += 1
            key = f"drill-{self.number}-{number}"
            case_id = self.write("/api/v1/cases/", {
                "summary": f"Familia varada en Chacalluta ({key}).",
                "members": [{"relationship": "head", "given_names": "Yusmary", "family_names": "Pérez",
                             "document_type": "passport", "document_country": "VE",
                             "document_number": f"P{uuid.uuid4().hex[:10]}"},
                            {"relationship": "child", "given_names": "Sofía", "family_names": "Pérez"}],
            }, key, self.tokens[PE])
            if case_id is None:
                continue
            self.cases[key] = case_id
            # Due in 23 h: the "24 h before" reminder to the receiving agency is due at once.
            due = (datetime.now(UTC) + timedelta(hours=23)).isoformat()
            handoff_id = self.write("/api/v1/handoffs/", {
                "case": case_id, "to_agency": CL, "kind": "transfer", "reason": f"Continúa en Arica ({key}).",
                "legal_basis": "vital_interest", "legal_basis_note": "Menor con necesidad médica urgente.",
                "response_due": due,
            }, f"{key}-h", self.tokens[PE])
            if handoff_id is not None:
                self.handoffs[key] = handoff_id
            time.sleep(self.pause)


def in_flight() -> dict:
    from django.db import connection

    from integrations.models import DeliveryStatus, WebhookDelivery
    from reminders.models import Reminder, ReminderStatus

    connection.close()
    return {"reminders": Reminder.objects.filter(status=ReminderStatus.SENDING).count(),
            "webhooks": WebhookDelivery.objects.filter(status=DeliveryStatus.SENDING).count()}


def quiet(handoff_ids: list[str]) -> tuple[bool, str]:
    """Everything owed is done: a reminder per handoff, nothing waiting or claimed,
    every event numbered and delivered to both endpoints."""
    from django.db import connection

    from integrations.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
    from outbox.models import Event
    from reminders.models import Reminder, ReminderStatus

    connection.close()
    targets = [uuid.UUID(pk).hex for pk in handoff_ids]  # reminders.sources.target_key
    reminders = Reminder.objects.filter(deadline_kind="handoff_response_due", target_id__in=targets).count()
    open_reminders = Reminder.objects.filter(status__in=[ReminderStatus.PENDING, ReminderStatus.SENDING]).count()
    owed = sum(Event.objects.filter(agencies=endpoint.agency_id).count()
               for endpoint in WebhookEndpoint.objects.all())
    deliveries = WebhookDelivery.objects.filter(event__isnull=False)
    open_deliveries = deliveries.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]).count()
    state = (f"reminders {reminders}/{len(handoff_ids)} written, {open_reminders} open; "
             f"deliveries {deliveries.count()}/{owed} written, {open_deliveries} open")
    return (reminders >= len(handoff_ids) and not open_reminders and deliveries.count() == owed
            and not open_deliveries), state


def crash_checks(clients: list[Client], mailbox, receiver: WebhookReceiver) -> list[tuple[str, bool, str]]:
    from django.db import connection
    from django.db.models import Count

    from cases.models import Case, Handoff
    from integrations.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
    from outbox.models import Event
    from reminders.models import Reminder, ReminderStatus

    connection.close()
    cases = {case_id for client in clients for case_id in client.cases.values()}
    handoffs = {handoff_id for client in clients for handoff_id in client.handoffs.values()}
    checks = []

    found = {str(pk) for pk in Case.objects.filter(pk__in=cases).values_list("pk", flat=True)}
    checks.append(("every case answered 2xx is in the database", found == cases, f"{len(found)}/{len(cases)}"))
    found = {str(pk) for pk in Handoff.objects.filter(pk__in=handoffs).values_list("pk", flat=True)}
    checks.append(("every handoff answered 2xx is in the database", found == handoffs,
                   f"{len(found)}/{len(handoffs)}"))
    summaries = Case.objects.values("summary").annotate(n=Count("id")).filter(n__gt=1)
    checks.append(("no case written twice for one Idempotency-Key", not summaries.exists(),
                   f"{summaries.count()} duplicated; {Case.objects.count()} cases in all"))
    pending_twice = Handoff.objects.values("case").annotate(n=Count("id")).filter(n__gt=1)
    checks.append(("no handoff written twice", not pending_twice.exists(), f"{pending_twice.count()} duplicated"))

    reminders = list(Reminder.objects.filter(deadline_kind="handoff_response_due")
                     .values_list("pk", "status", "target_id", "attempts"))
    by_message = collections.Counter(message["Message-ID"] for message in mailbox.messages)
    sent = [pk for pk, status, _, _ in reminders if status == ReminderStatus.SENT]
    per_handoff = collections.Counter(target for _, _, target, _ in reminders)
    targets = {uuid.UUID(pk).hex for pk in handoffs}
    checks.append(("one reminder row per handoff", set(per_handoff) == targets and set(per_handoff.values()) == {1},
                   f"{len(per_handoff)} handoffs with reminders, {len(reminders)} rows"))
    checks.append(("every reminder recorded as sent", len(sent) == len(reminders), f"{len(sent)}/{len(reminders)}"))
    counts = collections.Counter(by_message.get(f"<reminder-{pk}@puente.example.org>", 0) for pk, *_ in reminders)
    checks.append(("every reminder reached the SMTP server exactly once", set(counts) == {1},
                   f"messages per reminder: {dict(sorted(counts.items()))}; "
                   f"retried rows: {sum(1 for *_, attempts in reminders if attempts > 1)}"))

    deliveries = list(WebhookDelivery.objects.filter(event__isnull=False)
                      .values_list("endpoint_id", "event_id", "status", "message_id"))
    owed = {(endpoint.pk, event_id) for endpoint in WebhookEndpoint.objects.all()
            for event_id in Event.objects.filter(agencies=endpoint.agency_id).values_list("pk", flat=True)}
    succeeded = {(e, v) for e, v, status, _ in deliveries if status == DeliveryStatus.SUCCEEDED}
    checks.append(("one delivery per (endpoint, event), recorded as succeeded",
                   succeeded == owed and len(deliveries) == len(owed),
                   f"{len(succeeded)} succeeded of {len(owed)} owed, {len(deliveries)} rows"))
    # Each endpoint has its own URL; the receiver counts by webhook-id, which is per event.
    received = collections.Counter()
    for _, _, _, message_id in deliveries:
        received[message_id] += 1
    seen = collections.Counter({mid: receiver.seen.get(mid, 0) for mid in received})
    missing = [mid for mid, n in received.items() if seen[mid] < n]
    extra = sum(seen[mid] - n for mid, n in received.items() if seen[mid] > n)
    lost_attempts = WebhookAttempt.objects.filter(error__startswith="no result").count()
    checks.append(("every delivery reached the receiver (at least once, webhook-id to dedupe)", not missing,
                   f"{len(missing)} missing; {extra} repeated receptions; "
                   f"{lost_attempts} attempts cut by the killed worker"))
    unanswered = [key for client in clients for key in client.unanswered]
    committed = sum(Case.objects.filter(summary__contains=f"({key})").count()
                    + Handoff.objects.filter(reason__contains=f"({key.removesuffix('-h')})").count()
                    for key in unanswered)
    checks.append(("writes given up without a 2xx (409 for the life of an abandoned Idempotency-Key claim)",
                   True, f"{len(unanswered)} given up, of which {committed} committed"))
    return checks


def starved_sweeps(workdir: Path) -> collections.Counter:
    """Periodic tasks that expired on the queue before a worker took them."""
    counter = collections.Counter()
    for path in workdir.glob("worker-*.log"):
        for line in path.read_text(errors="replace").splitlines():
            if "Discarding revoked task" in line:
                counter[line.rsplit(": ", 1)[-1].split("[")[0]] += 1
    return counter


def run_crash(args, workdir: Path) -> bool:
    from tests.reminders.smtp import smtp_server

    cluster = Cluster()
    processes: list[Process] = []
    receiver = WebhookReceiver(delay=0.2)
    timeline = []
    started = time.monotonic()

    def mark(what):
        timeline.append((time.monotonic() - started, what))
        log(what)

    try:
        with smtp_server() as (mailbox, smtp_port):
            mailbox.delay = 0.2  # each message takes a while: a killed worker is caught mid-send
            cluster.init()
            log(f"PostgreSQL cluster on 127.0.0.1:{cluster.port}")
            django_setup(cluster, smtp_port)
            tokens = migrate_and_seed(receiver)
            log("migrated and seeded")
            env = worker_env(cluster, smtp_port, workdir / "celerybeat-schedule")
            first = start_worker(env, workdir, 1)
            processes.append(first)
            gunicorn, address = start_gunicorn(cluster, workdir, rate="10000000/minute")
            processes.append(gunicorn)
            started = time.monotonic()
            mark("load starts")
            stop = threading.Event()
            clients = [Client(number, address, tokens, stop, args.pause) for number in range(args.clients)]
            for client in clients:
                client.start()

            time.sleep(args.seconds * 0.2)
            flight = {}
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                flight = in_flight()
                if flight["reminders"] and flight["webhooks"]:
                    break
                time.sleep(0.05)
            first.kill()
            mark(f"worker 1 killed (SIGKILL) holding claims: {flight}")
            time.sleep(args.seconds * 0.1)
            processes.append(start_worker(env, workdir, 2))
            mark("worker 2 started")
            time.sleep(args.seconds * 0.15)
            down = time.monotonic()
            cluster.crash()
            mark("PostgreSQL crashed (immediate stop)")
            time.sleep(2)
            cluster.start()
            mark(f"PostgreSQL started again after {time.monotonic() - down:.1f} s")
            time.sleep(max(0.0, args.seconds - (time.monotonic() - started)))
            stop.set()
            for client in clients:
                client.join(Client.RETRY_FOR + 5)
            mark("load stops")

            handoffs = [h for client in clients for h in client.handoffs.values()]
            deadline = time.monotonic() + args.quiesce
            done, state = quiet(handoffs)
            while not done and time.monotonic() < deadline:
                time.sleep(2)
                done, state = quiet(handoffs)
            mark(f"{'quiet' if done else 'NOT quiet'}: {state}")
            time.sleep(2)  # a duplicate would show up now
            checks = crash_checks(clients, mailbox, receiver)
    finally:
        for process in reversed(processes):
            process.stop()
        receiver.stop()
        cluster.destroy()
        flush_redis()

    statuses = sum((client.statuses for client in clients), collections.Counter())
    lines = [
        f"# Crash drill, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"{args.clients} clients for {args.seconds:.0f} s; gunicorn 2 workers (production settings); one Celery "
        "worker (concurrency 3, beat embedded); SMTP server and webhook receiver answering after 0.2 s; "
        f"load average {os.getloadavg()[0]:.1f}.",
        "",
        "| t (s) | event |", "| --- | --- |",
        *[f"| {at:.1f} | {what} |" for at, what in timeline],
        "",
        f"Answers seen by the clients: {dict(sorted(statuses.items(), key=str))}; writes given up without a 2xx: "
        f"{sum(len(client.unanswered) for client in clients)}. Periodic tasks that expired waiting on the "
        f"queue: {dict(starved_sweeps(workdir))}.",
        "",
        "| check | result | figures |", "| --- | --- | --- |",
        *[f"| {name} | {'ok' if ok else '**FAILED**'} | {detail} |" for name, ok, detail in checks],
    ]
    report(workdir, "crash", lines)
    return all(ok for _, ok, _ in checks)


# --- The abuse drill ----------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def timed(host, port, path, token):
    begun = time.perf_counter()
    status, _, _ = call(host, port, "GET", path, None, {"Authorization": f"Bearer {token}"})
    return status, (time.perf_counter() - begun) * 1000


def oversized(host: str, port: int, token: str, *, chunked: bool) -> tuple[int, float, int]:
    """POST 10 MiB; returns (status, ms until the status line, bytes sent before it)."""
    size = 10 * 1024 * 1024
    piece = b"x" * 65536
    head = (f"POST /api/v1/cases/ HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\n"
            + ("Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {size}\r\n") + "\r\n").encode()
    sock = socket.create_connection((host, port), timeout=30)
    begun = time.perf_counter()
    sent = 0
    try:
        sock.sendall(head)
        while sent < size:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            data = (b"%x\r\n" % len(piece) + piece + b"\r\n") if chunked else piece
            try:
                sock.sendall(data)
            except OSError:  # the server answered and closed
                break
            sent += len(piece)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        answer = b""
        while b"\r\n" not in answer:
            part = sock.recv(4096)
            if not part:
                break
            answer += part
        elapsed = (time.perf_counter() - begun) * 1000
        return int(answer.split()[1]) if answer else 0, elapsed, sent
    finally:
        sock.close()


def in_process_costs(token: str, path: str) -> dict[int, list[float]]:
    """The time Django takes to answer 200 and to answer 429, in this process,
    without the network, the queueing or the load generator."""
    from django.test import Client

    from api_core.throttling import TokenRateThrottle

    TokenRateThrottle.THROTTLE_RATES = {"token": "60/minute"}
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
    served = collections.defaultdict(list)
    for _ in range(260):
        begun = time.perf_counter()
        status = client.get(path).status_code
        served[status].append((time.perf_counter() - begun) * 1000)
    return served


def run_abuse(args, workdir: Path) -> bool:
    cluster = Cluster()
    processes = []
    receiver = WebhookReceiver(delay=0)
    try:
        cluster.init()
        django_setup(cluster, free_port())
        tokens = migrate_and_seed(receiver)
        rate = args.rate
        gunicorn, address = start_gunicorn(cluster, workdir, rate=f"{rate}/minute", workers=3)
        processes.append(gunicorn)
        host, port = address.split(":")
        port = int(port)
        victim, hammer = tokens[CL], tokens[PE]
        path = "/api/v1/cases/?page_size=10"

        def victim_phase(seconds: float) -> list[float]:
            latencies, end = [], time.monotonic() + seconds
            while time.monotonic() < end:
                try:
                    status, ms = timed(host, port, path, victim)
                except OSError as exc:
                    status, ms = exc.__class__.__name__, None
                if status != 200:
                    victim_errors[status] += 1
                else:
                    latencies.append(ms)
                time.sleep(pace)
            return latencies

        victim_errors = collections.Counter()
        pace = 90 / rate  # the victim stays well within its own limit over the whole drill
        for _ in range(5):
            timed(host, port, path, victim)
        before = victim_phase(args.seconds)
        stop = threading.Event()
        results = []
        lock = threading.Lock()

        def hammering():
            mine = []
            while not stop.is_set():
                try:
                    mine.append((*timed(host, port, path, hammer), time.monotonic()))
                except OSError as exc:
                    mine.append((exc.__class__.__name__, None, time.monotonic()))
            with lock:
                results.extend(mine)

        threads = [threading.Thread(target=hammering) for _ in range(args.hammers)]
        hammer_started = time.monotonic()
        for thread in threads:
            thread.start()
        during = victim_phase(args.seconds)
        stop.set()
        for thread in threads:
            thread.join()
        hammer_seconds = time.monotonic() - hammer_started
        admitted_first_minute = sum(1 for status, _, at in results if status == 200 and at - hammer_started < 60)
        by_status = collections.Counter(status for status, _, _ in results)
        ok_ms = [ms for status, ms, _ in results if status == 200]
        refused_ms = [ms for status, ms, _ in results if status == 429]
        status, headers, content = call(host, port, "GET", path, None, {"Authorization": f"Bearer {hammer}"})
        problem = json.loads(content) if status == 429 else {}
        bodies = [oversized(host, port, hammer, chunked=chunked) for chunked in (False, True)]
        served = in_process_costs(tokens["pe-upe-tacna"], path)
    finally:
        for process in processes:
            process.stop()
        receiver.stop()
        cluster.destroy()
        flush_redis()

    lines = [
        f"# Abuse drill, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"gunicorn 3 workers (production settings), rate limit {rate}/minute per token; `GET {path}`; "
        f"the victim token sends one request every {pace * 1000:.0f} ms, "
        f"{args.hammers} threads hammer with the other token "
        f"for {hammer_seconds:.0f} s; clients in Python on the same 2 cores; load average "
        f"{os.getloadavg()[0]:.1f}.",
        "",
        "| victim token | requests | p50 ms | p99 ms |", "| --- | --- | --- | --- |",
        f"| alone | {len(before)} | {percentile(before, 50):.1f} | {percentile(before, 99):.1f} |",
        f"| while the other token hammers | {len(during)} | {percentile(during, 50):.1f} | "
        f"{percentile(during, 99):.1f} |",
        "",
        f"Victim answers other than 200: {dict(victim_errors)}.",
        "",
        "| hammering token | requests | share | p50 ms | p99 ms |", "| --- | --- | --- | --- | --- |",
        f"| 200 | {by_status[200]} | {by_status[200] / max(1, len(results)):.1%} | {percentile(ok_ms, 50):.1f} | "
        f"{percentile(ok_ms, 99):.1f} |",
        f"| 429 | {by_status[429]} | {by_status[429] / max(1, len(results)):.1%} | "
        f"{percentile(refused_ms, 50):.1f} | {percentile(refused_ms, 99):.1f} |",
        "",
        f"Admitted in the first minute: {admitted_first_minute} for a limit of {rate}. Other answers: "
        f"{ {k: v for k, v in by_status.items() if k not in (200, 429)} }. A 429 after the run: "
        f"`Retry-After: {headers.get('Retry-After')}`, `Content-Type: {headers.get('Content-Type')}`, "
        f"code `{problem.get('code')}`.",
        "",
        "In this process (Django's test client, no network), the same request: "
        + ", ".join(f"{status}: {len(times)} answers, p50 {percentile(times, 50):.2f} ms"
                    for status, times in sorted(served.items())) + ".",
        "",
        "| 10 MiB body | status | ms to the answer | bytes sent before it |", "| --- | --- | --- | --- |",
        *[f"| {name} | {status} | {ms:.1f} | {sent:,} |"
          for name, (status, ms, sent) in zip(("with Content-Length", "chunked"), bodies, strict=False)],
    ]
    report(workdir, "abuse", lines)
    return True


# --- Main ---------------------------------------------------------------------------------------


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def report(workdir: Path, name: str, lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    path = ROOT / "var" / "drills" / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%S}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(text)
    print(f"Written to {path}; process logs in {workdir}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("drill", choices=["crash", "abuse"])
    parser.add_argument("--seconds", type=float, default=None, help="load duration (crash 36, abuse 20 per phase)")
    parser.add_argument("--clients", type=int, default=2, help="crash: writing clients")
    parser.add_argument("--pause", type=float, default=0.3, help="crash: each client's pause between two writes")
    parser.add_argument("--quiesce", type=float, default=300, help="crash: longest wait for the work to finish")
    parser.add_argument("--hammers", type=int, default=12, help="abuse: hammering connections")
    parser.add_argument("--rate", type=int, default=120, help="abuse: requests a minute per token")
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (36 if args.drill == "crash" else 20)
    if REDIS_URL.rstrip("/").endswith(("/0", ":6379")):
        raise SystemExit("set BENCH_REDIS_URL to a Redis database of your own: the drill empties it")
    flush_redis()
    workdir = Path(tempfile.mkdtemp(prefix=f"puente-drill-{args.drill}-"))
    ok = (run_crash if args.drill == "crash" else run_abuse)(args, workdir)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
