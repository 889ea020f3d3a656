from datetime import timedelta

from django.contrib.auth.models import Group
from django.db.models import Aggregate, JSONField, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from . import token_cache
from .models import ApiToken, token_digest

# Recording every use would turn each read into a write; a minute's precision is enough.
LAST_USED_PRECISION = timedelta(minutes=1)


class _JSONArrayAgg(Aggregate):
    """The values of a group as one JSON array (``jsonb``, which the driver
    hands over as text, as JSONField expects)."""

    function = "JSONB_AGG"
    output_field = JSONField()


def _role_names() -> Subquery:
    """The names of the token user's groups, read in the token's own query:
    every request asks for the caller's roles, and a second round trip for
    them cost as much as the rest of a small request."""
    names = (Group.objects.filter(user=OuterRef("user_id")).order_by().values("user")
             .annotate(names=_JSONArrayAgg("name")).values("names"))
    return Subquery(names, output_field=JSONField())


def user_may_use_api(user) -> bool:
    """An active user of an active agency (or of none: the secretariat). An
    agency switched off loses the API at once, tokens and sessions alike,
    whatever state its users' accounts are in."""
    agency = user.agency if user.agency_id is not None else None
    return user.is_active and (agency is None or agency.active)


def _usable(token: ApiToken) -> bool:
    return token.is_active and user_may_use_api(token.user)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>`` against hashed, revocable, expiring
    tokens, remembered briefly by each process (``api_core/token_cache.py``)."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid Authorization header: expected 'Bearer <token>'."))
        try:
            raw = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        # Hashed already by the concurrency middleware, as it took the request's slot.
        made, digest = getattr(request._request, "bearer", (None, None))
        if made != raw:
            digest = token_digest(raw)
        now = timezone.now()
        # Read from Redis by the concurrency middleware, before anything else
        # of this request; None when Redis did not answer.
        generation = getattr(request._request, "auth_generation", None)
        token = token_cache.cached_token(digest, generation)
        remembered = token is not None
        if not remembered:
            token = (
                ApiToken.objects.select_related("user", "user__agency")
                .annotate(role_names=_role_names())
                .filter(digest=digest)
                .first()
            )
            if token is not None:
                # Read in the same statement as the token, so exactly as fresh as
                # the checks below (``User.roles`` is a cached property).
                token.user.roles = frozenset(token.role_names or ())
        # One answer for every token that does not work: which of them a
        # string is (never issued, revoked, expired) is not the caller's to learn.
        if token is None or not _usable(token):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        stamped = token.last_used_at is None or token.last_used_at < now - LAST_USED_PRECISION
        if stamped:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        if stamped or not remembered:
            token_cache.remember(digest, generation, token, keep_age=remembered)
        return token.user, token

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'
