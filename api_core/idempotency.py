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

- One transaction runs the whole request: ``process_view`` opens it, takes
  the key (a PostgreSQL advisory lock held until the transaction ends) and
  reads a stored answer; the view runs inside it; ``__call__`` stores the
  view's answer in it and commits, so the request's writes and its answer are
  committed together or not at all, with one commit. A concurrent duplicate
  cannot take the key and gets 409 ``idempotency_request_in_progress`` at
  once; once the first has committed, the duplicate finds its answer.
  (``ATOMIC_REQUESTS`` is off: the services' own transactions become
  savepoints of this one.)
- A request is the method, the path with its query string and the body (JSON
  bodies compared after parsing, so key order and spacing do not matter).
  The same key with another request is 422 ``idempotency_key_reused``.
- Answers below 500 are stored and replayed byte for byte with their status,
  ``Content-Type``, ``Location`` and ``ETag``, plus ``Idempotent-Replayed: true``,
  without running the view again. 4xx answers are replayed too (as Stripe
  does): the view decided, and repeating the request would not change that;
  a corrected request needs a new key. The exception is 429, which says
  "not now" rather than "no", so it frees the key like a 5xx.
- 5xx answers (including an unhandled exception) roll the transaction back,
  which frees the key and undoes whatever the view wrote, so a retry may run
  it again. A process killed mid-request loses its connection, which ends
  the transaction and its lock: nothing stays claimed.
- A replay is an answer about an object, given again: it is given only
  while the caller may still read that object. Before replaying, the
  middleware reads it as the caller, through the API's own read of it (a GET
  of the answer's ``Location``, else of the request's path or the nearest
  resource above it, e.g. the handoff of ``/handoffs/{id}/accept/``). When
  that read is refused (a transferred case, a lost role), the caller gets the
  read's answer, the 404 a fresh request would get, and nothing of the record.
- Keys live ``PUENTE["IDEMPOTENCY_KEY_TTL"]`` (48 h); ``api_core.tasks``
  deletes expired records hourly.
- A body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is not read here: the view
  answers 413 for it.
