import hashlib
import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

TOKEN_PREFIX = "pnt_"
# A token's own limit of requests running at once: more would let one system
# hold every web worker of a small installation, whatever its share of server time.
MAX_CONCURRENT_REQUESTS_CEILING = 16


def token_digest(raw_token: str) -> str:
    """SHA-256 of a token. Tokens carry 256 random bits, so a fast hash is enough:
    there is nothing to brute-force that a slow hash would protect."""
    return hashlib.sha256(raw_token.encode()).hexdigest()


def running_request_limit(token: "ApiToken | None") -> int:
    """Requests the caller may have running at once: the token's own limit, or
    the default (``PUENTE["MAX_CONCURRENT_REQUESTS"]``) for a token without one
    and for a session."""
    own = token.max_concurrent_requests if token is not None else None
    return own or settings.PUENTE["MAX_CONCURRENT_REQUESTS"]


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A bearer token. Only its digest is stored; the token is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("prefix"), max_length=12, editable=False,
                              help_text=_("First characters, to recognise a token."))
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    max_concurrent_requests = models.PositiveSmallIntegerField(
        _("requests at once"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_CONCURRENT_REQUESTS_CEILING)],
        help_text=_("How many requests of this token may run at once; empty: the installation's default. "
                    "A partner system's service token may need more; its share of server time stays the same."),
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_concurrent_requests__isnull=True)
                | models.Q(max_concurrent_requests__range=(1, MAX_CONCURRENT_REQUESTS_CEILING)),
                name="api_token_max_concurrent_requests_range",
            ),
        ]

    def __str__(self):
        return f"{self.prefix}… ({self.name or self.user})"

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    @property
    def running_request_limit(self) -> int:
        return running_request_limit(self)

    @staticmethod
    def generate() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)


class IdempotencyRecordQuerySet(models.QuerySet):
    def expired(self, now=None):
        return self.filter(expires_at__lte=now or timezone.now())


class IdempotencyRecord(models.Model):
    """The first answer to a POST carrying an ``Idempotency-Key``, kept so that
    a retry of the same request gets the same answer and no second effect."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=20, choices=State.choices, default=State.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.BinaryField(null=True)
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    objects = IdempotencyRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user")]
