"""Soak run: every endpoint at once, reads and writes, from 200 concurrent
clients for ten minutes, against gunicorn with the production settings.

    .venv/bin/python -m bench.soak --cases 100000 [--duration 600] [--connections 200] [--workers 4]

The clients are shared out between the endpoints in the proportions of
``MIX`` (a client does one kind of work, as a partner's integration does);
each group is one wrk process with its own requests file, so errors and
latency are known per endpoint. Every client sends its next request as soon
as the answer arrives: 200 clients are 200 requests always in flight, the
hardest a fleet of 200 clients can push.

The server runs as a deployment would, not as the per-endpoint benchmark
tunes it: the production rate limit (``PUENTE_THROTTLE_RATE`` unset, 1200 a
minute per token) with one token per client, the settings' connection age,
gunicorn's listen backlog stated, a client timeout of 30 s. What is reported:
requests per second, latency percentiles, errors by kind (status, connect,
read and write errors, timeouts) per endpoint and in all, the CPU shares and
load average, and the server's state afterwards: workers restarted or timed
out (gunicorn's log), tracebacks, health, database connections, and whether
every write answered 2xx is in the database.
"""
import argparse
import json
import re
import shutil
import subprocess
import time
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench import common, load

# Share of the clients doing each kind of work (sums to 100). Partner systems
# mostly poll their feed and read cases; writes are a sixth of the traffic.
MIX = {
    "case detail": 22,
    "events feed page": 20,
    "case list (page of 50, filtered)": 14,
    "case search (name or document)": 8,
    "handoff list incoming pending": 8,
    "handoff list incoming overdue": 4,
    "meeting agenda": 4,
    # Figures are read before meetings, not by every client every second.
    "statistics of cases (suppressed)": 1,
    "statistics of handoffs (suppressed)": 1,
    "case create (Idempotency-Key)": 8,
    "handoff accept": 8,
    load.CEILING.name: 2,  # monitoring probes
}

# What a deployment would set, and why (docs/performance.md, "Soak run").
BACKLOG = 2048          # gunicorn's default, stated: the clients waiting for a worker queue here
CLIENT_TIMEOUT = 30     # seconds; a partner's HTTP client, the same as gunicorn's worker timeout
TOKENS_PER_AGENCY = 10  # each agency's systems use their own tokens: the per-token limit stays realistic


def connections_per_endpoint(total: int) -> dict[str, int]:
    """``total`` clients shared out in the proportions of ``MIX`` (largest
    remainders), at least one per endpoint."""
    if total < len(MIX):
        raise SystemExit(f"at least {len(MIX)} clients: one per endpoint")
    exact = {name: total * share / 100 for name, share in MIX.items()}
    groups = {name: max(1, int(value)) for name, value in exact.items()}
    by_remainder = sorted(MIX, key=lambda name: exact[name] - int(exact[name]), reverse=True)
    turn = 0
    while sum(groups.values()) < total:
        groups[by_remainder[turn % len(by_remainder)]] += 1
        turn += 1
    while sum(groups.values()) > total:
        groups[max(groups, key=groups.get)] -= 1
    return groups


def issue_client_tokens(clone: str, manifest: dict) -> dict[str, list[str]]:
    """Tokens for the clients of each agency (the agency's bench caseworker,
    ``TOKENS_PER_AGENCY`` tokens), issued in the clone by the application."""
    common.django_setup(clone)
    from django.db import connection

    from api_core.services import token_issue
    from cases.models import User

    tokens = {}
    for code, agency in manifest["agencies"].items():
        user = User.objects.get(pk=agency["user"])
        tokens[code] = [token_issue(user=user, name=f"client {number}")[1] for number in range(TOKENS_PER_AGENCY)]
    connection.close()
    return tokens


def spread_tokens(requests: list[load.Request], manifest: dict, client_tokens: dict[str, list[str]]):
    """Each agency's requests go out under its clients' tokens in turn."""
    agency_of = {token: code for code, token in manifest["tokens"].items()}
    turn = dict.fromkeys(client_tokens, 0)
    spread = []
    for request in requests:
        code = agency_of.get(request.token)
        if code is None:  # a committee member's own token
            spread.append(request)
            continue
        spread.append(replace(request, token=client_tokens[code][turn[code] % TOKENS_PER_AGENCY]))
        turn[code] += 1
    return spread


