"""Filters of the case list.

Filters that look at people (``nationality``, the names and documents of
``search``) only ever match cases the caller reads in full: a limited view
must not let anyone probe who is on a case by filtering for them. In the same
way a former owner's view shows only the reference and the status it handed
over: a filter on anything else never matches it, and ``status`` compares
that frozen status, so no filter tells what the new owner did.
"""
import django_filters
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import BooleanField, Exists, F, Func, OuterRef, Q, TextField
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _
from rest_framework.filters import OrderingFilter

from api_core.fields import WHITESPACE
from api_core.filters import UPDATED_SINCE_HELP, FilterSet, SlugFilter, UpdatedSinceFilter
from cases.models import (
    BorderPoint,
    Case,
    CaseMember,
    CaseStatus,
    Priority,
    Vulnerability,
    vulnerability_field,
)
from cases.selectors import FORMER_OWNER_STATUS, FULL_ACCESS, Access
from cases.services.search import search_words


def validate_search_terms(value: str) -> None:
    """A bounded number of words, each of bounded length: every word is one
    more pass over the candidate members, and a one-letter word matches nearly
    everyone (the statement timeout bounds what is left)."""
    words, limits = value.split(), settings.PUENTE
    if len(words) > limits["SEARCH_MAX_WORDS"]:
        raise ValidationError(_("At most %(count)d words."), code="too_many_words",
                              params={"count": limits["SEARCH_MAX_WORDS"]})
    if any(len(word) < limits["SEARCH_MIN_WORD_LENGTH"] for word in words):
        raise ValidationError(_("Words of at least %(length)d characters."), code="word_too_short",
                              params={"length": limits["SEARCH_MIN_WORD_LENGTH"]})
    if any(len(word) > limits["SEARCH_MAX_WORD_LENGTH"] for word in words):
        raise ValidationError(_("Words of at most %(length)d characters."), code="word_too_long",
                              params={"length": limits["SEARCH_MAX_WORD_LENGTH"]})


class SearchTermsValidator(RegexValidator):
    """``validate_search_terms``, with the same rule as a pattern for the
    published schema (a search the schema accepts is never a 400)."""

    def __init__(self):
        limits = settings.PUENTE
        # What str.split() splits on, spelled out (ECMAScript's \s leaves out U+001C–U+001F and U+0085).
        space = f"[{WHITESPACE}]"
        word = f"[^{WHITESPACE}]{{{limits['SEARCH_MIN_WORD_LENGTH']},{limits['SEARCH_MAX_WORD_LENGTH']}}}"
        super().__init__(f"^{space}*{word}({space}+{word}){{0,{limits['SEARCH_MAX_WORDS'] - 1}}}{space}*$")

    def __call__(self, value):
        validate_search_terms(value)


def _fully_visible():
    return Q(access__in=list(FULL_ACCESS))


def _shown_beyond_former_owner(lookup: Q) -> Q:
    """``lookup`` on a field a former owner's view does not show: never true there."""
    return lookup & ~Q(access=Access.FORMER_OWNER)


class CaseFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices, method="filter_status")
    # A column of the case itself: no join can repeat a row, so no DISTINCT (it would sort every match).
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices, distinct=False, method="filter_priority",
                                                   help_text="Repeat for several priorities (any of them).")
    vulnerability = django_filters.MultipleChoiceFilter(
        choices=Vulnerability.choices, method="filter_vulnerability", distinct=False,
        help_text="Repeat for several flags: cases with all of them.")
    border_point = django_filters.ChoiceFilter(choices=BorderPoint.choices, method="filter_border_point")
    owner_agency = SlugFilter(method="filter_owner_agency", help_text="Agency code.")
    nationality = django_filters.CharFilter(
        method="filter_nationality", max_length=2, validators=[RegexValidator(r"^[A-Za-z]{2}$")],
        help_text="ISO 3166-1 alpha-2 nationality of any member (either case).")
    # Cases not read in full are always listed: when they change is not part of what their view shows.
    updated_since = UpdatedSinceFilter(
        always_listed=~_fully_visible(),
        help_text=UPDATED_SINCE_HELP + " Cases you read in the limited view are always listed (compare their "
                                       "bodies): when they change is not part of what that view shows.")
    # Not stripped: the published maxLength counts every character sent.
    search = django_filters.CharFilter(method="filter_search", max_length=100, strip=False,
                                       validators=[SearchTermsValidator()],
                                       help_text="Words (see the pattern), all of them matching the reference (any "
                                                 "part; looked for only when a word has 3 characters or more), or all "
                                                 "the start of a word of one member's names or document number; "
                                                 "accents and case do not matter.")

    def filter_status(self, queryset, name, value):
        former_owner = Q(access=Access.FORMER_OWNER)
        if value == FORMER_OWNER_STATUS:
            return queryset.filter(Q(status=value) | former_owner)
        return queryset.filter(Q(status=value) & ~former_owner)

    def filter_priority(self, queryset, name, values):
        if not values:
            return queryset
        return queryset.filter(_shown_beyond_former_owner(Q(priority__in=values)))

    def filter_vulnerability(self, queryset, name, flags):
        for flag in flags:
            queryset = queryset.filter(_shown_beyond_former_owner(Q(**{vulnerability_field(flag): True})))
        return queryset

    def filter_border_point(self, queryset, name, value):
        return queryset.filter(_shown_beyond_former_owner(Q(border_point=value)))

    def filter_owner_agency(self, queryset, name, value):
        return queryset.filter(_shown_beyond_former_owner(Q(owner_agency__code=value)))

    def filter_nationality(self, queryset, name, value):
        members = CaseMember.objects.filter(case=OuterRef("pk"), person__nationality=value.upper())
        return queryset.filter(_fully_visible() & Exists(members))

    def filter_search(self, queryset, name, value):
        """Every word must match the reference, or every word the start of a
        word of one and the same member (a name or the document number):
        "maría gonz" finds María González, not a María and a González who
        share a case."""
        words = value.split()
        if not words:
            return queryset
        reference = reference_match(words)
        members = member_match(words)
        if members is None:
            return queryset.filter(reference) if reference is not None else queryset.none()
        # The candidates come first, each from its own index (a union: OR-ed
        # in one WHERE, PostgreSQL would evaluate the index expression again
        # on every row), those of the word index already on the member line
        # as the row is read; the access rule then applies to those few.
        candidates = Case.objects.filter(indexed_words(words)).filter(members).order_by().values("pk")
        found = members & _fully_visible()
        if reference is not None:
            candidates = candidates.union(Case.objects.filter(reference).order_by().values("pk"))
            found |= reference
        return queryset.filter(pk__in=candidates).filter(found)


# The trigram index of references (migration 0002) needs a word of three characters.
REFERENCE_WORD_MIN_LENGTH = 3


def reference_match(words) -> Q | None:
    """Cases whose reference holds every word (None: no word long enough to
    look for one in the index; two characters or less are in most references
    and would read them all)."""
    if all(len(word) < REFERENCE_WORD_MIN_LENGTH for word in words):
        return None
    reference = Q()
    for word in words:
        reference &= Q(reference__icontains=word)
    return reference


def _word_alternatives(word: str) -> list[list[str]]:
    """What a typed word may match, each a list of word starts one member must
    all have: "V-12.345.678" is the document v12345678; "Pérez-Rojas" is
    perezrojas, or perez and rojas. Parts are words of their own only when
    each has a letter: "v", "12" and "345" would start half the index."""
    parts = search_words(word)
    if not parts:
        return []
    if len(parts) > 1 and all(any(ch.isalpha() for ch in part) for part in parts):
        return [["".join(parts)], parts]
    return [["".join(parts)]]


def member_match(words) -> Q | None:
    """Cases with a member matching every word (None: no word can match one):
    a regular expression over the members' lines of the search document
    (cases.services.search), checked only on the cases the index of word
    starts finds (``indexed_words``)."""
    per_word = _per_word(words)
    if per_word is None:
        return None

    def starts(part):
        return f"(?=(?:.* )?{part})"

    line = "".join("(?:" + "|".join("".join(map(starts, parts)) for parts in alternatives) + ")"
                   for alternatives in per_word)
    # A line is a member: "." never crosses one, "^" starts each.
    return Q(search_document__regex="(?n)^" + line)


def indexed_words(words) -> Func:
    """Cases holding every word somewhere in their search document, from the
    index of word starts (migration 0004_case_search_document). Lexemes are
    written as they are: letters and digits only, nothing to quote."""
    query = " & ".join("(" + " | ".join("(" + " & ".join(f"'{part}'" for part in parts) + ")"
                                        for parts in alternatives) + ")" for alternatives in _per_word(words))
    prefixes = Func(F("search_document"), function="case_search_prefixes", output_field=TextField())
    return _Matches(prefixes, RawSQL("%s::tsquery", [query], output_field=TextField()))


class _Matches(Func):
    """``tsvector @@ tsquery``."""
    arg_joiner = " @@ "
    template = "(%(expressions)s)"
    output_field = BooleanField()


def _per_word(words) -> list | None:
    per_word = [alternatives for alternatives in map(_word_alternatives, words) if alternatives]
    return per_word if len(per_word) == len(words) else None


class CaseOrdering(OrderingFilter):
    """Client orderings get the id as a tie-breaker, so pages never overlap."""

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if ordering and ordering[-1].lstrip("-") not in ("id", "pk", "reference"):
            ordering.append("-id" if ordering[0].startswith("-") else "id")
        return ordering
