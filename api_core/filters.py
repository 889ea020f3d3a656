"""Filter machinery for list endpoints: every query parameter is either
absent (no filter) or a valid value. A parameter that is present but empty
(``?updated_since=``), blank or malformed is a 400 problem, never a silent
"no filter": a client that gets a value wrong hears about it. So is a
single-valued parameter given twice (``?status=open&status=closed`` would
otherwise keep the last silently), and a date-time without its offset (the
server's zone would otherwise be guessed). What each parameter accepts is
published in the schema (see ``api_core.schema``)."""
import datetime

import django_filters
from django import forms
from django.core.validators import EMPTY_VALUES, validate_slug
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import FilterSet as RestFilterSet
from rest_framework import exceptions
from rest_framework import filters as drf_filters

from . import sync
from .fields import NON_BLANK_TEXT_PATTERN

BLANK_MESSAGE = _("Give a value, or leave the parameter out.")
REPEATED_MESSAGE = _("Give this parameter once.")
OFFSET_REQUIRED_MESSAGE = _("Give the time with its offset, e.g. 2026-03-01T10:00:00-05:00.")


def _takes_several(field: forms.Field) -> bool:
    """Whether a form field reads every value of its parameter (a repeatable filter)."""
    return getattr(field.widget, "allow_multiple_selected", False)


def _naive_date_time(raw) -> bool:
    try:
        parsed = parse_datetime(str(raw).strip())
    except ValueError:
        return False  # not a date-time at all: the field's own error says so
    return parsed is not None and timezone.is_naive(parsed)


class StrictBooleanField(forms.Field):
    """true/false (or 1/0); anything else is an error rather than "no filter",
    so a client that misspells a value hears about it."""

    widget = forms.TextInput

    def to_python(self, value):
        if value in EMPTY_VALUES:
            return None  # not given; a given but empty value is the form's to refuse
        lowered = str(value).lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise forms.ValidationError(_("Use true or false."), code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class SlugFilter(django_filters.CharFilter):
    """A code such as an agency's (``pe-migraciones``): letters, digits, - and _."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 50)
        kwargs.setdefault("validators", [validate_slug])
        super().__init__(*args, **kwargs)


class UpdatedSinceFilter(django_filters.IsoDateTimeFilter):
    """``?updated_since=``, the one filter of every list with incremental sync:
    rows whose ``updated_at`` is at or after it (plus ``always_listed``), and
    the answer carries the watermark the next pass starts from
    (``api_core.sync``)."""

    def __init__(self, *args, always_listed: models.Q | None = None, **kwargs):
        kwargs.setdefault("field_name", "updated_at")
        kwargs.setdefault("help_text", UPDATED_SINCE_HELP)
        self.always_listed = always_listed
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        sync.start_pass(getattr(self.parent, "request", None), since=value)
        condition = models.Q(**{f"{self.field_name}__gte": value})
        if self.always_listed is not None:
            condition |= self.always_listed
        return qs.filter(condition)


UPDATED_SINCE_HELP = ("ISO 8601 with offset; for incremental sync. Start the next pass from the `Sync-Watermark` "
                      "header of this answer, not from the newest `updated_at` seen.")


def as_utc(value: datetime.datetime) -> datetime.datetime:
    """An aware datetime in UTC. An offset may push an instant at the edge of
    year 1 or 9999 out of range; for comparing, the edge itself does."""
    try:
        return value.astimezone(datetime.UTC)
    except OverflowError:
        edge = datetime.datetime.min if value.year == datetime.MINYEAR else datetime.datetime.max
        return edge.replace(tzinfo=datetime.UTC)


class StrictParameters:
    """Form mixin: a filter parameter that is in the query string but has no
    value once cleaned (empty, or only spaces) is an error, and so is one
    given twice that takes one value, or a date-time without an offset. Date-times are
    compared in UTC: the database takes offsets only up to ±15:59, the
    contract (RFC 3339) up to ±23:59."""

    def clean(self):
        cleaned_data = super().clean()
        for name, field in self.fields.items():
            if name not in self.data:
                continue
            raw = self.data.getlist(name) if hasattr(self.data, "getlist") else [self.data.get(name)]
            if len(raw) > 1 and not _takes_several(field):
                self.errors.pop(name, None)  # whatever the last value says, the repetition is the mistake
                self.add_error(name, forms.ValidationError(REPEATED_MESSAGE, code="repeated_parameter"))
                continue
            if name in self.errors:
                continue
            value = cleaned_data.get(name)
            if value in EMPTY_VALUES or any(str(item).strip() == "" for item in raw):
                self.add_error(name, forms.ValidationError(BLANK_MESSAGE, code="blank"))
            elif isinstance(field, forms.DateTimeField) and _naive_date_time(raw[0]):
                self.add_error(name, forms.ValidationError(OFFSET_REQUIRED_MESSAGE, code="offset_required"))
            elif isinstance(value, datetime.datetime) and timezone.is_aware(value):
                cleaned_data[name] = as_utc(value)
        return cleaned_data


class FilterSet(RestFilterSet):
    """The FilterSet every list endpoint uses: strict booleans, and no
    parameter that is present without a value."""

    FILTER_DEFAULTS = {
        **RestFilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": StrictBooleanFilter},
        models.NullBooleanField: {"filter_class": StrictBooleanFilter},
    }

    def get_form_class(self):
        form_class = super().get_form_class()
        return type(form_class.__name__, (StrictParameters, form_class), {})


class SearchFilter(drf_filters.SearchFilter):
    """``?search=`` with the same rules as every other parameter: absent means
    no search; present, it must hold some text and no NUL character (which
    PostgreSQL cannot compare)."""

    def get_search_terms(self, request):
        raw = request.query_params.get(self.search_param)
        if len(request.query_params.getlist(self.search_param)) > 1:
            raise exceptions.ValidationError({self.search_param: [REPEATED_MESSAGE]}, code="repeated_parameter")
        if raw is not None:
            if "\x00" in raw:
                raise exceptions.ValidationError({self.search_param: [_("Null characters are not allowed.")]})
            if not raw.strip():
                raise exceptions.ValidationError({self.search_param: [BLANK_MESSAGE]})
        return super().get_search_terms(request)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"].update(minLength=1, pattern=NON_BLANK_TEXT_PATTERN)
        return parameters
