"""Filter machinery for list endpoints."""
import django_filters
from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import FilterSet as RestFilterSet


class StrictBooleanField(forms.Field):
    """true/false (or 1/0); anything else is an error rather than "no filter",
    so a client that misspells a value hears about it."""

    widget = forms.TextInput

    def to_python(self, value):
        if value is None:  # not given
            return None
        lowered = str(value).lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise forms.ValidationError(_("Use true or false."), code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class StrictChoiceField(django_filters.fields.ChoiceField):
    """``?country=`` (present but empty) is an error, as the enum in the
    contract says, rather than "no filter"; a missing parameter is no filter."""

    def to_python(self, value):
        if value == "":
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                        params={"value": value})
        return super().to_python(value)


class StrictChoiceFilter(django_filters.ChoiceFilter):
    field_class = StrictChoiceField


class FilterSet(RestFilterSet):
    """The FilterSet every list endpoint uses: strict booleans and choices."""

    FILTER_DEFAULTS = {
        **RestFilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": StrictBooleanFilter},
        models.NullBooleanField: {"filter_class": StrictBooleanFilter},
    }

    @classmethod
    def filter_for_lookup(cls, field, lookup_type):
        filter_class, params = super().filter_for_lookup(field, lookup_type)
        if filter_class is django_filters.ChoiceFilter:
            filter_class = StrictChoiceFilter
        return filter_class, params
