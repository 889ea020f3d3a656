"""Every write of partner integration: webhook endpoints, and the life of a
delivery from the outbox to the partner's server.

A delivery moves ``pending → sending → succeeded | pending (retry) | failed``.
``sending`` is taken with a conditional UPDATE (only one worker can move a row
out of ``pending``), and only the holder of that claim may record the result,
so an event is delivered successfully at most once per endpoint however many
dispatchers and workers run. A worker that dies mid-send leaves its claim
behind; after a lease longer than any task may live, the dispatcher hands the
delivery out again (the receiver dedupes on ``webhook-id``)."""
import json
import logging
import random
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from api_core.errors import Conflict, InvalidInput
from api_core.queueing import enqueue_many_on_commit
from cases.models import Agency
from outbox.models import EventType
from outbox.sequencer import sequence_events

from . import outbound, signing
from .feed import encode_cursor, event_json, events_for_agency, feed_head
from .models import (
    PING_TYPE,
    DeliveryStatus,
    DisabledReason,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

logger = logging.getLogger(__name__)

FAN_OUT_BATCH = 500
QUEUE_BATCH = 1000
# A queued delivery whose task never ran (a lost message) is queued again after this.
REQUEUE_AFTER = timedelta(minutes=5)


def _setting(name):
    return settings.PUENTE[name]


def claim_lease() -> timedelta:
    # Longer than a task may run: a claim older than this belongs to a dead worker.
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)


def _checked_event_types(event_types) -> list[str]:
    known = set(EventType.values)
    unknown = [value for value in event_types if value not in known]
    if unknown:
        raise InvalidInput(_("Unknown event type: %(type)s.") % {"type": unknown[0]}, code="unknown_event_type",
                           field="event_types")
    return sorted(set(event_types))


# --- Endpoints ------------------------------------------------------------


def endpoint_create(*, user, url: str, event_types=(), description: str = "", active: bool = True) -> WebhookEndpoint:
    """A new endpoint of the caller's agency, receiving events from now on.
    The returned object carries the secret; show it once."""
    outbound.check_url(url)
    event_types = _checked_event_types(event_types)
    head = feed_head()
    with transaction.atomic():
        # Lock the agency's row so two requests cannot both pass the limit.
        Agency.objects.select_for_update().get(pk=user.agency_id)
        if WebhookEndpoint.objects.of_agency(user.agency_id).count() >= _setting("WEBHOOK_MAX_ENDPOINTS_PER_AGENCY"):
            raise Conflict(_("This agency already has the maximum number of webhook endpoints."),
                           code="too_many_endpoints")
        return WebhookEndpoint.objects.create(
            agency_id=user.agency_id, url=url, event_types=event_types, description=description, active=active,
            secret=signing.generate_secret(), feed_position=head, created_by=user,
        )


def _abandon_pending(endpoint_id) -> int:
    """Deliveries still waiting when an endpoint stops receiving: the feed is
    the record partners catch up from, so they are not kept for later."""
    return WebhookDelivery.objects.filter(endpoint_id=endpoint_id, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, next_attempt_at=None)


def endpoint_update(*, endpoint: WebhookEndpoint, **changes) -> WebhookEndpoint:
    """Change url, description, event types or active. Switching an endpoint
    back on resumes delivery with the events from that moment."""
    if "url" in changes:
        outbound.check_url(changes["url"])
    if "event_types" in changes:
        changes["event_types"] = _checked_event_types(changes["event_types"])
    head = feed_head() if changes.get("active") else None
    now = timezone.now()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        was_active = endpoint.active
        for name, value in changes.items():
            setattr(endpoint, name, value)
        if endpoint.active and not was_active:
            endpoint.feed_position = head
            endpoint.consecutive_failures = 0
            endpoint.disabled_reason, endpoint.disabled_at = "", None
        elif was_active and not endpoint.active:
            endpoint.disabled_at = now
            _abandon_pending(endpoint.pk)
        endpoint.save()
    return endpoint


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret; the old one keeps signing (both signatures are sent) for
    the grace period, so the partner can switch without losing a message."""
    now = timezone.now()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + timedelta(hours=_setting("WEBHOOK_SECRET_GRACE_HOURS"))
        endpoint.secret = signing.generate_secret()
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return endpoint


def _queue(delivery_ids) -> None:
    from .tasks import deliver_webhook

    # The delivery rows are the work; a broker that is down must not fail the
    # request that wrote them — the periodic dispatcher picks them up.
    enqueue_many_on_commit(deliver_webhook, [(str(pk),) for pk in delivery_ids])


def endpoint_ping(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a ``webhook.ping`` message: one attempt, no retries, and no effect
    on the endpoint's state, so an agency can test its receiver at any time."""
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, event=None, event_type=PING_TYPE, message_id=f"msg_{uuid.uuid4().hex}",
            payload={"type": PING_TYPE, "timestamp": now.isoformat(), "data": {"endpoint": str(endpoint.pk)}},
            next_attempt_at=now, queued_at=now,
        )
        _queue([delivery.pk])
    return delivery


