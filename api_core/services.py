from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import Conflict, Unprocessable
from .models import ApiToken, IdempotencyRecord, token_digest


@transaction.atomic
def token_issue(*, user, name: str = "", expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``user``. Returns the row and the plain token, which
    is not stored anywhere and must be shown to the caller once."""
    raw = ApiToken.generate()
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[:12], digest=token_digest(raw), expires_at=expires_at
    )
    return token, raw


def token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


# --- Idempotency keys ---------------------------------------------------------

def idempotency_record_claim(*, user, key: str, method: str, path: str, request_hash: str,
                             now: datetime | None = None) -> tuple[IdempotencyRecord, bool]:
    """Claim ``key`` of ``user`` for one request.

    Returns ``(record, owned)``. ``owned`` means the key was free: the record is
    in progress and committed, the caller runs the request and then calls
    ``idempotency_record_complete`` or ``idempotency_record_release``. Otherwise
    the record is the completed first answer, to be replayed.

    Raises ``Unprocessable`` when the key was used for a different request and
    ``Conflict`` while the first request with the key is still running.
    Call it outside any transaction (the middleware does): the claim must be
    committed, and so visible to a concurrent duplicate, before the request
    does anything.
    """
    now = now or timezone.now()
    lock_timeout = settings.PUENTE["IDEMPOTENCY_LOCK_TIMEOUT"]
    # Three rounds: a key claimed, released or expired between our read and our
    # write sends us round again; more than that means someone is racing us.
    for _round in range(3):
        record = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if record is None:
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        user=user, key=key, method=method, path=path[:500], request_hash=request_hash,
                        created_at=now, expires_at=now + settings.PUENTE["IDEMPOTENCY_KEY_TTL"],
                    )
            except IntegrityError:
                continue  # a concurrent duplicate claimed it first: read its claim
            return record, True
        if record.expires_at <= now:
            IdempotencyRecord.objects.filter(pk=record.pk, expires_at__lte=now).delete()
            continue  # not purged yet, but no longer remembered
        if record.request_hash != request_hash:
            raise Unprocessable(
                _("This Idempotency-Key was used for a different request."),
                code="idempotency_key_reused",
            )
        if record.state == IdempotencyRecord.State.COMPLETED:
            return record, False
        if record.created_at > now - lock_timeout:
            break
        # The process that claimed it died without answering (a request cannot
        # run this long): free the key; the next round claims it again.
        IdempotencyRecord.objects.filter(
            pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS, created_at__lte=now - lock_timeout
        ).delete()
    raise Conflict(
        _("A request with this Idempotency-Key is still in progress."),
        code="idempotency_request_in_progress",
    )


def idempotency_record_complete(*, record: IdempotencyRecord, status: int, body: bytes, headers: dict) -> bool:
    """Store the answer of the request that owns ``record``. Returns False when
    the claim was lost meanwhile (it was taken over as abandoned)."""
    return bool(
        IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS).update(
            state=IdempotencyRecord.State.COMPLETED, response_status=status, response_body=body,
            response_headers=headers,
        )
    )


def idempotency_record_release(*, record: IdempotencyRecord) -> None:
    """Forget the claim, so a retry with the same key runs the request again."""
    IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS).delete()


def idempotency_records_purge_expired(*, now: datetime | None = None) -> int:
    """Delete the records past their expiry. Returns how many were deleted."""
    deleted, _by_model = IdempotencyRecord.objects.expired(now).delete()
    return deleted
