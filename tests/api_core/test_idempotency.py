"""``Idempotency-Key`` on POST: replay, 422 on reuse, 409 while running,
release on 5xx, per-user keys, expiry and the hourly purge."""
import json
import os
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.db import connection

from api_core.idempotency import request_hash
from api_core.models import IdempotencyRecord
from api_core.tasks import purge_expired_idempotency_keys
from cases.models import Agency, Case, Note
from tests.factories import case_with_family

from .idempotency_urls import OTHER_PROBE_URL, PROBE_URL, probe

ROOT = Path(__file__).resolve().parents[2]
URLS = "tests.api_core.idempotency_urls"
PROBLEM = "application/problem+json"
KEY = "6f1c2a0e-3b9d-4c55-8f7e-1d2b3c4d5e6f"


def post(client, body, key=KEY, url=PROBE_URL, **extra):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(url, body, format="json", headers=headers, **extra)


def probe_agencies():
    return Agency.objects.filter(code__startswith="probe-")


def assert_problem(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == code
    return response.json()


@pytest.fixture(autouse=True)
def fresh_probe():
    probe.reset()
    yield
    probe.release.set()  # never leave a held request behind


@pytest.mark.urls(URLS)
@pytest.mark.django_db
class TestReplay:
    def test_it_replays_the_first_response_without_running_the_view_again(self, client_for, pe_caseworker):
        """Same key, same request: same status, body and headers, one agency created."""
        client = client_for(pe_caseworker)
        first = post(client, {"name": "Albergue Tacna"})
        second = post(client, {"name": "Albergue Tacna"})

        assert first.status_code == second.status_code == 201
        assert second.content == first.content
        assert second["Content-Type"] == first["Content-Type"] == "application/json"
        assert second["Location"] == first["Location"] == f"/api/v1/agencies/{first.json()['code']}/"
        assert second["Idempotent-Replayed"] == "true"
        assert not first.has_header("Idempotent-Replayed")
        assert probe.runs == 1
        assert list(probe_agencies().values_list("code", flat=True)) == [first.json()["code"]]
        record = IdempotencyRecord.objects.get()
        assert (record.user, record.key, record.method, record.path) == (pe_caseworker, KEY, "POST", PROBE_URL)
        assert (record.state, record.response_status) == ("completed", 201)

    def test_it_treats_reordered_json_as_the_same_request(self, client_for, pe_caseworker):
        client = client_for(pe_caseworker)
        first = client.post(PROBE_URL, '{"name": "Albergue", "hold": false}', content_type="application/json",
                            headers={"Idempotency-Key": KEY})
        second = client.post(PROBE_URL, '{"hold":false,"name":"Albergue"}', content_type="application/json",
                             headers={"Idempotency-Key": KEY})
        assert second.status_code == 201
        assert second["Idempotent-Replayed"] == "true"
        assert second.content == first.content
        assert probe.runs == 1 and probe_agencies().count() == 1

    def test_it_accepts_a_quoted_key_as_the_same_key(self, client_for, pe_caseworker):
        """The IETF draft sends the key as a structured-field string: "key"."""
        client = client_for(pe_caseworker)
        first = post(client, {"name": "Albergue"}, key=f'"{KEY}"')
        second = post(client, {"name": "Albergue"}, key=KEY)
        assert second["Idempotent-Replayed"] == "true" and second.content == first.content
        assert IdempotencyRecord.objects.get().key == KEY

    def test_it_replays_a_client_error(self, client_for, pe_caseworker):
        """A 4xx is the answer to that request: it is stored and replayed."""
        client = client_for(pe_caseworker)
        first = post(client, {"name": ""})
        second = post(client, {"name": ""})
        assert_problem(first, 400, "validation_error")
        assert second.status_code == 400 and second.content == first.content
        assert second["Content-Type"] == PROBLEM
        assert second["Idempotent-Replayed"] == "true"
        assert probe.runs == 1
        assert IdempotencyRecord.objects.get().response_status == 400

    def test_it_runs_requests_without_a_key_every_time(self, client_for, pe_caseworker):
        client = client_for(pe_caseworker)
        assert post(client, {"name": "Albergue"}, key=None).status_code == 201
        assert post(client, {"name": "Albergue"}, key=None).status_code == 201
        assert probe.runs == 2 and probe_agencies().count() == 2
        assert not IdempotencyRecord.objects.exists()

    def test_it_works_for_session_callers(self, pe_caseworker, api_client):
        """The browsable API's session user gets the same protection."""
        api_client.force_login(pe_caseworker)
        first = post(api_client, {"name": "Albergue"})
        second = post(api_client, {"name": "Albergue"})
        assert first.status_code == 201
        assert second["Idempotent-Replayed"] == "true" and second.content == first.content
        assert probe.runs == 1
        assert IdempotencyRecord.objects.get().user == pe_caseworker


@pytest.mark.urls(URLS)
@pytest.mark.django_db
class TestReuse:
    def test_it_refuses_the_same_key_with_another_body(self, client_for, pe_caseworker):
        client = client_for(pe_caseworker)
        first = post(client, {"name": "Albergue Tacna"})
        body = assert_problem(post(client, {"name": "Albergue Arica"}, HTTP_ACCEPT_LANGUAGE="en"),
                              422, "idempotency_key_reused")
        assert body["detail"] == "This Idempotency-Key was used for a different request."
        assert probe.runs == 1
        assert list(probe_agencies().values_list("name", flat=True)) == ["Albergue Tacna"]
        assert bytes(IdempotencyRecord.objects.get().response_body) == first.content

    def test_it_refuses_the_same_key_on_another_path(self, client_for, pe_caseworker):
        client = client_for(pe_caseworker)
        post(client, {"name": "Albergue"})
        assert_problem(post(client, {"name": "Albergue"}, url=OTHER_PROBE_URL), 422, "idempotency_key_reused")
        assert probe.runs == 1 and probe_agencies().count() == 1

    def test_it_refuses_a_corrected_request_under_the_key_of_a_rejected_one(self, client_for, pe_caseworker):
        """A 4xx is kept: the corrected request needs a new key."""
        client = client_for(pe_caseworker)
        post(client, {"name": ""})
        assert_problem(post(client, {"name": "Albergue"}), 422, "idempotency_key_reused")
        assert post(client, {"name": "Albergue"}, key="another-key").status_code == 201
        assert probe.runs == 2 and probe_agencies().count() == 1

    def test_it_answers_in_spanish_by_default(self, client_for, pe_caseworker):
        client = client_for(pe_caseworker)
        post(client, {"name": "Albergue Tacna"})
        body = assert_problem(post(client, {"name": "Albergue Arica"}), 422, "idempotency_key_reused")
        assert body["detail"] == "Esta Idempotency-Key ya se usó para otra solicitud."

    def test_it_keeps_the_keys_of_two_users_apart(self, client_for, pe_caseworker, cl_caseworker):
        """The same key from two callers is two keys: both requests run."""
        peru = post(client_for(pe_caseworker), {"name": "Albergue Tacna"})
        chile = post(client_for(cl_caseworker), {"name": "Albergue Arica"})
        assert peru.status_code == chile.status_code == 201
        assert not chile.has_header("Idempotent-Replayed")
        assert sorted(probe_agencies().values_list("name", flat=True)) == ["Albergue Arica", "Albergue Tacna"]
        assert sorted(IdempotencyRecord.objects.values_list("user__username", flat=True)) == [
            "cl.caseworker", "pe.caseworker"]
        # and each caller still gets their own answer back
        replay = post(client_for(cl_caseworker), {"name": "Albergue Arica"})
        assert replay.content == chile.content


@pytest.mark.urls(URLS)
@pytest.mark.django_db
class TestRelease:
    def test_it_frees_the_key_after_a_server_error(self, client_for, pe_caseworker):
        client = client_for(pe_caseworker)
        probe.failures = ["unavailable"]
        assert post(client, {"name": "Albergue"}).status_code == 503
        assert not IdempotencyRecord.objects.exists()
        retry = post(client, {"name": "Albergue"})
        assert retry.status_code == 201 and not retry.has_header("Idempotent-Replayed")
        assert post(client, {"name": "Albergue"})["Idempotent-Replayed"] == "true"
        assert probe.runs == 2 and probe_agencies().count() == 1

    def test_it_frees_the_key_after_a_crash(self, client_for, pe_caseworker):
        """An exception the view did not handle is a 500, and frees the key."""
        client = client_for(pe_caseworker)
        client.raise_request_exception = False
        probe.failures = ["crash"]
        assert_problem(post(client, {"name": "Albergue"}), 500, "server_error")
        assert not IdempotencyRecord.objects.exists()
        assert post(client, {"name": "Albergue"}).status_code == 201
        assert probe.runs == 2 and probe_agencies().count() == 1

    def test_it_frees_the_key_when_throttled(self, client_for, pe_caseworker):
        """429 means "not now", not "no": the retry must run."""
        client = client_for(pe_caseworker)
        probe.failures = ["throttled"]
        assert_problem(post(client, {"name": "Albergue"}), 429, "throttled")
        assert not IdempotencyRecord.objects.exists()
        assert post(client, {"name": "Albergue"}).status_code == 201
        assert probe_agencies().count() == 1

    def test_it_answers_409_while_a_claim_is_fresh(self, client_for, pe_caseworker):
        """A claim another process holds right now: 409 with Retry-After, nothing runs."""
        client = client_for(pe_caseworker)
        IdempotencyRecord.objects.create(
            user=pe_caseworker, key=KEY, method="POST", path=PROBE_URL,
            expires_at=datetime(2100, 1, 1, tzinfo=UTC),
            request_hash=request_hash(method="POST", path=PROBE_URL, body=b'{"name":"Albergue"}',
                                      content_type="application/json"),
        )
        response = post(client, {"name": "Albergue"})
        assert_problem(response, 409, "idempotency_request_in_progress")
        assert response["Retry-After"] == "1"
        assert probe.runs == 0 and not probe_agencies().exists()
        assert IdempotencyRecord.objects.get().state == "in_progress"

    def test_it_takes_over_a_claim_abandoned_by_a_dead_process(self, client_for, pe_caseworker):
        """A process killed mid-request cannot free its key; after the lock
        timeout the retry runs instead of getting 409 for two days."""
        client = client_for(pe_caseworker)
        started = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
        abandoned = IdempotencyRecord.objects.create(
            user=pe_caseworker, key=KEY, method="POST", path=PROBE_URL, created_at=started,
            expires_at=started + settings.PUENTE["IDEMPOTENCY_KEY_TTL"],
            request_hash=request_hash(method="POST", path=PROBE_URL, body=b'{"name":"Albergue"}',
                                      content_type="application/json"),
        )
        with time_machine.travel(started + settings.PUENTE["IDEMPOTENCY_LOCK_TIMEOUT"] - timedelta(seconds=1)):
            assert_problem(post(client, {"name": "Albergue"}), 409, "idempotency_request_in_progress")
        with time_machine.travel(started + settings.PUENTE["IDEMPOTENCY_LOCK_TIMEOUT"] + timedelta(seconds=1)):
            response = post(client, {"name": "Albergue"})
        assert response.status_code == 201
        assert probe.runs == 1 and probe_agencies().count() == 1
        record = IdempotencyRecord.objects.get()
        assert record.pk != abandoned.pk and record.state == "completed"


@pytest.mark.urls(URLS)
@pytest.mark.django_db
class TestWhatIsCovered:
    @pytest.mark.parametrize("key", ["", "x" * 256, "two words", "clé", 'a"b', "a\\b", '"'])
    def test_it_refuses_an_invalid_key(self, client_for, pe_caseworker, key):
        response = post(client_for(pe_caseworker), {"name": "Albergue"}, key=key)
        assert_problem(response, 400, "idempotency_key_invalid")
        assert probe.runs == 0
        assert not IdempotencyRecord.objects.exists() and not probe_agencies().exists()

    def test_it_accepts_a_key_of_255_characters(self, client_for, pe_caseworker):
        key = "k" * 255
        client = client_for(pe_caseworker)
        assert post(client, {"name": "Albergue"}, key=key).status_code == 201
        assert post(client, {"name": "Albergue"}, key=key)["Idempotent-Replayed"] == "true"
        assert IdempotencyRecord.objects.get().key == key

    def test_it_leaves_anonymous_requests_alone(self, api_client):
        """No caller, no key scope: the view's 401 answers, nothing is stored."""
        response = post(api_client, {"name": "Albergue"})
        assert_problem(response, 401, "not_authenticated")
        assert not IdempotencyRecord.objects.exists()

    def test_it_leaves_requests_with_bad_credentials_alone(self, api_client):
        api_client.credentials(HTTP_AUTHORIZATION="Bearer pnt_not-a-real-token")
        assert_problem(post(api_client, {"name": "Albergue"}), 401, "authentication_failed")
        assert_problem(post(api_client, {"name": "Albergue"}, key="x" * 300), 401, "authentication_failed")
        assert not IdempotencyRecord.objects.exists()

    def test_it_applies_to_post_only(self, client_for, pe_caseworker):
        """PATCH is guarded by If-Match, not by the key: both requests run."""
        client = client_for(pe_caseworker)
        first = client.patch("/api/v1/me/", {"language": "en"}, format="json", headers={"Idempotency-Key": KEY})
        second = client.patch("/api/v1/me/", {"language": "es"}, format="json", headers={"Idempotency-Key": KEY})
        assert first.status_code == second.status_code == 200
        assert not second.has_header("Idempotent-Replayed")
        pe_caseworker.refresh_from_db()
        assert pe_caseworker.language == "es"
        assert not IdempotencyRecord.objects.exists()


@pytest.mark.urls(URLS)
@pytest.mark.django_db
class TestExpiry:
    def test_keys_live_48_hours(self):
        assert settings.PUENTE["IDEMPOTENCY_KEY_TTL"] == timedelta(hours=48)

    def test_it_remembers_a_key_until_it_expires(self, client_for, pe_caseworker):
        client = client_for(pe_caseworker)
        start = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
        with time_machine.travel(start, tick=False):
            first = post(client, {"name": "Albergue Tacna"})
        with time_machine.travel(start + timedelta(hours=47, minutes=59)):
            assert post(client, {"name": "Albergue Tacna"}).content == first.content
            assert_problem(post(client, {"name": "Albergue Arica"}), 422, "idempotency_key_reused")
        with time_machine.travel(start + timedelta(hours=48, seconds=1), tick=False):
            later = post(client, {"name": "Albergue Arica"})
        assert later.status_code == 201 and not later.has_header("Idempotent-Replayed")
        assert sorted(probe_agencies().values_list("name", flat=True)) == ["Albergue Arica", "Albergue Tacna"]
        assert IdempotencyRecord.objects.get().expires_at == start + timedelta(hours=96, seconds=1)

    def test_the_hourly_task_deletes_expired_keys(self, client_for, pe_caseworker):
        client = client_for(pe_caseworker)
        start = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
        with time_machine.travel(start, tick=False):
            post(client, {"name": "Albergue Tacna"}, key="old")
        with time_machine.travel(start + timedelta(hours=24), tick=False):
            post(client, {"name": "Albergue Arica"}, key="recent")
        with time_machine.travel(start + timedelta(hours=48), tick=False):
            assert purge_expired_idempotency_keys() == 1
            assert purge_expired_idempotency_keys() == 0
        assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]
        assert probe_agencies().count() == 2  # only the keys go, never what the requests created

    def test_the_task_is_scheduled_every_hour(self):
        entry = next(entry for entry in settings.CELERY_BEAT_SCHEDULE.values()
                     if entry["task"] == purge_expired_idempotency_keys.name)
        assert len(entry["schedule"].minute) == 1 and len(entry["schedule"].hour) == 24