def endpoint_disable(*, endpoint_id, reason: str) -> bool:
    """Switch an endpoint off because its receiver is gone or keeps failing,
    and tell the agency's contact. False when it was already off."""
    now = timezone.now()
    with transaction.atomic():
        changed = WebhookEndpoint.objects.filter(pk=endpoint_id, active=True).update(
            active=False, disabled_reason=reason, disabled_at=now, updated_at=now)
        if not changed:
            return False
        _abandon_pending(endpoint_id)
        from .tasks import notify_endpoint_disabled

        transaction.on_commit(lambda: notify_endpoint_disabled.delay(str(endpoint_id)))
    logger.warning("webhook endpoint %s disabled: %s", endpoint_id, reason)
    return True


def endpoint_notify_disabled(*, endpoint_id) -> bool:
    """Email the agency contact that its endpoint was switched off. No personal
    data: the endpoint's address, why, and what to do."""
    endpoint = WebhookEndpoint.objects.select_related("agency").filter(pk=endpoint_id).first()
    if endpoint is None or endpoint.active or not endpoint.agency.contact_email:
        return False
    with translation.override(endpoint.agency.language):
        subject = _("[Puente] Webhook endpoint disabled: %(url)s") % {"url": endpoint.url}
        body = "\n\n".join([
            _("Puente has stopped sending webhooks to %(url)s (agency %(agency)s).")
            % {"url": endpoint.url, "agency": endpoint.agency.code},
            _("Reason: %(reason)s.") % {"reason": endpoint.get_disabled_reason_display()},
            _("Once the receiver works again, switch the endpoint back on (PATCH /api/v1/webhooks/%(id)s/ with "
              "\"active\": true) and read the change feed (GET /api/v1/events/?after=<your last cursor>) to "
              "catch up with what happened meanwhile.") % {"id": endpoint.pk},
        ])
    send_mail(subject, body, None, [endpoint.agency.contact_email])
    return True


# --- Deliveries -----------------------------------------------------------


def _event_payload(event) -> dict:
    """The Standard Webhooks envelope around the event as the feed shows it,
    with its feed cursor: deliveries are made from numbered events only
    (``deliveries_fan_out``), so the position is always there."""
    data = {**event_json(event), "cursor": encode_cursor(event.position)}
    return {"type": event.type, "timestamp": data["occurred_at"], "data": data}


def deliveries_fan_out(*, endpoint_id) -> int:
    """Turn the endpoint's new feed events into deliveries and move its feed
    position past them. Returns how many deliveries were created."""
    now = timezone.now()
    with transaction.atomic():
        endpoint = (WebhookEndpoint.objects.select_for_update(skip_locked=True)
                    .filter(pk=endpoint_id, active=True).first())
        if endpoint is None:  # off, gone, or another dispatcher is on it
            return 0
        events = list(events_for_agency(endpoint.agency_id).filter(position__gt=endpoint.feed_position)
                      .order_by("position")[:FAN_OUT_BATCH])
        if not events:
            return 0
        deliveries = [
            WebhookDelivery(endpoint=endpoint, event=event, event_type=event.type, message_id=f"evt_{event.pk}",
                            payload=_event_payload(event), next_attempt_at=now)
            for event in events if endpoint.wants(event.type)
        ]
        WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        endpoint.feed_position = events[-1].position
        endpoint.save(update_fields=["feed_position"])
    return len(deliveries)


def _recover_stalled(now) -> int:
    """Claims older than the lease belong to workers that died: count the lost
    attempt and put the delivery back in line."""
    stalled = list(WebhookDelivery.objects.stalled(now, claim_lease())
                   .values_list("pk", "attempt_count", "event_id")[:QUEUE_BATCH])
    recovered = 0
    for pk, attempt_count, event_id in stalled:
        # Counted like a failure, so a message that kills its worker cannot loop for ever.
        delay = retry_delay(attempt_count + 1) if event_id is not None else None
        state = ({"status": DeliveryStatus.PENDING, "next_attempt_at": now + delay} if delay is not None
                 else {"status": DeliveryStatus.FAILED, "next_attempt_at": None})
        with transaction.atomic():
            if WebhookDelivery.objects.stalled(now, claim_lease()).filter(pk=pk).update(
                    claim=None, claimed_at=None, queued_at=None, attempt_count=attempt_count + 1, **state):
                WebhookAttempt.objects.create(delivery_id=pk, attempted_at=now,
                                              error="no result: the worker stopped during the attempt")
                recovered += 1
    return recovered


def deliveries_queue_due(*, now=None) -> int:
    """Queue a delivery task for each delivery whose attempt is due and that is
    not already on the queue. Returns how many were queued."""
    now = now or timezone.now()
    with transaction.atomic():
        due = (WebhookDelivery.objects.due(now)
               .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=now - REQUEUE_AFTER))
               .filter(Q(event__isnull=True) | Q(endpoint__active=True))
               .order_by("next_attempt_at"))
        ids = list(due.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True)[:QUEUE_BATCH])
        WebhookDelivery.objects.filter(pk__in=ids).update(queued_at=now)
        _queue(ids)
    return len(ids)


