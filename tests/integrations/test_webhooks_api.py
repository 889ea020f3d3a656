import base64
import datetime

import pytest
import time_machine
from django.utils import timezone

from integrations.feed import feed_head
from integrations.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint

URL = "https://hooks.partner.example/puente"


@pytest.mark.django_db
class TestWebhookList:
    def test_it_lists_only_the_callers_agency_endpoints(self, client_for, pe_caseworker, pe_agency, cl_agency,
                                                       make_endpoint):
        own = make_endpoint(pe_agency)
        make_endpoint(cl_agency)
        response = client_for(pe_caseworker).get("/api/v1/webhooks/")
        assert response.status_code == 200
        assert [item["id"] for item in response.json()["results"]] == [str(own.pk)]
        assert "secret" not in response.json()["results"][0]

    @pytest.mark.parametrize("user", ["secretariat", "committee_member"])
    def test_only_agency_caseworkers_manage_webhooks(self, client_for, request, user, pe_agency, make_endpoint):
        make_endpoint(pe_agency)
        client = client_for(request.getfixturevalue(user))
        assert client.get("/api/v1/webhooks/").status_code == 403
        assert client.post("/api/v1/webhooks/", {"url": URL}, format="json").status_code == 403
        assert WebhookEndpoint.objects.count() == 1

    def test_it_requires_authentication(self, api_client):
        assert api_client.get("/api/v1/webhooks/").status_code == 401

    def test_the_number_of_queries_does_not_grow_with_the_list(self, client_for, pe_caseworker, pe_agency,
                                                              make_endpoint, django_assert_num_queries):
        client = client_for(pe_caseworker)
        client.get("/api/v1/webhooks/")
        for _ in range(5):
            make_endpoint(pe_agency)
        with django_assert_num_queries(1):  # the page (the token remembered)
            assert len(client.get("/api/v1/webhooks/").json()["results"]) == 5


