import logging
import math
import time
from dataclasses import dataclass

from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)

# While the cache is down every request would say so; once a minute per process is enough.
WARNING_INTERVAL = 60.0
_last_warning = 0.0


@dataclass
class EarlyCount:
    """A request counted by the concurrency middleware, in the round trip
    that takes its slot, before the token was authenticated. The throttle
    uses it (``used``) when it decides on the same counter; otherwise the
    middleware takes the count back when the request ends, so a request the
    throttle never saw (refused before it: 401, 403, 429 for concurrency) is
    not counted, as before."""

    key: str        # the counter's name without the window
    current: str    # the current window's Redis key
    now: float
    count: int
    previous: int
    used: bool = False


class TokenRateThrottle(SimpleRateThrottle):
    """Requests per token (per user for session callers, per address for
    anonymous ones), counted in the shared cache so every process agrees.

    A sliding window counter: one integer per token and window of the rate's
    duration, and the previous window's count weighted by how much of it
    still lies within the last duration. Counting and reading take one round
    trip to Redis: a ``MULTI`` pipeline creates the window's counter with its
    expiry if it is missing (``SET NX EX``), increments it and reads the
    previous window's count. For a bearer token those commands go in the
    round trip that takes the request's concurrency slot
    (``api_core/concurrency.py``, ``EarlyCount``), so the rate limit costs
    no round trip of its own (docs/performance.md). DRF's own throttle reads
    a list of every request's time, appends and writes it back: with many
    connections of one token at once those read-modify-writes overwrite each
    other and let more than the rate through, and each request moves the
    whole list (up to the rate's size) to and from Redis. Refused requests
    are not counted, so a client that waits ``Retry-After`` is served again.

    When the cache cannot be reached the request is let through unthrottled
    and a warning logged: a rate limit protects the service, it must not be
    what takes it down while Redis is away (docs/reliability.md)."""

    scope = "token"

    def get_cache_key(self, request, view):
        auth = getattr(request, "auth", None)
        if auth is not None and getattr(auth, "digest", None):
            ident = token_ident(auth.digest)
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"addr:{self.get_ident(request)}"
        return self.key_for(ident)

    def key_for(self, ident: str) -> str:
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def queue_count(self, pipe, key: str, now: float) -> str:
        """Add the commands that count one request to a Redis pipeline; the
        last two replies are the count and the previous window's count.
        Returns the current window's Redis key."""
        window = int(now // self.duration)
        current = self.cache.make_and_validate_key(f"{key}:{window}")
        # Kept for two durations: the next window still weighs this one.
        pipe.set(current, 0, ex=2 * self.duration + 1, nx=True)
        pipe.incr(current)
        pipe.get(self.cache.make_and_validate_key(f"{key}:{window - 1}"))
        return current

    def allow_request(self, request, view):
        try:
            return self._allow(request, view)
        except (RedisError, OSError) as exc:
            _warn_unthrottled(exc)
            return True

    def _allow(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        early = getattr(getattr(request, "_request", None), "early_rate_count", None)
        if early is not None and early.key == key and not early.used:
            early.used = True
            self.now, current, count, previous = early.now, early.current, early.count, early.previous
        else:
            self.now = self.timer()
            # The cache's own Redis client: same connection pool, timeouts and key prefix.
            pipe = self.cache._cache.get_client(key, write=True).pipeline(transaction=True)
            current = self.queue_count(pipe, key, self.now)
            _, count, previous = pipe.execute()
        previous = int(previous or 0)
        self.elapsed = self.now / self.duration - int(self.now // self.duration)  # fraction of the window gone
        estimate = previous * (1 - self.elapsed) + count
        if estimate <= self.num_requests:
            return True
        self.cache._cache.get_client(current, write=True).decr(current)  # a refused request is not counted
        self.previous, self.count = previous, count - 1
        return False

    def wait(self):
        """Seconds until one more request fits, as ``Retry-After``."""
        room = self.num_requests - self.count - 1
        if room >= 0 and self.previous:
            # Within this window, once the previous window's weight has fallen enough.
            fraction = (1 - self.elapsed) - room / self.previous
        else:
            # In the next window, where this window's count is the one that fades.
            fraction = (1 - self.elapsed) + max(0.0, 1 - (self.num_requests - 1) / max(self.count, 1))
        return max(1, math.ceil(fraction * self.duration))


def token_ident(digest: str) -> str:
    """A bearer token's counter is named by its digest: the concurrency
    middleware knows it before the token is read."""
    return f"token:{digest}"


def _warn_unthrottled(exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= WARNING_INTERVAL:
        _last_warning = now
        logger.warning("Rate limits not enforced: the cache is unavailable (%s)", exc.__class__.__name__)
