"""RFC 9457 problem details for every error under /api/."""
import logging

import psycopg
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import OperationalError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response

from .errors import ServiceError

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:puente:problem:"


def problem_type(code: str) -> str:
    return TYPE_PREFIX + code


def _titles():
    # Built on each call so that the active language applies.
    return {
        400: _("Bad request"),
        401: _("Authentication required"),
        403: _("Forbidden"),
        404: _("Not found"),
        405: _("Method not allowed"),
        406: _("Not acceptable"),
        409: _("Conflict"),
        412: _("Precondition failed"),
        413: _("Request body too large"),
        415: _("Unsupported media type"),
        422: _("Unprocessable request"),
        428: _("Precondition required"),
        429: _("Too many requests"),
        500: _("Internal server error"),
        503: _("Service unavailable"),
    }


def problem_body(status_code: int, code: str, detail: str, **extra) -> dict:
    body = {
        "type": problem_type(code),
        "title": _titles().get(status_code, _("Error")),
        "status": status_code,
        "detail": str(detail),
        "code": code,
    }
    body.update(extra)
    return body


def flatten_validation_errors(detail, path=()) -> list[dict]:
    """Turn DRF's nested error structure into ``[{field, code, message}]``,
    with dotted paths such as ``members.0.given_names``."""
    errors = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            errors += flatten_validation_errors(value, path + (str(key),))
    elif isinstance(detail, list):
        for index, item in enumerate(detail):
            if isinstance(item, (dict, list)):
                errors += flatten_validation_errors(item, path + (str(index),))
            else:
                errors += flatten_validation_errors(item, path)
    else:
        if path and path[-1] == "non_field_errors":
            path = path[:-1]  # an error about the object itself (a list, a nested body) names the object
        field = ".".join(path) if path else None
        errors.append({"field": field, "code": getattr(detail, "code", "invalid"), "message": str(detail)})
    return errors


STATEMENT_TIMEOUT_RETRY_AFTER = 5


def is_statement_timeout(exc) -> bool:
    """A statement PostgreSQL cut off at ``statement_timeout`` (or a cancel)."""
    return isinstance(exc, OperationalError) and isinstance(exc.__cause__, psycopg.errors.QueryCanceled)


def _statement_timeout_problem():
    logger.warning("A statement of an API request ran past the statement timeout")
    body = problem_body(503, "statement_timeout",
                        _("The request took too long and was stopped. Try again later, or narrow it "
                          "(fewer or longer search words, a filter)."))
    return 503, body, {"Retry-After": str(STATEMENT_TIMEOUT_RETRY_AFTER)}


def _problem_from_exception(exc):
    """Return (status, body, headers) for exceptions we understand, else None."""
    headers = {}
    if is_statement_timeout(exc):
        return _statement_timeout_problem()
    if isinstance(exc, ServiceError):
        extra = {}
        if exc.field:
            extra["errors"] = [{"field": exc.field, "code": exc.code, "message": exc.message}]
        return exc.status, problem_body(exc.status, exc.code, exc.message, **extra), headers
    if isinstance(exc, RequestDataTooBig):
        return 413, problem_body(413, "payload_too_large", _("The request body is too large.")), headers
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_validation_errors(exc.detail)
        body = problem_body(400, "validation_error", _("The request has invalid fields."), errors=errors)
        return 400, body, headers

    detail = exc.detail
    code = getattr(detail, "code", None) or exc.default_code
    if isinstance(detail, (list, dict)):
        detail = "; ".join(str(item) for item in (detail.values() if isinstance(detail, dict) else detail))
    return exc.status_code, problem_body(exc.status_code, code, detail), headers


def problem_exception_handler(exc, context):
    result = _problem_from_exception(exc)
    if result is None:
        return None  # Unknown exception: let Django log it and answer 500.
    status_code, body, headers = result
    request = context.get("request")
    view = context.get("view")
    if request is not None and view is not None and getattr(request, "accepted_renderer", None) is None:
        try:
            renderer, media_type = view.perform_content_negotiation(request, force=True)
            request.accepted_renderer, request.accepted_media_type = renderer, media_type
        except Exception:  # negotiation itself failed (406): fall back to JSON
            pass
    response = Response(body, status=status_code, headers=headers)
    renderer = getattr(request, "accepted_renderer", None)
    if isinstance(renderer, BrowsableAPIRenderer):
        return response  # a person in the browsable API reads the problem on its HTML page
    if request is not None and not isinstance(renderer, JSONRenderer):
        # A view that renders something else (an iCalendar file) still answers
        # its errors as problem details, never as a broken body of its own type.
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), PROBLEM_CONTENT_TYPE
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def problem_response(status_code: int, code: str, detail: str, **extra) -> JsonResponse:
    """A problem answer outside DRF views (URL not found, server error)."""
    return JsonResponse(
        problem_body(status_code, code, detail, **extra),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )


def statement_timeout_response() -> JsonResponse:
    """The 503 of ``is_statement_timeout``, for code that runs before the view (middleware)."""
    status_code, body, headers = _statement_timeout_problem()
    response = problem_response(status_code, body["code"], body["detail"])
    for name, value in headers.items():
        response[name] = value
    return response


@csrf_exempt  # otherwise a POST to an unknown URL is a CSRF failure page, not a 404
def api_not_found(request, *args, **kwargs):
    return problem_response(status.HTTP_404_NOT_FOUND, "not_found", _("No such resource."))
