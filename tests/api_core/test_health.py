import pytest
from django.db import connection


@pytest.mark.django_db
class TestHealth:
    def test_it_is_healthy_with_every_service_up(self, api_client):
        response = api_client.get("/healthz")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        assert set(body["checks"]) == {"database", "cache", "broker"}
        assert all(check["status"] == "ok" for check in body["checks"].values())

    def test_it_needs_no_authentication_and_reveals_no_settings(self, api_client, settings):
        response = api_client.get("/healthz")
        assert settings.SECRET_KEY not in response.content.decode()

    def test_it_is_degraded_but_in_service_when_the_broker_is_unreachable(self, api_client, settings):
        """Writes keep working without the broker: a load balancer must not take the process out."""
        # Port 1 on loopback: nothing listens there, so the connection is refused.
        settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
        settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
        response = api_client.get("/healthz")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "degraded"
        assert body["checks"]["broker"]["status"] == "unavailable"
        assert body["checks"]["database"]["status"] == "ok"

    def test_it_is_degraded_when_the_cache_is_unreachable(self, api_client, settings):
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                       "LOCATION": "redis://127.0.0.1:1/0"}}
        response = api_client.get("/healthz")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "degraded"
        assert body["checks"]["cache"] == {"status": "unavailable", "error": "ConnectionError"}
        assert body["checks"]["database"]["status"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_it_is_unavailable_when_the_database_is_unreachable(api_client):
    """Point the live connection at a closed port, then restore it."""
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["PORT"] = "1"
    connection.settings_dict["HOST"] = "127.0.0.1"
    try:
        response = api_client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict.update(saved)
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["database"]["status"] == "unavailable"
