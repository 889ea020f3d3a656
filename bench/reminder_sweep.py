"""The reminder sweep (``reminders.services.reminders_sweep``) over many open
deadlines: time, queries, rows written and memory.

    .venv/bin/python -m bench.reminder_sweep [--deadlines 100000] [--spread] [--drop]

The dataset is a database of its own (``<prefix>_<scale>_reminders``, made
once and reused while the schema does not change): ``--deadlines`` pending
handoffs between ten Peruvian and ten Chilean agencies, written with COPY
from plain tuples. By default every deadline passed within the last eleven
hours, so the "at the deadline" rule owes a reminder for each of them in one
sweep — the worst case; ``--spread`` places them over the four days around
the dataset's "now" instead (the steady state). Each run empties the
reminder log, then measures, in this process:

1. a cold sweep that writes every reminder that is due;
2. the same sweep again from an empty log under tracemalloc, for the peak
   Python allocation (tracemalloc slows Python down: its time is not
   reported; ``--no-trace`` skips this pass);
3. a warm sweep right after, which finds everything written (the
   every-minute case).

Broker publishing is left out (the ids are only counted): it costs one
message per reminder whatever the sweep does, and depends on the broker.
The table goes to ``var/bench/reminder-sweep-<scale>.md``.
"""
import argparse
import json
import random
import resource
import subprocess
import sys
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import common
from bench.sweep import rss_mib

AGENCIES = 10  # on each side of the border
SECRETARIAT_USERS = 3


def dataset_name(deadlines: int, spread: bool) -> str:
    return f"{common.DB_PREFIX}_{common.scale_label(deadlines)}_reminders" + ("_spread" if spread else "")


# --- The dataset ------------------------------------------------------------------------------


def _template(model, connection, **values) -> tuple[list[str], list]:
    """Column names and database values of one row of ``model`` with its
    defaults and ``values``: every row of the load starts from it."""
    obj = model(**values)
    fields = model._meta.concrete_fields
    return ([field.column for field in fields],
            [field.get_db_prep_save(field.pre_save(obj, add=True), connection) for field in fields])


def populate(database: str, deadlines: int, *, spread: bool, seed: int) -> dict:
    """Make the dataset (run in a child process: its memory is not the sweep's)."""
    common.create_database(database)
    common.django_setup(database)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from cases.models import Agency, Case, Handoff, User
    from cases.roles import Role
    from cases.services import ensure_role_groups

    started = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)  # also writes the default reminder rules
    senders = [Agency.objects.create(code=f"pe-bench-{i}", name=f"Agencia PE {i}", country="PE",
                                     contact_email=f"pe{i}@bench.example") for i in range(AGENCIES)]
    receivers = [Agency.objects.create(code=f"cl-bench-{i}", name=f"Agencia CL {i}", country="CL",
                                       contact_email=f"cl{i}@bench.example") for i in range(AGENCIES)]
    secretariat = ensure_role_groups()[Role.SECRETARIAT]
    for i in range(SECRETARIAT_USERS):
        User.objects.create(username=f"secretaria{i}", email=f"secretaria{i}@bench.example").groups.add(secretariat)
    now = timezone.now().replace(microsecond=0)

    case_columns, case_row = _template(Case, connection, reference="BN-2026-000000", owner_agency=senders[0],
                                       border_point="chacalluta_santa_rosa")
    handoff_columns, handoff_row = _template(
        Handoff, connection, kind="referral", case_id=uuid.uuid4(), from_agency=senders[0], to_agency=receivers[0],
        reason="bench", response_due=now, status="pending", legal_basis="consent")
    index = {name: case_columns.index(name) for name in ("id", "reference", "owner_agency_id")}
    h_index = {name: handoff_columns.index(name)
               for name in ("id", "case_id", "from_agency_id", "to_agency_id", "response_due")}
    rng = random.Random(seed)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        case_ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(deadlines)]
        with cursor.copy(f"COPY {quote(Case._meta.db_table)} ({', '.join(map(quote, case_columns))}) "
                         f"FROM STDIN") as copy:
            row = list(case_row)
            for i, case_id in enumerate(case_ids):
                row[index["id"]], row[index["reference"]] = case_id, f"BN-2026-{i:07d}"
                row[index["owner_agency_id"]] = senders[i % AGENCIES].pk
                copy.write_row(row)
        with cursor.copy(f"COPY {quote(Handoff._meta.db_table)} ({', '.join(map(quote, handoff_columns))}) "
                         f"FROM STDIN") as copy:
            row = list(handoff_row)
            for i, case_id in enumerate(case_ids):
                if spread:  # the steady state: deadlines anywhere in the four days around now
                    due = now + timedelta(seconds=rng.uniform(-48 * 3600, 48 * 3600))
                else:  # the worst case: every one is due "at the deadline" in this sweep
                    due = now - timedelta(seconds=rng.uniform(0, 11 * 3600))
                row[h_index["id"]], row[h_index["case_id"]] = uuid.UUID(int=rng.getrandbits(128), version=4), case_id
                row[h_index["from_agency_id"]] = senders[i % AGENCIES].pk
                row[h_index["to_agency_id"]] = receivers[rng.randrange(AGENCIES)].pk
                row[h_index["response_due"]] = due
                copy.write_row(row)
        del case_ids
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    manifest = {"database": database, "deadlines": deadlines, "spread": spread, "seed": seed,
                "now": now.isoformat(), "schema": common.schema_fingerprint(),
                "seconds": round(time.monotonic() - started, 1)}
    common.DATASETS_DIR.mkdir(parents=True, exist_ok=True)
    common.manifest_path(database).write_text(json.dumps(manifest, indent=2))
    print(f"generated {database} in {manifest['seconds']} s: {deadlines:,} pending handoffs", flush=True)
    return manifest


