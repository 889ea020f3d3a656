"""The shared serializer fields take exactly what their schema says."""
import datetime
import re

import pytest
from django.urls import path
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from api_core.errors import Unprocessable
from api_core.fields import DateTimeField, StrictCharField, StrictIntegerField, TimeZoneField

SAMPLES = ["a", " a ", "", " ", "\t\n", "\u3000", "\x1c", "\x85x", "\ufeff", "0", "Tac\x00na", "\x00", "ñandú"]


class Body(serializers.Serializer):
    required_text = StrictCharField(max_length=20)
    any_text = StrictCharField(max_length=20, allow_blank=True, required=False)
    verbatim = StrictCharField(max_length=20, trim_whitespace=False, required=False)
    count = StrictIntegerField(required=False, min_value=1)
    at = DateTimeField(required=False)
    zone = TimeZoneField(required=False)


def _pattern(schema_property):
    """The pattern of a text property, and whether "" is offered beside it."""
    variants = schema_property.get("oneOf", [schema_property])
    patterns = [variant["pattern"] for variant in variants if "pattern" in variant]
    return patterns[0], any(variant.get("maxLength") == 0 for variant in variants)


class Probe(APIView):
    @extend_schema(request=Body, responses=None)
    def post(self, request):
        raise NotImplementedError


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator(patterns=[path("api/v1/probe/", Probe.as_view())]).get_schema(request=None, public=True)


@pytest.fixture(scope="module")
def body_schema(schema):
    return schema["components"]["schemas"]["BodyRequest"]["properties"]


class TestStrictCharField:
    @pytest.mark.parametrize("name", ["required_text", "any_text", "verbatim"])
    def test_its_schema_pattern_says_exactly_which_strings_it_takes(self, body_schema, name):
        pattern, blank_offered = _pattern(body_schema[name])
        for sample in SAMPLES:
            documented = bool(re.search(pattern, sample)) or (blank_offered and sample == "")
            body = {"required_text": "x", name: sample}
            assert Body(data=body).is_valid() == documented, (name, repr(sample))

    def test_it_takes_no_number_for_a_string(self):
        serializer = Body(data={"required_text": 0})
        assert not serializer.is_valid()
        assert serializer.errors["required_text"][0].code == "invalid"

    def test_a_nul_is_refused_once_with_its_own_code(self):
        serializer = Body(data={"required_text": "Tac\x00na"})
        assert not serializer.is_valid()
        assert [error.code for error in serializer.errors["required_text"]] == ["null_characters"]


class TestStrictIntegerField:
    @pytest.mark.parametrize("value,valid", [(3, True), (3.0, True), ("3", False), (True, False), (3.5, False),
                                             (0, False)])
    def test_it_takes_json_integers_only(self, value, valid):
        assert Body(data={"required_text": "x", "count": value}).is_valid() == valid


class TestDateTimeField:
    def test_it_keeps_any_offset_rfc_3339_allows_in_utc(self):
        serializer = Body(data={"required_text": "x", "at": "2026-03-01T10:00:00+23:59"})
        assert serializer.is_valid(), serializer.errors
        at = serializer.validated_data["at"]
        assert at.utcoffset() == datetime.timedelta(0)
        assert at == datetime.datetime(2026, 2, 28, 10, 1, tzinfo=datetime.UTC)

    def test_the_first_instant_of_year_one_is_taken(self):
        """Converted to the server's zone (UTC−5) it would not exist."""
        serializer = Body(data={"required_text": "x", "at": "0001-01-01T00:00:00Z"})
        assert serializer.is_valid(), serializer.errors

    def test_a_time_without_offset_is_refused(self):
        serializer = Body(data={"required_text": "x", "at": "2026-03-01T10:00:00"})
        assert not serializer.is_valid()
        assert serializer.errors["at"][0].code == "offset_required"

    def test_an_instant_before_year_one_is_a_rule_not_a_format_error(self):
        with pytest.raises(Unprocessable) as refused:
            Body(data={"required_text": "x", "at": "0001-01-01T00:30:00+01:00"}).is_valid()
        assert (refused.value.code, refused.value.field) == ("out_of_range", "at")


class TestTimeZoneField:
    def test_its_schema_lists_the_zones_it_takes(self, schema, body_schema):
        reference = body_schema["zone"]["allOf"][0]["$ref"].rsplit("/", 1)[-1]
        zones = schema["components"]["schemas"][reference]["enum"]
        assert "America/Lima" in zones and "America/Coyhaique" in zones
        assert Body(data={"required_text": "x", "zone": "America/Santiago"}).is_valid()
        serializer = Body(data={"required_text": "x", "zone": "Mars/Olympus"})
        assert not serializer.is_valid()
        assert serializer.errors["zone"][0].code == "invalid_time_zone"
