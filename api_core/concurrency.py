"""Requests in flight and server time per caller, counted in the shared cache.

A rate limit counts requests per minute; it does not stop one token from
keeping six expensive requests running at once, each holding a web worker and
a database connection while every other agency waits. This middleware counts
the requests of each bearer token (or signed-in session) that are running
now, across every process, and answers 429 ``too_many_concurrent_requests``
beyond the caller's limit: ``PUENTE["MAX_CONCURRENT_REQUESTS"]``, or the
token's own (``ApiToken.max_concurrent_requests``, for a partner system's
several sync threads). The token's own limit is looked up only when more than
one of its requests runs, so a lone request costs no query for it.

The caller is told apart by the token's digest, before any database query:
an invalid token gets its own counter and then its 401. A signed-in session
is its user (read from the session the session middleware loaded); anyone
else is their address (``client_address``), whose requests (the schema, the
admin's sign-in page) get no slot but do have a share of server time. Each
slot is a Redis ``INCR`` given back with ``DECR`` when the answer is ready;
the counter expires ``CONCURRENCY_SLOT_SECONDS`` after it was made, so the
slots of a process killed mid-request come back on their own. Taking a slot
is one round trip, a ``MULTI`` pipeline that also reads the cached tokens'
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
``Retry-After`` keeps itself out. The budget covers the admin too (its
pages and printouts, per signed-in user), where no slot is counted: a
browser loads several admin pages at once."""
import contextlib
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from . import token_cache
from .exceptions import problem_response
from .models import ApiToken, running_request_limit, token_digest
from .throttling import EarlyCount, TokenRateThrottle, token_ident

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
ADMIN_PREFIX = "/admin/"


def client_address(request) -> str | None:
    """The caller's address, by the rule of the sign-in lockout
    (``signin.network.client_ip``): the peer's, or with
    ``SIGNIN["TRUSTED_PROXY_COUNT"]`` proxies in front, the one the outermost
    trusted proxy saw (entries further left are whatever the caller sent)."""
    proxies = settings.SIGNIN["TRUSTED_PROXY_COUNT"]
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def _signed_in_user_id(request) -> str | None:
    """The user of a signed-in session. Only a session that exists counts: a
    made-up cookie must not give its sender a fresh budget per request."""
    session = getattr(request, "session", None)
    if session is None or settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return None
    user_id = session.get(SESSION_KEY)
    return None if user_id is None else str(user_id)


def _ident(request, digest: str | None) -> tuple[str, bool] | None:
    """Who is calling, without a query of its own, and whether it is a
    principal (a token or a signed-in user) rather than an address."""
    if digest is not None:
        return "token:" + digest, True
    user_id = _signed_in_user_id(request)
    if user_id is not None:
        return "user:" + user_id, True
    address = client_address(request)
    if address is not None:
        return "address:" + address, False
    return None


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
    """A request's entry in the caller's counters: its Redis keys (prefixed;
    ``key`` None when its running requests are not counted), the bearer
    token's digest (None for a session or an address), how many of the
    caller's requests run with it, and when its server-time bucket empties
    (None: no budget)."""

    key: str | None
    bucket: str
    digest: str | None
    running: int = 0
    empty_at: float | None = None

    @classmethod
    def of(cls, request, *, count_running: bool = True) -> "Slot | None":
        """The caller's slot, the token hashed once; running requests are
        counted for a principal when ``count_running``. None when the caller
        has no address either."""
        digest = bearer_digest(request)
        found = _ident(request, digest)
        if found is None:
            return None
        ident, principal = found
        key = cache.make_and_validate_key("inflight:" + ident) if count_running and principal else None
        return cls(key=key, bucket=cache.make_and_validate_key("servertime:" + ident), digest=digest)


def _take(request, slot: Slot, budget: ServerTimeBudget | None) -> None:
    """Take a slot, read the caller's server-time bucket and the cached
    tokens' generation and, for a bearer token, count the request for its
    rate limit: one round trip."""
    pipe = _client(slot.bucket).pipeline(transaction=True)
    if slot.key is not None:
        pipe.set(slot.key, 0, ex=settings.PUENTE["CONCURRENCY_SLOT_SECONDS"], nx=True)
        pipe.incr(slot.key)
    if budget is not None:
        pipe.get(slot.bucket)
    if slot.digest is not None:
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
    if slot.key is not None:
        slot.running, replies = replies[1], replies[2:]
    if budget is not None:
        slot.empty_at, replies = float(replies[0] or 0), replies[1:]
    if slot.digest is not None:
        request.auth_generation = token_cache.generation_from_reply(replies[-1])


def _give_back(request, slot: Slot, charge: tuple[float, float] | None) -> None:
    """The slot, the early rate count if the throttle did not use it, and the
    request's server time (``charge``: now, seconds added to the bucket).

    Sent without waiting for the answer (``CLIENT REPLY SKIP``: Redis sends
    none): the worker goes on at once, and Redis runs the script before
    anything else this worker sends on that connection. Should it be lost
    (Redis restarted meanwhile), the counters expire as for a killed process."""
    keys = [slot.bucket] if slot.key is None else [slot.bucket, slot.key]
    early = getattr(request, "early_rate_count", None)
    if early is not None and not early.used:
        keys.append(early.current)
    if charge is None and len(keys) == 1:
        return  # nothing was taken
    arguments = () if charge is None else (f"{charge[0]:.6f}", f"{charge[1]:.6f}")
    pool = _client(slot.bucket).connection_pool
    connection = pool.get_connection()
    try:
        connection.send_packed_command(connection.pack_commands(
            [("CLIENT", "REPLY", "SKIP"), ("EVAL", _GIVE_BACK, len(keys), *keys, *arguments)]))
    except BaseException:
        connection.disconnect()  # nothing half-sent may stay on a pooled connection
        raise
    finally:
        pool.release(connection)


def _running_limit(request, slot: Slot) -> int:
    """The caller's limit of requests running at once: a token's own, from
    this process's cached tokens or else its row; the default otherwise."""
    if slot.digest is None:
        return running_request_limit(None)
    token = token_cache.cached_token(slot.digest, getattr(request, "auth_generation", None))
    if token is None:
        own = ApiToken.objects.filter(digest=slot.digest).values_list("max_concurrent_requests", flat=True).first()
        return own or running_request_limit(None)
    return token.running_request_limit


def _refused(code: str, detail: str, retry_after: int):
    response = problem_response(429, code, detail)
    response["Retry-After"] = str(retry_after)
    return response


class ConcurrencyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        api = request.path_info.startswith(API_PREFIX)
        if not api and not request.path_info.startswith(ADMIN_PREFIX):
            return self.get_response(request)  # /healthz, the language switch
        budget = ServerTimeBudget.from_settings()
        slot = Slot.of(request, count_running=api)
        if slot is None or (slot.key is None and budget is None):
            return self.get_response(request)
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
        # Any limit allows one request: the token's own is looked up only past it.
        limit = _running_limit(request, slot) if slot.running > 1 else 1
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
