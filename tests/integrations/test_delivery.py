"""Delivery from the outbox to a real HTTP receiver on loopback."""
import datetime
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import standardwebhooks
import time_machine
from django.core import mail
from django.db import connections
from django.utils import timezone

from integrations import outbound, services
from integrations.models import DeliveryStatus, DisabledReason, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from integrations.tasks import deliver_webhook
from outbox.sequencer import sequence_events
from tests.openapi import published_schema, validator

from .conftest import verify_request

ROOT = Path(__file__).resolve().parents[2]
START = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)


def _published_header(name: str) -> dict:
    """The schema of a webhook header as ``x-webhooks`` publishes it."""
    [parameter] = [parameter for parameter in published_schema()["components"]["parameters"].values()
                   if parameter["name"] == name and parameter["in"] == "header"]
    return parameter["schema"]


def fan_out_and_send(endpoint):
    """What the dispatcher and one worker do for the endpoint, in this process."""
    sequence_events()
    services.deliveries_fan_out(endpoint_id=endpoint.pk)
    return [deliver_webhook(str(pk)) for pk in
            WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).values_list("pk",
                                                                                                           flat=True)]


@pytest.mark.django_db
class TestFanOut:
    def test_it_creates_one_delivery_per_wanted_visible_event(self, pe_agency, cl_agency, make_endpoint,
                                                             make_event):
        before = make_event("case.created", pe_agency)
        endpoint = make_endpoint(pe_agency, event_types=["case.created", "handoff.created"])
        wanted = make_event("case.created", pe_agency)
        make_event("case.updated", pe_agency)  # not subscribed
        shared = make_event("handoff.created", cl_agency, pe_agency)
        make_event("case.created", cl_agency)  # not visible to pe
        sequence_events()

        assert services.deliveries_fan_out(endpoint_id=endpoint.pk) == 2
        assert services.deliveries_fan_out(endpoint_id=endpoint.pk) == 0  # nothing twice

        deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("event__position")
        assert [d.event_id for d in deliveries] == [wanted.id, shared.id]
        assert before.id not in [d.event_id for d in deliveries]
        delivery = deliveries[0]
        assert delivery.message_id == f"evt_{wanted.id}"
        assert delivery.payload["type"] == "case.created"
        assert delivery.payload["data"]["object"] == {"type": "case", "id": str(wanted.object_id)}
        endpoint.refresh_from_db()
        shared.refresh_from_db()
        assert endpoint.feed_position == shared.position

    def test_a_switched_off_endpoint_gets_nothing(self, pe_agency, make_endpoint, make_event):
        endpoint = make_endpoint(pe_agency, active=False)
        make_event("case.created", pe_agency)
        assert services.deliveries_fan_out(endpoint_id=endpoint.pk) == 0
        assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
