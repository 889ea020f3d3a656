"""Abuse: a token hammering the API, oversized bodies, oversized pages.

The rate limit is tested against the real Redis that holds its counters
(marked ``redis``); the body limit through the WSGI application gunicorn
serves (``config.wsgi.application``), with the body counted as it is read."""
import concurrent.futures
import io
import json
import time
import types
import wsgiref.util

import pytest
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext

from api_core.services import token_issue
from api_core.throttling import TokenRateThrottle
from config.wsgi import application
from tests.factories import AgencyFactory

PROBLEM = "application/problem+json"


def assert_problem(status, headers, body, expected_status, code):
    assert status == expected_status, body
    assert headers["Content-Type"] == PROBLEM
    problem = json.loads(body)
    assert (problem["status"], problem["code"], problem["type"]) == (
        expected_status, code, f"urn:puente:problem:{code}")
    assert problem["title"] and problem["detail"]
    return problem


# --- Rate limit ------------------------------------------------------------------------


@pytest.mark.redis
class TestHammeringToken:
    @pytest.fixture(autouse=True)
    def low_rate(self, monkeypatch):
        cache.clear()  # this run's own Redis database
        monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"token": "5/minute"})
        yield
        cache.clear()

    def test_over_the_rate_is_429_with_retry_after_as_problem_json(self, client_for, pe_caseworker):
        client = client_for(pe_caseworker)
        assert [client.get("/api/v1/me/").status_code for _ in range(5)] == [200] * 5
        response = client.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en")
        assert_problem(response.status_code, response, response.content, 429, "throttled")
        # At most the rest of this minute, plus the fifth of the next one after which
        # this minute's five requests weigh less than four.
        assert 0 < int(response["Retry-After"]) <= 60 + 60 // 5
        # The counter lives in Redis, shared by every process: it is there.
        assert any(b"throttle_token_" in key for key in cache._cache.get_client().keys("*"))

    def test_another_token_of_the_same_user_and_another_user_are_not_slowed(
            self, client_for, pe_caseworker, cl_caseworker):
        hammer = client_for(pe_caseworker)
        for _ in range(5):
            hammer.get("/api/v1/me/")
        assert hammer.get("/api/v1/me/").status_code == 429
        assert client_for(cl_caseworker).get("/api/v1/me/").status_code == 200
        # A second token of the same user is a second partner system: its own budget.
        assert client_for(pe_caseworker).get("/api/v1/me/").status_code == 200

    def test_requests_refused_before_the_rate_limit_do_not_use_it_up(self, client_for, committee_member):
        """The request is counted with its concurrency slot, before its token is
        read; one refused before the throttle decides (here 403) is taken back."""
        client = client_for(committee_member)
        assert [client.get("/api/v1/webhooks/").status_code for _ in range(8)] == [403] * 8
        assert [client.get("/api/v1/me/").status_code for _ in range(6)] == [200] * 5 + [429]

    def test_a_request_is_counted_once(self, client_for, pe_caseworker):
        """Counted early and decided by the throttle: one count, not two."""
        client = client_for(pe_caseworker)
        client.get("/api/v1/me/")
        counters = cache._cache.get_client().keys(cache.make_key("throttle_token_") + "*")
        assert len(counters) == 1 and int(cache._cache.get_client().get(counters[0])) == 1

    def test_a_refused_write_writes_nothing(self, client_for, pe_caseworker):
        client = client_for(pe_caseworker)
        for _ in range(5):
            client.get("/api/v1/me/")
        response = client.patch("/api/v1/me/", {"time_zone": "America/Santiago"}, format="json")
        assert response.status_code == 429
        pe_caseworker.refresh_from_db()
        assert pe_caseworker.time_zone != "America/Santiago"


# --- Body size ---------------------------------------------------------------------------


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def call_wsgi(method, path, body: bytes, *, token=None, chunked=False, language="en", content_length=None):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "CONTENT_TYPE": "application/json",
               "HTTP_ACCEPT_LANGUAGE": language}
    wsgiref.util.setup_testing_defaults(environ)
    stream = CountingStream(body)
    environ["wsgi.input"] = stream
    if chunked:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    else:
        environ["CONTENT_LENGTH"] = str(len(body)) if content_length is None else content_length
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(headers)

    # As Django's test client does: the end of the request must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        chunks = application(environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer["status"], answer["headers"], content, stream


LIMIT = 1024 * 1024  # the published limit (docs/api/README.md), DATA_UPLOAD_MAX_MEMORY_SIZE
BIG = b'{"time_zone": "' + b"x" * (10 * LIMIT) + b'"}'


@pytest.fixture
def token(pe_caseworker):
    return token_issue(user=pe_caseworker, name="test")[1]


def test_an_oversized_body_with_content_length_is_refused_unread(db, token, django_assert_num_queries):
    with django_assert_num_queries(0):  # not even the token is looked up
        status, headers, content, stream = call_wsgi("POST", "/api/v1/cases/", BIG, token=token)
    problem = assert_problem(status, headers, content, 413, "payload_too_large")
    assert problem["detail"] == "The request body is too large."
    assert stream.bytes_read == 0


