"""Filters of the case list.

Filters that look at people (``nationality``, the names and documents of
``search``) only ever match cases the caller reads in full: a limited view
must not let anyone probe who is on a case by filtering for them.
"""
import django_filters
from django.core.validators import RegexValidator
from django.db.models import Exists, OuterRef, Q
from rest_framework.filters import OrderingFilter

from api_core.filters import FilterSet, SlugFilter
from cases.models import (
    BorderPoint,
    Case,
    CaseMember,
    CaseStatus,
    Person,
    Priority,
    Vulnerability,
    normalise_document_number,
    vulnerability_field,
)
from cases.selectors import FULL_ACCESS


def _fully_visible():
    return Q(access__in=list(FULL_ACCESS))


class CaseFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices)
    # A column of the case itself: no join can repeat a row, so no DISTINCT (it would sort every match).
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices, distinct=False,
                                                   help_text="Repeat for several priorities (any of them).")
    vulnerability = django_filters.MultipleChoiceFilter(
        choices=Vulnerability.choices, method="filter_vulnerability", distinct=False,
        help_text="Repeat for several flags: cases with all of them.")
    border_point = django_filters.ChoiceFilter(choices=BorderPoint.choices)
    owner_agency = SlugFilter(field_name="owner_agency__code", help_text="Agency code.")
    nationality = django_filters.CharFilter(
        method="filter_nationality", max_length=2, validators=[RegexValidator(r"^[A-Za-z]{2}$")],
        help_text="ISO 3166-1 alpha-2 nationality of any member (either case).")
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte",
                                                     help_text="ISO 8601 with offset; for incremental sync.")
    search = django_filters.CharFilter(method="filter_search", max_length=100,
                                       help_text="Reference, member names or document number.")

    def filter_vulnerability(self, queryset, name, flags):
        for flag in flags:
            queryset = queryset.filter(**{vulnerability_field(flag): True})
        return queryset

    def filter_nationality(self, queryset, name, value):
        members = CaseMember.objects.filter(case=OuterRef("pk"), person__nationality=value.upper())
        return queryset.filter(_fully_visible() & Exists(members))

    def filter_search(self, queryset, name, value):
        """Every word must match the reference, or every word one and the same
        member (a name or the document number): "maría gonzález" finds María
        González, not a María and a González who share a case."""
        words = value.split()
        if not words:
            return queryset
        person, reference = Q(), Q()
        for word in words:
            matches = Q(given_names__icontains=word) | Q(family_names__icontains=word)
            document = normalise_document_number(word)
            if document:
                matches |= Q(document_number_normalised__contains=document)
            person &= matches
            reference &= Q(reference__icontains=word)
        # The candidates come first, from the trigram indexes, where PostgreSQL
        # intersects the words before reading a row; a member's match then
        # counts only where the caller reads the case in full.
        members = CaseMember.objects.filter(person__in=Person.objects.filter(person).values("pk"))
        candidates = members.order_by().values("case_id").union(Case.objects.filter(reference).order_by().values("pk"))
        return queryset.filter(pk__in=candidates).filter(reference | _fully_visible())


class CaseOrdering(OrderingFilter):
    """Client orderings get the id as a tie-breaker, so pages never overlap."""

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if ordering and ordering[-1].lstrip("-") not in ("id", "pk", "reference"):
            ordering.append("-id" if ordering[0].startswith("-") else "id")
        return ordering
