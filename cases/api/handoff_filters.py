import django_filters
from django.db.models import Q
from rest_framework.filters import OrderingFilter

from api_core.filters import FilterSet, SlugFilter, StrictBooleanFilter, UpdatedSinceFilter
from cases.models import Handoff, HandoffKind, HandoffStatus


class HandoffFilter(FilterSet):
    direction = django_filters.ChoiceFilter(
        choices=[("incoming", "incoming"), ("outgoing", "outgoing")], method="filter_direction",
        label="incoming: sent to the caller's agency; outgoing: sent by it")
    # A column of the handoff itself: no join can repeat a row, so no DISTINCT (it would sort every match).
    status = django_filters.MultipleChoiceFilter(choices=HandoffStatus.choices, distinct=False)
    kind = django_filters.ChoiceFilter(choices=HandoffKind.choices)
    overdue = StrictBooleanFilter(method="filter_overdue",
                                           label="true: pending past the deadline; false: all others")
    cross_border = StrictBooleanFilter(method="filter_cross_border")
    case = django_filters.UUIDFilter(field_name="case_id")
    to_agency = SlugFilter(field_name="to_agency__code", label="code of the receiving agency")
    from_agency = SlugFilter(field_name="from_agency__code", label="code of the sending agency")
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Handoff
        fields = ["direction", "status", "kind", "overdue", "cross_border", "case", "to_agency", "from_agency",
                  "updated_since"]

    def filter_direction(self, queryset, name, value):
        # The secretariat belongs to no agency: nothing is incoming or outgoing for it.
        agency_id = getattr(self.request.user, "agency_id", None)
        field = "to_agency_id" if value == "incoming" else "from_agency_id"
        return queryset.filter(Q(**{field: agency_id})) if agency_id else queryset.none()

    def filter_overdue(self, queryset, name, value):
        return queryset.overdue() if value else queryset.not_overdue()

    def filter_cross_border(self, queryset, name, value):
        return queryset.cross_border() if value else queryset.domestic()


class StableOrderingFilter(OrderingFilter):
    """Client ordering with the primary key as the last key, so that equal
    values (two handoffs due at the same minute) page deterministically."""

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if ordering and ordering[-1].lstrip("-") not in ("pk", "id"):
            ordering.append("-id" if ordering[0].startswith("-") else "id")
        return ordering
