"""Data-subject requests in and out. A request names its person by id only."""
from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from api_core.fields import DateTimeField, StrictCharField
from cases.api.case_serializers import PersonFieldsSerializer

from ..laws import RequestKind
from ..models import Channel, DataRequest, ErasureException, Outcome, RefusalGround


# Not "DataRequest": the schema names request bodies "…Request".
@extend_schema_serializer(component_name="DataRequestRecord")
class DataRequestSerializer(serializers.ModelSerializer):
    # Every moment in UTC, as the rest of the contract writes them.
    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping,
                                models.DateTimeField: DateTimeField}
    handled_by_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    received_at = DateTimeField(read_only=True)
    due_at = DateTimeField(read_only=True)
    is_overdue = serializers.SerializerMethodField()
    extended = serializers.BooleanField(read_only=True)
    restricts_processing = serializers.BooleanField(
        read_only=True, help_text=_("This request restricts the person's processing now."))
    processing_restricted = serializers.BooleanField(
        source="person_restricted", read_only=True,
        help_text=_("The person's processing is restricted now, by this request or another."))

    class Meta:
        model = DataRequest
        fields = [
            "id", "reference", "person", "kind", "channel", "requester_note", "status", "received_at", "due_at",
            "is_overdue", "law", "handled_by_agency", "extended", "original_due_at", "extended_at",
            "extension_reason", "outcome", "refusal_ground", "outcome_note", "completed_at", "restricts_processing",
            "processing_restricted", "erasure_exception", "erasure_exception_note", "anonymised_at", "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_is_overdue(self, request) -> bool:
        return request.status == "open" and request.due_at < self.context["now"]


class DataRequestCreateSerializer(serializers.Serializer):
    person = serializers.UUIDField(help_text=_("A person on a case the caller's agency owns."))
    kind = serializers.ChoiceField(choices=RequestKind.choices)
    received_at = DateTimeField(help_text=_("When the agency received the request; not in the future."))
    channel = serializers.ChoiceField(choices=Channel.choices)
    requester_note = StrictCharField(max_length=4000, required=False, allow_blank=True, default="")


class DataRequestExtendSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=4000)


class DataRequestCompleteSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    note = StrictCharField(max_length=4000, required=False, allow_blank=True, default="")
    refusal_ground = serializers.ChoiceField(
        choices=RefusalGround.choices, required=False, allow_blank=True, default="",
        help_text=_("Required when the request is refused or only partially granted."))
    legal_hold = serializers.ChoiceField(
        choices=ErasureException.choices, required=False, allow_blank=True, default="",
        help_text=_("Erasure: the legal obligation that keeps the data; the person is then not anonymised."))
    legal_hold_note = StrictCharField(max_length=4000, required=False, allow_blank=True, default="")
    corrections = PersonFieldsSerializer(required=False, help_text=_(
        "Rectification: the corrected fields, applied through the request."))
