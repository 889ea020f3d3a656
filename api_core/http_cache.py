"""What caches may keep, decided in one place for every answer.

- ``Cache-Control: no-store`` on every answer whose view did not choose its
  own: case and person reads, exports, tokens, webhook secrets, recovery
  codes and most of what Puente serves carry personal data or a one-time
  secret, and a shared or browser cache must not keep a copy. A view that
  may be cached says so itself (the calendar feeds: ``private, no-cache``).
- Conditional reads (RFC 9110 §13.1.2): a ``GET`` or ``HEAD`` whose answer
  has an ``ETag`` that ``If-None-Match`` names is answered ``304 Not
  Modified`` without a body. The view has run (a logged read stays logged);
  only the body is saved. ``If-Match`` is not looked at here: the services
  compare it with the locked row (``api_core.preconditions``).
"""
from django.http import HttpResponseNotModified

NO_STORE = "no-store"
# RFC 9110 §15.4.5: what a 304 carries of the answer it stands for.
_NOT_MODIFIED_HEADERS = ("Cache-Control", "Content-Location", "Date", "ETag", "Expires", "Vary")


def none_match(header: str, etag: str) -> bool:
    """``If-None-Match`` uses the weak comparison: ``W/"x"`` matches ``"x"``."""
    if header.strip() == "*":
        return True
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return etag.removeprefix("W/") in tags


class CacheRulesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Cache-Control" not in response:
            response["Cache-Control"] = NO_STORE
        condition, etag = request.headers.get("If-None-Match"), response.get("ETag")
        if (request.method in ("GET", "HEAD") and response.status_code == 200 and condition and etag
                and none_match(condition, etag)):
            not_modified = HttpResponseNotModified()
            for name in _NOT_MODIFIED_HEADERS:
                if name in response:
                    not_modified[name] = response[name]
            response.close()
            return not_modified
        return response


def document_conditional_reads(result, generator, request, public):
    """drf-spectacular postprocessing hook: every ``GET`` whose 200 answer
    has an ``ETag`` takes ``If-None-Match`` and may answer 304."""
    parameter = {
        "name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"},
        "description": "Optional. The `ETag` of your last read: if the resource has not changed since, the answer "
                       "is 304 Not Modified, without a body.",
    }
    for operations in result.get("paths", {}).values():
        operation = operations.get("get")
        ok = (operation or {}).get("responses", {}).get("200", {})
        if "ETag" in ok.get("headers", {}):
            operation.setdefault("parameters", []).append(dict(parameter))
            operation["responses"].setdefault("304", {
                "description": "Not Modified: the `ETag` in `If-None-Match` is still the current one.",
                "headers": {"ETag": ok["headers"]["ETag"]},
            })
    return result
