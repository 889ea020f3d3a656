"""One token floods the case search; does another agency still get its list?

    .venv/bin/python -m bench.search_flood [--database NAME] [--seconds 20] [--flooders 6]
                                           [--unbounded | --without-server-time]

Against gunicorn with the production settings on a generated dataset
(``bench.generate``): one agency's caseworker reads the case list page after
page, one request at a time (waiting ``Retry-After`` when its own share of
server time runs out, as a client should), first alone ("quiet"), then while another
agency's token keeps ``--flooders`` connections busy with the costliest
search a client can send. Printed: the reader's p50 and p95 in both phases,
their ratio, and what the flooder's requests were answered.

The flood is the one seen in an attack: the shortest words the server takes
(one letter when ``--unbounded``, else ``PUENTE_SEARCH_MIN_WORD_LENGTH``), as
many as it takes (50 when ``--unbounded``, else ``PUENTE_SEARCH_MAX_WORDS``).
``--unbounded`` runs the same server without the cost bounds (search words,
statement timeout, running requests and server time per token) for comparison. Both run with
the production rate limit per token (1200 a minute unless
``PUENTE_THROTTLE_RATE`` says otherwise), as the attack did: well under it.
"""
import argparse
import http.client
import json
import statistics
import string
import threading
import time
from collections import Counter
from urllib.parse import quote, urlsplit

from . import common
from .load import Gunicorn

# The production limits per token: the bench environment lifts the rate limit and the
# running-requests limit for the load runs (None: the setting's default applies).
PRODUCTION_RATE = {"PUENTE_THROTTLE_RATE": None, "PUENTE_MAX_CONCURRENT_REQUESTS": None,
                   "PUENTE_SERVER_SECONDS_PER_MINUTE": None}
UNBOUNDED = {**PRODUCTION_RATE, "PUENTE_SEARCH_MAX_WORDS": "1000", "PUENTE_SEARCH_MIN_WORD_LENGTH": "1",
             "PUENTE_SEARCH_MAX_WORD_LENGTH": "1000", "PUENTE_STATEMENT_TIMEOUT_MS": "0",
             "PUENTE_MAX_CONCURRENT_REQUESTS": "100000", "PUENTE_SERVER_SECONDS_PER_MINUTE": "0"}


def get(url: str, path: str, token: str, timeout: float = 60.0) -> tuple[int, float, str | None]:
    """Status, seconds taken and ``Retry-After`` of one request."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    started = time.perf_counter()
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started, response.getheader("Retry-After")
    finally:
        conn.close()


def read_lists(url: str, token: str, seconds: float, refusals: Counter) -> list[float]:
    """The reader: the case list, one request after another, waiting
    ``Retry-After`` when told to (its share of server time is the reader's
    too); the times of the lists it was given."""
    times, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, took, retry_after = get(url, "/api/v1/cases/?page_size=50", token)
        if status == 429:
            refusals[retry_after] += 1
            time.sleep(float(retry_after))
            continue
        if status != 200:
            raise SystemExit(f"the reader got {status}")
        times.append(took)
    return times


def flood(url: str, token: str, words: int, length: int, stop: threading.Event, answers: Counter) -> None:
    letters = " ".join(string.ascii_lowercase[n % 26] * length for n in range(words))
    path = f"/api/v1/cases/?search={quote(letters)}"
    while not stop.is_set():
        try:
            status, _took, _retry_after = get(url, path, token)
        except OSError as exc:
            status = exc.__class__.__name__
        answers[status] += 1
        if status == 429:
            time.sleep(0.05)  # a client honouring Retry-After would wait longer; an attacker does not


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=f"{common.DB_PREFIX}_30000")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--flooders", type=int, default=6)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--unbounded", action="store_true", help="without the cost bounds, for comparison")
    parser.add_argument("--without-server-time", action="store_true",
                        help="every bound but the share of server time per token, for comparison")
    args = parser.parse_args(argv)

    manifest = common.read_manifest(args.database)
    if manifest is None:
        raise SystemExit(f"no dataset {args.database}: run bench.generate first")
    tokens = manifest["tokens"]
    reader_agency, flooder_agency = sorted(tokens)[:2]
    environment = UNBOUNDED if args.unbounded else PRODUCTION_RATE
    if args.without_server_time:
        environment = {**environment, "PUENTE_SERVER_SECONDS_PER_MINUTE": "0"}
    server_env = common.server_environment(args.database)
    words = 50 if args.unbounded else int(server_env.get("PUENTE_SEARCH_MAX_WORDS", 6))
    length = 1 if args.unbounded else int(server_env.get("PUENTE_SEARCH_MIN_WORD_LENGTH", 1))
    common.OUT_DIR.mkdir(parents=True, exist_ok=True)
    server = Gunicorn(args.database, workers=args.workers, log=common.OUT_DIR / "search_flood-gunicorn.log",
                      environment=environment)
    try:
        server.wait_ready()
        reader = tokens[reader_agency]
        read_lists(server.url, reader, 3, Counter())  # warm up
        time.sleep(8)  # the reader's share of server time back to full
        quiet_refusals, flood_refusals = Counter(), Counter()
        quiet = read_lists(server.url, reader, args.seconds, quiet_refusals)
        stop, answers = threading.Event(), Counter()
        flooders = [threading.Thread(target=flood, args=(server.url, tokens[flooder_agency], words, length, stop,
                                                                answers))
                    for _ in range(args.flooders)]
        for thread in flooders:
            thread.start()
        time.sleep(8)  # the flood at its steady pace; the reader's share back to full
        loaded = read_lists(server.url, reader, args.seconds, flood_refusals)
        stop.set()
        for thread in flooders:
            thread.join(120)
    finally:
        server.stop()

    result = {
        "bounds": "off" if args.unbounded else "on but server time" if args.without_server_time else "on",
        "workers": args.workers, "flooders": args.flooders,
        "flood_words": words, "flood_word_length": length, "reader": reader_agency, "flooder": flooder_agency,
        "quiet_p50_ms": round(percentile(quiet, 50) * 1000, 1),
        "quiet_p95_ms": round(percentile(quiet, 95) * 1000, 1),
        "flood_p50_ms": round(percentile(loaded, 50) * 1000, 1),
        "flood_p95_ms": round(percentile(loaded, 95) * 1000, 1),
        "reader_lists": [len(quiet), len(loaded)],
        "reader_refused_by_retry_after": [dict(quiet_refusals), dict(flood_refusals)],
        "flood_answers": {str(k): v for k, v in answers.items()},
    }
    result["p50_ratio"] = round(result["flood_p50_ms"] / result["quiet_p50_ms"], 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
