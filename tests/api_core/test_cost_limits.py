"""What one caller can cost everyone else: search terms are capped, every
statement of a web request is bounded (503 ``statement_timeout``), and a
token has at most a few requests running at once and a share of server
time (429)."""
import contextlib
import math
import re
import threading
import time

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.db import connection, connections
from django.test import Client, RequestFactory

from api_core.concurrency import Slot
from api_core.services import token_issue
from cases.models import Case, CaseAccessLog
from tests.factories import case_with_family
from tests.openapi import published_schema

PROBLEM = "application/problem+json"


@pytest.mark.django_db
class TestSearchTerms:
    def test_fifty_one_letter_words_are_refused_before_any_search(self, client_for, pe_caseworker, pe_agency):
        case_with_family(pe_agency)
        response = client_for(pe_caseworker).get("/api/v1/cases/", {"search": " ".join("abcde" * 10)})
        assert response.status_code == 400 and response["Content-Type"] == PROBLEM
        assert response.json()["errors"][0]["field"] == "search"
        assert response.json()["errors"][0]["code"] == "too_many_words"
        assert not CaseAccessLog.objects.exists()  # nothing was read

    def test_an_overlong_word_is_refused(self, client_for, pe_caseworker):
        response = client_for(pe_caseworker).get("/api/v1/cases/", {"search": "x" * 41})
        assert response.status_code == 400 and response.json()["errors"][0]["code"] == "word_too_long"

    def test_short_words_can_be_refused(self, client_for, pe_caseworker, settings):
        """A one-letter word starts a word of nearly every member: an installation may refuse it."""
        settings.PUENTE = {**settings.PUENTE, "SEARCH_MIN_WORD_LENGTH": 2}
        response = client_for(pe_caseworker).get("/api/v1/cases/", {"search": "maría g"})
        assert response.status_code == 400 and response.json()["errors"][0]["code"] == "word_too_short"

    @pytest.mark.parametrize("space", [" ", "\t", "\x1c", "\x85", "\xa0", "\u2028", "\u3000"])
    def test_the_published_pattern_counts_words_as_the_server_does(self, client_for, pe_caseworker, space):
        """Any whitespace separates words, for the server and for the schema's pattern alike
        (a search the schema accepts is never a 400, one it refuses always is)."""
        client = client_for(pe_caseworker)
        pattern = re.compile(next(parameter["schema"]["pattern"] for parameter in published_schema()["paths"][
            "/api/v1/cases/"]["get"]["parameters"] if parameter["name"] == "search"))
        for count in (settings.PUENTE["SEARCH_MAX_WORDS"], settings.PUENTE["SEARCH_MAX_WORDS"] + 1):
            search = space.join(["ab"] * count)
            status = client.get("/api/v1/cases/", {"search": search}).status_code
            assert (status == 200) == bool(pattern.search(search)), (count, status)
            assert status == (200 if count == settings.PUENTE["SEARCH_MAX_WORDS"] else 400)

    def test_the_length_limit_counts_surrounding_whitespace(self, client_for, pe_caseworker):
        """The schema's maxLength is on what is sent, spaces included."""
        response = client_for(pe_caseworker).get("/api/v1/cases/", {"search": " ab" + " " * 98})
        assert response.status_code == 400 and response.json()["errors"][0]["field"] == "search"

    def test_a_search_within_the_caps_works(self, client_for, pe_caseworker, pe_agency):
        case = case_with_family(pe_agency)
        words = " ".join(case.reference.split("-"))  # three words of the reference
        rows = client_for(pe_caseworker).get("/api/v1/cases/", {"search": words}).json()["results"]
        assert [row["id"] for row in rows] == [str(case.pk)]


