from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api_core.fields import StrictBooleanField, StrictCharField
from integrations.feed import CURSOR_PATTERN
from integrations.models import DisabledReason, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from outbox.models import EventType

MAX_PAGE_SIZE = 500

# What a webhook URL may look like, as a pattern the contract can carry: https
# to a DNS name (never an address literal), or localhost for development. The
# service checks the rest (internal names, the http setting) and, at sending
# time, the addresses the name resolves to.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = r"(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
_PATH = r"(?:/(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?"
WEBHOOK_URL_PATTERN = (
    rf"^(?:https://{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,63}}|https?://(?:localhost|127\.0\.0\.1|\[::1\]))"
    rf"(?::{_PORT})?{_PATH}$"
)
url_validator = RegexValidator(WEBHOOK_URL_PATTERN, _("Give an https:// address of your system."), code="invalid_url")


@extend_schema_field({"type": "string", "pattern": CURSOR_PATTERN})
class CursorField(serializers.CharField):
    """A feed cursor. ``?after=`` is an error, not "from the beginning": a
    client that lost its cursor should know."""

    def get_value(self, dictionary):
        return dictionary.get(self.field_name, serializers.empty)


class FeedQuerySerializer(serializers.Serializer):
    after = CursorField(
        required=False, trim_whitespace=False,
        help_text=_("The `next` cursor of the previous page, as it was given. Without it the feed starts at the "
                    "beginning."))
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=100)


class FeedObjectSerializer(serializers.Serializer):
    type = serializers.CharField(help_text=_("For example case, handoff, actionitem, meeting."))
    id = serializers.CharField()


class FeedEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.CharField(help_text=_("For example case.created, handoff.accepted."))
    occurred_at = serializers.DateTimeField()
    object = FeedObjectSerializer()
    case_reference = serializers.CharField(allow_null=True)


class FeedPageSerializer(serializers.Serializer):
    results = FeedEventSerializer(many=True)
    next = serializers.CharField(help_text=_("Store it and pass it as `after` next time."))
    has_more = serializers.BooleanField(help_text=_("More events are waiting: ask again at once."))


class WebhookEndpointSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices))
    disabled_reason = serializers.ChoiceField(choices=DisabledReason.choices, allow_blank=True)

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "event_types", "active", "disabled_reason", "disabled_at",
                  "consecutive_failures", "previous_secret_expires_at", "created_at", "updated_at"]
        read_only_fields = fields


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text=_("Shown only now: store it to verify signatures."))

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointInputSerializer(serializers.Serializer):
    url = StrictCharField(max_length=2000, validators=[url_validator], trim_whitespace=False,
                          help_text=_("An https:// address of your system."))
    description = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices), required=False, default=list,
        max_length=len(EventType.choices), help_text=_("Empty: every type."))
    active = StrictBooleanField(required=False, default=True)


class WebhookEndpointPatchSerializer(serializers.Serializer):
    url = StrictCharField(max_length=2000, required=False, validators=[url_validator], trim_whitespace=False)
    description = StrictCharField(max_length=200, required=False, allow_blank=True)
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices), required=False,
                                        max_length=len(EventType.choices))
    active = StrictBooleanField(required=False)


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["attempted_at", "response_status", "error", "duration_ms", "succeeded"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.IntegerField(allow_null=True, read_only=True)
    attempts = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "event_id", "event_type", "message_id", "status", "attempt_count", "next_attempt_at",
                  "created_at", "delivered_at", "attempts"]
        read_only_fields = fields