class TestDelivery:
    def test_it_posts_a_signed_standard_webhook(self, receiver, pe_agency, make_endpoint, make_event):
        endpoint = make_endpoint(pe_agency, url=receiver.url)
        event = make_event("case.created", pe_agency)

        assert fan_out_and_send(endpoint) == ["succeeded"]

        [request] = receiver.requests
        headers = {key.lower(): value for key, value in request["headers"].items()}
        assert request["path"] == "/hooks/puente"
        assert headers["webhook-id"] == f"evt_{event.id}"
        assert headers["content-type"] == "application/json"
        assert headers["webhook-signature"].startswith("v1,") and " " not in headers["webhook-signature"]
        assert verify_request(request, endpoint.secret)
        body = json.loads(request["body"])
        assert body["type"] == "case.created" and body["data"]["id"] == event.id
        assert body["data"]["case_reference"] == event.case_reference
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempt_count == 1
        attempt = WebhookAttempt.objects.get()
        assert (attempt.response_status, attempt.succeeded, attempt.error) == (204, True, "")

    def test_a_delivery_carries_the_feed_cursor_and_passes_a_standard_webhooks_receiver(
            self, receiver, pe_agency, pe_caseworker, make_endpoint, make_event, client_for):
        """What a receiver gets is the published envelope, verifies with the
        standardwebhooks library, and its cursor continues the feed after the event."""
        endpoint = make_endpoint(pe_agency, url=receiver.url, event_types=["case.updated"])
        earlier = make_event("case.created", pe_agency)
        event = make_event("case.updated", pe_agency)
        later = make_event("case.closed", pe_agency)

        assert fan_out_and_send(endpoint) == ["succeeded"]

        [request] = receiver.requests
        headers = {key.lower(): value for key, value in request["headers"].items()}
        body = standardwebhooks.Webhook(endpoint.secret).verify(request["body"], headers)
        assert list(validator("WebhookEvent").iter_errors(body)) == []
        for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
            assert re.search(_published_header(name).get("pattern", ".+"), headers[name])
        for numbered in (earlier, event):
            numbered.refresh_from_db()
        assert body["data"]["cursor"] == f"p1.{event.position}"
        client = client_for(pe_caseworker)
        before = client.get("/api/v1/events/", {"after": f"p1.{earlier.position}", "page_size": 1}).json()
        assert before["results"][0]["id"] == event.id and before["next"] == body["data"]["cursor"]
        after = client.get("/api/v1/events/", {"after": body["data"]["cursor"]}).json()
        assert [item["id"] for item in after["results"]] == [later.id]

    def test_a_ping_is_the_published_ping(self, receiver, pe_agency, make_endpoint):
        endpoint = make_endpoint(pe_agency, url=receiver.url)
        assert deliver_webhook(str(services.endpoint_ping(endpoint=endpoint).pk)) == "succeeded"
        [request] = receiver.requests
        headers = {key.lower(): value for key, value in request["headers"].items()}
        body = standardwebhooks.Webhook(endpoint.secret).verify(request["body"], headers)
        assert list(validator("WebhookPing").iter_errors(body)) == []
        assert body == {"type": "webhook.ping", "timestamp": body["timestamp"], "data": {"endpoint": str(endpoint.pk)}}

    def test_during_a_rotation_each_message_carries_both_signatures(self, receiver, pe_agency, make_endpoint,
                                                                    make_event):
        endpoint = make_endpoint(pe_agency, url=receiver.url)
        old = endpoint.secret
        endpoint = services.endpoint_rotate_secret(endpoint=endpoint)
        make_event("case.created", pe_agency)

        fan_out_and_send(endpoint)

        [request] = receiver.requests
        assert len(request["headers"]["webhook-signature"].split(" ")) == 2
        assert verify_request(request, old) and verify_request(request, endpoint.secret)

    def test_a_ping_is_sent_once_and_changes_nothing_else(self, receiver, pe_agency, make_endpoint):
        endpoint = make_endpoint(pe_agency, url=receiver.url, consecutive_failures=2)
        receiver.answer(503)
        ping = services.endpoint_ping(endpoint=endpoint)
        assert deliver_webhook(str(ping.pk)) == "failed"
        assert deliver_webhook(str(ping.pk)) == "not-claimed"
        assert len(receiver.requests) == 1
        assert receiver.bodies()[0]["type"] == "webhook.ping"
        endpoint.refresh_from_db()
        assert endpoint.active and endpoint.consecutive_failures == 2

    def test_only_2xx_counts_and_redirects_are_not_followed(self, receiver, pe_agency, make_endpoint, make_event):
        endpoint = make_endpoint(pe_agency, url=receiver.url)
        receiver.answer(302)
        make_event("case.created", pe_agency)
        assert fan_out_and_send(endpoint) == ["pending"]
        assert [r["path"] for r in receiver.requests] == ["/hooks/puente"]
        assert WebhookAttempt.objects.get().response_status == 302

    def test_a_slow_receiver_is_cut_off(self, receiver, pe_agency, make_endpoint, make_event, webhook_settings):
        webhook_settings(WEBHOOK_TIMEOUT_SECONDS=0.3)
        receiver.delay = 1.0
        endpoint = make_endpoint(pe_agency, url=receiver.url)
        make_event("case.created", pe_agency)
        assert fan_out_and_send(endpoint) == ["pending"]
        attempt = WebhookAttempt.objects.get()
        assert attempt.error == "timeout" and attempt.response_status is None

    def test_a_receiver_that_is_down_is_an_error_not_a_crash(self, pe_agency, make_endpoint, make_event):
        endpoint = make_endpoint(pe_agency, url="http://127.0.0.1:9/nothing-listens-here")
        make_event("case.created", pe_agency)
        assert fan_out_and_send(endpoint) == ["pending"]
        assert "ConnectError" in WebhookAttempt.objects.get().error


