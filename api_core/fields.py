"""Serializer fields shared by every API: they accept exactly what their
schema says, so the published contract and the server never disagree."""
import datetime
import re
import sys
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .errors import Unprocessable


# What ``str.strip()`` removes (Python's idea of whitespace, which is not the
# ``\s`` of JSON Schema's regular expressions), written as a character class
# body that Python and ECMA regular expressions read alike.
def _character_class(codes: list[int]) -> str:
    ranges, start = [], None
    for index, code in enumerate(codes):
        start = code if start is None else start
        if index + 1 == len(codes) or codes[index + 1] != code + 1:
            ranges.append(f"\\u{start:04x}" if start == code else f"\\u{start:04x}-\\u{code:04x}")
            start = None
    return "".join(ranges)


WHITESPACE = _character_class([code for code in range(sys.maxunicode + 1) if chr(code).isspace()])
# PostgreSQL text cannot hold NUL, so no string may carry one.
TEXT_PATTERN = r"^[^\u0000]+$"
# Text that is not blank once trimmed: at least one character strip() keeps.
NON_BLANK_TEXT_PATTERN = rf"^[^\u0000]*[^\u0000{WHITESPACE}][^\u0000]*$"


class TextValidator(RegexValidator):
    """Refuses NUL characters. Its ``regex`` is what the schema shows for the
    field (drf-spectacular turns a RegexValidator into ``pattern``): any text
    with ``allow_blank``, else text that is not blank once trimmed (the
    field's own blank check refuses the rest).

    The pattern for blank-allowing fields wants one character at least: the
    schema generator offers the empty string beside a pattern (``oneOf`` with
    ``maxLength: 0``), and the empty string must match only one of the two."""

    message = _("Null characters are not allowed.")
    code = "null_characters"

    def __init__(self, *, allow_blank: bool, trim_whitespace: bool = True):
        super().__init__(TEXT_PATTERN if allow_blank or not trim_whitespace else NON_BLANK_TEXT_PATTERN)

    def __call__(self, value):
        if "\x00" in str(value):
            raise ValidationError(self.message, code=self.code)


class StrictCharField(serializers.CharField):
    """A JSON string and nothing else: DRF would turn 0 into "0", which the
    contract (``type: string``) does not allow. Its schema carries a pattern
    saying that NUL is refused and, unless blank is allowed, that the text
    must keep a character once trimmed."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Our validator refuses NUL and documents it; DRF's own would report it twice.
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]
        self.validators.append(TextValidator(allow_blank=self.allow_blank, trim_whitespace=self.trim_whitespace))

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class SlugRelatedField(serializers.SlugRelatedField):
    """An object named by a code or username: a JSON string, without NUL
    (PostgreSQL cannot compare it and would fail the lookup). The schema gets
    the matching pattern from ``api_core.schema.AutoSchema``."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean and nothing else: DRF would also take 0, "yes" or "on",
    which the contract (``type: boolean``) does not allow."""

    default_error_messages = {"invalid": _("Must be true or false.")}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON number without a fraction: DRF would also take "12" or true."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class DateTimeField(serializers.DateTimeField):
    """A date-time as the contract (RFC 3339) writes it: with its offset,
    which DRF would let a client leave out (taking the server's zone). Kept
    in UTC, not converted to the server's zone as DRF does: any offset a
    client may send (up to ±23:59) then fits the database, and only an
    instant outside years 1–9999 is refused (422, as the schema cannot say it)."""

    default_error_messages = {"offset_required": _("Give the time with its offset, e.g. 2026-03-01T10:00:00-05:00.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("default_timezone", datetime.UTC)
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value)
            except ValueError:
                parsed = None
            if parsed is not None and timezone.is_naive(parsed):
                self.fail("offset_required")
        return super().to_internal_value(value)

    def enforce_timezone(self, value):
        if timezone.is_aware(value):
            try:
                return value.astimezone(datetime.UTC)
            except OverflowError:
                raise Unprocessable(_("The date is out of the range this service can store (years 1 to 9999)."),
                                    code="out_of_range", field=self.field_name) from None
        return super().enforce_timezone(value)


def _zone_schema():
    zones = sorted(zoneinfo.available_timezones())
    # Names for generated enums: Etc/GMT+5 and Etc/GMT-5 must not both become GMT5.
    names = [re.sub(r"\W+", "_", re.sub(r"-(?=\d)", "_MINUS_", zone.replace("+", "_PLUS_"))).strip("_").upper()
             for zone in zones]
    return {"type": "string", "enum": zones, "x-enum-varnames": names,
            "description": "An IANA time zone, e.g. America/Lima."}


@extend_schema_field(_zone_schema())
class TimeZoneField(StrictCharField):
    """An IANA time zone name; the contract lists them, so clients (and schema
    fuzzers) know exactly what is accepted."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        kwargs["trim_whitespace"] = False
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value not in zoneinfo.available_timezones():
            raise serializers.ValidationError(_("%(value)s is not an IANA time zone.") % {"value": value},
                                              code="invalid_time_zone")
        return value