def gunicorn_log_state(path: Path) -> dict:
    text = path.read_text(errors="replace")
    return {
        "worker_timeouts": len(re.findall(r"WORKER TIMEOUT", text)),
        "workers_killed": len(re.findall(r"was sent SIGKILL|Worker \(pid:\d+\) exited", text)),
        "tracebacks": text.count("Traceback (most recent call last)"),
        "errors": len(re.findall(r"\[ERROR\]|\[CRITICAL\]", text)),
        "log_lines": text.count("\n"),
    }


def run(args) -> Path:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install wrk` (Debian), or run `make bench`")
    dataset, manifest = load.ensure_dataset(args.cases, args.seed)
    label = common.scale_label(args.cases)
    clone = f"{common.DB_PREFIX}_soak"
    work = common.OUT_DIR / "soak"
    work.mkdir(parents=True, exist_ok=True)
    endpoints = {endpoint.name: endpoint for endpoint in [load.CEILING, *load.ENDPOINTS]}
    missing = set(endpoints) - set(MIX)
    if missing:
        raise SystemExit(f"every endpoint takes part in the soak run; MIX lacks {sorted(missing)}")
    groups = connections_per_endpoint(args.connections)
    print(f"cloning {dataset} into {clone}", flush=True)
    common.create_database(clone, template=dataset)
    server = None
    processes = []
    try:
        client_tokens = issue_client_tokens(clone, manifest)
        files, once = {}, {}
        # Single-use requests (handoffs to accept): as many as this group could use at 25 a second.
        with psycopg.connect(common.database_url(clone)) as conn:
            ctx = load.Context(conn, manifest, seed=args.seed, seconds=args.duration,
                               once_budget=25 * args.duration)
            for name, endpoint in endpoints.items():
                requests = spread_tokens(endpoint.requests(ctx), manifest, client_tokens)
                path = work / f"{load.slug(name)}.tsv"
                path.write_text("\n".join(request.line() for request in requests) + "\n")
                files[name] = path
                once[name] = len(requests) if requests and requests[0].once else None
        with psycopg.connect(common.database_url(clone), autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE) cases_handoff")
            before = conn.execute("SELECT (SELECT count(*) FROM cases_case), "
                                  "(SELECT count(*) FROM cases_handoff WHERE status = 'accepted')").fetchone()
        log = work / "gunicorn.log"
        server = load.Gunicorn(clone, workers=args.workers, log=log, options=("--backlog", str(BACKLOG)),
                               environment={"PUENTE_THROTTLE_RATE": None, "DATABASE_CONN_MAX_AGE": None})
        server.wait_ready()
        started_at = datetime.now(UTC)
        print(f"soak: {args.connections} clients for {args.duration} s "
              + ", ".join(f"{name} {count}" for name, count in groups.items()), flush=True)
        app_pids = server.pids()
        load_before = common.load_average()
        # Connections are renewed every CONN_MAX_AGE seconds, so the backends
        # serving the workers change during the run: their CPU time is sampled
        # every few seconds (a backend that appears during the run counts from
        # zero; the last seconds of one that ends between samples are missed).
        cpu = CpuSampler(app_pids, clone)
        started = time.monotonic()
        for number, (name, count) in enumerate(groups.items()):
            command, env = load.wrk_command(server.url, files[name], seconds=args.duration, connections=count,
                                            threads=1, skip=0, run_id=f"soak{number}", timeout=args.client_timeout)
            processes.append((name, subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                                     stderr=subprocess.PIPE, text=True)))
        load_samples, last_load = [], started
        while any(process.poll() is None for _name, process in processes):
            time.sleep(5)
            cpu.sample()
            if time.monotonic() - last_load >= 30:
                load_samples.append(common.load_average())
                last_load = time.monotonic()
        wall = time.monotonic() - started
        load_samples.append(common.load_average())
        raw = {}
        for name, process in processes:
            stdout, stderr = process.communicate()
            raw[name] = load.wrk_result(stdout, stderr)
        cpu = cpu.shares(wall)
        state = server_state(server, clone, log, before=before, raw=raw, groups=groups, app_pids=app_pids)
    finally:
        for _name, process in processes:
            if process.poll() is None:
                process.kill()
        if server is not None:
            server.stop()
        common.drop_database(clone)
    for name, count in once.items():
        if count is not None and raw[name]["requests"] > count:
            state.setdefault("notes", []).append(
                f"{name}: {raw[name]['requests']} requests for {count} prepared: some were sent twice")
    return report(raw, groups, endpoints, state, cpu=cpu, load_before=load_before, load_samples=load_samples,
                  manifest=manifest, label=label, args=args, started_at=started_at, wall=wall)


class CpuSampler:
    def __init__(self, app_pids: list[int], database: str):
        self.database = database
        self.app_first = load.cpu_ticks(app_pids)
        self.app_last = dict(self.app_first)
        self.db_first = load.cpu_ticks(load.database_backends(database))
        self.db_last = dict(self.db_first)
        self.busy_first = load.machine_busy_ticks()

    def sample(self) -> None:
        self.app_last.update(load.cpu_ticks(self.app_last))
        self.db_last.update(load.cpu_ticks(load.database_backends(self.database)))

    def shares(self, wall: float) -> dict[str, float]:
        self.sample()
        busy_after = load.machine_busy_ticks()
        app = sum(self.app_last[pid] - self.app_first[pid] for pid in self.app_first)
        db = sum(ticks - self.db_first.get(pid, 0) for pid, ticks in self.db_last.items())
        busy, total = busy_after[0] - self.busy_first[0], busy_after[1] - self.busy_first[1]
        capacity = wall * load.CLOCK_TICKS * load.CPUS
        return {"app": 100 * app / capacity, "db": 100 * db / capacity,
                "machine": 100 * busy / total if total else 0.0}


def server_state(server, clone: str, log: Path, *, before, raw, groups, app_pids) -> dict:
    """After the run, before stopping: is the server healthy, did a worker time
    out or restart, is every write answered 2xx in the database."""
    replaced = sorted(set(app_pids) - set(server.pids()))
    try:
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=10) as response:
            health = json.load(response).get("status")
    except OSError as exc:
        health = f"unreachable ({exc.__class__.__name__})"
    state = {"health": health, "gunicorn": {**gunicorn_log_state(log), "workers_replaced": len(replaced)},
             "database_connections": len(load.database_backends(clone))}
    with psycopg.connect(common.database_url(clone)) as conn:
        after = conn.execute("SELECT (SELECT count(*) FROM cases_case), "
                             "(SELECT count(*) FROM cases_handoff WHERE status = 'accepted')").fetchone()
        state["unsequenced_events"] = conn.execute(
            "SELECT count(*) FROM cases_event WHERE position IS NULL").fetchone()[0]
    # A write answered 2xx must be stored. More may be stored: the requests in
    # flight when the clients stopped were served, but no client read the
    # answer (at most one per client of the group).
    create, accept = "case create (Idempotency-Key)", "handoff accept"
    created, accepted = raw[create]["statuses"].get("201", 0), raw[accept]["statuses"].get("200", 0)
    stored, done = after[0] - before[0], after[1] - before[1]
    state["writes"] = {
        "cases answered 201": created, "cases stored": stored, "accepts answered 200": accepted,
        "handoffs accepted in the database": done,
        "none lost": 0 <= stored - created <= groups[create] and 0 <= done - accepted <= groups[accept],
    }
    return state


def endpoint_errors(result: dict, expect: int) -> dict:
    statuses = {int(k): v for k, v in result["statuses"].items()}
    return {"status": sum(v for k, v in statuses.items() if k != expect), "connect": result["connect_errors"],
            "read": result["read_errors"], "write": result["write_errors"], "timeout": result["timeouts"],
            "statuses": {k: v for k, v in sorted(statuses.items()) if k != expect}}


def report(raw: dict, groups: dict, endpoints: dict, state: dict, *, cpu, load_before, load_samples, manifest,
           label, args, started_at, wall) -> Path:
    info = load.machine()
    total_requests = sum(r["requests"] for r in raw.values())
    errors = {name: endpoint_errors(raw[name], endpoints[name].expect) for name in raw}
    kinds = ["status", "connect", "read", "write", "timeout"]
    all_errors = {kind: sum(e[kind] for e in errors.values()) for kind in kinds}
    loads = [float(sample.split()[0]) for sample in load_samples] or [0.0]
    gunicorn = state["gunicorn"]
    lines = [
        f"## Soak run, {label} cases — {started_at:%Y-%m-%d %H:%M} UTC",
        "",
        (f"Machine: {info['cpus']} CPUs ({info['cpu_model']}), {info['memory_gib']} GiB; PostgreSQL "
         f"{info['postgresql']}, Python {info['python']}. Dataset `{manifest['database']}` "
         f"(seed {manifest['seed']}): " + ", ".join(f"{k} {v:,}" for k, v in manifest["rows"].items()) + "."),
        "",
        (f"gunicorn {args.workers} sync workers, `--timeout 30 --backlog {BACKLOG}`, production settings "
         f"(rate limit as deployed, {TOKENS_PER_AGENCY} tokens per agency; database connections kept "
         f"as the settings say). {args.connections} clients, each sending its next request when the last is "
         f"answered, for {args.duration} s ({wall:.0f} s wall), client timeout {args.client_timeout:g} s."),
        "",
        "| endpoint | clients | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | errors: status / connect / "
        "read / write / timeout |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, result in raw.items():
        e = errors[name]
        statuses = "".join(f" ({', '.join(f'{k}: {v}' for k, v in e['statuses'].items())})" if e["statuses"] else "")
        rps = result["requests"] / (result["duration_us"] / 1e6)
        lines.append(
            f"| {name} | {groups[name]} | {result['requests']:,} | {rps:.1f} | {result['p50_us'] / 1000:.0f} | "
            f"{result['p95_us'] / 1000:.0f} | {result['p99_us'] / 1000:.0f} | {result['max_us'] / 1000:.0f} | "
            f"{' / '.join(str(e[k]) for k in kinds)}{statuses} |")
    lines.append(f"| **all** | {sum(groups.values())} | {total_requests:,} | {total_requests / wall:.1f} | | | | | "
                 f"{' / '.join(str(all_errors[k]) for k in kinds)} |")
    writes = state["writes"]
    lines += [
        "",
        (f"CPU during the run: gunicorn {cpu['app']:.0f} %, its PostgreSQL backends {cpu['db']:.0f} %, the whole "
         f"machine {cpu['machine']:.0f} % (of {info['cpus']} CPUs; the rest is other work on this host). Load "
         f"average before {load_before}; during the run (1-minute) {min(loads):.1f}–{max(loads):.1f}."),
        "",
        (f"Afterwards: health `{state['health']}`; gunicorn's log: {gunicorn['worker_timeouts']} worker timeouts, "
         f"{gunicorn['workers_killed']} workers killed or exited, {gunicorn['tracebacks']} tracebacks, "
         f"{gunicorn['errors']} error lines; {gunicorn['workers_replaced']} workers replaced; "
         f"{state['database_connections']} database connections open; "
         f"{state['unsequenced_events']} events waiting for a feed position. Writes: "
         f"{writes['cases answered 201']:,} cases answered 201, {writes['cases stored']:,} stored; "
         f"{writes['accepts answered 200']:,} accepts answered 200, "
         f"{writes['handoffs accepted in the database']:,} handoffs accepted in the database (the difference: "
         f"requests in flight when the clients stopped); "
         f"{'no write answered 2xx is missing' if writes['none lost'] else 'WRITES MISSING OR UNEXPLAINED'}."),
        "",
    ]
    for note in state.get("notes", []):
        lines.append(f"Note: {note}.")
    text = "\n".join(lines) + "\n"
    common.OUT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = started_at.strftime("%Y%m%d-%H%M%S")
    path = common.OUT_DIR / f"{stamp}-soak-{label}.md"
    path.write_text(text)
    (common.OUT_DIR / f"latest-soak-{label}.md").write_text(text)
    (common.OUT_DIR / f"{stamp}-soak-{label}.json").write_text(json.dumps({
        "label": label, "started_at": started_at.isoformat(), "machine": info, "args": vars(args),
        "clients": groups, "results": raw, "errors": errors, "cpu": cpu, "load_before": load_before,
        "load_samples": load_samples, "state": state, "wall_seconds": wall}, indent=2))
    print(text, flush=True)
    return path


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duration", type=int, default=600, help="seconds of load")
    parser.add_argument("--connections", type=int, default=200, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (README: 4)")
    parser.add_argument("--client-timeout", type=float, default=CLIENT_TIMEOUT,
                        help="seconds a client waits for an answer")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    run(parse_args(argv))


if __name__ == "__main__":
    main()