"""
import contextlib
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, OperationalError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from . import parsers
from .errors import ServiceError
from .exceptions import is_statement_timeout, problem_response, statement_timeout_response
from .services import (
    idempotency_key_in_progress,
    idempotency_key_lock,
    idempotency_record_find,
    idempotency_record_store,
)

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
        with contextlib.suppress(ValueError):  # not JSON after all (or too deep): compare the bytes
            body = json.dumps(parsers.loads(body), sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(f"{method}\n{path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def authenticate(request, view_func) -> tuple | None:
    """``(user, auth)`` as the view would authenticate the caller, without the
    view running; None when the request is anonymous or its credentials fail."""
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
            return result if user is not None and user.is_authenticated else None
    return None


def replay(record) -> HttpResponse:
    response = HttpResponse(bytes(record.response_body or b""), status=record.response_status)
    del response["Content-Type"]
    for name, value in record.response_headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def _readable_resources(request, record):
    """Where the object a stored answer is about is read, nearest first: the
    answer's ``Location`` (what a POST created), then the request's path and
    the paths above it, within the API."""
    location = record.response_headers.get("Location")
    if location:
        yield urlsplit(location).path
    path = request.path_info
    while path.startswith(API_PREFIX):
        yield path
        path = path.rstrip("/").rpartition("/")[0] + "/"


def _reading_view(path: str, urlconf):
    """The resolved match of ``path`` when a DRF view reads it with GET, else None."""
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return None
    actions = getattr(match.func, "actions", None)
    if actions is not None:
        return match if "get" in actions else None
    view_class = getattr(match.func, "cls", None)
    return match if view_class is not None and hasattr(view_class, "get") else None


def replay_refusal(request, record, credentials) -> HttpResponse | None:
    """None while the caller may still read what ``record`` answered about;
    else the answer of the read that refuses it (404: the object is no longer
    theirs to see), to give instead of the replay."""
    urlconf = getattr(request, "urlconf", None)
    for path in _readable_resources(request, record):
        match = _reading_view(path, urlconf)
        if match is not None:
            break
    else:
        return None
    read = HttpRequest()
    read.method, read.path, read.path_info, read.resolver_match = "GET", path, path, match
    # The caller's headers (language, host), without the body's or the
    # preconditions' ones: a read, answered in full.
    read.META = {name: value for name, value in request.META.items()
                 if not name.startswith(("CONTENT_", "HTTP_IF_", "HTTP_IDEMPOTENCY"))}
    read.META.update(REQUEST_METHOD="GET", QUERY_STRING="", PATH_INFO=path)
    read.COOKIES = request.COOKIES
    for name in ("LANGUAGE_CODE", "session", "urlconf"):
        if hasattr(request, name):
            setattr(read, name, getattr(request, name))
    read.user = credentials[0]
    read._force_auth_user, read._force_auth_token = credentials
    response = _rendered(match.func(read, *match.args, **match.kwargs))
    if response.status_code >= 300:
        return response
    if _seen_otherwise(record, response):
        return _rendered(_NotReadable.as_view()(read))
    return None


def _rendered(response):
    if hasattr(response, "render"):
        response.render()
    return response


def _seen_otherwise(record, read) -> bool:
    """The read shows the object the stored answer is about under another
    ``access`` than the answer did (the full case it created, now seen in a
    former owner's view)."""
    try:
        stored, now = json.loads(bytes(record.response_body or b"")), json.loads(read.content)
    except ValueError:
        return False
    if not (isinstance(stored, dict) and isinstance(now, dict)) or "access" not in stored:
        return False
    return stored.get("id") == now.get("id") and stored["access"] != now.get("access")


class _NotReadable(APIView):
    """The 404 of an object the caller may not read, as every view answers it."""

    schema = None

    def get(self, request, *args, **kwargs):
        raise exceptions.NotFound()


def releases_key(response) -> bool:
    return response.streaming or response.status_code >= 500 or response.status_code == 429


def refusal(exc: ServiceError) -> HttpResponse:
    response = problem_response(exc.status, exc.code, exc.message)
    if exc.status == 409:
        response["Retry-After"] = "1"
    return response


@dataclass
class Claim:
    """A key held by the request running now, and the transaction it runs in."""

    atomic: transaction.Atomic
    user: object
    key: str
    method: str
    path: str
    request_hash: str
    claimed_at: datetime


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            response = self.get_response(request)
        except BaseException as exc:
            claim = getattr(request, "_idempotency_claim", None)
            if claim is not None:
                claim.atomic.__exit__(type(exc), exc, exc.__traceback__)
            raise
        claim = getattr(request, "_idempotency_claim", None)
        if claim is not None:
            response = self.finish(claim, response)
        return response

    def finish(self, claim: Claim, response):
        """Store the answer and commit with the view's writes, or roll both
        back (a 5xx or 429 frees the key)."""
        try:
            if releases_key(response) or connection.needs_rollback:
                transaction.set_rollback(True)
            else:
                headers = {name: response[name] for name in STORED_HEADERS if response.has_header(name)}
                try:
                    idempotency_record_store(
                        user=claim.user, key=claim.key, method=claim.method, path=claim.path,
                        request_hash=claim.request_hash, claimed_at=claim.claimed_at,
                        status=response.status_code, body=response.content, headers=headers,
                    )
                except IntegrityError:
                    # A concurrent duplicate answered first (only where the key
                    # cannot be locked): undo this run; its retry replays.
                    transaction.set_rollback(True)
                    response = refusal(idempotency_key_in_progress())
        except BaseException as exc:
            claim.atomic.__exit__(type(exc), exc, exc.__traceback__)
            raise
        claim.atomic.__exit__(None, None, None)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        try:
            return self._process_view(request, view_func)
        except OperationalError as exc:
            # Raised here, before the view, it would be a 500: the view's own
            # statements get the same 503 from the exception handler.
            if not is_statement_timeout(exc):
                raise
            return statement_timeout_response()

    def _process_view(self, request, view_func):
        if request.method != "POST" or not request.path_info.startswith(API_PREFIX):
            return None
        raw_key = request.headers.get(HEADER)
        if raw_key is None:
            return None
        credentials = authenticate(request, view_func)
        if credentials is None:
            return None
        user = credentials[0]
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
        claimed_at = timezone.now()
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            if not idempotency_key_lock(user=user, key=key):
                raise idempotency_key_in_progress()
            record = idempotency_record_find(user=user, key=key, request_hash=fingerprint, now=claimed_at)
            refused = None if record is None else replay_refusal(request, record, credentials)
        except ServiceError as exc:
            atomic.__exit__(None, None, None)
            return refusal(exc)
        except BaseException as exc:
            atomic.__exit__(type(exc), exc, exc.__traceback__)
            raise
        if record is not None:
            atomic.__exit__(None, None, None)
            return refused if refused is not None else replay(record)
        # The view sees the caller authenticated here (DRF's forced
        # authentication), rather than looking the token up a second time.
        request._force_auth_user, request._force_auth_token = credentials
        request._idempotency_claim = Claim(
            atomic=atomic, user=user, key=key, method=request.method, path=request.path,
            request_hash=fingerprint, claimed_at=claimed_at,
        )
        return None
