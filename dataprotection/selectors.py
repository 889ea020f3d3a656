"""Who reads which data-subject requests, and whose data each caller may
file a request about or export.

| caller                                   | requests                 | a person                      |
| ---------------------------------------- | ------------------------ | ----------------------------- |
| caseworker of an agency                  | those it handles         | files/exports: on a case its  |
|                                          |                          | agency owns; else 404 (403    |
|                                          |                          | when read as a collaborator)  |
| secretariat                              | all (read only)          | exports any person it reads   |
| anyone else                              | none (404)               | 404                           |
"""
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.utils.translation import gettext as _

from api_core.errors import Forbidden
from cases.models import Person
from cases.roles import Role
from cases.selectors import Access, cases_visible_to, people_visible_to

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


def _lookup(queryset, person_id) -> Person | None:
    try:
        return queryset.filter(pk=person_id).first()
    except (ValidationError, ValueError, TypeError):
        return None
