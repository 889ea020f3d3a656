"""Conditional requests (RFC 9110 §13): strong ETags on reads, ``If-Match`` on
writes so two editors cannot silently overwrite each other (the "offline edits
overwrite each other" trap of other case systems).

A resource with a ``version`` integer (bumped by its services on every change)
gets ``etag_for(obj)``. ``If-Match`` is optional: without it a write goes
through as before; with it, a tag that no longer matches answers 412
``precondition_failed``. The comparison happens in the service, after the row
is locked, so two writers holding the same tag cannot both win.
"""
import hashlib
import json
from dataclasses import dataclass

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from .errors import ServiceError


class PreconditionFailed(ServiceError):
    status = 412
    code = "precondition_failed"


def etag_for(obj) -> str:
    """A strong entity tag from the object's identity and version, quoted."""
    seed = f"{obj._meta.label_lower}:{obj.pk}:{obj.version}"
    return '"' + hashlib.sha256(seed.encode()).hexdigest()[:32] + '"'


def etag_for_content(model, pk, body) -> str:
    """A strong tag from what a representation shows (JSON-serialisable), for
    views that must not reveal how often the object behind them changes."""
    seed = f"{model._meta.label_lower}:{pk}:" + json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return '"' + hashlib.sha256(seed.encode()).hexdigest()[:32] + '"'


@dataclass(frozen=True)
class IfMatch:
    """A parsed ``If-Match`` header: ``*`` or a set of strong tags."""

    any: bool = False
    tags: frozenset = frozenset()

    @classmethod
    def parse(cls, header: str | None) -> "IfMatch | None":
        if header is None or not header.strip():
            return None
        if header.strip() == "*":
            return cls(any=True)
        # Weak tags never match: If-Match uses the strong comparison.
        tags = frozenset(part.strip() for part in header.split(",") if part.strip().startswith('"'))
        return cls(tags=tags)

    def matches(self, obj) -> bool:
        return self.any or etag_for(obj) in self.tags

    def check(self, obj) -> None:
        if not self.matches(obj):
            raise PreconditionFailed(
                _("The resource has changed since you read it. Read it again and repeat your change."))


def if_match(request) -> IfMatch | None:
    return IfMatch.parse(request.headers.get("If-Match"))


def check_if_match(condition: IfMatch | None, obj) -> None:
    """For services: call with the locked row, before anything is written."""
    if condition is not None:
        condition.check(obj)


def with_etag(response, obj):
    response["ETag"] = etag_for(obj)
    return response


IF_MATCH_PARAMETER = OpenApiParameter(
    name="If-Match", type=OpenApiTypes.STR, location=OpenApiParameter.HEADER, required=False,
    description=("Optional. The `ETag` of your last read; if the resource changed since, the answer is "
                 "412 `precondition_failed` and nothing is written."),
)
ETAG_HEADER = OpenApiParameter(
    name="ETag", type=OpenApiTypes.STR, location=OpenApiParameter.HEADER, response=True,
    description="Strong entity tag of the returned representation; send it back in `If-Match`.",
)