@pytest.mark.django_db
class TestRetrySchedule:
    def test_it_retries_with_back_off_and_jitter_over_about_a_day_then_gives_up(self, receiver, pe_agency,
                                                                                 make_endpoint, make_event):
        receiver.answer(*[500] * 20)
        with time_machine.travel(START, tick=False) as clock:
            endpoint = make_endpoint(pe_agency, url=receiver.url)
            make_event("case.created", pe_agency)
            sequence_events()
            services.deliveries_fan_out(endpoint_id=endpoint.pk)
            delivery = WebhookDelivery.objects.get()
            delays = []
            while True:
                assert deliver_webhook(str(delivery.pk)) in ("pending", "failed")
                delivery.refresh_from_db()
                if delivery.status == DeliveryStatus.FAILED:
                    break
                wait = delivery.next_attempt_at - timezone.now()
                delays.append(wait.total_seconds())
                # Not before its time, whoever asks.
                clock.shift(wait - datetime.timedelta(seconds=1))
                assert deliver_webhook(str(delivery.pk)) == "not-claimed"
                clock.shift(datetime.timedelta(seconds=1))

        schedule = [5, 300, 1800, 7200, 18000, 36000, 36000]
        assert len(delays) == len(schedule)
        for delay, nominal in zip(delays, schedule, strict=True):
            assert nominal * 0.9 <= delay <= nominal * 1.1
        assert 22 * 3600 < sum(delays) < 31 * 3600  # about a day
        assert delivery.attempt_count == 8 and len(receiver.requests) == 8
        assert WebhookAttempt.objects.filter(delivery=delivery, response_status=500).count() == 8
        endpoint.refresh_from_db()
        assert endpoint.consecutive_failures == 1 and endpoint.active

    def test_the_jitter_spreads_retries(self, settings):
        delays = {services.retry_delay(3).total_seconds() for _ in range(20)}
        assert len(delays) > 1 and all(1620 <= delay <= 1980 for delay in delays)
        assert services.retry_delay(8) is None

    def test_the_dispatcher_queues_only_what_is_due_and_not_twice(self, pe_agency, make_endpoint, make_event,
                                                                 django_capture_on_commit_callbacks):
        endpoint = make_endpoint(pe_agency)
        make_event("case.created", pe_agency)
        make_event("case.created", pe_agency)
        with django_capture_on_commit_callbacks() as callbacks:
            assert services.webhooks_dispatch() == {"created": 2, "recovered": 0, "queued": 2}
        assert len(callbacks) == 1
        later = WebhookDelivery.objects.first()
        later.next_attempt_at = timezone.now() + datetime.timedelta(hours=1)
        later.queued_at = None
        later.save()
        assert services.deliveries_queue_due() == 0  # the other is already on the queue
        with time_machine.travel(timezone.now() + datetime.timedelta(minutes=6)):
            assert services.deliveries_queue_due() == 1  # lost on the queue: queued again
        assert endpoint.deliveries.count() == 2

    def test_a_claim_left_by_a_dead_worker_is_handed_out_again(self, pe_agency, make_endpoint, make_event):
        endpoint = make_endpoint(pe_agency)
        event, last = make_event("case.created", pe_agency), make_event("case.created", pe_agency)
        stale = timezone.now() - datetime.timedelta(minutes=30)
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, event=event, event_type=event.type, message_id="m", payload={},
            status=DeliveryStatus.SENDING, claimed_at=stale, attempt_count=1)
        exhausted = WebhookDelivery.objects.create(
            endpoint=endpoint, event=last, event_type=last.type, message_id="l", payload={},
            status=DeliveryStatus.SENDING, claimed_at=stale, attempt_count=7)
        fresh = WebhookDelivery.objects.create(
            endpoint=endpoint, event_type="webhook.ping", message_id="n", payload={},
            status=DeliveryStatus.SENDING, claimed_at=timezone.now())

        assert services.webhooks_dispatch()["recovered"] == 2

        delivery.refresh_from_db()
        exhausted.refresh_from_db()
        fresh.refresh_from_db()
        assert delivery.status == DeliveryStatus.PENDING and delivery.claim is None
        assert delivery.attempt_count == 2 and delivery.next_attempt_at > timezone.now()
        assert "worker stopped" in delivery.attempts.get().error
        assert exhausted.status == DeliveryStatus.FAILED  # a message that kills workers does not loop
        assert fresh.status == DeliveryStatus.SENDING


