from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from api_core.fields import DateTimeField, SlugRelatedField, StrictCharField, StrictIntegerField, TimeZoneField
from cases.models import Agency, Case, Handoff, User

from ..models import (
    ActionItem,
    AgendaItem,
    AgendaItemKind,
    AgendaItemStatus,
    Attendance,
    AttendanceStatus,
    CalendarFeed,
    Committee,
    Decision,
    DecisionOutcome,
    Delegation,
    DelegationPosition,
    Meeting,
    MeetingMode,
    Membership,
)
from ..selectors import DocketSource, can_read_minutes, quorum_of


class CaseReferenceSerializer(serializers.ModelSerializer):
    """A case named by its reference only: what the committee's records show."""

    class Meta:
        model = Case
        fields = ["id", "reference"]
        read_only_fields = fields


class AgencyReferenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Agency
        fields = ["code", "name", "country"]
        read_only_fields = fields


class PersonReferenceSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="get_full_name", read_only=True)

    class Meta:
        model = User
        fields = ["username", "name"]
        read_only_fields = fields


class QuorumSerializer(serializers.Serializer):
    reached = serializers.BooleanField()
    required = serializers.DictField(child=serializers.IntegerField(),
                                     help_text="Present voting members needed per delegation.")
    present = serializers.DictField(child=serializers.IntegerField(),
                                    help_text="Present voting members per delegation.")


class PositionsSerializer(serializers.Serializer):
    PE = serializers.ChoiceField(choices=DelegationPosition.choices, allow_blank=True, required=False)
    CL = serializers.ChoiceField(choices=DelegationPosition.choices, allow_blank=True, required=False)
    INT = serializers.ChoiceField(choices=DelegationPosition.choices, allow_blank=True, required=False)


# --- Committees ------------------------------------------------------------

