"""Benchmark of the reminder sweep over many open handoff deadlines (a script, not a test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/puente .venv/bin/python bench/reminder_sweep.py
    DATABASE_URL=… .venv/bin/python bench/reminder_sweep.py --deadlines 20000 --spread

It works in a scratch database of its own (the configured name + "_bench", migrated from
scratch and dropped at the end), so it never touches real data. It creates N pending
handoffs with COPY, then runs three sweeps and prints, for each, the wall time, the
number of SQL queries, the reminders written and the memory used:

1. a cold sweep that has to write a reminder for every deadline that is due
   (with the default placement, all N are due "at the deadline" at once — the worst case);
2. the same sweep again from an empty reminder table, under tracemalloc, for the peak
   Python allocation (tracemalloc slows Python down, so its wall time is not reported);
3. a warm sweep right after, which finds everything already written (the every-minute case).

Broker publishing is left out (the ids are only counted): it costs one message per reminder
whatever the sweep does, and depends on the broker's network.
"""
import argparse
import datetime
import os
import random
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "0")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from cases.models import Agency, Case, Handoff, User  # noqa: E402
from cases.roles import Role  # noqa: E402
from cases.services import ensure_role_groups  # noqa: E402
from reminders.models import Reminder  # noqa: E402
from reminders.services import reminders_sweep  # noqa: E402

INSERT_BATCH = 10000


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def copy_into(model, objects) -> None:
    """Write model instances with PostgreSQL's COPY (UUID keys are set on
    construction, so nothing needs to come back)."""
    fields = [field for field in model._meta.concrete_fields]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objects:
                copy.write_row([field.get_db_prep_save(field.pre_save(obj, add=True), connection)
                                for field in fields])


def populate(deadlines: int, *, spread: bool, now: datetime.datetime) -> None:
    senders = [Agency.objects.create(code=f"pe-bench-{i}", name=f"Agencia PE {i}", country="PE",
                                     contact_email=f"pe{i}@bench.example") for i in range(10)]
    receivers = [Agency.objects.create(code=f"cl-bench-{i}", name=f"Agencia CL {i}", country="CL",
                                       contact_email=f"cl{i}@bench.example") for i in range(10)]
    secretariat = ensure_role_groups()[Role.SECRETARIAT]
    for i in range(3):
        user = User.objects.create(username=f"secretaria{i}", email=f"secretaria{i}@bench.example")
        user.groups.add(secretariat)
    rng = random.Random(6)
    for start in range(0, deadlines, INSERT_BATCH):
        size = min(INSERT_BATCH, deadlines - start)
        cases = [Case(reference=f"BN-2026-{start + i:06d}", owner_agency=senders[(start + i) % 10],
                      border_point="chacalluta_santa_rosa")
                 for i in range(size)]
        copy_into(Case, cases)
        handoffs = []
        for case in cases:
            if spread:  # realistic: deadlines anywhere in the four days around now
                due = now + datetime.timedelta(seconds=rng.uniform(-48 * 3600, 48 * 3600))
            else:  # worst case: every one is due "at the deadline" in this sweep
                due = now - datetime.timedelta(seconds=rng.uniform(0, 11 * 3600))
            handoffs.append(Handoff(kind="referral", case=case, from_agency=case.owner_agency,
                                    to_agency=receivers[rng.randrange(10)], reason="bench",
                                    response_due=due, status="pending", legal_basis="consent"))
        copy_into(Handoff, handoffs)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def sweep(now, *, trace: bool = False) -> dict:
    counter = QueryCounter()
    queued = 0

    def count(ids):
        nonlocal queued
        queued += len(ids)

    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        result = reminders_sweep(now=now, enqueue=count)
    elapsed = time.perf_counter() - started
    peak = None
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return {"seconds": elapsed, "queries": counter.count, "created": len(result.created), "queued": queued,
            "peak_bytes": peak, "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deadlines", type=int, default=100_000, help="open handoff deadlines (default 100000)")
    parser.add_argument("--spread", action="store_true", help="deadlines over ±48 h instead of all due at once")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        parser.error("set DATABASE_URL to a PostgreSQL database")

    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = f"{settings.DATABASES['default']['NAME']}_bench"
    original_name = connection.settings_dict["NAME"]
    bench_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        now = timezone.now()
        started = time.perf_counter()
        populate(args.deadlines, spread=args.spread, now=now)
        print(f"database {bench_name}: {args.deadlines} pending handoffs created in "
              f"{time.perf_counter() - started:.1f} s; batch size {settings.REMINDERS['BATCH_SIZE']}; "
              f"baseline max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")

        cold = sweep(now)
        print(f"cold sweep:  {cold['seconds']:6.2f} s  {cold['queries']:5d} queries  "
              f"{cold['created']:6d} reminders written ({cold['queued']} queued)  "
              f"max RSS {cold['max_rss_kib'] / 1024:.0f} MiB")
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {Reminder._meta.db_table}")
        traced = sweep(now, trace=True)
        print(f"cold sweep under tracemalloc: peak Python allocation {traced['peak_bytes'] / 2**20:.1f} MiB "
              f"({traced['created']} reminders written, {traced['queries']} queries)")
        warm = sweep(now)
        print(f"warm sweep:  {warm['seconds']:6.2f} s  {warm['queries']:5d} queries  "
              f"{warm['created']:6d} reminders written")
    finally:
        if not args.keep:
            connection.creation.destroy_test_db(original_name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
