"""Handoffs in and out. The representation names the case by id and reference
only: nothing about the people on it, whoever reads it."""
from django.core.validators import validate_slug
from rest_framework import serializers

from api_core.fields import DateTimeField, StrictCharField
from cases.models import Handoff, HandoffKind, LegalBasis, RejectionReason


class HandoffSerializer(serializers.ModelSerializer):
    case_reference = serializers.CharField(source="case.reference", read_only=True)
    from_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    to_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)
    is_cross_border = serializers.BooleanField(read_only=True)

    class Meta:
        model = Handoff
        fields = [
            "id", "case", "case_reference", "kind", "status", "from_agency", "to_agency", "reason",
            "services_requested", "response_due", "is_overdue", "is_cross_border", "legal_basis",
            "legal_basis_note", "rejection_reason", "response_note", "responded_at", "withdrawn_at",
            "completed_at", "completion_note", "created_at", "updated_at",
        ]
        read_only_fields = fields


class HandoffCreateSerializer(serializers.Serializer):
    case = serializers.UUIDField(help_text="Id of a case the caller's agency owns.")
    to_agency = StrictCharField(max_length=50, validators=[validate_slug],
                                help_text="Code of the receiving agency, e.g. cl-sermig.")
    kind = serializers.ChoiceField(choices=HandoffKind.choices)
    reason = StrictCharField(max_length=4000)
    services_requested = StrictCharField(max_length=4000, required=False, allow_blank=True, default="",
                                               help_text="Required for a referral.")
    response_due = DateTimeField(
        required=False, allow_null=True, default=None,
        help_text="Deadline for the answer, in the future. Default: 72 hours from now.")
    legal_basis = serializers.ChoiceField(
        choices=LegalBasis.choices, required=False, allow_blank=True, default="",
        help_text="Required when the two agencies are in different countries (an international "
                  "organisation counts as another country).")
    legal_basis_note = StrictCharField(
        max_length=4000, required=False, allow_blank=True, default="",
        help_text="Justification; required for every legal basis except consent.")


class HandoffNoteSerializer(serializers.Serializer):
    note = StrictCharField(max_length=4000, required=False, allow_blank=True, default="")


class HandoffRejectSerializer(HandoffNoteSerializer):
    reason = serializers.ChoiceField(choices=RejectionReason.choices,
                                     help_text="Coded reason; 'other' needs a note.")


class HandoffRescheduleSerializer(HandoffNoteSerializer):
    response_due = DateTimeField(help_text="The new deadline, in the future.")
