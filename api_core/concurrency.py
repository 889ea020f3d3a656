"""Requests in flight per caller, counted in the shared cache.

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
cache that cannot be reached lets requests through (docs/reliability.md)."""
import contextlib
import hashlib
import logging

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


def caller_key(request) -> str | None:
    """Who is calling, without a query: the token's digest or the session."""
    digest = bearer_digest(request)
    if digest is not None:
        return "inflight:token:" + digest
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if session_key:
        return "inflight:session:" + hashlib.sha256(session_key.encode()).hexdigest()
    return None  # anonymous: answered 401 without touching the database


def bearer_digest(request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _space, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return token_digest(credentials.strip())
    return None


# DECR only counters that still exist: one that expired meanwhile must not
# come back as -1 without an expiry.
_GIVE_BACK = """
for _, key in ipairs(KEYS) do
  if redis.call("EXISTS", key) == 1 then redis.call("DECR", key) end
end
"""


def _client(key: str):
    """The cache's own Redis client: same connection pool, timeouts and key prefix."""
    return cache._cache.get_client(key, write=True)


def _take(request, key: str) -> int:
    """Take a slot, read the cached tokens' generation and, for a bearer
    token, count the request for its rate limit: one round trip."""
    pipe = _client(key).pipeline(transaction=True)
    pipe.set(key, 0, ex=settings.PUENTE["CONCURRENCY_SLOT_SECONDS"], nx=True)
    pipe.incr(key)
    token_cache.queue_generation_read(pipe)
    digest = bearer_digest(request)
    throttle = TokenRateThrottle() if digest is not None else None
    if throttle is not None and throttle.rate is not None:
        rate_key, now = throttle.key_for(token_ident(digest)), throttle.timer()
        current = throttle.queue_count(pipe, rate_key, now)
        *replies, _created, count, previous = pipe.execute()
        request.early_rate_count = EarlyCount(key=rate_key, current=current, now=now, count=count,
                                              previous=int(previous or 0))
    else:
        replies = pipe.execute()
    request.auth_generation = token_cache.generation_from_reply(replies[-1])
    return replies[1]


def _give_back(request, key: str) -> None:
    """The slot, and the early rate count if the throttle did not use it.

    Sent without waiting for the answer (``CLIENT REPLY SKIP``: Redis sends
    none): the worker goes on at once, and Redis runs the script before
    anything else this worker sends on that connection. Should it be lost
    (Redis restarted meanwhile), the counters expire as for a killed process."""
    keys = [key]
    early = getattr(request, "early_rate_count", None)
    if early is not None and not early.used:
        keys.append(early.current)
    pool = _client(key).connection_pool
    connection = pool.get_connection()
    try:
        connection.send_packed_command(connection.pack_commands(
            [("CLIENT", "REPLY", "SKIP"), ("EVAL", _GIVE_BACK, len(keys), *keys)]))
    except BaseException:
        connection.disconnect()  # nothing half-sent may stay on a pooled connection
        raise
    finally:
        pool.release(connection)


class ConcurrencyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = caller_key(request) if request.path_info.startswith(API_PREFIX) else None
        if key is None:
            return self.get_response(request)
        key = cache.make_and_validate_key(key)
        try:
            running = _take(request, key)
        except (RedisError, OSError) as exc:
            logger.warning("Concurrency limit not enforced: the cache is unavailable (%s)", exc.__class__.__name__)
            return self.get_response(request)
        try:
            if running > settings.PUENTE["MAX_CONCURRENT_REQUESTS"]:
                response = problem_response(
                    429, "too_many_concurrent_requests",
                    _("Too many requests of yours are running at once (at most %(limit)d). Wait for an answer "
                      "before sending more.") % {"limit": settings.PUENTE["MAX_CONCURRENT_REQUESTS"]})
                response["Retry-After"] = "1"
                return response
            return self.get_response(request)
        finally:
            with contextlib.suppress(RedisError, OSError):  # the slot expires on its own
                _give_back(request, key)
