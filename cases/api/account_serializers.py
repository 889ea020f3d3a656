import re
import zoneinfo

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.models import Agency, Language, User, validate_time_zone


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

    class Meta:
        model = User
        fields = ["username", "agency", "roles", "language", "time_zone"]
        read_only_fields = fields

    def get_roles(self, user) -> list[str]:
        return sorted(user.roles)


def _zone_schema():
    zones = sorted(zoneinfo.available_timezones())
    # Names for generated enums: Etc/GMT+5 and Etc/GMT-5 must not both become GMT5.
    names = [re.sub(r"\W+", "_", re.sub(r"-(?=\d)", "_MINUS_", zone.replace("+", "_PLUS_"))).strip("_").upper()
             for zone in zones]
    return {"type": "string", "enum": zones, "x-enum-varnames": names,
            "description": "An IANA time zone, e.g. America/Lima."}


@extend_schema_field(_zone_schema())
class TimeZoneField(serializers.CharField):
    """Validated by ``validate_time_zone``; the contract lists the zones, so
    clients (and schema fuzzers) know exactly what is accepted."""


class MePreferencesSerializer(serializers.Serializer):
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    time_zone = TimeZoneField(required=False, max_length=64, validators=[validate_time_zone])