@pytest.mark.django_db
class TestDisabling:
    def test_410_gone_switches_the_endpoint_off_and_tells_the_agency(self, receiver, pe_agency, make_endpoint,
                                                                    make_event, celery_eager,
                                                                    django_capture_on_commit_callbacks):
        pe_agency.contact_email, pe_agency.language = "sistemas@migraciones.example", "es"
        pe_agency.save()
        endpoint = make_endpoint(pe_agency, url=receiver.url)
        receiver.answer(410)
        make_event("case.created", pe_agency)
        make_event("case.updated", pe_agency)
        sequence_events()
        services.deliveries_fan_out(endpoint_id=endpoint.pk)
        first, second = WebhookDelivery.objects.order_by("event__position")

        with django_capture_on_commit_callbacks(execute=True):
            assert deliver_webhook(str(first.pk)) == "failed"

        endpoint.refresh_from_db()
        assert not endpoint.active and endpoint.disabled_reason == DisabledReason.GONE
        second.refresh_from_db()
        assert second.status == DeliveryStatus.FAILED  # no more sends to a receiver that is gone
        assert deliver_webhook(str(second.pk)) == "not-claimed"
        assert len(receiver.requests) == 1
        [message] = mail.outbox
        assert message.to == ["sistemas@migraciones.example"]
        assert receiver.url in message.subject
        assert "desactivado" in message.subject.lower() or "disabled" in message.subject.lower()

    def test_n_failed_deliveries_in_a_row_switch_it_off_and_email_the_contact(
            self, receiver, pe_agency, make_endpoint, make_event, webhook_settings, celery_eager,
            django_capture_on_commit_callbacks):
        webhook_settings(WEBHOOK_FAILURE_THRESHOLD=3, WEBHOOK_RETRY_DELAYS=[])  # one attempt per delivery
        endpoint = make_endpoint(pe_agency, url=receiver.url)
        receiver.answer(500, 500, 204, 500, 500, 500)
        for _ in range(6):
            make_event("case.updated", pe_agency)

        with django_capture_on_commit_callbacks(execute=True):
            results = []
            sequence_events()
            services.deliveries_fan_out(endpoint_id=endpoint.pk)
            for delivery in WebhookDelivery.objects.order_by("event__position"):
                results.append(deliver_webhook(str(delivery.pk)))
                endpoint.refresh_from_db()
                if len(results) == 2:
                    assert endpoint.consecutive_failures == 2 and endpoint.active
                if len(results) == 3:
                    assert endpoint.consecutive_failures == 0  # a success starts the count again

        assert results == ["failed", "failed", "succeeded", "failed", "failed", "failed"]
        assert not endpoint.active and endpoint.disabled_reason == DisabledReason.FAILING
        assert endpoint.consecutive_failures == 3
        [message] = mail.outbox
        assert message.to == [pe_agency.contact_email]
        assert "Yusmary" not in message.body and receiver.url in message.body

    def test_below_the_threshold_nothing_is_switched_off_or_sent(self, receiver, pe_agency, make_endpoint,
                                                                make_event, webhook_settings,
                                                                django_capture_on_commit_callbacks):
        webhook_settings(WEBHOOK_FAILURE_THRESHOLD=3, WEBHOOK_RETRY_DELAYS=[])
        endpoint = make_endpoint(pe_agency, url=receiver.url)
        receiver.answer(500, 500)
        make_event("case.updated", pe_agency)
        make_event("case.updated", pe_agency)
        with django_capture_on_commit_callbacks() as callbacks:
            assert fan_out_and_send(endpoint) == ["failed", "failed"]
        endpoint.refresh_from_db()
        assert endpoint.active and endpoint.consecutive_failures == 2
        assert callbacks == [] and mail.outbox == []


