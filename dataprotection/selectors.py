"""Who reads which data-subject requests, and whose data each caller may
file a request about or export.

| caller                                   | requests                 | a person                      |
| ---------------------------------------- | ------------------------ | ----------------------------- |
| caseworker of an agency                  | those it handles         | files/exports: on a case its  |
|                                          |                          | agency owns; else 404 (403    |
|                                          |                          | when read as a collaborator)  |
| secretariat                              | all (read only)          | exports any person it reads   |
| anyone else                              | none (404)               | 404                           |

What an export holds depends on the caller too (``export_scope``): the
secretariat gets the whole record; a caseworker only what its agency reads
directly — the person's cases it reads in full (owner or collaborator, per
``cases_visible_to``), their handoffs, the reads of the cases it owns (and
its own reads of the others), and the requests it handles. A case it sees
in the limited view (a pending handoff, a former owner, an agenda) gives it
nothing: not even that the person is on it.
"""
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.utils.translation import gettext as _

from api_core.errors import Forbidden
from cases.models import Person
from cases.roles import Role
from cases.selectors import Access, cases_fully_visible_to, cases_visible_to, people_visible_to

from .models import DataRequest


def data_requests_visible_to(user):
    """Requests the user reads, each annotated with ``person_restricted``
    (whether the person's processing is restricted now)."""
    restricted = DataRequest.objects.restricting().filter(person_id=OuterRef("person_id"))
    requests = DataRequest.objects.select_related("handled_by_agency").annotate(person_restricted=Exists(restricted))
    if not user.is_authenticated:
        return requests.none()
    if user.has_role(Role.SECRETARIAT):
        return requests
    if user.agency_id is None or not user.has_role(Role.CASEWORKER):
        return requests.none()
    return requests.filter(handled_by_agency_id=user.agency_id)


def owned_people(user):
    """People on a case the user's agency owns (and which is not anonymised)."""
    owned = cases_visible_to(user).filter(access=Access.OWNER, anonymised_at__isnull=True).values("pk")
    return Person.objects.filter(memberships__case__in=owned).distinct()


def person_for_request(user, person_id) -> Person:
    """The person a caseworker files a request about: 404 unless on a case their agency owns."""
    person = _lookup(owned_people(user), person_id)
    if person is None:
        raise Http404
    return person


def person_for_export(user, person_id) -> Person:
    """The person whose record the caller exports: the owner agency's
    caseworkers and the secretariat; a collaborator who reads the person is
    refused (403), anyone else does not find them (404)."""
    if user.is_authenticated and user.has_role(Role.SECRETARIAT):
        person = _lookup(Person.objects.all(), person_id)
    else:
        person = _lookup(owned_people(user), person_id)
        if person is None and _lookup(people_visible_to(user), person_id) is not None:
            raise Forbidden(_("Only an agency owning a case of this person exports their record."),
                            code="owner_only")
    if person is None:
        raise Http404
    return person


@dataclass(frozen=True)
class ExportScope:
    """What one caller's export of one person may hold."""

    whole_record: bool  # the secretariat: every case, read and request
    case_ids: frozenset  # the person's cases on the export
    owned_case_ids: frozenset  # of those, the ones the caller's agency owns
    agency_id: object  # the caller's agency (None for the secretariat)
    requests: object  # the person's data-protection requests the caller reads (a queryset)
    readable_case_ids: object  # cases the caller reads in full (a queryset of pks), None: all


def export_scope(user, person: Person) -> ExportScope:
    """The part of ``person``'s record that ``user`` may export (after
    ``person_for_export`` let them): built from the access table, never
    from a rule of its own."""
    requests = data_requests_visible_to(user).filter(person=person)
    if user.has_role(Role.SECRETARIAT):
        case_ids = frozenset(person.memberships.values_list("case_id", flat=True))
        return ExportScope(whole_record=True, case_ids=case_ids, owned_case_ids=frozenset(), agency_id=None,
                           requests=requests, readable_case_ids=None)
    readable = cases_fully_visible_to(user)
    rows = list(readable.filter(memberships__person=person).values_list("pk", "access"))
    return ExportScope(whole_record=False, case_ids=frozenset(pk for pk, _access in rows),
                       owned_case_ids=frozenset(pk for pk, access in rows if access == Access.OWNER),
                       agency_id=user.agency_id, requests=requests, readable_case_ids=readable.values("pk"))


def _lookup(queryset, person_id) -> Person | None:
    try:
        return queryset.filter(pk=person_id).first()
    except (ValidationError, ValueError, TypeError):
        return None
