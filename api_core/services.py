import hashlib
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import token_cache
from .errors import Conflict, InvalidInput, Unprocessable
from .models import MAX_CONCURRENT_REQUESTS_CEILING, ApiToken, IdempotencyRecord, token_digest


@transaction.atomic
def token_issue(*, user, name: str = "", expires_at: datetime | None = None,
                max_concurrent_requests: int | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``user``. Returns the row and the plain token, which
    is not stored anywhere and must be shown to the caller once. Without
    ``expires_at`` it lives ``PUENTE["API_TOKEN_LIFETIME"]``: a token copied
    into a forgotten script stops working on its own. ``max_concurrent_requests``:
    its own limit of requests running at once (None: the default), e.g. for
    a partner system's several sync threads."""
    if max_concurrent_requests is not None and not 1 <= max_concurrent_requests <= MAX_CONCURRENT_REQUESTS_CEILING:
        raise InvalidInput(
            _("A token may have from 1 to %(ceiling)d requests running at once.")
            % {"ceiling": MAX_CONCURRENT_REQUESTS_CEILING},
            code="out_of_range", field="max_concurrent_requests",
        )
    if expires_at is None:
        expires_at = timezone.now() + settings.PUENTE["API_TOKEN_LIFETIME"]
    raw = ApiToken.generate()
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[:12], digest=token_digest(raw), expires_at=expires_at,
        max_concurrent_requests=max_concurrent_requests,
    )
    return token, raw


def token_revoke(*, token: ApiToken) -> None:
    tokens_revoke(tokens=ApiToken.objects.filter(pk=token.pk))


def tokens_revoke(*, tokens) -> int:
    """Revoke the tokens of a QuerySet that are not revoked yet: how many were."""
    revoked = tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    if revoked:
        token_cache.invalidate()  # an update sends no signal: every process forgets its cached tokens here
    return revoked


# --- Idempotency keys ---------------------------------------------------------

# pg_try_advisory_xact_lock(class, key) for the keys: the two-integer form
# never meets the one-integer locks used elsewhere.
IDEMPOTENCY_LOCK_CLASS = 0x69646B79  # "idky"


def idempotency_key_lock(*, user, key: str) -> bool:
    """Hold ``key`` of ``user`` until the current transaction ends; False when
    a concurrent request holds it. Call it in the transaction that runs the
    request and stores its answer.

    On PostgreSQL this is a transaction-level advisory lock: it writes nothing,
    and a process that dies mid-request releases it with its connection, so a
    key is never left claimed. Two keys may share a lock number (32 bits):
    the cost is a needless 409 for the second, never a second run."""
    digest = hashlib.blake2b(f"{user.pk}\n{key}".encode(), digest_size=4).digest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)",
                       [IDEMPOTENCY_LOCK_CLASS, int.from_bytes(digest, "big", signed=True)])
        return cursor.fetchone()[0]


def idempotency_record_find(*, user, key: str, request_hash: str, now: datetime | None = None):
    """The stored answer to replay for ``key`` of ``user``, or None when the
    key is free (an expired record is forgotten here). Call it after
    ``idempotency_key_lock``, in the same transaction.

    Raises ``Unprocessable`` when the key was used for a different request.
    A record ``in_progress`` is a claim committed by an earlier version of
    this service, which claimed keys in a transaction of their own: while it
    is younger than ``PUENTE["IDEMPOTENCY_LOCK_TIMEOUT"]`` it raises
    ``Conflict``, after that it counts as abandoned and is forgotten.
    """
    now = now or timezone.now()
    record = IdempotencyRecord.objects.filter(user=user, key=key).first()
    if record is None:
        return None
    abandoned = (record.state == IdempotencyRecord.State.IN_PROGRESS
                 and record.created_at <= now - settings.PUENTE["IDEMPOTENCY_LOCK_TIMEOUT"])
    if record.expires_at <= now or abandoned:
        record.delete()
        return None
    if record.request_hash != request_hash:
        raise Unprocessable(
            _("This Idempotency-Key was used for a different request."),
            code="idempotency_key_reused",
        )
    if record.state == IdempotencyRecord.State.COMPLETED:
        return record
    raise idempotency_key_in_progress()


def idempotency_key_in_progress() -> Conflict:
    """The 409 for a key another request holds right now."""
    return Conflict(
        _("A request with this Idempotency-Key is still in progress."),
        code="idempotency_request_in_progress",
    )


def idempotency_record_store(*, user, key: str, method: str, path: str, request_hash: str, claimed_at: datetime,
                             status: int, body: bytes, headers: dict) -> IdempotencyRecord:
    """Keep the answer to replay, in the transaction of the request it answers
    (so the answer and the request's writes are committed together, or
    neither). Raises ``IntegrityError`` when another request stored an answer
    for the key meanwhile (only where ``idempotency_key_lock`` cannot lock)."""
    return IdempotencyRecord.objects.create(
        user=user, key=key, method=method, path=path[:500], request_hash=request_hash,
        state=IdempotencyRecord.State.COMPLETED, response_status=status, response_body=body,
        response_headers=headers, created_at=claimed_at,
        expires_at=claimed_at + settings.PUENTE["IDEMPOTENCY_KEY_TTL"],
    )


def idempotency_records_purge_expired(*, now: datetime | None = None) -> int:
    """Delete the records past their expiry. Returns how many were deleted."""
    deleted, _by_model = IdempotencyRecord.objects.expired(now).delete()
    return deleted