def test_an_oversized_chunked_body_is_refused_after_the_limit(db, token, django_assert_num_queries):
    with django_assert_num_queries(0):
        status, headers, content, stream = call_wsgi("POST", "/api/v1/cases/", BIG, token=token, chunked=True,
                                                     language="es")
    problem = assert_problem(status, headers, content, 413, "payload_too_large")
    assert problem["detail"] == "El cuerpo de la solicitud es demasiado grande."
    assert stream.bytes_read == LIMIT + 1


def test_a_chunked_body_within_the_limit_is_read_not_dropped(token, pe_caseworker):
    body = json.dumps({"time_zone": "America/Santiago"}).encode()
    status, headers, content, _ = call_wsgi("PATCH", "/api/v1/me/", body, token=token, chunked=True)
    assert status == 200, content
    assert json.loads(content)["time_zone"] == "America/Santiago"
    pe_caseworker.refresh_from_db()
    assert pe_caseworker.time_zone == "America/Santiago"


@pytest.mark.parametrize("length", ["²", "-1", "abc", "1e9"])
def test_a_content_length_that_is_not_a_number_is_left_to_django(token, length):
    status, _, content, _ = call_wsgi("PATCH", "/api/v1/me/", b"{}", token=token, content_length=length)
    assert status < 500, content


def test_a_body_at_the_limit_goes_through_to_the_view(token):
    # Exactly the limit: not refused here; the view parses it (and finds the field invalid).
    padding = LIMIT - len(b'{"time_zone": ""}')
    body = b'{"time_zone": "' + b"x" * padding + b'"}'
    assert len(body) == LIMIT
    status, headers, content, stream = call_wsgi("PATCH", "/api/v1/me/", body, token=token)
    assert_problem(status, headers, content, 400, "validation_error")
    assert stream.bytes_read == LIMIT


# --- Page size -------------------------------------------------------------------------------


def test_a_page_size_over_the_maximum_is_capped_at_the_cost_of_the_maximum(client_for, pe_caseworker):
    """Documented as "at most 200" (docs/api/README.md): a larger page_size is
    served as 200, so it costs what a page of 200 costs and never more."""
    for number in range(205):
        AgencyFactory(code=f"bulk-{number:03d}")
    client = client_for(pe_caseworker)
    client.get("/api/v1/agencies/?page_size=1")  # the token's first use writes its last-used time
    with CaptureQueriesContext(connection) as at_max:
        assert len(client.get("/api/v1/agencies/?page_size=200").json()["results"]) == 200
    with CaptureQueriesContext(connection) as over:
        body = client.get("/api/v1/agencies/?page_size=1000000000").json()
    assert len(body["results"]) == 200 and body["next"]
    assert len(over) == len(at_max)
    assert any("LIMIT 201" in query["sql"] for query in over.captured_queries)


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1e9", "²"])
def test_a_page_size_that_is_not_a_positive_whole_number_is_a_400(client_for, pe_caseworker, value):
    response = client_for(pe_caseworker).get(f"/api/v1/agencies/?page_size={value}")
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert response.json()["errors"][0]["field"] == "page_size"


@pytest.mark.redis
class TestRateCounter:
    """The counter itself, against the Redis every process shares."""

    @pytest.fixture(autouse=True)
    def empty_cache(self):
        cache.clear()
        yield
        cache.clear()

    @staticmethod
    def allow(rate: str, token_pk: int):
        throttle = TokenRateThrottle()
        throttle.rate = rate
        throttle.num_requests, throttle.duration = throttle.parse_rate(rate)
        request = types.SimpleNamespace(auth=types.SimpleNamespace(digest=f"digest-{token_pk}"), user=None)
        return throttle.allow_request(request, None), throttle

    def test_many_connections_at_once_get_exactly_the_rate(self):
        """Each connection of a hammering client is served by another thread or
        process: none may overwrite another's count and let more through."""
        def hammer(_):
            return sum(self.allow("100/hour", 7)[0] for _ in range(25))

        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            admitted = sum(pool.map(hammer, range(16)))
        assert admitted == 100
        assert self.allow("100/hour", 8)[0]  # another token: its own count

    def test_retry_after_is_when_a_request_fits_again(self):
        assert [self.allow("3/second", 9)[0] for _ in range(3)] == [True] * 3
        allowed, throttle = self.allow("3/second", 9)
        assert not allowed
        wait = throttle.wait()
        assert 1 <= wait <= 2
        time.sleep(wait)
        assert self.allow("3/second", 9)[0]

    def test_refused_requests_are_not_counted(self):
        for _ in range(3):
            self.allow("3/second", 10)
        for _ in range(20):  # a client that ignores Retry-After for a while
            assert not self.allow("3/second", 10)[0]
        time.sleep(2.05)  # both windows that held the three admitted requests are past
        assert [self.allow("3/second", 10)[0] for _ in range(4)] == [True, True, True, False]
