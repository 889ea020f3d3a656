import django_filters
from django.utils import timezone

from api_core.filters import FilterSet, SlugFilter, StrictBooleanFilter, UpdatedSinceFilter

from ..models import ActionItem, ActionItemStatus, Meeting, MeetingStatus


class MeetingFilter(FilterSet):
    committee = django_filters.UUIDFilter(field_name="committee_id")
    status = django_filters.ChoiceFilter(choices=MeetingStatus.choices)
    starts_after = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt")
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Meeting
        fields = ["committee", "status", "starts_after", "starts_before", "updated_since"]


class ActionItemFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=ActionItemStatus.choices)
    owner_agency = SlugFilter(field_name="owner_agency__code", help_text="Agency code.")
    assignee = django_filters.CharFilter(field_name="assignee__username", max_length=150, help_text="Username.")
    overdue = StrictBooleanFilter(method="filter_overdue",
                                           help_text="Open and past its due date (true), or not (false).")
    meeting = django_filters.UUIDFilter(field_name="meeting_id")
    case = django_filters.UUIDFilter(field_name="case_id")
    due_before = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lt")
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = ActionItem
        fields = ["status", "owner_agency", "assignee", "overdue", "meeting", "case", "due_before", "updated_since"]

    def filter_overdue(self, queryset, name, value):
        overdue = ActionItem.objects.overdue(timezone.now()).values("pk")
        return queryset.filter(pk__in=overdue) if value else queryset.exclude(pk__in=overdue)
