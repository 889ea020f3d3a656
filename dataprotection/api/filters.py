import django_filters
from django.utils import timezone

from api_core.filters import FilterSet, StrictBooleanFilter

from ..laws import RequestKind
from ..models import DataRequest, RequestStatus


class DataRequestFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=RequestStatus.choices)
    kind = django_filters.ChoiceFilter(choices=RequestKind.choices)
    overdue = StrictBooleanFilter(method="filter_overdue", label="true: open past the deadline; false: all others")
    person = django_filters.UUIDFilter(field_name="person_id")

    class Meta:
        model = DataRequest
        fields = ["status", "kind", "overdue", "person"]

    def filter_overdue(self, queryset, name, value):
        now = timezone.now()
        return queryset.overdue(now) if value else queryset.not_overdue(now)
