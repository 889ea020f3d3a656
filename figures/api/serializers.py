"""Query parameters of the statistics endpoints, and the shape of their answers."""
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api_core.errors import Unprocessable
from cases.models import BorderPoint, CaseStatus, Vulnerability

from ..selectors import CASE_DIMENSIONS, HANDOFF_DIMENSIONS

MAX_DIMENSIONS = 2


def _check_window(attrs, start: str, end: str, message) -> None:
    """A window that ends before it starts: each date is valid alone, so the published
    schema accepts the request and the refusal is a rule's, 422 ``invalid_range``."""
    if attrs.get(start) and attrs.get(end) and attrs[end] < attrs[start]:
        raise Unprocessable(str(message), code="invalid_range", field=end)
FIGURES_SCOPES = [("agency", "agency"), ("all", "all")]


class _Parameters(serializers.Serializer):
    """Unknown parameters are refused: a misspelt filter must not silently widen the figures."""

    dimensions: dict = {}
    allowed_extra = {"format"}

    group_by = serializers.ListField(child=serializers.CharField(allow_blank=True, trim_whitespace=False),
                                     required=False, default=list)

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields) - self.allowed_extra)
        if unknown:
            raise serializers.ValidationError(
                {name: [_("Unknown parameter.")] for name in unknown}, code="unknown_parameter")
        single = {name: data.get(name) for name in data if name != "group_by"}
        too_many = sorted(name for name in single if len(data.getlist(name)) > 1)
        if too_many:
            raise serializers.ValidationError(
                {name: [_("Give this parameter once.")] for name in too_many}, code="repeated_parameter")
        return super().to_internal_value({**single, "group_by": data.getlist("group_by")})

    def validate_group_by(self, value):
        for name in value:
            if name not in self.dimensions:
                raise serializers.ValidationError(
                    _("%(value)s is not a dimension; use one of: %(choices)s.")
                    % {"value": name, "choices": ", ".join(self.dimensions)}, code="invalid_choice")
        if len(set(value)) != len(value):
            raise serializers.ValidationError(_("A dimension may be given only once."), code="repeated_dimension")
        if len(value) > MAX_DIMENSIONS:
            raise serializers.ValidationError(_("At most two dimensions."), code="too_many_dimensions")
        return value


class CaseStatisticsParameters(_Parameters):
    dimensions = CASE_DIMENSIONS
    registered_from = serializers.DateField(required=False)
    registered_to = serializers.DateField(required=False)
    status = serializers.ChoiceField(choices=CaseStatus.choices, required=False)
    border_point = serializers.ChoiceField(choices=BorderPoint.choices, required=False)
    vulnerability = serializers.ChoiceField(choices=Vulnerability.choices, required=False)

    def validate(self, attrs):
        _check_window(attrs, "registered_from", "registered_to", _("Must not be before registered_from."))
        return attrs


class HandoffStatisticsParameters(_Parameters):
    dimensions = HANDOFF_DIMENSIONS
    created_from = serializers.DateField(required=False)
    created_to = serializers.DateField(required=False)

    def validate(self, attrs):
        _check_window(attrs, "created_from", "created_to", _("Must not be before created_from."))
        return attrs


# --- Answers (for the schema) -------------------------------------------------------------------------


def _rounding():
    return serializers.IntegerField(help_text=_(
        "Every count shown is rounded down to a multiple of this (the threshold): 25 stands for 25 to 29."))


def _as_of():
    return serializers.DateTimeField(help_text=_(
        "Every change committed before this moment is counted, including those the rollup has not taken yet."))


class CaseTotalSerializer(serializers.Serializer):
    cases = serializers.IntegerField(allow_null=True, help_text=_("Null when suppressed."))
    people = serializers.IntegerField(allow_null=True, help_text=_("Null when suppressed."))
    suppressed = serializers.BooleanField()


class CaseRowSerializer(CaseTotalSerializer):
    """Plus one key per dimension of ``group_by`` (and ``<dimension>_label`` where it has labels)."""


class CaseStatisticsSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=FIGURES_SCOPES)
    group_by = serializers.ListField(child=serializers.CharField())
    threshold = serializers.IntegerField()
    rounding = _rounding()
    as_of = _as_of()
    rows = serializers.ListField(child=serializers.DictField())
    total = CaseTotalSerializer()


class HandoffTotalSerializer(serializers.Serializer):
    handoffs = serializers.IntegerField(allow_null=True)
    pending = serializers.IntegerField(allow_null=True)
    overdue = serializers.IntegerField(allow_null=True)
    suppressed = serializers.BooleanField()
    median_response_hours = serializers.FloatField(allow_null=True)
    p90_response_hours = serializers.FloatField(allow_null=True)


class HandoffStatisticsSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=FIGURES_SCOPES)
    group_by = serializers.ListField(child=serializers.CharField())
    threshold = serializers.IntegerField()
    rounding = _rounding()
    as_of = _as_of()
    rows = serializers.ListField(child=serializers.DictField())
    total = HandoffTotalSerializer()
