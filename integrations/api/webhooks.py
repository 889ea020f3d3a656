"""The messages Puente sends to a webhook endpoint, for the published schema
(``SPECTACULAR_SETTINGS["WEBHOOKS"]``; ``api_core.schema`` lists them under
``x-webhooks`` with the Standard Webhooks headers). The bodies are built by
``integrations.services``; ``tests/integrations/test_delivery.py`` holds a
real delivery against these serializers' schema."""
from drf_spectacular.utils import OpenApiResponse, OpenApiWebhook, extend_schema
from rest_framework import serializers

from outbox.models import EventType

from ..models import PING_TYPE
from .serializers import CursorField, FeedEventSerializer


class WebhookEventDataSerializer(FeedEventSerializer):
    cursor = CursorField(help_text="The event's place in the change feed: `GET /api/v1/events/?after=<cursor>` "
                                   "reads what came after it (docs/api/sync.md).")


class WebhookEventSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=EventType.choices,
                                   help_text="The event's type. New types may be added: ignore the ones you do "
                                             "not know.")
    timestamp = serializers.DateTimeField(help_text="When the event happened (its `occurred_at`).")
    data = WebhookEventDataSerializer(help_text="The event as the change feed shows it, with its cursor.")


class WebhookPingDataSerializer(serializers.Serializer):
    endpoint = serializers.UUIDField(help_text="The endpoint the test was asked for.")


class WebhookPingSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=[(PING_TYPE, PING_TYPE)])
    timestamp = serializers.DateTimeField(help_text="When the test was asked for.")
    data = WebhookPingDataSerializer()


_ACKNOWLEDGED = {200: OpenApiResponse(description="Any 2xx within 10 seconds acknowledges the message. "
                                                  "Anything else, a redirect included, is a failed attempt "
                                                  "(retried, for events); 410 switches the endpoint off.")}

EVENT_WEBHOOK = OpenApiWebhook(name="event", decorator=extend_schema(
    operation_id="webhook_event",
    summary="An event of your agency, as it happens",
    description="One message per event and endpoint, for the `event_types` the endpoint asked for (all when "
                "empty), signed, retried for about a day until acknowledged.",
    request=WebhookEventSerializer, responses=_ACKNOWLEDGED, tags=["webhooks"]))

PING_WEBHOOK = OpenApiWebhook(name=PING_TYPE, decorator=extend_schema(
    operation_id="webhook_ping",
    summary="A test message", description="Sent once, without retries, by `POST /api/v1/webhooks/{id}/test/`.",
    request=WebhookPingSerializer, responses=_ACKNOWLEDGED, tags=["webhooks"]))
