"""Every write about data-subject requests: file one, extend its deadline
once, answer it. All refusals are decided before anything is written.

Restriction of processing lives on the requests themselves
(``restriction_started_at``/``restriction_lifted_at``): an opposition
restricts from receipt until answered; a granted blocking restricts until
the rectification, erasure or opposition it accompanies is answered (Chile,
Ley 19.628 art. 8 ter: "mientras dicha solicitud no se resuelva").

Whatever changes the person as such — a correction, an erasure, the
restriction an opposition or a blocking brings — is decided by the rule
every casework change to a person obeys
(``casework.check_person_change_allowed``): only an agency owning every case
in use the person is on. Recording a request, refusing it or answering an
access request stays with any owner agency."""
import datetime
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from api_core.errors import Conflict, Forbidden, InvalidInput, Unprocessable
from cases.roles import Role
from cases.services import casework, retention

from . import laws
from .laws import RequestKind
from .models import Channel, DataRequest, ErasureException, Outcome, RefusalGround, RequestStatus
from .restrictions import acting_through_request
from .selectors import data_requests_visible_to, person_for_request

CLOCK_SKEW = datetime.timedelta(minutes=5)
# The requests a granted blocking accompanies.
BLOCKABLE = (RequestKind.RECTIFICATION, RequestKind.ERASURE, RequestKind.OPPOSITION)


def _choice(value, choices, field: str):
    if value not in choices:
        raise InvalidInput(_("“%(value)s” is not a valid choice.") % {"value": value}, code="invalid_choice",
                           field=field)
    return value


def _handling_agency(actor):
    if not actor.is_authenticated or actor.agency_id is None or not actor.has_role(Role.CASEWORKER):
        raise Forbidden(_("Only caseworkers of an agency record data-protection requests."), code="agency_required")
    return actor.agency


def _reference(received_at: datetime.datetime) -> str:
    # Names nothing about the person; unique by constraint.
    return f"DP-{received_at.year}-{uuid.uuid4().hex[:8].upper()}"


@transaction.atomic
def data_request_create(*, actor, person, kind: str, received_at: datetime.datetime, channel: str,
                        requester_note: str = "") -> DataRequest:
    """Record a request a person made to the actor's agency, with the due
    moment of the law that applies to that agency."""
    agency = _handling_agency(actor)
    subject = person_for_request(actor, person)
    _choice(kind, RequestKind.values, "kind")
    _choice(channel, Channel.values, "channel")
    now = timezone.now()
    if received_at > now + CLOCK_SKEW:
        raise Unprocessable(_("A request cannot be received in the future."), code="in_future", field="received_at")
    if kind == RequestKind.OPPOSITION:
        # The restriction starts now, and stops every agency holding the person.
        casework.check_person_change_allowed(actor=actor, person=subject)
    law = laws.law_for(agency.country, kind, received_at)
    request = DataRequest.objects.create(
        reference=_reference(received_at), person=subject, kind=kind, channel=channel,
        requester_note=(requester_note or "").strip(), received_at=received_at, law=law,
        due_at=laws.due_at(law, kind, received_at), handled_by_agency=agency, created_by=actor,
        restriction_started_at=now if kind == RequestKind.OPPOSITION else None,
    )
    return request


def _request_for_change(actor, request_id) -> DataRequest:
    """The request locked for a change by its handling agency: 404 when the
    actor cannot see it, 403 for the secretariat (read only)."""
    try:
        visible = data_requests_visible_to(actor).filter(pk=request_id).exists()
    except (ValidationError, ValueError):
        visible = False
    if not visible:
        raise Http404
    request = DataRequest.objects.select_for_update().select_related("handled_by_agency").get(pk=request_id)
    if actor.agency_id != request.handled_by_agency_id or not actor.has_role(Role.CASEWORKER):
        raise Forbidden(_("Only the handling agency answers this request."), code="handling_agency_only")
    if request.status != RequestStatus.OPEN:
        raise Conflict(_("This request has already been answered."), code="request_completed")
    return request


