import logging
import time

from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)

# While the cache is down every request would say so; once a minute per process is enough.
WARNING_INTERVAL = 60.0
_last_warning = 0.0


class TokenRateThrottle(SimpleRateThrottle):
    """Requests per token (per user for session callers, per address for
    anonymous ones), counted in the shared cache so every process agrees.

    When the cache cannot be reached the request is let through unthrottled
    and a warning logged: a rate limit protects the service, it must not be
    what takes it down while Redis is away (docs/reliability.md)."""

    scope = "token"

    def get_cache_key(self, request, view):
        auth = getattr(request, "auth", None)
        if auth is not None and getattr(auth, "pk", None) is not None:
            ident = f"token:{auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"addr:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as exc:
            _warn_unthrottled(exc)
            return True


def _warn_unthrottled(exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= WARNING_INTERVAL:
        _last_warning = now
        logger.warning("Rate limits not enforced: the cache is unavailable (%s)", exc.__class__.__name__)
