from rest_framework import serializers

from api_core.fields import TimeZoneField
from api_core.models import ApiToken, running_request_limit
from cases.models import Agency, Language, User


class AgencySummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Agency
        fields = ["code", "name", "country"]
        read_only_fields = fields


class AgencySerializer(serializers.ModelSerializer):
    # Not format "email": it may be empty, which no email format allows.
    contact_email = serializers.CharField(read_only=True, help_text="Empty when the agency has none.")

    class Meta:
        model = Agency
        fields = ["code", "name", "country", "kind", "contact_email", "language", "time_zone", "active",
                  "created_at", "updated_at"]
        read_only_fields = fields


class MeSerializer(serializers.ModelSerializer):
    agency = AgencySummarySerializer(read_only=True, allow_null=True)
    roles = serializers.SerializerMethodField()
    time_zone = serializers.CharField(source="effective_time_zone", read_only=True)
    max_concurrent_requests = serializers.SerializerMethodField(
        help_text="How many requests of this token (or session) may run at once; one more is answered 429 "
                  "`too_many_concurrent_requests`. A partner system's service token may have more.")

    class Meta:
        model = User
        fields = ["username", "agency", "roles", "language", "time_zone", "max_concurrent_requests"]
        read_only_fields = fields

    def get_roles(self, user) -> list[str]:
        return sorted(user.roles)

    def get_max_concurrent_requests(self, user) -> int:
        token = getattr(self.context.get("request"), "auth", None)
        return running_request_limit(token if isinstance(token, ApiToken) else None)


class MePreferencesSerializer(serializers.Serializer):
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    time_zone = TimeZoneField(required=False)
