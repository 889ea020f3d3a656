"""Fault drill: Redis (cache, throttle counters, Celery broker) is down while
agencies keep writing. Case and handoff writes still succeed, ``/healthz``
says ``degraded``, and nothing is lost: every change and its outbox events are
in PostgreSQL, and the deadlines that pass meanwhile are announced by the
periodic sweep once it runs again. See docs/reliability.md.

The app is pointed at a closed port on loopback rather than stopping the
Redis server, which other processes may share."""
import datetime
import logging

import pytest
import redis
import time_machine
from django.core.cache import cache
from django.utils import timezone

from api_core.models import IdempotencyRecord
from cases.models import Case, Handoff, HistoryEntry
from cases.tasks.handoffs import emit_overdue_handoffs
from outbox.models import Event

DEAD_REDIS = "redis://127.0.0.1:1/0"

FAMILY = {
    "summary": "Familia varada en Chacalluta.",
    "members": [
        {"relationship": "head", "given_names": "Yusmary", "family_names": "Pérez", "document_type": "passport",
         "document_country": "VE", "document_number": "P-7701234"},
        {"relationship": "child", "given_names": "Sofía", "family_names": "Pérez"},
    ],
}


@pytest.fixture
def redis_down(settings):
    """Cache and broker on a port where nothing listens (the connection is refused at once)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": DEAD_REDIS,
                                   "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    settings.CELERY_BROKER_URL = DEAD_REDIS
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"token": "5/minute"}}
    # The drill is only meaningful if the cache really is unreachable.
    with pytest.raises(redis.exceptions.ConnectionError):
        cache.get("anything")
    return settings


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
class TestRedisDown:
    def test_agencies_keep_writing_and_nothing_is_lost(self, redis_down, client_for, pe_caseworker, cl_caseworker,
                                                       caplog):
        pe, cl = client_for(pe_caseworker), client_for(cl_caseworker)

        with caplog.at_level(logging.WARNING, logger="api_core.throttling"):
            created = pe.post("/api/v1/cases/", FAMILY, HTTP_IDEMPOTENCY_KEY="drill-case-1")
        assert created.status_code == 201, created.content
        assert "Rate limits not enforced: the cache is unavailable" in caplog.text
        case = Case.objects.get(pk=created.json()["id"])
        assert case.member_count == 2

        # The client did not hear the answer and retries: the key lives in PostgreSQL.
        replayed = pe.post("/api/v1/cases/", FAMILY, HTTP_IDEMPOTENCY_KEY="drill-case-1")
        assert replayed.status_code == 201
        assert replayed["Idempotent-Replayed"] == "true"
        assert replayed.content == created.content
        assert Case.objects.count() == 1

        handoff = pe.post("/api/v1/handoffs/", {
            "case": str(case.pk), "to_agency": "cl-sermig", "kind": "transfer", "reason": "Continúa en Arica.",
            "legal_basis": "vital_interest", "legal_basis_note": "Menor con necesidad médica urgente.",
            "response_due": (timezone.now() + datetime.timedelta(hours=1)).isoformat(),
        })
        assert handoff.status_code == 201, handoff.content
        second = pe.post("/api/v1/cases/", {**FAMILY, "members": [
            {"relationship": "head", "given_names": "Luis", "family_names": "Rojas"}]})
        assert second.status_code == 201
        later = pe.post("/api/v1/handoffs/", {
            "case": second.json()["id"], "to_agency": "cl-sermig", "kind": "referral", "reason": "Albergue.",
            "services_requested": "Alojamiento temporal.", "legal_basis": "vital_interest",
            "legal_basis_note": "Familia sin alojamiento.",
            "response_due": (timezone.now() + datetime.timedelta(hours=2)).isoformat(),
        })
        assert later.status_code == 201

        # More requests than the (unenforceable) rate limit allows: still served, none refused.
        for _ in range(6):
            assert pe.get("/api/v1/cases/").status_code == 200

        accepted = cl.post(f"/api/v1/handoffs/{handoff.json()['id']}/accept/", {})
        assert accepted.status_code == 200, accepted.content
        case.refresh_from_db()
        assert case.owner_agency.code == "cl-sermig"

        health = pe.get("/healthz")
        assert health.status_code == 200
        assert health.json()["status"] == "degraded"
        assert health.json()["checks"]["cache"]["status"] == "unavailable"
        assert health.json()["checks"]["broker"]["status"] == "unavailable"
        assert health.json()["checks"]["database"]["status"] == "ok"

        # Every change and every event is in PostgreSQL, committed.
        assert set(Event.objects.values_list("type", flat=True)) == {
            "case.created", "handoff.created", "handoff.accepted"}
        assert Event.objects.filter(type="case.created").count() == 2
        assert Event.objects.filter(type="handoff.created").count() == 2
        assert HistoryEntry.objects.filter(action="case.owner_changed", case=case).exists()
        assert IdempotencyRecord.objects.get(key="drill-case-1").state == IdempotencyRecord.State.COMPLETED

    def test_deadlines_that_pass_during_the_outage_are_announced_when_the_sweep_runs_again(
            self, redis_down, client_for, pe_caseworker, cl_caseworker, settings):
        pe = client_for(pe_caseworker)
        case = pe.post("/api/v1/cases/", FAMILY).json()
        due = timezone.now() + datetime.timedelta(hours=1)
        handoff = pe.post("/api/v1/handoffs/", {
            "case": case["id"], "to_agency": "cl-sermig", "kind": "transfer", "reason": "Continúa en Arica.",
            "legal_basis": "vital_interest", "legal_basis_note": "Riesgo para la familia.",
            "response_due": due.isoformat(),
        }).json()
        assert not Event.objects.filter(type="handoff.overdue").exists()

        # Two hours later the sweep runs again (beat and worker are back with Redis).
        with time_machine.travel(due + datetime.timedelta(hours=1), tick=False):
            assert emit_overdue_handoffs() == 1
            assert emit_overdue_handoffs() == 0  # announced once
        event = Event.objects.get(type="handoff.overdue")
        assert event.object_id == handoff["id"]
        assert set(event.agencies.values_list("code", flat=True)) == {"pe-migraciones", "cl-sermig"}
        assert Handoff.objects.get(pk=handoff["id"]).overdue_emitted_for == due
