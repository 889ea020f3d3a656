"""The overdue-handoffs sweep (``cases.tasks.handoffs.emit_overdue_handoffs``)
against a backlog: time, memory and queries.

    .venv/bin/python -m bench.sweep [--pending 100000] [--max-seconds 900]

The backlog is a dataset of ``--pending`` open cases, each with one pending
transfer whose deadline passed and was never announced (``bench.generate
--profile sweep``). The database is cloned, and the task is called in this
process, as a worker would run it, again and again until it reports nothing
left (or ``--max-seconds`` pass). Every run is what beat schedules once a
minute: batches of ``SWEEP_BATCH`` handoffs, one transaction each, until the
backlog is empty or the run's ``SWEEP_SECONDS`` are spent.
"""
import argparse
import json
import os
import resource
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import common

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mib() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE / 2**20


def ensure_backlog(pending: int, seed: int) -> tuple[str, dict]:
    import subprocess
    import sys

    database = f"{common.DB_PREFIX}_{common.scale_label(pending)}_sweep"
    manifest = common.read_manifest(database)
    if manifest is None or (manifest["seed"], manifest["cases"], manifest.get("schema")) != (
            seed, pending, common.schema_fingerprint()):
        subprocess.run([sys.executable, "-m", "bench.generate", "--cases", str(pending), "--seed", str(seed),
                        "--profile", "sweep", "--database", database], cwd=common.ROOT, check=True)
        manifest = common.read_manifest(database)
    return database, manifest


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, default=900,
                        help="stop after the run that passes this; the rest of the backlog is extrapolated")
    args = parser.parse_args(argv)

    dataset, manifest = ensure_backlog(args.pending, args.seed)
    clone = f"{common.DB_PREFIX}_run_sweep_{common.scale_label(args.pending)}"
    common.create_database(clone, template=dataset)
    load_before = common.load_average()
    try:
        common.django_setup(clone)
        from django.db import connection

        from cases.models import Handoff
        from cases.tasks.handoffs import SWEEP_BATCH, SWEEP_SECONDS, emit_overdue_handoffs
        from outbox.models import Event

        overdue = Handoff.objects.overdue_not_yet_announced().count()
        runs, started = [], time.monotonic()
        rss_start = rss_mib()
        statements = []

        def counted(execute, sql, params, many, context):
            statements.append(sql.lstrip()[:6].upper() == "UPDATE")  # an UPDATE claims one batch
            return execute(sql, params, many, context)

        while time.monotonic() - started < args.max_seconds:
            statements.clear()
            with connection.execute_wrapper(counted):
                t = time.monotonic()
                done = emit_overdue_handoffs()
                seconds = time.monotonic() - t
            runs.append({"handoffs": done, "seconds": seconds, "queries": len(statements),
                         "batches": sum(statements), "rss_mib": rss_mib()})
            if done == 0:
                break
        elapsed = time.monotonic() - started
        announced = Event.objects.filter(type="handoff.overdue").count()
        left = Handoff.objects.overdue_not_yet_announced().count()
        connection.close()
    except BaseException:
        common.drop_database(clone)
        raise

    working = [r for r in runs if r["handoffs"]]
    total = sum(r["handoffs"] for r in working)
    result = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"), "pending_overdue": overdue,
        "batch": SWEEP_BATCH, "run_budget_seconds": SWEEP_SECONDS, "runs": len(working),
        "batches": sum(r["batches"] for r in working), "announced": total, "events_written": announced,
        "left": left, "seconds": round(elapsed, 1), "per_second": round(total / elapsed, 1) if elapsed else 0,
        "run_seconds_p50": round(statistics.median(r["seconds"] for r in working), 2) if working else 0,
        "run_seconds_max": round(max((r["seconds"] for r in working), default=0), 2),
        "queries_per_run": max((r["queries"] for r in working), default=0),
        "queries_per_batch": round(sum(r["queries"] for r in working) / max(sum(r["batches"] for r in working), 1),
                                   2),
        "queries_per_handoff": round(sum(r["queries"] for r in working) / total, 2) if total else 0,
        "rss_start_mib": round(rss_start, 1), "rss_end_mib": round(rss_mib(), 1),
        "rss_max_mib": round(max((r["rss_mib"] for r in runs), default=0), 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_before": load_before, "load_after": common.load_average(), "dataset": manifest["database"],
    }
    clear_seconds = overdue / result["per_second"] if result["per_second"] else 0
    # One run a minute, each working for at most SWEEP_SECONDS at the measured rate.
    minutes_at_beat_pace = -(-overdue // max(int(result["per_second"] * SWEEP_SECONDS), 1))
    lines = [
        f"## Overdue sweep — {result['pending_overdue']:,} overdue handoffs never announced "
        f"({result['started_at']})",
        "",
        "| what | measured |",
        "| --- | --- |",
        f"| handoffs announced | {total:,} in {result['runs']} runs of ≤ {SWEEP_SECONDS} s, "
        f"{result['batches']:,} batches of ≤ {SWEEP_BATCH:,} ({result['left']:,} left) |",
        f"| time | {result['seconds']} s in all, {result['per_second']} handoffs/s; one run: "
        f"p50 {result['run_seconds_p50']} s, max {result['run_seconds_max']} s (soft limit 50 s) |",
        f"| queries | {result['queries_per_batch']} per batch, whatever its size; {result['queries_per_run']:,} "
        f"per run at most, {result['queries_per_handoff']} per handoff |",
        f"| memory (RSS of the process) | {result['rss_start_mib']} MiB before, {result['rss_max_mib']} MiB at "
        f"most after a run, {result['rss_end_mib']} MiB at the end; peak {result['peak_rss_mib']} MiB |",
        f"| to clear the whole backlog | {clear_seconds:,.0f} s of back-to-back runs at the measured rate"
        f"{' (extrapolated)' if result['left'] else ''}; {minutes_at_beat_pace:,} min at beat's pace "
        f"(one run a minute) |",
        f"| load average before / after | {result['load_before']} / {result['load_after']} |",
        "",
    ]
    text = "\n".join(lines)
    common.OUT_DIR.mkdir(parents=True, exist_ok=True)
    label = common.scale_label(args.pending)
    (common.OUT_DIR / f"sweep-{label}.md").write_text(text)
    (common.OUT_DIR / f"sweep-{label}.json").write_text(json.dumps({**result, "per_run": runs}, indent=2))
    print(text, flush=True)
    common.drop_database(clone)  # last: the figures are out even if dropping has to wait


if __name__ == "__main__":
    main()