def webhooks_dispatch() -> dict:
    """The periodic run: number new events, fan them out to endpoints, recover
    lost claims, queue what is due."""
    sequence_events()
    created = sum(deliveries_fan_out(endpoint_id=pk)
                  for pk in WebhookEndpoint.objects.active().values_list("pk", flat=True))
    recovered = _recover_stalled(timezone.now())
    queued = deliveries_queue_due()
    return {"created": created, "recovered": recovered, "queued": queued}


def retry_delay(attempt_count: int) -> timedelta | None:
    """How long to wait after the ``attempt_count``-th failed attempt, with
    ±10 % jitter so that retries to one receiver do not arrive in lockstep;
    None once the schedule (about a day) is used up."""
    delays = _setting("WEBHOOK_RETRY_DELAYS")
    if attempt_count > len(delays):
        return None
    return timedelta(seconds=delays[attempt_count - 1] * random.uniform(0.9, 1.1))


def _request(delivery: WebhookDelivery, endpoint: WebhookEndpoint, now) -> tuple[bytes, dict]:
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    timestamp = int(now.timestamp())
    return body, {
        "Content-Type": "application/json",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signing.signature_header(endpoint.signing_secrets(now), delivery.message_id,
                                                      timestamp, body),
    }


def delivery_attempt(*, delivery_id) -> str:
    """Claim the delivery, send it once, record the attempt and decide what
    comes next. Returns what happened (for logs and tests)."""
    now = timezone.now()
    claim = uuid.uuid4()
    claimed = WebhookDelivery.objects.due(now).filter(pk=delivery_id).update(
        status=DeliveryStatus.SENDING, claim=claim, claimed_at=now)
    if not claimed:
        return "not-claimed"
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    is_ping = delivery.event_id is None
    if not is_ping and not endpoint.active:
        WebhookDelivery.objects.filter(pk=delivery_id, claim=claim).update(
            status=DeliveryStatus.FAILED, claim=None, next_attempt_at=None)
        return "endpoint-inactive"

    body, headers = _request(delivery, endpoint, now)
    result = outbound.post(endpoint.url, body=body, headers=headers)  # outside any transaction
    succeeded = result.status is not None and 200 <= result.status < 300
    finished = timezone.now()
    attempt_count = delivery.attempt_count + 1
    delay = None if (succeeded or is_ping or result.status == 410) else retry_delay(attempt_count)
    if succeeded:
        state = {"status": DeliveryStatus.SUCCEEDED, "delivered_at": finished, "next_attempt_at": None}
    elif delay is not None:
        state = {"status": DeliveryStatus.PENDING, "next_attempt_at": finished + delay, "queued_at": None}
    else:
        state = {"status": DeliveryStatus.FAILED, "next_attempt_at": None}

    with transaction.atomic():
        WebhookAttempt.objects.create(delivery_id=delivery_id, attempted_at=now, response_status=result.status,
                                      error=result.error, duration_ms=result.duration_ms, succeeded=succeeded)
        recorded = WebhookDelivery.objects.filter(pk=delivery_id, claim=claim, status=DeliveryStatus.SENDING).update(
            attempt_count=attempt_count, claim=None, claimed_at=None, **state)
        if not recorded or is_ping:
            return "lost-claim" if not recorded else state["status"]
        if succeeded:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).exclude(consecutive_failures=0).update(
                consecutive_failures=0)
        elif result.status == 410:
            endpoint_disable(endpoint_id=endpoint.pk, reason=DisabledReason.GONE)
        elif state["status"] == DeliveryStatus.FAILED:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=F("consecutive_failures") + 1)
            failures = WebhookEndpoint.objects.values_list("consecutive_failures", flat=True).get(pk=endpoint.pk)
            if failures >= _setting("WEBHOOK_FAILURE_THRESHOLD"):
                endpoint_disable(endpoint_id=endpoint.pk, reason=DisabledReason.FAILING)
    return state["status"]


def delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a failed delivery again, with a fresh retry schedule. Only failed
    ones: a delivered event is never delivered twice, and one in progress is
    already on its way."""
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().select_related("endpoint").get(pk=delivery.pk)
        if delivery.status != DeliveryStatus.FAILED:
            raise Conflict(_("Only a failed delivery can be sent again."), code="delivery_not_failed")
        if delivery.event_id is not None and not delivery.endpoint.active:
            raise Conflict(_("The endpoint is switched off; switch it on first."), code="endpoint_inactive")
        delivery.status, delivery.attempt_count = DeliveryStatus.PENDING, 0
        delivery.next_attempt_at, delivery.queued_at = now, now
        delivery.save(update_fields=["status", "attempt_count", "next_attempt_at", "queued_at"])
        _queue([delivery.pk])
    return delivery
