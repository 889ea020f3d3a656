"""CPU time, statements and Redis round trips per request, in one process.

    .venv/bin/python -m bench.cpu --cases 10000 [--requests 300] [--rounds 2] [--only TEXT]

Clones the dataset (``bench.generate`` makes it if it is missing), sets the
production settings' environment as ``bench.load`` does, and sends the GET
requests of ping and of the read endpoints through Django's test client —
every middleware, the token, the rate limit, the view — on the real
PostgreSQL and Redis. For each endpoint, after a warm-up, it prints the
process's CPU time per request (each round), the SQL statements per request
and the commands sent to Redis per request (a pipeline is one). Without the
network and the web server, what the code costs is what it shows; on a host
shared with other work the CPU times still move by 10–20 % from round to round.
"""
import argparse
import os
import time

import psycopg

from bench import common, load

READS = ["ping", "case detail", "case list", "case search", "events feed", "meeting agenda",
         "handoff list incoming pending"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=300, help="measured requests per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", action="append", default=[], metavar="TEXT")
    args = parser.parse_args(argv)
    names = [name for name in READS if not args.only or any(text in name for text in args.only)]

    dataset, manifest = load.ensure_dataset(args.cases, args.seed)
    database = f"{common.DB_PREFIX}_cpu"
    common.create_database(database, template=dataset)
    try:
        with psycopg.connect(common.database_url(database)) as conn:
            ctx = load.Context(conn, manifest, seed=args.seed, seconds=10)
            endpoints = {"ping": load.CEILING, **{endpoint.name: endpoint for endpoint in load.ENDPOINTS}}
            requests = {name: [request for request in next(endpoint for key, endpoint in endpoints.items()
                                                           if key.startswith(name)).requests(ctx)
                               if request.method == "GET"]
                        for name in names}
        os.environ.update(common.server_environment(database))
        measure(requests, requests_per_round=args.requests, rounds=args.rounds)
    finally:
        common.drop_database(database)


def measure(requests: dict, *, requests_per_round: int, rounds: int) -> None:
    import django

    django.setup()
    import redis.connection
    from django.db import connection, connections
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host name is allowed
    counts = {"statements": 0, "redis": 0}
    send = redis.connection.AbstractConnection.send_packed_command

    def counted_send(self, *args, **kwargs):
        counts["redis"] += 1
        return send(self, *args, **kwargs)

    def counted_statement(execute, sql, params, many, context):
        counts["statements"] += 1
        return execute(sql, params, many, context)

    redis.connection.AbstractConnection.send_packed_command = counted_send
    client = Client()
    try:
        with connection.execute_wrapper(counted_statement):
            for name, replay in requests.items():
                for number in range(30):
                    _get(client, name, replay[number % len(replay)])
                times = []
                for _ in range(rounds):
                    counts.update(statements=0, redis=0)
                    started = time.process_time()
                    for number in range(requests_per_round):
                        _get(client, name, replay[number % len(replay)])
                    times.append((time.process_time() - started) / requests_per_round * 1000)
                print(f"{name}: CPU ms per request {' / '.join(f'{t:.2f}' for t in times)}; "
                      f"statements per request {counts['statements'] / requests_per_round:.2f}; "
                      f"Redis sends per request {counts['redis'] / requests_per_round:.2f}", flush=True)
    finally:
        redis.connection.AbstractConnection.send_packed_command = send
        connections.close_all()


def _get(client, name: str, request: load.Request) -> None:
    response = client.get(request.path, HTTP_AUTHORIZATION=f"Bearer {request.token}")
    if response.status_code != 200:
        raise SystemExit(f"{name}: {response.status_code} for {request.path}")


if __name__ == "__main__":
    main()