class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    name = serializers.CharField(source="user.get_full_name", read_only=True)
    agency = serializers.SlugRelatedField(source="user.agency", slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Membership
        fields = ["username", "name", "agency", "role", "delegation"]
        read_only_fields = fields


class CommitteeSerializer(serializers.ModelSerializer):
    quorum = serializers.DictField(source="quorum_rule", child=serializers.IntegerField(), read_only=True,
                                   help_text="Present voting members (chair or member) needed per delegation.")

    class Meta:
        model = Committee
        fields = ["id", "code", "name", "description", "parent", "quorum", "active"]
        read_only_fields = fields


class CommitteeDetailSerializer(CommitteeSerializer):
    members = MembershipSerializer(source="memberships", many=True, read_only=True)

    class Meta(CommitteeSerializer.Meta):
        fields = [*CommitteeSerializer.Meta.fields, "members"]
        read_only_fields = fields


class CalendarFeedSerializer(serializers.ModelSerializer):
    class Meta:
        model = CalendarFeed
        fields = ["id", "committee", "prefix", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class CalendarFeedCreatedSerializer(CalendarFeedSerializer):
    url = serializers.SerializerMethodField(help_text="The secret address; shown this once.")

    class Meta(CalendarFeedSerializer.Meta):
        fields = [*CalendarFeedSerializer.Meta.fields, "url"]
        read_only_fields = fields

    def get_url(self, feed) -> str:
        return reverse("v1:calendar-feed-ics", kwargs={"secret": self.context["secret"]},
                       request=self.context.get("request"))


# --- Meetings --------------------------------------------------------------

class MeetingSerializer(serializers.ModelSerializer):
    minutes = serializers.SerializerMethodField(help_text="Null while the minutes are a draft, except for the "
                                                          "secretariat.")
    quorum = serializers.SerializerMethodField()
    calendar_url = serializers.SerializerMethodField()

    class Meta:
        model = Meeting
        fields = ["id", "committee", "title", "starts_at", "ends_at", "time_zone", "mode", "place", "video_link",
                  "status", "sequence", "version", "cancelled_at", "cancellation_reason", "minutes", "minutes_status",
                  "minutes_circulated_at", "minutes_approved_at", "quorum", "calendar_url", "created_at",
                  "updated_at"]
        read_only_fields = fields

    def to_representation(self, meeting):
        data = super().to_representation(meeting)
        # The same instants, written with the offset of the place the meeting is in.
        data["starts_at"] = meeting.local_starts_at.isoformat()
        data["ends_at"] = meeting.local_ends_at.isoformat()
        return data

    def get_minutes(self, meeting) -> str | None:
        return meeting.minutes if can_read_minutes(self.context["request"].user, meeting) else None

    @extend_schema_field(QuorumSerializer)
    def get_quorum(self, meeting):
        return quorum_of(meeting)

    def get_calendar_url(self, meeting) -> str:
        return reverse("v1:meeting-calendar", kwargs={"pk": meeting.pk}, request=self.context.get("request"))


class MeetingCreateSerializer(serializers.Serializer):
    committee = serializers.PrimaryKeyRelatedField(queryset=Committee.objects.all())
    title = StrictCharField(max_length=200)
    starts_at = DateTimeField()
    ends_at = DateTimeField()
    time_zone = TimeZoneField(default="America/Lima")
    mode = serializers.ChoiceField(choices=MeetingMode.choices, default=MeetingMode.IN_PERSON)
    place = StrictCharField(max_length=300, allow_blank=True, default="")
    video_link = serializers.URLField(max_length=500, allow_blank=True, default="")


class MeetingUpdateSerializer(serializers.Serializer):
    title = StrictCharField(max_length=200, required=False)
    starts_at = DateTimeField(required=False)
    ends_at = DateTimeField(required=False)
    time_zone = TimeZoneField(required=False)
    mode = serializers.ChoiceField(choices=MeetingMode.choices, required=False)
    place = StrictCharField(max_length=300, allow_blank=True, required=False)
    video_link = serializers.URLField(max_length=500, allow_blank=True, required=False)
    minutes = StrictCharField(allow_blank=True, required=False, trim_whitespace=False)


class ReasonSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=2000)


# --- Agenda ----------------------------------------------------------------

class DecisionSerializer(serializers.ModelSerializer):
    meeting = serializers.UUIDField(source="agenda_item.meeting_id", read_only=True)
    positions = PositionsSerializer(read_only=True, help_text="Position of each delegation; blank when not stated.")

    class Meta:
        model = Decision
        fields = ["id", "agenda_item", "meeting", "text", "outcome", "positions", "created_at"]
        read_only_fields = fields


class DecisionCreateSerializer(serializers.Serializer):
    text = StrictCharField(max_length=10000)
    outcome = serializers.ChoiceField(choices=DecisionOutcome.choices)
    positions = PositionsSerializer(required=False)


class AgendaItemSerializer(serializers.ModelSerializer):
    case = CaseReferenceSerializer(read_only=True, allow_null=True)
    decisions = DecisionSerializer(many=True, read_only=True)

    class Meta:
        model = AgendaItem
        fields = ["id", "meeting", "position", "kind", "title", "notes", "planned_minutes", "status", "case",
                  "case_label", "handoff", "handoff_label", "action_item", "action_item_label", "deferred_from",
                  "decisions", "created_at", "updated_at"]
        read_only_fields = fields


class AgendaItemCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AgendaItemKind.choices, default=AgendaItemKind.DISCUSSION)
    title = StrictCharField(max_length=300)
    notes = StrictCharField(allow_blank=True, default="")
    planned_minutes = StrictIntegerField(min_value=1, max_value=600, allow_null=True, default=None)
    case = serializers.PrimaryKeyRelatedField(queryset=Case.objects.all(), allow_null=True, default=None)
    handoff = serializers.PrimaryKeyRelatedField(queryset=Handoff.objects.select_related("case", "from_agency",
                                                                                         "to_agency"),
                                                 allow_null=True, default=None)
    action_item = serializers.PrimaryKeyRelatedField(queryset=ActionItem.objects.all(), allow_null=True,
                                                     default=None)
    position = StrictIntegerField(min_value=1, allow_null=True, default=None,
                                        help_text="Where to insert it (1..n+1); the end when left out.")


class AgendaItemUpdateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AgendaItemKind.choices, required=False)
    title = StrictCharField(max_length=300, required=False)
    notes = StrictCharField(allow_blank=True, required=False)
    planned_minutes = StrictIntegerField(min_value=1, max_value=600, allow_null=True, required=False)
    status = serializers.ChoiceField(choices=AgendaItemStatus.choices, required=False)
    case = serializers.PrimaryKeyRelatedField(queryset=Case.objects.all(), allow_null=True, required=False)
    handoff = serializers.PrimaryKeyRelatedField(queryset=Handoff.objects.select_related("case", "from_agency",
                                                                                         "to_agency"),
                                                 allow_null=True, required=False)
    action_item = serializers.PrimaryKeyRelatedField(queryset=ActionItem.objects.all(), allow_null=True,
                                                     required=False)