@pytest.mark.django_db
class TestWebhookCreate:
    def test_it_registers_an_endpoint_and_shows_the_secret_once(self, client_for, pe_caseworker, pe_agency,
                                                              make_event):
        make_event("case.created", pe_agency)
        client = client_for(pe_caseworker)
        response = client.post("/api/v1/webhooks/", {
            "url": URL, "event_types": ["handoff.created", "case.created", "handoff.created"],
            "description": "Sistema de casos de Migraciones",
        }, format="json")

        assert response.status_code == 201
        body = response.json()
        assert body["secret"].startswith("whsec_")
        assert len(base64.b64decode(body["secret"].removeprefix("whsec_"))) >= 24
        endpoint = WebhookEndpoint.objects.get(pk=body["id"])
        assert (endpoint.agency, endpoint.url, endpoint.secret) == (pe_agency, URL, body["secret"])
        assert endpoint.event_types == ["case.created", "handoff.created"]
        assert endpoint.created_by == pe_caseworker
        assert endpoint.feed_position == feed_head() == 1  # events from before are not sent
        assert "secret" not in client.get(f"/api/v1/webhooks/{endpoint.pk}/").json()

    @pytest.mark.parametrize("url, code", [
        ("http://hooks.partner.example/puente", "invalid_url"),
        ("ftp://hooks.partner.example/", "invalid_url"),
        ("https://user:pass@hooks.partner.example/", "invalid_url"),
        ("https://10.0.0.8/hook", "invalid_url"),
        ("not a url", "invalid_url"),
    ])
    def test_it_refuses_urls_outside_the_contract(self, client_for, pe_caseworker, url, code):
        response = client_for(pe_caseworker).post("/api/v1/webhooks/", {"url": url}, format="json")
        assert response.status_code == 400
        assert response.json()["errors"][0] == {"field": "url", "code": code, "message": response.json()[
            "errors"][0]["message"]}
        assert not WebhookEndpoint.objects.exists()

    def test_it_refuses_an_unknown_event_type(self, client_for, pe_caseworker):
        response = client_for(pe_caseworker).post("/api/v1/webhooks/", {"url": URL, "event_types": ["case.eaten"]},
                                                  format="json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "event_types.0"
        assert not WebhookEndpoint.objects.exists()

    def test_it_refuses_values_of_the_wrong_json_type(self, client_for, pe_caseworker):
        client = client_for(pe_caseworker)
        assert client.post("/api/v1/webhooks/", {"url": URL, "active": 0}, format="json").status_code == 400
        assert client.post("/api/v1/webhooks/", {"url": URL, "description": 7}, format="json").status_code == 400
        assert not WebhookEndpoint.objects.exists()

    def test_an_agency_has_a_bounded_number_of_endpoints(self, client_for, pe_caseworker, pe_agency, make_endpoint,
                                                        webhook_settings):
        webhook_settings(WEBHOOK_MAX_ENDPOINTS_PER_AGENCY=2)
        make_endpoint(pe_agency)
        client = client_for(pe_caseworker)
        assert client.post("/api/v1/webhooks/", {"url": URL}, format="json").status_code == 201
        response = client.post("/api/v1/webhooks/", {"url": URL}, format="json")
        assert response.status_code == 409
        assert response.json()["code"] == "too_many_endpoints"
        assert WebhookEndpoint.objects.count() == 2


@pytest.mark.django_db
class TestWebhookDetail:
    def test_it_shows_an_own_endpoint(self, client_for, pe_caseworker, pe_agency, make_endpoint):
        endpoint = make_endpoint(pe_agency, event_types=["case.closed"])
        body = client_for(pe_caseworker).get(f"/api/v1/webhooks/{endpoint.pk}/").json()
        assert body["url"] == URL and body["event_types"] == ["case.closed"] and body["active"] is True

    def test_another_agencys_endpoint_does_not_exist_for_the_caller(self, client_for, cl_caseworker, pe_agency,
                                                                    make_endpoint):
        endpoint = make_endpoint(pe_agency)
        client = client_for(cl_caseworker)
        for method, path in [("get", ""), ("patch", ""), ("delete", ""), ("post", "rotate-secret/"),
                             ("post", "test/"), ("get", "deliveries/")]:
            response = getattr(client, method)(f"/api/v1/webhooks/{endpoint.pk}/{path}", {}, format="json")
            assert response.status_code == 404, (method, path)
        endpoint.refresh_from_db()
        assert endpoint.active and endpoint.previous_secret == ""
        assert not WebhookDelivery.objects.exists()

    def test_a_malformed_id_is_not_found(self, client_for, pe_caseworker):
        assert client_for(pe_caseworker).get("/api/v1/webhooks/not-a-uuid/").status_code == 404

    def test_it_changes_url_description_and_types(self, client_for, pe_caseworker, pe_agency, make_endpoint):
        endpoint = make_endpoint(pe_agency)
        response = client_for(pe_caseworker).patch(f"/api/v1/webhooks/{endpoint.pk}/", {
            "url": "https://other.partner.example/hook", "event_types": ["handoff.accepted"], "description": "x",
        }, format="json")
        assert response.status_code == 200
        endpoint.refresh_from_db()
        assert (endpoint.url, endpoint.event_types, endpoint.description) == (
            "https://other.partner.example/hook", ["handoff.accepted"], "x")

    def test_switching_off_drops_waiting_deliveries(self, client_for, pe_caseworker, pe_agency, make_endpoint):
        endpoint = make_endpoint(pe_agency)
        waiting = WebhookDelivery.objects.create(endpoint=endpoint, event_type="case.created", message_id="evt_1",
                                                 payload={}, next_attempt_at=timezone.now())
        response = client_for(pe_caseworker).patch(f"/api/v1/webhooks/{endpoint.pk}/", {"active": False},
                                                   format="json")
        assert response.status_code == 200 and response.json()["active"] is False
        waiting.refresh_from_db()
        assert waiting.status == DeliveryStatus.FAILED

    def test_switching_on_again_resumes_from_now_and_forgets_failures(self, client_for, pe_caseworker, pe_agency,
                                                                     make_endpoint, make_event):
        endpoint = make_endpoint(pe_agency, active=False, disabled_reason="failing", consecutive_failures=5)
        make_event("case.created", pe_agency)
        response = client_for(pe_caseworker).patch(f"/api/v1/webhooks/{endpoint.pk}/", {"active": True},
                                                   format="json")
        assert response.status_code == 200
        endpoint.refresh_from_db()
        assert endpoint.active and endpoint.disabled_reason == "" and endpoint.consecutive_failures == 0
        assert endpoint.feed_position == feed_head() == 1

    def test_it_deletes_an_endpoint_with_its_log(self, client_for, pe_caseworker, pe_agency, make_endpoint):
        endpoint = make_endpoint(pe_agency)
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event_type="webhook.ping", message_id="m",
                                                  payload={})
        WebhookAttempt.objects.create(delivery=delivery, response_status=204, succeeded=True)
        assert client_for(pe_caseworker).delete(f"/api/v1/webhooks/{endpoint.pk}/").status_code == 204
        assert not WebhookEndpoint.objects.exists() and not WebhookAttempt.objects.exists()

    def test_put_is_not_offered(self, client_for, pe_caseworker, pe_agency, make_endpoint):
        endpoint = make_endpoint(pe_agency)
        response = client_for(pe_caseworker).put(f"/api/v1/webhooks/{endpoint.pk}/", {"url": URL}, format="json")
        assert response.status_code == 405