@transaction.atomic
def data_request_extend(*, actor, request_id, reason: str) -> DataRequest:
    """Extend the deadline once, where the law allows it, before it passes."""
    request = _request_for_change(actor, request_id)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why the deadline is extended."), code="required", field="reason")
    if request.extended_at is not None:
        raise Conflict(_("The deadline of this request was already extended; the law allows it once."),
                       code="already_extended")
    new_due = laws.extended_due_at(request.law, request.kind, request.due_at)
    if new_due is None:
        raise Conflict(_("The law allows no extension for this kind of request."), code="extension_not_allowed")
    now = timezone.now()
    if request.due_at <= now:
        # Both laws: the extension is announced within the term it extends.
        raise Conflict(_("The deadline has passed; it can no longer be extended."), code="deadline_passed")
    request.original_due_at, request.due_at = request.due_at, new_due
    request.extended_at, request.extension_reason = now, reason
    request.save(update_fields=["original_due_at", "due_at", "extended_at", "extension_reason", "updated_at"])
    return request


@transaction.atomic
def data_request_complete(*, actor, request_id, outcome: str, note: str = "", refusal_ground: str = "",
                          legal_hold: str = "", legal_hold_note: str = "", corrections: dict | None = None
                          ) -> DataRequest:
    """Answer the request. A refusal, whole or partial, gives its legal
    ground. A granted rectification may carry the ``corrections`` of the
    person's fields, applied through the request even while their processing
    is restricted. A granted erasure anonymises the person through the
    retention service, unless ``legal_hold`` (or an open case) keeps them."""
    request = _request_for_change(actor, request_id)
    _choice(outcome, Outcome.values, "outcome")
    note, legal_hold_note = (note or "").strip(), (legal_hold_note or "").strip()
    granted = outcome in (Outcome.GRANTED, Outcome.PARTIALLY_GRANTED)
    if refusal_ground:
        _choice(refusal_ground, RefusalGround.values, "refusal_ground")
    if outcome != Outcome.GRANTED and not refusal_ground:
        raise Unprocessable(_("A refusal, even a partial one, must give its legal ground."),
                            code="refusal_ground_required", field="refusal_ground")
    if outcome == Outcome.GRANTED and refusal_ground:
        raise Unprocessable(_("A request granted in full has no ground of refusal."), code="unexpected_refusal_ground",
                            field="refusal_ground")
    if legal_hold:
        if request.kind != RequestKind.ERASURE or not granted:
            raise Unprocessable(_("A legal hold applies only to a granted erasure."), code="legal_hold_not_applicable",
                                field="legal_hold")
        _choice(legal_hold, ErasureException.values, "legal_hold")
        if not legal_hold_note:
            raise Unprocessable(_("Say which legal obligation keeps the data."), code="required",
                                field="legal_hold_note")
    if corrections and (request.kind != RequestKind.RECTIFICATION or not granted):
        raise Unprocessable(_("Corrections come only with a granted rectification."),
                            code="corrections_not_applicable", field="corrections")
    changes_the_person = granted and (
        (request.kind == RequestKind.RECTIFICATION and corrections)
        or (request.kind == RequestKind.ERASURE and not legal_hold) or request.kind == RequestKind.BLOCKING)
    if changes_the_person:
        # Decided on the person's cases as they are now, not as they were when the request came in.
        casework.check_person_change_allowed(actor=actor, person=request.person)
    others_open = (DataRequest.objects.open().filter(person_id=request.person_id, kind__in=BLOCKABLE)
                   .exclude(pk=request.pk))
    if request.kind == RequestKind.BLOCKING and granted and not others_open.exists():
        raise Conflict(_("A blocking accompanies a request to rectify, erase or oppose; record that request first."),
                       code="nothing_to_block")

    now = timezone.now()
    if corrections:
        with acting_through_request(request.person_id):
            casework.person_update(actor=actor, person_id=request.person_id, **corrections)
    request.status, request.outcome, request.outcome_note = RequestStatus.COMPLETED, outcome, note
    request.refusal_ground = refusal_ground
    request.completed_at, request.completed_by = now, actor
    if request.kind == RequestKind.OPPOSITION:
        request.restriction_lifted_at = now
    if request.kind == RequestKind.BLOCKING and granted:
        request.restriction_started_at = now
    if request.kind == RequestKind.ERASURE and granted:
        hold = legal_hold or retention.person_anonymise(person_id=request.person_id, now=now)
        if hold:
            request.erasure_exception = hold
            request.erasure_exception_note = legal_hold_note
        else:
            request.anonymised_at = now
    request.save()
    if request.kind in BLOCKABLE and not others_open.exists():
        # What a granted blocking accompanied is answered: the blocking ends.
        DataRequest.objects.restricting().filter(person_id=request.person_id, kind=RequestKind.BLOCKING).update(
            restriction_lifted_at=now, updated_at=now)
    return request
