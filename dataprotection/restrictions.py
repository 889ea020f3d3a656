"""Restriction of processing: while a person's opposition is examined, or
after their request to block was granted, no agency may hand their cases
on or change their data, except through the request itself."""
import contextlib
from contextvars import ContextVar

from django.db.models import Q
from django.utils.translation import gettext as _

from api_core.errors import Conflict

from .models import DataRequest

# People a request is changing right now (a granted rectification): its own
# changes are the one way their data may still change.
_THROUGH_REQUEST: ContextVar[frozenset] = ContextVar("through_request", default=frozenset())


@contextlib.contextmanager
def acting_through_request(person_id):
    token = _THROUGH_REQUEST.set(_THROUGH_REQUEST.get() | {person_id})
    try:
        yield
    finally:
        _THROUGH_REQUEST.reset(token)


def restricted_person_ids(person_ids) -> set:
    return set(DataRequest.objects.restricting().filter(person_id__in=list(person_ids))
               .values_list("person_id", flat=True))


def is_restricted(person_id) -> bool:
    return DataRequest.objects.restricting().filter(person_id=person_id).exists()


def refuse_restricted_processing(*, case_ids=(), person_ids=()) -> None:
    """The write guard: 409 ``processing_restricted`` when a person concerned,
    or a member of a case concerned, has their processing restricted."""
    concerned = Q()
    if person_ids:
        concerned |= Q(person_id__in=list(person_ids))
    if case_ids:
        concerned |= Q(person__memberships__case_id__in=list(case_ids))
    restricting = DataRequest.objects.restricting().filter(concerned)
    exempt = _THROUGH_REQUEST.get()
    if exempt:
        restricting = restricting.exclude(person_id__in=list(exempt))
    if restricting.exists():
        raise Conflict(_("The processing of a person concerned is restricted while their data-protection request "
                         "is examined; only the request itself may change their data."),
                       code="processing_restricted")
