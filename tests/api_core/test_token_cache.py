"""Each process remembers an authenticated token briefly, and forgets it as
soon as anything it stands for changes, in every process: a revoked, expired
or deactivated token is refused on the very next request, a role or agency
change counts from the next request (api_core/token_cache.py)."""
import json
import os
import select
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from api_core import token_cache
from api_core.models import ApiToken
from api_core.services import token_issue, token_revoke
from cases.roles import Role
from tests.services import worker_database_url

ROOT = Path(__file__).resolve().parents[2]
PING = "/api/v1/ping/"
ME = "/api/v1/me/"
ANSWER_SECONDS = 60

pytestmark = pytest.mark.redis


def get(raw: str, path: str = PING):
    return Client().get(path, HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="en")


def refusal(response) -> tuple:
    return response.status_code, response.content, response["Content-Type"], response["WWW-Authenticate"]


@pytest.fixture
def unknown_token_answer(db):
    return refusal(get("pnt_not-a-real-token"))


@pytest.mark.django_db
class TestInOneProcess:
    def test_it_answers_a_known_token_without_a_query(self, pe_caseworker, django_assert_num_queries):
        _, raw = token_issue(user=pe_caseworker)
        get(raw)  # read from the database, last use stamped
        with django_assert_num_queries(0):
            assert get(raw).status_code == 200
        token_cache.forget_all()
        with django_assert_num_queries(1):  # the token with its user, agency and roles, in one statement
            assert get(raw).status_code == 200

    def test_a_revoked_token_is_refused_on_the_next_request(self, pe_caseworker, unknown_token_answer):
        token, raw = token_issue(user=pe_caseworker)
        assert get(raw).status_code == get(raw).status_code == 200
        token_revoke(token=token)
        assert refusal(get(raw)) == unknown_token_answer

    def test_an_expired_token_is_refused_while_still_remembered(self, pe_caseworker, unknown_token_answer,
                                                                django_assert_num_queries):
        _, raw = token_issue(user=pe_caseworker, expires_at=timezone.now() + timedelta(seconds=5))
        assert get(raw).status_code == get(raw).status_code == 200
        # Less than the time an entry is kept: the expiry is checked on every request.
        with time_machine.travel(timezone.now() + timedelta(seconds=6)), django_assert_num_queries(0):
            assert refusal(get(raw)) == unknown_token_answer

    def test_stamping_the_last_use_does_not_make_an_entry_live_longer(self, pe_caseworker):
        token, raw = token_issue(user=pe_caseworker)
        get(raw)
        first_use = ApiToken.objects.get(pk=token.pk).last_used_at
        generation, stored_at, snapshot, roles = token_cache._entries[token.digest]
        token_cache._entries[token.digest] = (generation, stored_at - 9, snapshot, roles)  # remembered 9 s ago
        with time_machine.travel(timezone.now() + timedelta(minutes=2)):  # its last use is due a new stamp
            assert get(raw).status_code == 200
        assert ApiToken.objects.get(pk=token.pk).last_used_at > first_use + timedelta(minutes=1)
        assert token_cache._entries[token.digest][1] == stored_at - 9

    def test_a_deactivated_user_is_refused_on_the_next_request(self, pe_caseworker, unknown_token_answer):
        _, raw = token_issue(user=pe_caseworker)
        assert get(raw).status_code == get(raw).status_code == 200
        pe_caseworker.is_active = False
        pe_caseworker.save()
        assert refusal(get(raw)) == unknown_token_answer

    def test_a_deactivated_agency_is_refused_on_the_next_request(self, pe_caseworker, pe_agency,
                                                                 unknown_token_answer, django_assert_num_queries):
        """Its users' remembered tokens stop at once, with the answer of a token never issued."""
        _, raw = token_issue(user=pe_caseworker)
        get(raw)
        with django_assert_num_queries(0):
            assert get(raw).status_code == 200  # remembered
        pe_agency.active = False
        pe_agency.save()
        assert refusal(get(raw)) == unknown_token_answer
        pe_agency.active = True
        pe_agency.save()
        assert get(raw).status_code == 200

    def test_an_agency_change_counts_from_the_next_request(self, pe_caseworker, cl_agency):
        _, raw = token_issue(user=pe_caseworker)
        assert get(raw, ME).json()["agency"]["code"] == "pe-migraciones"
        pe_caseworker.agency = cl_agency
        pe_caseworker.save()
        assert get(raw, ME).json()["agency"]["code"] == "cl-sermig"
        cl_agency.name = "Servicio Nacional de Migraciones de Chile"
        cl_agency.save()
        assert get(raw, ME).json()["agency"]["name"] == "Servicio Nacional de Migraciones de Chile"

    def test_a_renamed_group_counts_from_the_next_request(self, pe_caseworker):
        _, raw = token_issue(user=pe_caseworker)
        assert get(raw, ME).json()["roles"] == [Role.CASEWORKER.value]
        group = Group.objects.get(name=Role.CASEWORKER)
        group.name = "caseworker-old"
        group.save()
        assert get(raw, ME).json()["roles"] == ["caseworker-old"]

    def test_a_sign_in_elsewhere_keeps_the_entries(self, pe_caseworker, django_assert_num_queries):
        """The admin stamping ``last_login`` changes nothing a token stands for."""
        _, raw = token_issue(user=pe_caseworker)
        get(raw)
        pe_caseworker.last_login = timezone.now()
        pe_caseworker.save(update_fields=["last_login"])
        with django_assert_num_queries(0):
            assert get(raw).status_code == 200

    def test_each_request_gets_its_own_user(self, pe_caseworker):
        """What one request sets on its user never reaches the next one."""
        token, raw = token_issue(user=pe_caseworker)
        get(raw)
        generation = cache._cache.get_client(token_cache.generation_key()).get(token_cache.generation_key()).decode()
        first = token_cache.cached_token(token.digest, generation)
        first.user.first_name = "cambiado"
        second = token_cache.cached_token(token.digest, generation)
        assert second.user is not first.user and second.user.agency is not first.user.agency
        assert second.user.first_name == pe_caseworker.first_name
        assert second.user.agency.code == "pe-migraciones" and second.user.roles == {Role.CASEWORKER.value}

    def test_a_lost_generation_means_a_database_read(self, pe_caseworker, django_assert_num_queries):
        """Redis emptied or restarted: nothing remembered under the old generation is used."""
        token, raw = token_issue(user=pe_caseworker)
        get(raw)
        key = token_cache.generation_key()
        cache._cache.get_client(key, write=True).delete(key)
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())  # no signal: only the read sees it
        with django_assert_num_queries(1):
            assert get(raw).status_code == 401

    def test_the_last_use_is_still_stamped_once_a_minute(self, pe_caseworker):
        token, raw = token_issue(user=pe_caseworker)
        get(raw)
        token.refresh_from_db()
        first_use = token.last_used_at
        get(raw)
        token.refresh_from_db()
        assert token.last_used_at == first_use
        with time_machine.travel(timezone.now() + timedelta(minutes=2)):
            get(raw)
        token.refresh_from_db()
        assert token.last_used_at > first_use + timedelta(minutes=1)


