"""Authenticated bearer tokens, remembered briefly by each process.

Reading a token with its user, agency and roles was more than half of the
cheapest request (docs/performance.md). Each process now keeps what that
read returned, for at most ``TOKEN_CACHE_SECONDS``, tagged with the
**generation** read from Redis at the start of the request. Every write that
can change what a token stands for (a token revoked or deleted; a user,
their groups or their agency changed; a group renamed) sets a new random
generation, now and again when its transaction commits: from the next
request on, every worker's entries are stale and the token is read again, so
a revocation takes effect at once everywhere. The generation is read in the
round trip that takes the request's concurrency slot
(``api_core/concurrency.py``), so checking it costs no round trip of its own.

Without an answer from Redis there is no generation, and the token is read
from the database as before. A generation that cannot be written (Redis down
during the write, back at the next request) leaves entries valid for at most
``TOKEN_CACHE_SECONDS``; a write made around the ORM (``QuerySet.update`` on
these models, raw SQL) must call ``invalidate()`` itself, as ``tokens_revoke``
does.
"""
import logging
import secrets
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from redis.exceptions import RedisError

from .models import ApiToken

logger = logging.getLogger(__name__)

TOKEN_CACHE_SECONDS = 10.0
# Entries per process; past this the process forgets them all (tokens in use number in the hundreds).
TOKEN_CACHE_SIZE = 2048
GENERATION_KEY = "auth:generation"

# token digest -> (generation, monotonic time stored, snapshot of the token with its user and agency, roles)
_entries: dict[str, tuple[str, float, tuple, frozenset]] = {}


def generation_key() -> str:
    return cache.make_and_validate_key(GENERATION_KEY)


def queue_generation_read(pipe) -> None:
    """Add to a Redis pipeline the two commands whose last reply is the
    current generation; a missing one (Redis emptied) is created first."""
    key = generation_key()
    pipe.set(key, secrets.token_hex(8), nx=True)
    pipe.get(key)


def generation_from_reply(reply) -> str | None:
    return reply.decode() if isinstance(reply, bytes) else reply


def cached_token(digest: str, generation: str | None) -> ApiToken | None:
    """A fresh copy of the token stored under ``generation``, with its user,
    agency and roles, or None."""
    if generation is None:
        return None
    entry = _entries.get(digest)
    if entry is None:
        return None
    stored_generation, stored_at, snapshot, roles = entry
    if stored_generation != generation or time.monotonic() - stored_at > TOKEN_CACHE_SECONDS:
        _entries.pop(digest, None)  # another thread may have emptied it meanwhile
        return None
    token = _restore(snapshot)
    token.user.roles = roles
    return token


def remember(digest: str, generation: str | None, token: ApiToken, *, keep_age: bool = False) -> None:
    """Keep ``token`` (read with its user and agency after ``generation`` was
    read). ``keep_age``: a change of this process's own to a remembered token
    (its last use stamped), which must not make the entry live longer."""
    if generation is None:
        return
    stored_at = time.monotonic()
    if keep_age and digest in _entries:
        stored_at = _entries[digest][1]
    if len(_entries) >= TOKEN_CACHE_SIZE:
        _entries.clear()
    _entries[digest] = (generation, stored_at, _snapshot(token), token.user.roles)


def forget_all() -> None:
    """Empty this process's entries (the other processes' go with the generation)."""
    _entries.clear()


def invalidate(**kwargs) -> None:
    """Make every process read tokens from the database again. A signal
    receiver as well: it takes and ignores the signal's arguments."""
    _new_generation()
    if connection.in_atomic_block:
        # A request that read the old rows between the write and its commit
        # would otherwise keep them under the generation set above.
        transaction.on_commit(_new_generation)


def _new_generation() -> None:
    _entries.clear()
    key = generation_key()
    try:
        cache._cache.get_client(key, write=True).set(key, secrets.token_hex(8))
    except (RedisError, OSError) as exc:
        logger.error("Cached tokens could not be invalidated: the cache is unavailable (%s); "
                     "other processes keep them for at most %d s", exc.__class__.__name__, TOKEN_CACHE_SECONDS)


def changed(sender, created=False, update_fields=None, **kwargs) -> None:
    """``post_save`` receiver: a row just created is in no process's memory yet;
    signing in to the admin stamps ``last_login``, nothing a token stands for."""
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return
    invalidate()


def _groups_changed(sender, action, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        invalidate()


def connect_receivers() -> None:
    """Receivers for every model a cached token is read with
    (``select_related("user", "user__agency")`` and the user's groups)."""
    user_model = get_user_model()
    agency_model = user_model._meta.get_field("agency").related_model
    for model in (ApiToken, Group, user_model, agency_model):
        post_save.connect(changed, sender=model, dispatch_uid=f"token_cache.save.{model._meta.label}")
        post_delete.connect(invalidate, sender=model, dispatch_uid=f"token_cache.delete.{model._meta.label}")
    m2m_changed.connect(_groups_changed, sender=user_model.groups.through, dispatch_uid="token_cache.groups")


# A snapshot is the row's values and those of the rows read with it
# (select_related keeps them in ``_state.fields_cache``); each request gets
# new model instances, so nothing one request sets on its user reaches another.

def _snapshot(instance) -> tuple:
    values = tuple(getattr(instance, field.attname) for field in instance._meta.concrete_fields)
    related = {name: None if value is None else _snapshot(value)
               for name, value in instance._state.fields_cache.items()}
    return type(instance), instance._state.db, values, related


def _restore(snapshot: tuple):
    model, db, values, related = snapshot
    instance = model.from_db(db, None, values)
    for name, value in related.items():
        instance._state.fields_cache[name] = None if value is None else _restore(value)
    return instance
