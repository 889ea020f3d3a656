from datetime import datetime

from django.db import transaction
from django.utils import timezone

from .models import ApiToken, token_digest


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