class WebProcess:
    """A second web process, with its own memory, on the same database and Redis."""

    def __init__(self):
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
               "DATABASE_URL": worker_database_url(), "REDIS_URL": os.environ["REDIS_URL"]}
        self.process = subprocess.Popen([sys.executable, "-m", "tests.api_core.web_process"], cwd=ROOT, env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def get(self, raw: str, path: str = PING) -> dict:
        self.process.stdin.write(json.dumps({"path": path, "token": raw}) + "\n")
        self.process.stdin.flush()
        # One answer a request, one line each: nothing waits in the pipe's buffer before it.
        ready, _, _ = select.select([self.process.stdout], [], [], ANSWER_SECONDS)
        assert ready, f"the other web process did not answer within {ANSWER_SECONDS} s"
        line = self.process.stdout.readline()
        assert line, "the other web process stopped"
        return json.loads(line)

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture
def other_process():
    process = WebProcess()
    yield process
    process.stop()


@pytest.mark.django_db(transaction=True)
class TestAcrossProcesses:
    def test_a_change_made_in_one_process_counts_in_another_at_once(self, pe_caseworker, other_process):
        token, raw = token_issue(user=pe_caseworker)
        unknown = other_process.get("pnt_not-a-real-token")
        assert other_process.get(raw, ME)["status"] == 200
        remembered = other_process.get(raw, ME)
        assert (remembered["status"], remembered["queries"]) == (200, 0)  # served from its own memory
        assert json.loads(remembered["body"])["roles"] == [Role.CASEWORKER.value]
        assert get(raw).status_code == 200  # and this process remembers it too

        pe_caseworker.groups.add(Group.objects.get(name=Role.COMMITTEE_MEMBER))
        after_role = other_process.get(raw, ME)
        assert json.loads(after_role["body"])["roles"] == sorted([Role.CASEWORKER.value, Role.COMMITTEE_MEMBER.value])
        assert after_role["queries"] >= 1

        token_revoke(token=token)
        refused = other_process.get(raw)
        assert (refused["status"], refused["body"]) == (401, unknown["body"])
        assert refusal(get(raw))[:2] == (401, unknown["body"].encode())

    def test_a_deactivated_user_is_refused_by_both_processes_at_once(self, pe_caseworker, other_process):
        token, raw = token_issue(user=pe_caseworker)
        assert get(raw).status_code == get(raw).status_code == 200
        _, second_raw = token_issue(user=pe_caseworker)
        assert other_process.get(second_raw)["status"] == 200
        pe_caseworker.is_active = False
        pe_caseworker.save()
        assert other_process.get(second_raw)["status"] == 401
        assert get(raw).status_code == 401

    def test_a_deactivated_agency_is_refused_by_both_processes_at_once(self, pe_caseworker, pe_agency,
                                                                       other_process):
        _, raw = token_issue(user=pe_caseworker)
        assert get(raw).status_code == get(raw).status_code == 200
        assert other_process.get(raw)["status"] == 200
        assert other_process.get(raw)["queries"] == 0  # remembered there
        pe_agency.active = False
        pe_agency.save()
        assert other_process.get(raw)["status"] == 401
        assert get(raw).status_code == 401