def test_the_schema_documents_the_key_on_every_post(tmp_path):
    """With a POST endpoint present, the schema still validates without warnings."""
    schema = tmp_path / "openapi.json"
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json",
         "--urlconf", URLS, "--file", str(schema)],
        cwd=ROOT, capture_output=True, text=True, check=False,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(schema.read_text())
    parameter = {"$ref": "#/components/parameters/IdempotencyKey"}
    assert parameter in document["paths"][PROBE_URL]["post"]["parameters"]
    assert document["paths"][PROBE_URL]["post"]["responses"]["201"]["headers"]["Idempotent-Replayed"]
    assert parameter not in document["paths"]["/api/v1/me/"]["patch"].get("parameters", [])
    described = document["components"]["parameters"]["IdempotencyKey"]
    assert described["in"] == "header" and described["schema"]["maxLength"] == 255
    assert "48 hours" in described["description"]


@pytest.mark.urls(URLS)
@pytest.mark.django_db(transaction=True)
class TestConcurrency:
    def _in_thread(self, client, body, results, index):
        try:
            results[index] = post(client, body)
        finally:
            connection.close()

    def test_it_answers_409_to_a_duplicate_while_the_first_runs(self, client_for, pe_caseworker):
        """First request held in the view; the duplicate gets 409; after it
        finishes, a third gets the replay. One agency, one run."""
        results = [None]
        first = threading.Thread(target=self._in_thread,
                                 args=(client_for(pe_caseworker), {"name": "Albergue", "hold": True}, results, 0))
        first.start()
        try:
            assert probe.entered.wait(timeout=10)
            client = client_for(pe_caseworker)
            duplicate = post(client, {"name": "Albergue", "hold": True})
            assert_problem(duplicate, 409, "idempotency_request_in_progress")
            assert duplicate["Retry-After"] == "1"
            # the key is held by the running request's transaction: nothing is committed before its answer
            assert not IdempotencyRecord.objects.exists() and not probe_agencies().exists()
        finally:
            probe.release.set()
            first.join(timeout=30)
        assert results[0].status_code == 201
        third = post(client, {"name": "Albergue", "hold": True})
        assert third.status_code == 201 and third["Idempotent-Replayed"] == "true"
        assert third.content == results[0].content
        assert probe.runs == 1 and probe_agencies().count() == 1

    def test_another_body_while_the_first_runs_gets_409_then_422(self, client_for, pe_caseworker):
        """The running request's body is not visible before it commits: the
        other body waits like a duplicate (409), then is refused (422)."""
        results = [None]
        first = threading.Thread(target=self._in_thread,
                                 args=(client_for(pe_caseworker), {"name": "Albergue", "hold": True}, results, 0))
        first.start()
        client = client_for(pe_caseworker)
        try:
            assert probe.entered.wait(timeout=10)
            assert_problem(post(client, {"name": "Otro albergue"}), 409, "idempotency_request_in_progress")
        finally:
            probe.release.set()
            first.join(timeout=30)
        assert results[0].status_code == 201
        assert_problem(post(client, {"name": "Otro albergue"}), 422, "idempotency_key_reused")
        assert probe.runs == 1 and list(probe_agencies().values_list("name", flat=True)) == ["Albergue"]

    def test_it_lets_one_of_many_simultaneous_duplicates_run(self, client_for, pe_caseworker):
        """Eight copies sent at once: one runs, seven get 409."""
        count = 8
        clients = [client_for(pe_caseworker) for _ in range(count)]
        results = [None] * count
        start = threading.Barrier(count)

        def send(index):
            start.wait(timeout=10)
            self._in_thread(clients[index], {"name": "Albergue", "hold": True}, results, index)

        threads = [threading.Thread(target=send, args=(index,)) for index in range(count)]
        for thread in threads:
            thread.start()
        try:
            assert probe.entered.wait(timeout=10)
            for _ in range(100):  # until every duplicate has its answer
                if sum(result is not None for result in results) == count - 1:
                    break
                threading.Event().wait(0.1)
        finally:
            probe.release.set()
            for thread in threads:
                thread.join(timeout=30)
        statuses = sorted(result.status_code for result in results)
        assert statuses == [201] + [409] * (count - 1)
        assert all(result.json()["code"] == "idempotency_request_in_progress"
                   for result in results if result.status_code == 409)
        assert probe.runs == 1 and probe_agencies().count() == 1
        assert IdempotencyRecord.objects.get().state == "completed"


