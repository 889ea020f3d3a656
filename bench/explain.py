"""The queries behind each benchmarked endpoint, with their plans.

    .venv/bin/python -m bench.explain --cases 100000 [--samples 3]

Clones the dataset, sends a few of each endpoint's requests through Django
in this process (production settings), records every SQL statement, and
prints ``EXPLAIN (ANALYZE, BUFFERS)`` for each read, with the number of
queries per request. Written to ``var/bench/explain-<scale>.txt``.
"""
import argparse
import io
import json

import psycopg

from bench import common, load


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--only", default="", help="endpoints whose name contains this")
    args = parser.parse_args(argv)

    dataset, manifest = load.ensure_dataset(args.cases, args.seed)
    clone = f"{common.DB_PREFIX}_explain"
    common.create_database(clone, template=dataset)
    out = io.StringIO()
    try:
        with psycopg.connect(common.database_url(clone)) as conn:
            ctx = load.Context(conn, manifest, seed=args.seed, seconds=1)
            plans = {e.name: e.requests(ctx)[: args.samples]
                     for e in [load.CEILING, *load.ENDPOINTS] if args.only in e.name}
        with psycopg.connect(common.database_url(clone), autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE) cases_handoff")
        common.django_setup(clone)
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        summary = []
        for name, requests in plans.items():
            out.write(f"\n{'=' * 100}\n{name}\n")
            counts, slowest = [], []
            for request in requests:
                client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {request.token}",
                                HTTP_ACCEPT="application/json")
                body = request.body.replace("@SEQ@", f"explain{id(request)}")
                headers = {"HTTP_IDEMPOTENCY_KEY": f"explain-{id(request)}"} if request.unique else {}
                with CaptureQueriesContext(connection) as captured:
                    if request.method == "GET":
                        response = client.get(request.path)
                    else:
                        response = client.post(request.path, body, content_type="application/json", **headers)
                out.write(f"\n--- {request.method} {request.path} → {response.status_code}, "
                          f"{len(captured.captured_queries)} queries\n")
                counts.append(len(captured.captured_queries))
                times = [0.0]
                for query in captured.captured_queries:
                    sql = query["sql"]
                    out.write(f"\n[{query['time']} s] {sql[:3000]}\n")
                    if sql.lstrip().upper().startswith("SELECT") and "FOR UPDATE" not in sql.upper() \
                            and "FOR NO KEY UPDATE" not in sql.upper():
                        with connection.cursor() as cursor:
                            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                            plan = [row[0] for row in cursor.fetchall()]
                            out.write("\n".join("    " + line for line in plan) + "\n")
                            times += [float(line.split(":")[1].split()[0]) for line in plan
                                      if line.startswith("Execution Time")]
                slowest.append(max(times))
            slowest.sort()
            summary.append(f"| {name} | {min(counts)}–{max(counts)} | {slowest[len(slowest) // 2]:.2f} | "
                           f"{slowest[-1]:.2f} |")
        connection.close()
        out.write("\n\n| endpoint | queries per request | slowest read, median ms | slowest read, max ms |\n"
                  "| --- | --- | ---: | ---: |\n" + "\n".join(summary) + "\n")
    finally:
        common.drop_database(clone)
    path = common.OUT_DIR / f"explain-{common.scale_label(args.cases)}.txt"
    path.write_text(out.getvalue())
    print(out.getvalue())
    print(json.dumps({"written": str(path)}))


if __name__ == "__main__":
    main()
