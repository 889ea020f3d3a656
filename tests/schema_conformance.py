"""Every API answer the suite records is checked against the published schema
with openapi-core's response validation, as a strict client would check it: a
JSON or problem+json answer under /api/v1/ whose status, media type, body or
headers the schema does not allow fails the test that received it.

Registered from tests/conftest.py. The schema is generated and loaded once per
session; each answer then costs one validation. A test whose answers are
outside the contract on purpose (a 500 drill) says so with
``@pytest.mark.schema_exempt(reason="…")``. Unknown URLs (no path of the
schema) are not checked: there is nothing to check them against."""
import functools
import json
from urllib.parse import urlsplit

import pytest
from django.test import client as django_client

MEDIA_TYPES = ("application/json", "application/problem+json")
PREFIX = "/api/v1/"
_STATE = {"active": None, "mismatches": []}


def pytest_configure(config):
    config.addinivalue_line("markers", "schema_exempt(reason): the test's API answers are outside the "
                                       "published schema on purpose; not checked against it")


@functools.cache
def _openapi():
    from openapi_core import Config, OpenAPI

    from tests.openapi import published_schema

    schema = published_schema()
    # openapi-core reads application/json only; a problem is JSON too.
    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    return OpenAPI.from_dict(json.loads(json.dumps(schema)), config=config), schema["servers"][0]["url"]


def check(method: str, path: str, response) -> list[str]:
    """What the schema says is wrong with ``response`` to ``method path`` (nothing: [])."""
    from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
    from openapi_core.testing import MockRequest, MockResponse
    from openapi_core.validation.response.exceptions import ResponseValidationError

    openapi, server = _openapi()
    request = MockRequest(server, method.lower(), path)
    content_type = response.get("Content-Type", "").split(";")[0].strip()
    headers = {name: value for name, value in response.items()}
    answer = MockResponse(response.content, status_code=response.status_code, headers=headers,
                          content_type=content_type)
    try:
        openapi.validate_response(request, answer)
    except (PathNotFound, OperationNotFound) as exc:
        # No operation to check against: an unknown path, or a method the path does not
        # publish answered 405 as it must.
        if isinstance(exc, PathNotFound) or response.status_code == 405:
            return []
        return [f"{exc}"]
    except ResponseValidationError as exc:
        cause = exc.__cause__ or exc
        errors = getattr(cause, "schema_errors", None) or [cause]
        return [f"{type(cause).__name__}: " + "; ".join(
            f"{'/'.join(map(str, getattr(error, 'absolute_path', [])))} {getattr(error, 'message', error)}"[:300]
            for error in errors)]
    except Exception as exc:  # openapi-core's own errors (status or media type not in the schema)
        return [f"{type(exc).__name__}: {exc}"]
    return []


_original_request = django_client.Client.request


def _checked_request(self, **request):
    response = _original_request(self, **request)
    active = _STATE["active"]
    path = request.get("PATH_INFO", "")
    if active is None or not path.startswith(PREFIX):
        return response
    content_type = response.get("Content-Type", "").split(";")[0].strip()
    if content_type not in MEDIA_TYPES or getattr(response, "streaming", False):
        return response
    method = request.get("REQUEST_METHOD", "GET")
    for problem in check(method, urlsplit(path).path, response):
        active.append(f"{method} {path} → {response.status_code}: {problem}")
    return response


django_client.Client.request = _checked_request


@pytest.fixture(autouse=True)
def _schema_conformance(request):
    """Fails the test (at teardown) with every answer the schema refuses."""
    marker = request.node.get_closest_marker("schema_exempt")
    if marker is not None:
        assert marker.kwargs.get("reason"), "schema_exempt needs a reason"
        yield
        return
    mismatches = []
    _STATE["active"] = mismatches
    try:
        yield
    finally:
        _STATE["active"] = None
    if mismatches:
        _STATE["mismatches"].append((request.node.nodeid, mismatches))
        pytest.fail("API answers outside the published schema:\n" + "\n".join(mismatches[:10]), pytrace=False)