@pytest.mark.django_db(transaction=True)
class TestStatementTimeout:
    def test_the_web_connection_is_bounded(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT extract(epoch FROM current_setting('statement_timeout')::interval) * 1000")
            assert int(cursor.fetchone()[0]) == settings.STATEMENT_TIMEOUT_MS > 0

    def test_a_statement_cut_off_is_a_503_problem_with_retry_after(self, pe_caseworker, pe_agency):
        case_with_family(pe_agency)
        _token, raw = token_issue(user=pe_caseworker)
        # Another session holds the tokens table: the request's first statement waits, and is cut off.
        other = connections.create_connection("default")
        other.set_autocommit(False)
        with other.cursor() as cursor:
            cursor.execute("LOCK TABLE api_core_apitoken IN ACCESS EXCLUSIVE MODE")
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 300")
        try:
            response = Client().post("/api/v1/cases/", {"members": [{"relationship": "head", "given_names": "Ana"}]},
                                     content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}",
                                     HTTP_IDEMPOTENCY_KEY="slow-1")
        finally:
            other.rollback()
            other.close()
            with connection.cursor() as cursor:
                cursor.execute("RESET statement_timeout")
        assert response.status_code == 503, response.content
        assert response["Content-Type"] == PROBLEM and response["Retry-After"] == "5"
        assert response.json()["code"] == "statement_timeout"
        assert Case.objects.count() == 1  # nothing written
        # The key was freed: the same request runs once the database keeps up.
        again = Client().post("/api/v1/cases/", {"members": [{"relationship": "head", "given_names": "Ana"}]},
                              content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}",
                              HTTP_IDEMPOTENCY_KEY="slow-1")
        assert again.status_code == 201 and Case.objects.count() == 2


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
class TestConcurrentRequests:
    def test_a_token_gets_at_most_its_share_of_running_requests(self, pe_caseworker, cl_caseworker, pe_agency,
                                                               settings):
        """Requests held open inside the view: the next one of the same token
        is refused at once, another token's is served, and every slot comes back."""
        settings.PUENTE = {**settings.PUENTE, "MAX_CONCURRENT_REQUESTS": 2}
        case_with_family(pe_agency)
        _t, busy = token_issue(user=pe_caseworker)
        _t, other = token_issue(user=cl_caseworker)
        release, entered = threading.Event(), threading.Semaphore(0)
        from cases.api import case_views

        original = case_views.CaseList.get

        def held(view, request):
            entered.release()
            release.wait(10)
            return original(view, request)

        results = []

        def call(raw):
            try:
                results.append(Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code)
            finally:
                connections.close_all()

        case_views.CaseList.get = held
        try:
            threads = [threading.Thread(target=call, args=(busy,)) for _ in range(2)]
            for thread in threads:
                thread.start()
            assert entered.acquire(timeout=10) and entered.acquire(timeout=10)  # two running
            refused = Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Bearer {busy}")
            assert refused.status_code == 429 and refused["Content-Type"] == PROBLEM
            assert refused["Retry-After"] == "1" and refused.json()["code"] == "too_many_concurrent_requests"
            served = threading.Thread(target=call, args=(other,))
            served.start()
            assert entered.acquire(timeout=10)  # another token's request runs
        finally:
            release.set()
            case_views.CaseList.get = original
        for thread in [*threads, served]:
            thread.join(10)
        assert sorted(results) == [200, 200, 200]
        # Every slot came back: the busy token is served again.
        assert Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Bearer {busy}").status_code == 200

    def test_a_token_with_its_own_limit_runs_that_many_at_once(self, pe_caseworker, cl_caseworker, pe_agency,
                                                               settings):
        """A partner system's token issued with a limit of 4 runs four requests
        at once and is refused the fifth; a token without one still gets 2."""
        settings.PUENTE = {**settings.PUENTE, "MAX_CONCURRENT_REQUESTS": 2}
        case_with_family(pe_agency)
        _t, service = token_issue(user=pe_caseworker, name="sync", max_concurrent_requests=4)
        _t, default = token_issue(user=cl_caseworker)
        with _held_case_list() as held:
            held.start(service, 4)
            refused = Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Bearer {service}")
            assert refused.status_code == 429 and refused.json()["code"] == "too_many_concurrent_requests"
            assert "máximo 4)" in refused.json()["detail"]
            held.start(default, 2)
            refused = Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Bearer {default}")
            assert refused.status_code == 429 and "máximo 2)" in refused.json()["detail"]
        assert held.results == [200] * 6
        assert Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Bearer {service}").status_code == 200

    def test_each_slot_is_given_back_and_redis_stays_in_step(self, pe_caseworker):
        """The slot is given back without reading Redis's answer (it sends
        none): the counter is back to 0, and the next commands on the same
        connections get their own answers."""
        _t, raw = token_issue(user=pe_caseworker)
        statuses = [Client().get("/api/v1/ping/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code
                    for _ in range(5)]
        assert statuses == [200] * 5
        key = Slot.of(RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {raw}")).key
        assert cache._cache.get_client(key).get(key) == b"0"
        cache.set("puente-in-step", "sí")
        assert cache.get("puente-in-step") == "sí" and cache.delete("puente-in-step")

    def test_the_caller_is_told_apart_without_a_query(self, rf):
        a = Slot.of(rf.get("/api/v1/cases/", HTTP_AUTHORIZATION="Bearer pnt_a")).key
        b = Slot.of(rf.get("/api/v1/cases/", HTTP_AUTHORIZATION="Bearer pnt_b")).key
        assert a and b and a != b and "pnt_" not in a
        # Anyone else is their address: a share of server time, no slot.
        anonymous = Slot.of(rf.get("/api/v1/cases/", REMOTE_ADDR="192.0.2.7"))
        assert anonymous.key is None and anonymous.bucket.endswith("servertime:address:192.0.2.7")
        # A made-up session cookie is no session: still the address.
        forged = rf.get("/api/v1/cases/", REMOTE_ADDR="192.0.2.7", HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}=x")
        forged.session = SessionStore("x")
        assert Slot.of(forged).bucket == anonymous.bucket


class _HeldRequests:
    """Case-list requests held open inside the view until the block ends."""

    def __init__(self):
        self.release, self.entered = threading.Event(), threading.Semaphore(0)
        self.threads, self.results = [], []

    def _call(self, raw):
        try:
            self.results.append(Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code)
        finally:
            connections.close_all()

    def start(self, raw: str, count: int) -> None:
        """``count`` requests of ``raw``, returning once all of them run."""
        for _ in range(count):
            thread = threading.Thread(target=self._call, args=(raw,))
            thread.start()
            self.threads.append(thread)
        for _ in range(count):
            assert self.entered.acquire(timeout=10)


@contextlib.contextmanager
def _held_case_list():
    from cases.api import case_views

    held, original = _HeldRequests(), case_views.CaseList.get

    def get(view, request):
        held.entered.release()
        held.release.wait(10)
        return original(view, request)

    case_views.CaseList.get = get
    try:
        yield held
    finally:
        held.release.set()
        case_views.CaseList.get = original
        for thread in held.threads:
            thread.join(10)


def _bucket_empties_at(raw: str) -> float | None:
    """When the caller's server-time bucket empties, as stored in Redis."""
    key = Slot.of(RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {raw}")).bucket
    value = cache._cache.get_client(key).get(key)
    return None if value is None else float(value)


def _slow_case_list(monkeypatch, seconds: float) -> None:
    from cases.api import case_views

    original = case_views.CaseList.get

    def slow(view, request):
        time.sleep(seconds)
        return original(view, request)

    monkeypatch.setattr(case_views.CaseList, "get", slow)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
class TestServerTimeBudget:
    """Two running requests of one token can still keep a core busy; its
    share of server time is what bounds it."""

    def test_a_token_past_its_share_waits_while_another_is_served(self, pe_caseworker, cl_caseworker, settings,
                                                                  monkeypatch):
        # A second of server time costs 3 s of the share; 1.5 s of it may be used at once.
        settings.PUENTE = {**settings.PUENTE, "SERVER_SECONDS_PER_MINUTE": 20, "SERVER_SECONDS_BURST": 0.5}
        _slow_case_list(monkeypatch, 1.0)
        _t, busy = token_issue(user=pe_caseworker)
        _t, other = token_issue(user=cl_caseworker)
        assert Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Bearer {busy}").status_code == 200
        empties_at, asked = _bucket_empties_at(busy), time.time()
        refused = Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Bearer {busy}")
        answered = time.time()
        assert refused.status_code == 429 and refused["Content-Type"] == PROBLEM
        assert refused.json()["code"] == "server_time_exhausted"
        # Retry-After: when the bucket is back under the burst (1.5 s ahead), as of the refusal.
        retry_after = int(refused["Retry-After"])
        assert 1 <= math.ceil(empties_at - answered - 1.5) <= retry_after <= math.ceil(empties_at - asked - 1.5)
        assert Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 200
        time.sleep(retry_after + 0.6)
        assert Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Bearer {busy}").status_code == 200

    def test_each_request_is_charged_its_duration(self, pe_caseworker, settings, monkeypatch):
        settings.PUENTE = {**settings.PUENTE, "SERVER_SECONDS_PER_MINUTE": 15, "SERVER_SECONDS_BURST": 2}
        _slow_case_list(monkeypatch, 0.25)
        _t, raw = token_issue(user=pe_caseworker)
        assert _bucket_empties_at(raw) is None
        asked = time.time()
        assert Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
        answered = time.time()
        # Each second a 15 s-a-minute share takes 4 s to pay back: at least the 0.25 s
        # slept, at most the whole round trip.
        assert asked + 4 * 0.25 <= _bucket_empties_at(raw) <= answered + 4 * (answered - asked)

    def test_a_refused_request_is_charged_too(self, pe_caseworker, settings):
        """A client that ignores Retry-After keeps itself out."""
        # A millisecond of server time costs a second of the share.
        settings.PUENTE = {**settings.PUENTE, "SERVER_SECONDS_PER_MINUTE": 0.06, "SERVER_SECONDS_BURST": 0}
        _t, raw = token_issue(user=pe_caseworker)
        assert Client().get("/api/v1/ping/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
        first = _bucket_empties_at(raw)
        refused = Client().get("/api/v1/ping/", HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert refused.status_code == 429 and refused.json()["code"] == "server_time_exhausted"
        assert int(refused["Retry-After"]) >= 1
        assert _bucket_empties_at(raw) > first

    def test_no_budget_when_it_is_set_to_zero(self, pe_caseworker, settings):
        settings.PUENTE = {**settings.PUENTE, "SERVER_SECONDS_PER_MINUTE": 0, "SERVER_SECONDS_BURST": 0}
        _t, raw = token_issue(user=pe_caseworker)
        statuses = {Client().get("/api/v1/ping/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code for _ in range(3)}
        assert statuses == {200} and _bucket_empties_at(raw) is None


def _bucket_of(ident: str) -> float | None:
    key = cache.make_and_validate_key("servertime:" + ident)
    value = cache._cache.get_client(key).get(key)
    return None if value is None else float(value)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
class TestServerTimeBeyondTokens:
    """Anonymous callers (the schema) and the admin (its printouts) have a
    share of server time too: per address, per signed-in user."""

    @pytest.fixture(autouse=True)
    def fresh_addresses(self):
        """An address's bucket outlives the test (a tiny share takes minutes to pay back)."""
        addresses = ["192.0.2.10", "192.0.2.11", "203.0.113.5", "203.0.113.6", "10.0.0.1", "127.0.0.1"]
        keys = [cache.make_and_validate_key(f"servertime:address:{address}") for address in addresses]
        cache._cache.get_client(keys[0]).delete(*keys)

    def test_an_anonymous_caller_past_its_share_waits_while_another_address_is_served(self, settings):
        # A millisecond of server time costs a second of the share.
        settings.PUENTE = {**settings.PUENTE, "SERVER_SECONDS_PER_MINUTE": 0.06, "SERVER_SECONDS_BURST": 0}
        first = Client(REMOTE_ADDR="192.0.2.10").get("/api/v1/schema/", HTTP_ACCEPT="application/json")
        assert first.status_code == 200
        assert _bucket_of("address:192.0.2.10") > time.time()
        refused = Client(REMOTE_ADDR="192.0.2.10").get("/api/v1/schema/", HTTP_ACCEPT="application/json")
        assert refused.status_code == 429 and refused["Content-Type"] == PROBLEM
        assert refused.json()["code"] == "server_time_exhausted" and int(refused["Retry-After"]) >= 1
        assert Client(REMOTE_ADDR="192.0.2.11").get("/api/v1/ping/").status_code == 401  # another address

    def test_the_address_is_the_one_the_trusted_proxy_saw(self, settings):
        """Entries the caller adds to X-Forwarded-For do not give it a fresh share."""
        settings.PUENTE = {**settings.PUENTE, "SERVER_SECONDS_PER_MINUTE": 0.06, "SERVER_SECONDS_BURST": 0}
        settings.SIGNIN = {**settings.SIGNIN, "TRUSTED_PROXY_COUNT": 1}
        proxy = Client(REMOTE_ADDR="10.0.0.1")
        assert proxy.get("/api/v1/ping/", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.5").status_code == 401
        refused = proxy.get("/api/v1/ping/", HTTP_X_FORWARDED_FOR="198.51.100.2, 203.0.113.5")
        assert refused.status_code == 429 and refused.json()["code"] == "server_time_exhausted"
        assert _bucket_of("address:203.0.113.5") is not None and _bucket_of("address:10.0.0.1") is None
        assert proxy.get("/api/v1/ping/", HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 401

    def test_an_admin_printout_is_charged_to_its_user(self, secretariat, settings):
        from tests.committee.factories import MeetingFactory
        from tests.staff import sign_in_to_admin

        settings.PUENTE = {**settings.PUENTE, "SERVER_SECONDS_PER_MINUTE": 15, "SERVER_SECONDS_BURST": 2}
        meeting = MeetingFactory()
        client = sign_in_to_admin(Client(), secretariat)
        asked = time.time()
        response = client.get(f"/admin/committee/meeting/{meeting.pk}/agenda/pdf/")
        answered = time.time()
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        # 4 s of the share for each second the PDF took: at most the whole round trip.
        assert asked < _bucket_of(f"user:{secretariat.pk}") <= answered + 4 * (answered - asked)
        assert _bucket_of("address:127.0.0.1") is None  # the user's, not the address's

    def test_an_admin_session_past_its_share_waits(self, secretariat, settings):
        from tests.staff import sign_in_to_admin

        client = sign_in_to_admin(Client(), secretariat)
        settings.PUENTE = {**settings.PUENTE, "SERVER_SECONDS_PER_MINUTE": 0.06, "SERVER_SECONDS_BURST": 0}
        assert client.get("/admin/").status_code == 200
        refused = client.get("/admin/")
        assert refused.status_code == 429 and refused.json()["code"] == "server_time_exhausted"
        # The health check is never paced.
        assert Client().get("/healthz").status_code in (200, 503)