def _transferred_to(case, from_agency, to_agency, receiver, client_for):
    """``case`` handed over and accepted: its old owner now sees only a former owner's view."""
    from tests.factories import HandoffFactory

    transfer = HandoffFactory(case=case, from_agency=from_agency, to_agency=to_agency, kind="transfer",
                              status="pending", legal_basis="cooperation_agreement",
                              legal_basis_note="Acuerdo binacional.")
    assert client_for(receiver).post(f"/api/v1/handoffs/{transfer.pk}/accept/", {}).status_code == 200


@pytest.mark.django_db
class TestReplayAfterAccessLost:
    """A replay repeats an answer about an object: only while the caller may still read it."""

    def test_a_created_case_is_not_replayed_to_its_former_owner(self, client_for, pe_caseworker, cl_caseworker,
                                                                 pe_agency, cl_agency):
        client = client_for(pe_caseworker)
        body = {"summary": "Familia en Santa Rosa", "members": [{"relationship": "head", "given_names": "Rosa",
                                                                 "family_names": "Quispe Mamani"}]}
        created = post(client, body, url="/api/v1/cases/")
        assert created.status_code == 201 and "Quispe Mamani" in created.content.decode()
        replayed = post(client, body, url="/api/v1/cases/")  # while it is still theirs: replayed
        assert replayed["Idempotent-Replayed"] == "true" and replayed.content == created.content
        case = Case.objects.get()
        _transferred_to(case, pe_agency, cl_agency, cl_caseworker, client_for)
        # The former owner still reads the reference and status; not what the answer showed.
        assert client.get(f"/api/v1/cases/{case.pk}/").json()["access"] == "former_owner"

        again = post(client, body, url="/api/v1/cases/")
        assert_problem(again, 404, "not_found")
        assert not again.has_header("Idempotent-Replayed")
        # The 404 of a case the caller may not see, byte for byte.
        assert again.content == client.get(f"/api/v1/cases/{uuid.uuid4()}/").content
        assert "Quispe" not in again.content.decode() and "Rosa" not in again.content.decode()
        assert Case.objects.count() == 1  # and nothing created
        # The same request under a fresh key is a new case, as ever.
        assert post(client, body, url="/api/v1/cases/", key="other-key").status_code == 201

    def test_a_note_is_not_replayed_once_the_case_is_transferred_the_answer_is_a_fresh_requests(
            self, client_for, pe_caseworker, cl_caseworker, pe_agency, cl_agency):
        case = case_with_family(pe_agency)
        client = client_for(pe_caseworker)
        url = f"/api/v1/cases/{case.pk}/notes/"
        note = {"body": "La madre refiere que su hijo necesita insulina."}
        assert post(client, note, url=url).status_code == 201
        _transferred_to(case, pe_agency, cl_agency, cl_caseworker, client_for)

        replayed = post(client, note, url=url)
        fresh = post(client, note, url=url, key="a-fresh-key")
        # A former owner may not write on the case any more (403 limited_access): byte for byte that answer.
        assert_problem(replayed, 403, "limited_access")
        assert (replayed.status_code, replayed.content) == (fresh.status_code, fresh.content)
        assert not replayed.has_header("Idempotent-Replayed")
        assert "insulina" not in replayed.content.decode()
        assert Note.objects.filter(case=case).count() == 1

    def test_a_replay_to_someone_who_lost_the_role_is_refused(self, client_for, pe_caseworker, pe_agency):
        case = case_with_family(pe_agency)
        client = client_for(pe_caseworker)
        url = f"/api/v1/cases/{case.pk}/notes/"
        assert post(client, {"body": "Nota"}, url=url).status_code == 201
        pe_caseworker.groups.clear()
        replayed = post(client, {"body": "Nota"}, url=url)
        assert replayed.status_code in (403, 404) and replayed["Content-Type"] == PROBLEM
        assert "Nota" not in replayed.content.decode()
