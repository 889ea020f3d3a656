"""The request body limit of the API, enforced before Django sees the request.

Django refuses a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` only when a view
reads it: after the session, the authentication (a database query), the rate
limit and the idempotency check have run. And a body sent without
``Content-Length`` (``Transfer-Encoding: chunked``) is not read at all under
WSGI: the view would see an empty body and answer as if the client had sent
nothing.

This WSGI wrapper, around the whole application (``config/wsgi.py``), does
both before anything else, for paths under ``/api/``:

- a declared ``Content-Length`` over the limit is answered 413 at once,
  without reading a byte of the body;
- a chunked body is read up to one byte past the limit: over it, 413 (what
  was read is dropped, the rest is never read); within it, the body is handed
  on with its ``Content-Length``, as if it had been sent with one.
"""
import io

from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.utils import translation
from django.utils.translation import gettext as _

from .exceptions import problem_response

API_PREFIX = "/api/"
READ_CHUNK = 64 * 1024


class BodyLimit:
    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith(API_PREFIX):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            declared = environ.get("CONTENT_LENGTH")
            if declared:
                if limit is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
                    return self.refuse(environ, start_response)
            elif "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
                body = read_at_most(environ["wsgi.input"], None if limit is None else limit + 1)
                if limit is not None and len(body) > limit:
                    return self.refuse(environ, start_response)
                environ["wsgi.input"] = io.BytesIO(body)
                environ["CONTENT_LENGTH"] = str(len(body))
        return self.application(environ, start_response)

    @staticmethod
    def refuse(environ, start_response):
        request = WSGIRequest(environ)  # reads no body: only for the language of the answer
        with translation.override(translation.get_language_from_request(request)):
            response = problem_response(413, "payload_too_large", _("The request body is too large."))
        response["Content-Language"] = translation.get_language_from_request(request)
        start_response(f"{response.status_code} {response.reason_phrase}",
                       [(name, value) for name, value in response.items()])
        return [response.content]


def read_at_most(stream, size: int | None) -> bytes:
    """Read ``stream`` to its end, or ``size`` bytes if it is longer."""
    parts, total = [], 0
    while size is None or total < size:
        part = stream.read(READ_CHUNK if size is None else min(READ_CHUNK, size - total))
        if not part:
            break
        parts.append(part)
        total += len(part)
    return b"".join(parts)
