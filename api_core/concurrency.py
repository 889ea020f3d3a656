"""Requests in flight and server time per caller, counted in the shared cache.

A rate limit counts requests per minute; it does not stop one token from
keeping six expensive requests running at once, each holding a web worker and
a database connection while every other agency waits. This middleware counts
the requests of each bearer token (or session) that are running now, across
every process, and answers 429 ``too_many_concurrent_requests`` beyond
``PUENTE["MAX_CONCURRENT_REQUESTS"]``.

The caller is told apart by the token's digest, before any database query:
an invalid token gets its own counter and then its 401. Each slot is a Redis
``INCR`` given back with ``DECR`` when the answer is ready; the counter
expires ``CONCURRENCY_SLOT_SECONDS`` after it was made, so the slots of a
process killed mid-request come back on their own. Taking a slot is one
round trip, a ``MULTI`` pipeline that also reads the cached tokens'
generation (``api_core/token_cache.py``) and counts a bearer token's request
for its rate limit (``api_core/throttling.py``); giving it back is a script
that decrements only counters that still exist, sent without waiting for
its answer. As with the rate limit, a
cache that cannot be reached lets requests through (docs/reliability.md).

Two requests at a time are still enough for one token to keep a core busy:
what bounds a caller is its share of server *time*. Each caller has a budget
of ``PUENTE["SERVER_SECONDS_PER_MINUTE"]`` seconds of server time a minute,
with a burst of ``PUENTE["SERVER_SECONDS_BURST"]``: a leaky bucket kept as
the moment it will be empty (generic cell rate algorithm). The round trip
that takes the slot reads that moment; a caller whose bucket holds more than
the burst is answered 429 ``server_time_exhausted`` with ``Retry-After``
(when it is back under). The script that gives the slot back charges the
request's duration, refused requests included: a client that ignores
``Retry-After`` keeps itself out."""
import contextlib
import hashlib
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from . import token_cache
from .exceptions import problem_response
from .models import token_digest
from .throttling import EarlyCount, TokenRateThrottle, token_ident

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


def _ident(request, digest: str | None) -> str | None:
    """Who is calling, without a query: the token's digest or the session."""
    if digest is not None:
        return "token:" + digest
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if session_key:
        return "session:" + hashlib.sha256(session_key.encode()).hexdigest()
    return None  # anonymous: answered 401 without touching the database


@dataclass(frozen=True)
class ServerTimeBudget:
    """Seconds of server time a caller may use per minute, and at once."""

    per_minute: float
    burst: float

    @classmethod
    def from_settings(cls) -> "ServerTimeBudget | None":
        per_minute = settings.PUENTE["SERVER_SECONDS_PER_MINUTE"]
        return cls(per_minute, settings.PUENTE["SERVER_SECONDS_BURST"]) if per_minute else None

    @property
    def stretch(self) -> float:
        """Seconds the bucket takes to empty of one second of server time."""
        return 60.0 / self.per_minute

    def wait(self, empty_at: float, now: float) -> float:
        """Seconds until a caller whose bucket empties at ``empty_at`` is under
        the burst again (0: now)."""
        return max(0.0, empty_at - now - self.burst * self.stretch)


def bearer_digest(request) -> str | None:
    """The bearer token's digest, kept on the request with the token it was
    made of (``request.bearer``): authentication takes it from there."""
    header = request.headers.get("Authorization", "")
    scheme, _space, credentials = header.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() != "bearer" or not credentials:
        return None
    request.bearer = (credentials, token_digest(credentials))
    return request.bearer[1]


# KEYS[1]: the server-time bucket, charged when ARGV holds (now, seconds
# the request adds to it); the other keys are counters given back. DECR only
# counters that still exist: one that expired meanwhile must not come back as
# -1 without an expiry.
_GIVE_BACK = """
if ARGV[1] then
  local now, added = tonumber(ARGV[1]), tonumber(ARGV[2])
  local empty_at = math.max(tonumber(redis.call("GET", KEYS[1]) or "0"), now) + added
  redis.call("SET", KEYS[1], string.format("%.6f", empty_at), "EX", math.ceil(empty_at - now) + 1)
end
for index = 2, #KEYS do
  if redis.call("EXISTS", KEYS[index]) == 1 then redis.call("DECR", KEYS[index]) end
end
"""


def _client(key: str):
    """The cache's own Redis client: same connection pool, timeouts and key prefix."""
    return cache._cache.get_client(key, write=True)


