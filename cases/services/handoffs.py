"""Handoffs: a case passed from one agency to another, and every step of its
workflow (pending → accepted | rejected | withdrawn; accepted → completed).

Every write takes the same locks in the same order — the case row, then the
handoff row — so two handoff writes on one case never deadlock, and a second
request that waited for the lock sees the first one's result and is refused.
All refusals are decided before anything is written; the history row and the
outbox event are written in the transaction of the change."""
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from api_core.errors import Conflict, Forbidden, InvalidInput, Unprocessable
from cases.models import (
    Agency,
    Case,
    CaseStatus,
    Consent,
    ConsentScope,
    Handoff,
    HandoffKind,
    HandoffStatus,
    LegalBasis,
    RejectionReason,
)
from cases.models.handoffs import crosses_border
from cases.roles import Role
from cases.selectors import case_for, handoffs_visible_to
from outbox.services import emit, emit_many

from .audit import diff, record, snapshot

# What the history of a handoff records: its state, never the free text.
TRACKED_FIELDS = ["kind", "status", "from_agency", "to_agency", "response_due", "legal_basis", "rejection_reason",
                  "responded_at", "withdrawn_at", "completed_at"]


def default_response_due(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(hours=settings.PUENTE["HANDOFF_RESPONSE_HOURS"])


def has_active_cross_border_consent(case_id) -> bool:
    return Consent.objects.active().filter(case_id=case_id, scope=ConsentScope.SHARE_CROSS_BORDER).exists()


def _lock_case(case_id) -> Case:
    # NO KEY UPDATE serialises handoff writes on one case but, unlike FOR
    # UPDATE, does not wait for inserts that merely reference the case.
    # No joins in a locking query: after waiting for a concurrent transfer,
    # PostgreSQL would re-check the join against the old owner and drop the row.
    return Case.objects.select_for_update(no_key=True).get(pk=case_id)


def _audience(handoff: Handoff) -> list:
    return [handoff.from_agency_id, handoff.to_agency_id]


def _is_caseworker_of(actor, agency_id) -> bool:
    return actor.agency_id is not None and actor.agency_id == agency_id and actor.has_role(Role.CASEWORKER)


# --- Create --------------------------------------------------------------------


@transaction.atomic
def handoff_create(*, actor, case_id, to_agency: str, kind: str, reason: str, services_requested: str = "",
                   response_due: datetime | None = None, legal_basis: str = "",
                   legal_basis_note: str = "") -> Handoff:
    """Hand the case ``case_id`` to the agency with code ``to_agency``."""
    case = _lock_case(case_for(actor, case_id).pk)  # 404 when the caller cannot see it
    if not _is_caseworker_of(actor, case.owner_agency_id):
        raise Forbidden(_("Only caseworkers of the agency that owns the case can hand it on."),
                        code="not_case_owner")
    if case.status != CaseStatus.OPEN:
        raise Conflict(_("The case is closed; reopen it before handing it on."), code="case_closed")

    if kind not in HandoffKind.values:
        raise InvalidInput(_("Unknown kind of handoff."), code="invalid_kind", field="kind")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why the case is handed on."), code="required", field="reason")
    services_requested = (services_requested or "").strip()
    if kind == HandoffKind.REFERRAL and not services_requested:
        raise Unprocessable(_("A referral must say which services are requested."), code="services_required",
                            field="services_requested")

    receiver = Agency.objects.filter(code=to_agency).first()
    if receiver is None:
        raise Unprocessable(_("No agency with this code."), code="unknown_agency", field="to_agency")
    if not receiver.active:
        raise Unprocessable(_("This agency no longer takes part and cannot receive handoffs."),
                            code="agency_inactive", field="to_agency")
    if receiver.pk == case.owner_agency_id:
        raise Unprocessable(_("The case already belongs to this agency."), code="same_agency", field="to_agency")

    now = timezone.now()
    if response_due is None:
        response_due = default_response_due(now)
    elif response_due <= now:
        raise Unprocessable(_("The response deadline must be in the future."), code="response_due_not_in_future",
                            field="response_due")

    legal_basis, legal_basis_note = legal_basis or "", (legal_basis_note or "").strip()
    if legal_basis and legal_basis not in LegalBasis.values:
        raise InvalidInput(_("Unknown legal basis."), code="invalid_legal_basis", field="legal_basis")
    if not legal_basis and crosses_border(case.owner_agency.country, receiver.country):
        raise Unprocessable(_("Handing a case across the border needs a legal basis."),
                            code="legal_basis_required", field="legal_basis")
    # A basis given for a domestic handoff is held to the same standard: the
    # record must never claim a consent or a justification that is not there.
    if legal_basis == LegalBasis.CONSENT and not has_active_cross_border_consent(case.pk):
        raise Unprocessable(_("The case has no active consent to share its data across the border."),
                            code="consent_required", field="legal_basis")
    if legal_basis and legal_basis != LegalBasis.CONSENT and not legal_basis_note:
        raise Unprocessable(_("Explain why this legal basis applies."), code="justification_required",
                            field="legal_basis_note")

    if kind == HandoffKind.TRANSFER and case.handoffs.pending().filter(kind=HandoffKind.TRANSFER).exists():
        raise _pending_transfer_exists()

    handoff = Handoff(
        case=case, kind=kind, from_agency=case.owner_agency, to_agency=receiver, requested_by=actor,
        reason=reason, services_requested=services_requested, response_due=response_due,
        legal_basis=legal_basis, legal_basis_note=legal_basis_note,
    )
    try:
        with transaction.atomic():
            handoff.save(force_insert=True)
    except IntegrityError as exc:
        # Another transaction created a pending transfer after the check above
        # (it had not committed yet): the database constraint has the last word.
        if kind == HandoffKind.TRANSFER:
            raise _pending_transfer_exists() from exc
        raise
    record(actor=actor, case=case, action="handoff.created", obj=handoff,
           changes=diff({}, snapshot(handoff, TRACKED_FIELDS)))
    emit("handoff.created", obj=handoff, case=case, agencies=_audience(handoff))
    return handoff


def _pending_transfer_exists() -> Conflict:
    return Conflict(_("The case already has a pending transfer; withdraw it or wait for the answer."),
                    code="pending_transfer_exists")


# --- Transitions ---------------------------------------------------------------

# action: (from status, to status, the party allowed to do it)
TRANSITIONS = {
    "accept": (HandoffStatus.PENDING, HandoffStatus.ACCEPTED, "to_agency_id"),
    "reject": (HandoffStatus.PENDING, HandoffStatus.REJECTED, "to_agency_id"),
    "withdraw": (HandoffStatus.PENDING, HandoffStatus.WITHDRAWN, "from_agency_id"),
    "complete": (HandoffStatus.ACCEPTED, HandoffStatus.COMPLETED, "to_agency_id"),
    "reschedule": (HandoffStatus.PENDING, HandoffStatus.PENDING, "from_agency_id"),
}


def _wrong_status_message(action: str, handoff: Handoff) -> str:
    status = handoff.get_status_display()
    messages = {
        "accept": _("Only a pending handoff can be accepted; this one is %(status)s."),
        "reject": _("Only a pending handoff can be rejected; this one is %(status)s."),
        "withdraw": _("Only a pending handoff can be withdrawn; this one is %(status)s."),
        "complete": _("Only an accepted handoff can be completed; this one is %(status)s."),
        "reschedule": _("Only a pending handoff can get a new deadline; this one is %(status)s."),
    }
    return messages[action] % {"status": status.lower()}


def _locked_handoff(actor, handoff_id, action: str) -> Handoff:
    """The handoff, locked after its case, once the transition is allowed.
    404 when the caller cannot see it; 409 when the caller's agency is not the
    party for ``action`` or the handoff is no longer in the status it needs."""
    try:
        case_id = handoffs_visible_to(actor).values_list("case_id", flat=True).get(pk=handoff_id)
    except (Handoff.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None
    case = _lock_case(case_id)
    # Re-read under the lock: a concurrent request may have answered it meanwhile.
    # The agencies come in the same statement (the answer names them) but are
    # not locked: a handoff's agencies never change, so the join still holds
    # when PostgreSQL re-checks the row after waiting for another writer.
    handoff = (Handoff.objects.select_related("from_agency", "to_agency").select_for_update(of=("self",))
               .get(pk=handoff_id))
    handoff.case = case
    source, _target, party = TRANSITIONS[action]
    if not _is_caseworker_of(actor, getattr(handoff, party)):
        if party == "from_agency_id":
            message = _("Only the sending agency can withdraw a handoff or change its deadline.")
        else:
            message = _("Only the receiving agency can accept, reject or complete a handoff.")
        raise Conflict(message, code="invalid_transition")
    if handoff.status != source:
        raise Conflict(_wrong_status_message(action, handoff), code="invalid_transition")
    return handoff


def _save_transition(*, actor, handoff: Handoff, before: dict, action: str, fields: list[str],
                     extra_changes: dict | None = None) -> None:
    handoff.save(update_fields=[*fields, "updated_at"])
    changes = diff(before, snapshot(handoff, TRACKED_FIELDS))
    changes.update(extra_changes or {})
    record(actor=actor, case=handoff.case, action=f"handoff.{action}", obj=handoff, changes=changes)
    emit(f"handoff.{action}", obj=handoff, case=handoff.case, agencies=_audience(handoff))


@transaction.atomic
def handoff_accept(*, actor, handoff_id, note: str = "") -> Handoff:
    """The receiving agency takes the case: a transfer moves its ownership, a
    referral makes the receiver a collaborator until the referral completes."""
    handoff = _locked_handoff(actor, handoff_id, "accept")
    case = handoff.case
    if case.status != CaseStatus.OPEN:
        raise Conflict(_("The case has been closed; this handoff can no longer be accepted."), code="case_closed")
    if handoff.legal_basis == LegalBasis.CONSENT and not has_active_cross_border_consent(case.pk):
        raise Unprocessable(_("The consent this handoff relies on has been withdrawn; it cannot be accepted."),
                            code="consent_withdrawn")
    if handoff.kind == HandoffKind.TRANSFER and case.owner_agency_id != handoff.from_agency_id:
        raise Conflict(_("The case no longer belongs to the sending agency."), code="case_owner_changed")

    before = snapshot(handoff, TRACKED_FIELDS)
    handoff.status = HandoffStatus.ACCEPTED
    handoff.responded_by, handoff.responded_at = actor, timezone.now()
    handoff.response_note = (note or "").strip()
    _save_transition(actor=actor, handoff=handoff, before=before, action="accepted",
                     fields=["status", "responded_by", "responded_at", "response_note"])
    if handoff.kind == HandoffKind.TRANSFER:
        _case_move_owner(actor=actor, case=case, to_agency=handoff.to_agency)
    return handoff


def _case_move_owner(*, actor, case: Case, to_agency: Agency) -> None:
    """Ownership moves with the accepted transfer (the case row is locked).
    The assigned caseworker belongs to the old agency, so the case is
    unassigned until the new owner assigns one of its own."""
    ownership = ["owner_agency", "assigned_to"]
    before = snapshot(case, ownership)
    case.owner_agency, case.assigned_to = to_agency, None
    case.version += 1
    case.save(update_fields=["owner_agency", "assigned_to", "version", "updated_at"])
    record(actor=actor, case=case, action="case.owner_changed", obj=case,
           changes=diff(before, snapshot(case, ownership)))


@transaction.atomic
def handoff_reject(*, actor, handoff_id, reason: str, note: str = "") -> Handoff:
    handoff = _locked_handoff(actor, handoff_id, "reject")
    note = (note or "").strip()
    if reason not in RejectionReason.values:
        raise InvalidInput(_("Give one of the coded reasons for the rejection."), code="invalid_rejection_reason",
                           field="reason")
    if reason == RejectionReason.OTHER and not note:
        raise Unprocessable(_("Explain the rejection in the note when the reason is 'other'."), code="note_required",
                            field="note")
    before = snapshot(handoff, TRACKED_FIELDS)
    handoff.status = HandoffStatus.REJECTED
    handoff.rejection_reason = reason
    handoff.responded_by, handoff.responded_at = actor, timezone.now()
    handoff.response_note = note
    _save_transition(actor=actor, handoff=handoff, before=before, action="rejected",
                     fields=["status", "rejection_reason", "responded_by", "responded_at", "response_note"])
    return handoff


@transaction.atomic
def handoff_withdraw(*, actor, handoff_id, note: str = "") -> Handoff:
    """The sending agency takes back a handoff that has not been answered. Its
    note is kept as the handoff's ``response_note``, for the receiver to read."""
    handoff = _locked_handoff(actor, handoff_id, "withdraw")
    before = snapshot(handoff, TRACKED_FIELDS)
    handoff.status = HandoffStatus.WITHDRAWN
    handoff.withdrawn_at = timezone.now()
    handoff.response_note = (note or "").strip()
    _save_transition(actor=actor, handoff=handoff, before=before, action="withdrawn",
                     fields=["status", "withdrawn_at", "response_note"])
    return handoff


@transaction.atomic
def handoff_complete(*, actor, handoff_id, note: str = "") -> Handoff:
    """The receiver records that the service was delivered (referral) or the
    people were received (transfer). A referral's collaborator access ends."""
    handoff = _locked_handoff(actor, handoff_id, "complete")
    before = snapshot(handoff, TRACKED_FIELDS)
    handoff.status = HandoffStatus.COMPLETED
    handoff.completed_by, handoff.completed_at = actor, timezone.now()
    handoff.completion_note = (note or "").strip()
    _save_transition(actor=actor, handoff=handoff, before=before, action="completed",
                     fields=["status", "completed_by", "completed_at", "completion_note"])
    return handoff


@transaction.atomic
def handoff_reschedule(*, actor, handoff_id, response_due: datetime, note: str = "") -> Handoff:
    """The sending agency moves the deadline of a pending handoff (usually to
    give the receiver more time). The new deadline is announced afresh when it
    passes."""
    handoff = _locked_handoff(actor, handoff_id, "reschedule")
    if response_due is None or response_due <= timezone.now():
        raise Unprocessable(_("The response deadline must be in the future."), code="response_due_not_in_future",
                            field="response_due")
    before = snapshot(handoff, TRACKED_FIELDS)
    handoff.response_due = response_due
    note = (note or "").strip()
    _save_transition(actor=actor, handoff=handoff, before=before, action="rescheduled", fields=["response_due"],
                     extra_changes={"note": note} if note else None)
    return handoff


# --- Deadlines -----------------------------------------------------------------


def handoff_emit_overdue(*, handoff_id, now: datetime | None = None) -> bool:
    """Write ``handoff.overdue`` once for the handoff's current deadline, if
    it has passed: the batch below, for one handoff."""
    return bool(handoffs_emit_overdue(now=now, limit=1, handoff_ids=[handoff_id]))


@transaction.atomic
def handoffs_emit_overdue(*, now: datetime | None = None, limit: int = 1000, handoff_ids=None,
                          after: tuple | None = None) -> list[Handoff]:
    """Write ``handoff.overdue`` once for the current deadline of up to
    ``limit`` overdue handoffs (of ``handoff_ids`` when given), the earliest
    deadlines first, in one transaction. Returns the handoffs announced (ids,
    case, agencies and deadline only), in deadline order.

    ``after``, the ``(response_due, id)`` of the last handoff of the previous
    batch of a run, lets the next batch start there instead of reading again
    past every handoff already announced: those stay pending and overdue
    until answered, and a backlog would otherwise cost a quadratic scan. It
    narrows where to look, never the claim: a row skipped because another
    sweep held it is that sweep's, and anything left behind is found by the
    next run, which starts from the beginning.

    One UPDATE claims the batch: it records the deadline being announced
    (``overdue_emitted_for``) on the handoffs that are still overdue and not
    yet announced, and returns them. The rows are picked FOR UPDATE SKIP
    LOCKED, so two sweeps running at once take disjoint batches instead of
    queueing behind each other, and a row's condition is checked again under
    its lock — a handoff answered or announced meanwhile is left out. A
    moved deadline no longer equals ``overdue_emitted_for``, so it is
    announced again once it passes. The events and their audience are then
    written with one INSERT each: a constant number of queries per batch."""
    pending = Handoff.objects.overdue_not_yet_announced(now or timezone.now())
    if handoff_ids is not None:
        pending = pending.filter(pk__in=list(handoff_ids))
    if after is not None:
        pending = pending.filter(Q(response_due__gt=after[0]) | Q(response_due=after[0], pk__gt=after[1]))
    pick = pending.order_by("response_due", "id").values("pk")
    if connection.features.has_select_for_update_skip_locked:
        pick = pick.select_for_update(skip_locked=True)
    pick = pick[:limit]
    pick_sql, params = pick.query.sql_with_params()
    ops = connection.ops
    table = ops.quote_name(Handoff._meta.db_table)
    fields = [Handoff._meta.get_field(name) for name in ("id", "case", "from_agency", "to_agency", "response_due")]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {ops.quote_name('overdue_emitted_for')} = {ops.quote_name('response_due')} "
            f"WHERE {ops.quote_name('id')} IN ({pick_sql}) "
            f"RETURNING {', '.join(ops.quote_name(field.column) for field in fields)}",
            params,
        )
        rows = cursor.fetchall()
    if not rows:
        return []
    # Values as the ORM would read them: the fields' own converters run on each.
    columns = [field.get_col(Handoff._meta.db_table) for field in fields]
    converters = [ops.get_db_converters(col) + col.get_db_converters(connection) for col in columns]
    claimed = []
    for row in rows:
        values = []
        for value, col, column_converters in zip(row, columns, converters, strict=True):
            for converter in column_converters:
                value = converter(value, col, connection)
            values.append(value)
        claimed.append(Handoff(**dict(zip([field.attname for field in fields], values, strict=True))))
    claimed.sort(key=lambda handoff: (handoff.response_due, handoff.pk))  # the order of the pick
    cases = Case.objects.only("reference").in_bulk({handoff.case_id for handoff in claimed})
    emit_many("handoff.overdue", [(handoff, cases[handoff.case_id], _audience(handoff)) for handoff in claimed])
    return claimed