@pytest.mark.django_db
class TestRotateSecret:
    def test_the_old_secret_keeps_signing_during_the_grace_period(self, client_for, pe_caseworker, pe_agency,
                                                                 make_endpoint):
        endpoint = make_endpoint(pe_agency)
        old = endpoint.secret
        with time_machine.travel(datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC), tick=False):
            response = client_for(pe_caseworker).post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret/")
            assert response.status_code == 200
            new = response.json()["secret"]
            endpoint.refresh_from_db()
            assert new != old and endpoint.secret == new and endpoint.previous_secret == old
            assert endpoint.previous_secret_expires_at == timezone.now() + datetime.timedelta(hours=24)
            assert endpoint.signing_secrets() == [new, old]
        with time_machine.travel(datetime.datetime(2026, 3, 2, 11, 59, tzinfo=datetime.UTC), tick=False):
            assert endpoint.signing_secrets() == [new, old]
        with time_machine.travel(datetime.datetime(2026, 3, 2, 12, 1, tzinfo=datetime.UTC), tick=False):
            assert endpoint.signing_secrets() == [new]


@pytest.mark.django_db
class TestPing:
    def test_it_queues_a_ping_on_commit(self, client_for, pe_caseworker, pe_agency, make_endpoint,
                                        django_capture_on_commit_callbacks):
        endpoint = make_endpoint(pe_agency)
        with django_capture_on_commit_callbacks() as callbacks:
            response = client_for(pe_caseworker).post(f"/api/v1/webhooks/{endpoint.pk}/test/")
        assert response.status_code == 202
        delivery = WebhookDelivery.objects.get(pk=response.json()["id"])
        assert (delivery.event_id, delivery.event_type, delivery.status) == (None, "webhook.ping", "pending")
        assert delivery.payload["data"] == {"endpoint": str(endpoint.pk)}
        assert len(callbacks) == 1


@pytest.mark.django_db
class TestDeliveries:
    def test_it_lists_deliveries_newest_first_with_their_attempts(self, client_for, pe_caseworker, pe_agency,
                                                                 make_endpoint, make_event,
                                                                 django_assert_num_queries):
        endpoint = make_endpoint(pe_agency)
        client = client_for(pe_caseworker)
        client.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/")
        deliveries = []
        for n in range(3):
            event = make_event("case.created", pe_agency)
            delivery = WebhookDelivery.objects.create(
                endpoint=endpoint, event=event, event_type=event.type, message_id=f"evt_{event.pk}", payload={},
                status=DeliveryStatus.FAILED, attempt_count=2,
                created_at=timezone.now() + datetime.timedelta(seconds=n))
            WebhookAttempt.objects.create(delivery=delivery, response_status=500)
            WebhookAttempt.objects.create(delivery=delivery, error="timeout")
            deliveries.append(delivery)

        with django_assert_num_queries(3):  # endpoint, page, attempts (the token remembered)
            body = client.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/").json()

        assert [item["id"] for item in body["results"]] == [str(d.pk) for d in reversed(deliveries)]
        assert [(a["response_status"], a["error"]) for a in body["results"][0]["attempts"]] == [
            (500, ""), (None, "timeout")]
        assert body["results"][0]["event_id"] == deliveries[-1].event_id


@pytest.mark.django_db
class TestRedeliver:
    def test_a_failed_delivery_is_queued_again_with_a_fresh_schedule(self, client_for, pe_caseworker, pe_agency,
                                                                    make_endpoint,
                                                                    django_capture_on_commit_callbacks):
        endpoint = make_endpoint(pe_agency)
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event_type="webhook.ping", message_id="m",
                                                  payload={}, status=DeliveryStatus.FAILED, attempt_count=8)
        with django_capture_on_commit_callbacks() as callbacks:
            response = client_for(pe_caseworker).post(
                f"/api/v1/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/redeliver/")
        assert response.status_code == 202
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.PENDING, 0)
        assert len(callbacks) == 1

    def test_a_delivered_event_is_never_sent_twice(self, client_for, pe_caseworker, pe_agency, make_endpoint):
        endpoint = make_endpoint(pe_agency)
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event_type="webhook.ping", message_id="m",
                                                  payload={}, status=DeliveryStatus.SUCCEEDED, attempt_count=1)
        response = client_for(pe_caseworker).post(
            f"/api/v1/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/redeliver/")
        assert response.status_code == 409
        assert response.json()["code"] == "delivery_not_failed"
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.SUCCEEDED

    def test_another_endpoints_delivery_is_not_found(self, client_for, pe_caseworker, pe_agency, make_endpoint):
        mine, other = make_endpoint(pe_agency), make_endpoint(pe_agency)
        delivery = WebhookDelivery.objects.create(endpoint=other, event_type="webhook.ping", message_id="m",
                                                  payload={}, status=DeliveryStatus.FAILED)
        response = client_for(pe_caseworker).post(
            f"/api/v1/webhooks/{mine.pk}/deliveries/{delivery.pk}/redeliver/")
        assert response.status_code == 404
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.FAILED