@dataclass
class Slot:
    """A request's entry in the caller's counters: its Redis keys (prefixed),
    the bearer token's digest (None for a session), how many of the caller's
    requests run with it, and when its server-time bucket empties (None: no
    budget)."""

    key: str
    bucket: str
    digest: str | None
    running: int = 0
    empty_at: float | None = None

    @classmethod
    def of(cls, request) -> "Slot | None":
        """The caller's slot, the token hashed once; None for an anonymous caller."""
        digest = bearer_digest(request)
        ident = _ident(request, digest)
        if ident is None:
            return None
        return cls(key=cache.make_and_validate_key("inflight:" + ident),
                   bucket=cache.make_and_validate_key("servertime:" + ident), digest=digest)


def _take(request, slot: Slot, budget: ServerTimeBudget | None) -> None:
    """Take a slot, read the caller's server-time bucket and the cached
    tokens' generation and, for a bearer token, count the request for its
    rate limit: one round trip."""
    pipe = _client(slot.key).pipeline(transaction=True)
    pipe.set(slot.key, 0, ex=settings.PUENTE["CONCURRENCY_SLOT_SECONDS"], nx=True)
    pipe.incr(slot.key)
    if budget is not None:
        pipe.get(slot.bucket)
    token_cache.queue_generation_read(pipe)
    throttle = TokenRateThrottle() if slot.digest is not None else None
    counted = throttle is not None and throttle.rate is not None
    if counted:
        rate_key, now = throttle.key_for(token_ident(slot.digest)), throttle.timer()
        current = throttle.queue_count(pipe, rate_key, now)
    replies = pipe.execute()
    if counted:
        *replies, _created, count, previous = replies
        request.early_rate_count = EarlyCount(key=rate_key, current=current, now=now, count=count,
                                              previous=int(previous or 0))
    slot.running = replies[1]
    if budget is not None:
        slot.empty_at = float(replies[2] or 0)
    request.auth_generation = token_cache.generation_from_reply(replies[-1])


def _give_back(request, slot: Slot, charge: tuple[float, float] | None) -> None:
    """The slot, the early rate count if the throttle did not use it, and the
    request's server time (``charge``: now, seconds added to the bucket).

    Sent without waiting for the answer (``CLIENT REPLY SKIP``: Redis sends
    none): the worker goes on at once, and Redis runs the script before
    anything else this worker sends on that connection. Should it be lost
    (Redis restarted meanwhile), the counters expire as for a killed process."""
    keys = [slot.bucket, slot.key]
    early = getattr(request, "early_rate_count", None)
    if early is not None and not early.used:
        keys.append(early.current)
    arguments = () if charge is None else (f"{charge[0]:.6f}", f"{charge[1]:.6f}")
    pool = _client(slot.key).connection_pool
    connection = pool.get_connection()
    try:
        connection.send_packed_command(connection.pack_commands(
            [("CLIENT", "REPLY", "SKIP"), ("EVAL", _GIVE_BACK, len(keys), *keys, *arguments)]))
    except BaseException:
        connection.disconnect()  # nothing half-sent may stay on a pooled connection
        raise
    finally:
        pool.release(connection)


def _refused(code: str, detail: str, retry_after: int):
    response = problem_response(429, code, detail)
    response["Retry-After"] = str(retry_after)
    return response


class ConcurrencyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        slot = Slot.of(request) if request.path_info.startswith(API_PREFIX) else None
        if slot is None:
            return self.get_response(request)
        budget = ServerTimeBudget.from_settings()
        try:
            _take(request, slot, budget)
        except (RedisError, OSError) as exc:
            logger.warning("Concurrency limit not enforced: the cache is unavailable (%s)", exc.__class__.__name__)
            return self.get_response(request)
        try:
            return self._answer(request, slot, budget)
        finally:
            charge = None
            if budget is not None:
                charge = (time.time(), (time.perf_counter() - started) * budget.stretch)
            with contextlib.suppress(RedisError, OSError):  # the slot expires on its own
                _give_back(request, slot, charge)

    def _answer(self, request, slot: Slot, budget: ServerTimeBudget | None):
        limit = settings.PUENTE["MAX_CONCURRENT_REQUESTS"]
        if slot.running > limit:
            return _refused("too_many_concurrent_requests",
                            _("Too many requests of yours are running at once (at most %(limit)d). Wait for an "
                              "answer before sending more.") % {"limit": limit}, retry_after=1)
        wait = budget.wait(slot.empty_at, time.time()) if budget is not None else 0.0
        if wait > 0:
            return _refused("server_time_exhausted",
                            _("Your requests have used their share of server time (%(seconds)s s a minute). "
                              "Wait before sending more.") % {"seconds": f"{budget.per_minute:g}"},
                            retry_after=math.ceil(wait))
        return self.get_response(request)
