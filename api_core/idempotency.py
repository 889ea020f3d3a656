"""``Idempotency-Key`` for every POST under /api/, without any view opting in.

Where it hooks in, and why: a Django middleware (``IdempotencyMiddleware``,
last in ``MIDDLEWARE``) using ``process_view``. DRF offers no default hook
that both runs before the view and sees its final response: permission and
throttle classes see only the request and are replaced wholesale by a view
that sets its own, and a common base class would have to be remembered by
every view. The middleware runs for every view, DRF or not, and sees every
answer, including the 500 Django renders for an exception the view did not
handle. Because DRF authenticates lazily inside the view, the middleware
authenticates the caller itself with the resolved view's own authentication
classes (the configured defaults for a non-DRF view), so a key belongs to the
same user the view will see. It does this only for a POST carrying the header.
When authentication fails the request passes through untouched and the view
answers 401 or 403 as usual: unauthenticated requests get no idempotency.

What happens (see docs/api/idempotency.md for the partner-facing contract):

- The key is claimed in its own committed transaction before the view runs,
  so a concurrent duplicate sees the claim and gets 409
  ``idempotency_request_in_progress``. ``process_view`` runs outside the
  transaction ``ATOMIC_REQUESTS`` would open around the view.
- A request is the method, the path with its query string and the body (JSON
  bodies compared after parsing, so key order and spacing do not matter).
  The same key with another request is 422 ``idempotency_key_reused``.
- Answers below 500 are stored and replayed byte for byte with their status,
  ``Content-Type``, ``Location`` and ``ETag``, plus ``Idempotent-Replayed: true``,
  without running the view again. 4xx answers are replayed too (as Stripe
  does): the view decided, and repeating the request would not change that;
  a corrected request needs a new key. The exception is 429, which says
  "not now" rather than "no", so it frees the key like a 5xx.
- 5xx answers (including an unhandled exception) free the key: the view's
  writes are atomic, so a failed request left nothing behind and a retry may
  run it again. A process killed mid-request cannot free its claim; a claim
  older than ``PUENTE["IDEMPOTENCY_LOCK_TIMEOUT"]`` (longer than any request
  may run) counts as abandoned and the next retry takes it over.
- Keys live ``PUENTE["IDEMPOTENCY_KEY_TTL"]`` (48 h); ``api_core.tasks``
  deletes expired records hourly.
- A body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is not read here: the view
  answers 413 for it.
"""
import hashlib
import json
import re

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.settings import api_settings

from .errors import ServiceError
from .exceptions import problem_response
from .services import idempotency_record_claim, idempotency_record_complete, idempotency_record_release

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX_LENGTH = 255
# Visible ASCII without the quote and backslash of an RFC 8941 string, which
# the IETF draft uses for the header; a key may also come as "quoted".
KEY_CHARACTERS = r"^[\x21\x23-\x5b\x5d-\x7e]+$"
STORED_HEADERS = ("Content-Type", "Content-Language", "Location", "ETag", "Last-Modified", "Link", "Allow")
API_PREFIX = "/api/"


def parse_key(raw: str) -> str | None:
    """The key in an ``Idempotency-Key`` header value, or None if it is not valid."""
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        raw = raw[1:-1]
    return raw if len(raw) <= KEY_MAX_LENGTH and re.fullmatch(KEY_CHARACTERS, raw) else None


def request_hash(*, method: str, path: str, body: bytes, content_type: str) -> str:
    """A fingerprint of what the request asks for, to tell a retry from a new request."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if body and (media_type == "application/json" or media_type.endswith("+json")):
        try:
            body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
        except ValueError:
            pass  # not JSON after all: compare the bytes
    digest = hashlib.sha256(f"{method}\n{path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def authenticated_user(request, view_func):
    """The user the view will authenticate, without the view running; None when
    the request is anonymous or its credentials fail."""
    view_class = getattr(view_func, "cls", None)
    if view_class is not None:
        authenticators = view_class(**getattr(view_func, "initkwargs", {})).get_authenticators()
    else:
        authenticators = [auth() for auth in api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    # The authenticators are called directly: ``Request.user`` would also
    # overwrite ``request.user``, which session authentication reads later.
    drf_request = Request(request, authenticators=authenticators)
    for authenticator in drf_request.authenticators:
        try:
            result = authenticator.authenticate(drf_request)
        except exceptions.APIException:
            return None
        if result is not None:
            user = result[0]
            return user if user is not None and user.is_authenticated else None
    return None


def replay(record) -> HttpResponse:
    response = HttpResponse(bytes(record.response_body or b""), status=record.response_status)
    del response["Content-Type"]
    for name, value in record.response_headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def releases_key(response) -> bool:
    return response.streaming or response.status_code >= 500 or response.status_code == 429


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        record = getattr(request, "_idempotency_record", None)
        if record is not None:
            if releases_key(response):
                idempotency_record_release(record=record)
            else:
                headers = {name: response[name] for name in STORED_HEADERS if response.has_header(name)}
                idempotency_record_complete(
                    record=record, status=response.status_code, body=response.content, headers=headers
                )
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or not request.path_info.startswith(API_PREFIX):
            return None
        raw_key = request.headers.get(HEADER)
        if raw_key is None:
            return None
        user = authenticated_user(request, view_func)
        if user is None:
            return None
        key = parse_key(raw_key)
        if key is None:
            return problem_response(
                400, "idempotency_key_invalid",
                _("Idempotency-Key must be 1 to %(max)d visible ASCII characters.") % {"max": KEY_MAX_LENGTH},
            )
        try:
            body = request.body
        except RequestDataTooBig:
            return None
        fingerprint = request_hash(
            method=request.method, path=request.get_full_path(), body=body,
            content_type=request.headers.get("Content-Type", ""),
        )
        try:
            record, owned = idempotency_record_claim(
                user=user, key=key, method=request.method, path=request.path, request_hash=fingerprint
            )
        except ServiceError as exc:
            response = problem_response(exc.status, exc.code, exc.message)
            if exc.status == 409:
                response["Retry-After"] = "1"
            return response
        if not owned:
            return replay(record)
        request._idempotency_record = record
        return None