class ReorderSerializer(serializers.Serializer):
    order = serializers.ListField(child=serializers.UUIDField(), max_length=500,
                                  help_text="Every agenda item id of the meeting, once, in the new order.")


# --- Attendance ------------------------------------------------------------

class AttendanceSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    name = serializers.CharField(source="user.get_full_name", read_only=True)

    class Meta:
        model = Attendance
        fields = ["username", "name", "delegation", "status", "counts_for_quorum"]
        read_only_fields = fields


class AttendanceListSerializer(serializers.Serializer):
    attendance = AttendanceSerializer(many=True)
    quorum = QuorumSerializer()


class AttendanceEntrySerializer(serializers.Serializer):
    user = SlugRelatedField(slug_field="username", queryset=User.objects.filter(is_active=True))
    status = serializers.ChoiceField(choices=AttendanceStatus.choices)
    delegation = serializers.ChoiceField(choices=Delegation.choices, required=False,
                                         help_text="Needed only for someone who is not a member.")


class AttendanceUpdateSerializer(serializers.Serializer):
    attendance = AttendanceEntrySerializer(many=True, max_length=500)


# --- Docket ----------------------------------------------------------------

class DocketProposalSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=DocketSource.choices)
    id = serializers.CharField(help_text="Id of the handoff, case, action item or deferred agenda item.")
    title = serializers.CharField()
    kind = serializers.ChoiceField(choices=AgendaItemKind.choices)
    reason = serializers.CharField()
    case = CaseReferenceSerializer(allow_null=True)
    handoff = serializers.UUIDField(source="handoff.pk", allow_null=True, default=None)
    action_item = serializers.UUIDField(source="action_item.pk", allow_null=True, default=None)
    deferred_item = serializers.UUIDField(source="deferred_item.pk", allow_null=True, default=None)
    due_at = serializers.DateTimeField(allow_null=True)


class DocketChoiceSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=DocketSource.choices)
    id = serializers.UUIDField()


class DocketAddSerializer(serializers.Serializer):
    items = DocketChoiceSerializer(many=True, min_length=1, max_length=100)


# --- Action items ----------------------------------------------------------

class ActionItemSerializer(serializers.ModelSerializer):
    owner_agency = AgencyReferenceSerializer(read_only=True, allow_null=True)
    assignee = PersonReferenceSerializer(read_only=True, allow_null=True)
    completed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    case = CaseReferenceSerializer(read_only=True, allow_null=True)
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = ActionItem
        fields = ["id", "title", "description", "owner_agency", "assignee", "due_at", "status", "is_overdue",
                  "completed_at", "completed_by", "completion_note", "cancelled_at", "cancellation_reason",
                  "meeting", "agenda_item", "decision", "case", "version", "created_at", "updated_at"]
        read_only_fields = fields


class ActionItemCreateSerializer(serializers.Serializer):
    title = StrictCharField(max_length=300)
    description = StrictCharField(allow_blank=True, default="")
    owner_agency = SlugRelatedField(slug_field="code", queryset=Agency.objects.all(), allow_null=True,
                                                default=None)
    assignee = SlugRelatedField(slug_field="username", queryset=User.objects.all(), allow_null=True,
                                            default=None)
    due_at = DateTimeField(allow_null=True, default=None)
    meeting = serializers.PrimaryKeyRelatedField(queryset=Meeting.objects.all(), allow_null=True, default=None)
    agenda_item = serializers.PrimaryKeyRelatedField(queryset=AgendaItem.objects.all(), allow_null=True,
                                                     default=None)
    decision = serializers.PrimaryKeyRelatedField(queryset=Decision.objects.select_related("agenda_item"),
                                                  allow_null=True, default=None)
    case = serializers.PrimaryKeyRelatedField(queryset=Case.objects.all(), allow_null=True, default=None)


class ActionItemUpdateSerializer(serializers.Serializer):
    title = StrictCharField(max_length=300, required=False)
    description = StrictCharField(allow_blank=True, required=False)
    owner_agency = SlugRelatedField(slug_field="code", queryset=Agency.objects.all(), allow_null=True,
                                                required=False)
    assignee = SlugRelatedField(slug_field="username", queryset=User.objects.all(), allow_null=True,
                                            required=False)
    due_at = DateTimeField(allow_null=True, required=False)
    case = serializers.PrimaryKeyRelatedField(queryset=Case.objects.all(), allow_null=True, required=False)


class ActionItemCompleteSerializer(serializers.Serializer):
    note = StrictCharField(max_length=5000, allow_blank=True, default="")


class ActionItemCancelSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=2000, allow_blank=True, default="")