@pytest.mark.django_db
class TestServerSideRequestForgery:
    @pytest.mark.parametrize("url", [
        "https://localhost/hook", "http://localhost:8000/hook", "https://127.0.0.1/hook", "http://[::1]:9000/",
        "https://a.localhost/hook",
    ])
    def test_internal_targets_are_refused_when_saved(self, client_for, pe_caseworker, webhook_settings, url):
        webhook_settings(WEBHOOK_ALLOWED_NETWORKS=[])
        response = client_for(pe_caseworker).post("/api/v1/webhooks/", {"url": url}, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "forbidden_target"
        assert not WebhookEndpoint.objects.exists()

    def test_plain_http_to_localhost_needs_the_development_setting(self, client_for, pe_caseworker,
                                                                  webhook_settings):
        webhook_settings(WEBHOOK_ALLOW_HTTP_LOCALHOST=False)
        response = client_for(pe_caseworker).post("/api/v1/webhooks/", {"url": "http://localhost:8000/"},
                                                  format="json")
        assert response.status_code == 400 and response.json()["code"] == "insecure_url"

    @pytest.mark.parametrize("address", [
        "10.1.2.3", "172.16.0.1", "192.168.1.1", "127.0.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
        "224.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1", "2002:a00:1::",
    ])
    def test_non_public_addresses_are_refused(self, webhook_settings, address):
        webhook_settings(WEBHOOK_ALLOWED_NETWORKS=[])
        assert not outbound.address_allowed(address)

    def test_public_addresses_and_allowed_networks_pass(self, webhook_settings):
        webhook_settings(WEBHOOK_ALLOWED_NETWORKS=["10.20.0.0/16"])
        assert outbound.address_allowed("8.8.8.8") and outbound.address_allowed("2001:4860:4860::8888")
        assert outbound.address_allowed("10.20.3.4") and not outbound.address_allowed("10.21.3.4")

    def test_names_are_resolved_and_checked_when_sending(self, webhook_settings):
        webhook_settings(WEBHOOK_ALLOWED_NETWORKS=[])
        with pytest.raises(outbound.TargetRefused):
            outbound.resolve_target("localhost", 443)
        assert outbound.resolve_target("8.8.8.8", 443) == "8.8.8.8"

    def test_a_target_that_became_internal_is_not_called(self, receiver, pe_agency, make_endpoint, make_event,
                                                        webhook_settings):
        """Saved while allowed (or pointing elsewhere then); refused at sending time."""
        endpoint = make_endpoint(pe_agency, url=receiver.url.replace("127.0.0.1", "localhost"))
        webhook_settings(WEBHOOK_ALLOWED_NETWORKS=[])
        make_event("case.created", pe_agency)
        assert fan_out_and_send(endpoint) == ["pending"]
        assert receiver.requests == []
        attempt = WebhookAttempt.objects.get()
        assert attempt.error.startswith("refused") and attempt.response_status is None

    def test_production_settings_refuse_internal_targets(self):
        env = {
            **os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": "x" * 60, "DJANGO_ALLOWED_HOSTS": "puente.example.org",
            "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none", "REDIS_URL": "redis://127.0.0.1:1/0",
        }
        env.pop("PUENTE_WEBHOOK_ALLOWED_NETWORKS", None)
        code = ("import django; django.setup(); from django.conf import settings; "
                "print(settings.PUENTE['WEBHOOK_ALLOWED_NETWORKS'], settings.PUENTE['WEBHOOK_ALLOW_HTTP_LOCALHOST'])")
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
        assert result.stdout.strip() == "[] False", result.stderr


@pytest.mark.django_db(transaction=True)
class TestConcurrentWorkers:
    def test_two_workers_on_one_delivery_send_it_once(self, receiver, pe_agency, make_endpoint, make_event):
        receiver.delay = 0.3  # both workers are in flight at once
        endpoint = make_endpoint(pe_agency, url=receiver.url)
        make_event("case.created", pe_agency)
        sequence_events()
        services.deliveries_fan_out(endpoint_id=endpoint.pk)
        delivery = WebhookDelivery.objects.get()
        barrier, results = threading.Barrier(2), []

        def worker():
            try:
                barrier.wait()
                results.append(deliver_webhook(str(delivery.pk)))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(results) == ["not-claimed", "succeeded"]
        assert len(receiver.requests) == 1
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts.count() == 1

    def test_two_dispatchers_create_each_delivery_once(self, pe_agency, make_endpoint, make_event):
        endpoint = make_endpoint(pe_agency)
        events = [make_event("case.created", pe_agency) for _ in range(20)]
        barrier = threading.Barrier(2)

        def dispatcher():
            try:
                barrier.wait()
                for _ in range(5):
                    sequence_events()
                    services.deliveries_fan_out(endpoint_id=endpoint.pk)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=dispatcher) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(WebhookDelivery.objects.values_list("event_id", flat=True)) == sorted(e.id for e in events)
