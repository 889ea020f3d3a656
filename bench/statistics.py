"""Latency of one statistics call at a time: each grouping of both endpoints,
for a committee member (every agency) and for the busiest agency (its own).

    .venv/bin/python -m bench.statistics --cases 100000 [--repeat 15]

The load run (``bench.load``) measures the endpoints under 8 concurrent
connections on two shared cores, where the p50 is mostly waiting for a core;
this measures what one caller waits for: the request through Django
(production settings, in this process) on the dataset itself (reads only),
after one warm-up call per grouping. Each call is timed twice: computed from
the rollup (the cache emptied first, as after a refresh) and then answered
from the cache. Written to ``var/bench/statistics-<scale>.md``.
"""
import argparse
import statistics as stats
import time

from bench import common, load


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)

    dataset, manifest = load.ensure_dataset(args.cases, args.seed)
    common.django_setup(dataset)
    from django.test import Client

    agency = "pe-migraciones" if "pe-migraciones" in manifest["tokens"] else next(iter(manifest["tokens"]))
    callers = {"committee member (all)": load.Context(None, manifest, seed=1, seconds=1).member_tokens[0],
               f"caseworker of {agency} (agency)": manifest["tokens"][agency]}
    from django.core.cache import cache
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT count(*) FROM figures_caserollup), (SELECT count(*) FROM "
                       "figures_casenationalityrollup), (SELECT count(*) FROM figures_handoffrollup)")
        sizes = cursor.fetchone()
    load_before = common.load_average()
    lines = [f"## Statistics, one call at a time — {common.scale_label(args.cases)} cases", "",
             f"{args.repeat} calls each after a warm-up; the request through Django with production settings.",
             "Rollup rows (cases / by nationality / handoffs): " + " / ".join(f"{size:,}" for size in sizes) + ".",
             "",
             "| endpoint | group_by | caller | rows | p50 ms | p95 ms | max ms | p50 ms, cached |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for path, queries in (("/api/v1/statistics/cases/", load.CASE_STATISTICS),
                          ("/api/v1/statistics/handoffs/", load.HANDOFF_STATISTICS)):
        for caller, token in callers.items():
            client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}",
                            HTTP_ACCEPT="application/json")
            for query in queries:
                response = client.get(f"{path}?{query}")
                assert response.status_code == 200, response.content
                computed, cached = [], []
                for _ in range(args.repeat):
                    # Computed: as the first call after a refresh of the rollup finds it.
                    cache.clear()
                    computed.append(_timed(client, f"{path}?{query}"))
                    cached.append(_timed(client, f"{path}?{query}"))
                computed.sort()
                p95 = computed[min(len(computed) - 1, round(0.95 * (len(computed) - 1)))]
                lines.append(f"| {path.split('/')[-2]} | `{query}` | {caller} | {len(response.json()['rows'])} | "
                             f"{stats.median(computed):.0f} | {p95:.0f} | {computed[-1]:.0f} | "
                             f"{stats.median(cached):.0f} |")
    lines += ["", f"Load average (1, 5, 15 min) before: {load_before}; after: {common.load_average()}."]
    text = "\n".join(lines) + "\n"
    common.OUT_DIR.mkdir(parents=True, exist_ok=True)
    (common.OUT_DIR / f"statistics-{common.scale_label(args.cases)}.md").write_text(text)
    print(text)


def _timed(client, url: str) -> float:
    started = time.perf_counter()
    assert client.get(url).status_code == 200
    return (time.perf_counter() - started) * 1000


if __name__ == "__main__":
    main()