def ensure_dataset(deadlines: int, *, spread: bool, seed: int) -> dict:
    database = dataset_name(deadlines, spread)
    manifest = common.read_manifest(database)
    if manifest is None or (manifest["seed"], manifest["deadlines"], manifest["schema"]) != (
            seed, deadlines, common.schema_fingerprint()):
        argv = [sys.executable, "-m", "bench.reminder_sweep", "--populate-only", "--deadlines", str(deadlines),
                "--seed", str(seed)] + (["--spread"] if spread else [])
        subprocess.run(argv, cwd=common.ROOT, check=True)
        manifest = common.read_manifest(database)
    return manifest


# --- The measurements -----------------------------------------------------------------------------


def sweep(now, *, trace: bool = False) -> dict:
    from django.db import connection

    from reminders.services import reminders_sweep

    queries, queued = [0], [0]

    def counted(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    def count(ids):
        queued[0] += len(ids)

    rss_before = rss_mib()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    with connection.execute_wrapper(counted):
        result = reminders_sweep(now=now, enqueue=count, keep_ids=False)
    seconds = time.perf_counter() - started
    peak = None
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return {"seconds": round(seconds, 2), "queries": queries[0], "created": result.written,
            "queued": queued[0], "requeued": result.queued_again, "rss_before_mib": round(rss_before, 1),
            "rss_after_mib": round(rss_mib(), 1), "peak_traced_mib": round(peak / 2**20, 1) if trace else None,
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def run(deadlines: int, *, spread: bool = False, seed: int = 1, drop: bool = False, trace: bool = True) -> Path:
    manifest = ensure_dataset(deadlines, spread=spread, seed=seed)
    database = manifest["database"]
    load_before = common.load_average()
    common.django_setup(database)
    from django.conf import settings
    from django.db import connection

    from reminders.models import Reminder

    now = datetime.fromisoformat(manifest["now"])
    table = connection.ops.quote_name(Reminder._meta.db_table)

    def empty_log():
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table}")

    try:
        empty_log()
        rss_start = rss_mib()
        cold = sweep(now)
        print(f"cold sweep: {cold}", flush=True)
        traced = {"peak_traced_mib": None}
        if trace:
            empty_log()
            traced = sweep(now, trace=True)
            print(f"cold sweep under tracemalloc: {traced}", flush=True)
        warm = sweep(now)
        print(f"warm sweep: {warm}", flush=True)
        empty_log()
        connection.close()
    finally:
        if drop:
            connection.close()
            common.drop_database(database)
            common.manifest_path(database).unlink(missing_ok=True)

    result = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "deadlines": deadlines,
              "spread": spread, "batch": settings.REMINDERS["BATCH_SIZE"], "rss_start_mib": round(rss_start, 1),
              "cold": cold, "traced": traced, "warm": warm, "load_before": load_before,
              "load_after": common.load_average(), "dataset": database}
    placement = ("deadlines over the four days around now" if spread
                 else "every deadline passed in the last 11 h: all due in one sweep")
    lines = [
        f"## Reminder sweep — {deadlines:,} open handoff deadlines, {placement} ({result['started_at']})",
        "",
        "| what | cold sweep | warm re-sweep |",
        "| --- | --- | --- |",
        f"| time | {cold['seconds']} s | {warm['seconds']} s |",
        f"| queries | {cold['queries']:,} | {warm['queries']:,} |",
        f"| reminder rows written | {cold['created']:,} | {warm['created']:,} |",
        f"| peak RSS of the process | {cold['peak_rss_mib']} MiB ({rss_start:.1f} MiB before the first sweep, "
        f"{cold['rss_after_mib']} MiB after) | {warm['rss_after_mib']} MiB after |",
        "| peak traced Python allocation | "
        + (f"{traced['peak_traced_mib']} MiB (a cold sweep under tracemalloc)" if trace
           else "not measured (--no-trace)")
        + " | |",
        f"| batch size (REMINDERS['BATCH_SIZE']) | {result['batch']:,} | |",
        f"| load average before / after | {result['load_before']} / {result['load_after']} | |",
        "",
    ]
    text = "\n".join(lines)
    common.OUT_DIR.mkdir(parents=True, exist_ok=True)
    label = common.scale_label(deadlines) + ("-spread" if spread else "")
    path = common.OUT_DIR / f"reminder-sweep-{label}.md"
    path.write_text(text)
    (common.OUT_DIR / f"reminder-sweep-{label}.json").write_text(json.dumps(result, indent=2))
    print(text)
    return path


def main(argv=None) -> Path | None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deadlines", type=int, default=100_000, help="open handoff deadlines (default 100000)")
    parser.add_argument("--spread", action="store_true", help="deadlines over ±48 h instead of all due at once")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--drop", action="store_true", help="drop the dataset afterwards")
    parser.add_argument("--no-trace", dest="trace", action="store_false",
                        help="skip the pass under tracemalloc (several times slower than the sweep itself)")
    parser.add_argument("--populate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.populate_only:
        populate(dataset_name(args.deadlines, args.spread), args.deadlines, spread=args.spread, seed=args.seed)
        return None
    return run(args.deadlines, spread=args.spread, seed=args.seed, drop=args.drop, trace=args.trace)


if __name__ == "__main__":
    main()
