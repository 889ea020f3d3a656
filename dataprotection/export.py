"""Everything Puente holds on one person that the caller may read, built
once for the API's JSON and the admin's printable page (Chile: Ley 19.628
arts. 5 and 9; Peru: Ley 29733 art. 19). Other people's data stays out: a
family case names its other members nowhere here, not even by id.

The export is a derived output: it shows nothing the caller could not read
directly (``selectors.export_scope``). An agency answers the person for the
data it holds and reads; the secretariat sees the whole record.

Who read the data is given by agency and day, not by the name of the
official: the laws entitle the person to know the recipients of their data
(Chile art. 5, Peru art. 19), and the recipient is the agency; its staff are
people too, whose names are their own personal data."""
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from cases.models import CaseAccessLog, CaseMember, Consent, Handoff, HistoryEntry, Person
from cases.models.audit import AccessChannel
from cases.models.handoffs import crosses_border

from .restrictions import is_restricted
from .selectors import ExportScope, export_scope

EXPORT_ACCESS = "subject_export"
PERSON_FIELDS = ("given_names", "family_names", "sex", "date_of_birth", "date_of_birth_is_estimate", "nationality",
                 "document_type", "document_country", "document_number", "phone", "languages")


def _moment(value):
    return value.isoformat() if value is not None else None


def _agency(agency) -> dict | None:
    if agency is None:
        return None
    return {"code": agency.code, "name": agency.name, "country": agency.country}


def person_export(user, person: Person, *, channel: str = AccessChannel.API) -> dict:
    """``person``'s record as ``user`` may read it (``person`` comes from
    ``selectors.person_for_export``), its read logged: the one way the API
    and the admin build an export."""
    scope = export_scope(user, person)
    memberships = list(CaseMember.objects.filter(person=person, case_id__in=scope.case_ids)
                       .select_related("case__owner_agency").order_by("added_at", "id"))
    history, registered_seen = _history(person, memberships, scope)
    record = {
        "person": _person(person, scope, registered_seen),
        "processing_restricted": is_restricted(person.pk),
        "cases": [_case(membership) for membership in memberships],
        "consents": _consents(person, scope),
        "handoffs": _handoffs(scope),
        "history": history,
        "reads": _reads(scope),
        "data_requests": _requests(scope),
        "generated_at": timezone.now().isoformat(),
    }
    _log(user, scope, channel)
    return record


def _person(person: Person, scope: ExportScope, registered_seen: bool) -> dict:
    data = {"id": str(person.pk)}
    for name in PERSON_FIELDS:
        value = getattr(person, name)
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif name in ("nationality", "document_country"):
            value = value.code or ""
        data[name] = value
    # Which agency registered the person is named only to a caller who can
    # read it: its own agency, or the registration on a case it reads.
    known = scope.whole_record or registered_seen or person.created_by_agency_id == scope.agency_id
    data.update(registered_by_agency=person.created_by_agency.code if known else None,
                registered_at=_moment(person.created_at),
                anonymised_at=_moment(person.anonymised_at))
    return data


def _case(membership: CaseMember) -> dict:
    case = membership.case
    return {"reference": case.reference, "relationship": membership.relationship,
            "owner_agency": _agency(case.owner_agency), "status": case.status, "opened_at": _moment(case.created_at),
            "closed_at": _moment(case.closed_at), "member_since": _moment(membership.added_at)}


def _readable(queryset, scope: ExportScope):
    return queryset if scope.readable_case_ids is None else queryset.filter(case_id__in=scope.readable_case_ids)


def _consents(person: Person, scope: ExportScope) -> list[dict]:
    """Consents the person gave, and those of their cases, which cover every
    member: on the cases the caller reads."""
    consents = (_readable(Consent.objects.filter(Q(given_by=person) | Q(case_id__in=scope.case_ids)), scope)
                .select_related("case", "recorded_by_agency").order_by("given_at", "id"))
    return [{"case": consent.case.reference, "scope": consent.scope, "method": consent.method,
             "given_at": _moment(consent.given_at), "given_by_the_person": consent.given_by_id == person.pk,
             "recorded_by_agency": consent.recorded_by_agency.code, "withdrawn_at": _moment(consent.withdrawn_at)}
            for consent in consents]


def _handoffs(scope: ExportScope) -> list[dict]:
    """Every handoff of their cases: the record of transfers, international
    ones among them (Chile arts. 27-29, Peru art. 15), with the legal basis
    and its justification. The free-text reason is left out: it describes
    the family, not only this person. The whole chain of each case on the
    export, as whoever reads the case in full sees it."""
    handoffs = (Handoff.objects.filter(case_id__in=scope.case_ids).select_related("case", "from_agency", "to_agency")
                .order_by("created_at", "id"))
    return [{"case": handoff.case.reference, "kind": handoff.kind, "status": handoff.status,
             "created_at": _moment(handoff.created_at), "responded_at": _moment(handoff.responded_at),
             "completed_at": _moment(handoff.completed_at), "from_agency": _agency(handoff.from_agency),
             "to_agency": _agency(handoff.to_agency),
             "international": crosses_border(handoff.from_agency.country, handoff.to_agency.country),
             "legal_basis": handoff.legal_basis, "legal_basis_justification": handoff.legal_basis_note}
            for handoff in handoffs]


def _history(person: Person, memberships, scope: ExportScope) -> tuple[list[dict], bool]:
    """Changes about the person (their own fields, their memberships, the
    consents they gave) on the cases the caller reads, and whether their
    registration is among them."""
    consent_ids = [str(pk) for pk in Consent.objects.filter(given_by=person).values_list("pk", flat=True)]
    about = (Q(object_type="person", object_id=str(person.pk))
             | Q(object_type="casemember", object_id__in=[str(membership.pk) for membership in memberships])
             | Q(object_type="consent", object_id__in=consent_ids))
    entries = list(_readable(HistoryEntry.objects.filter(about), scope).select_related("case", "agency")
                   .order_by("at", "id"))
    registered_seen = any(entry.action == "person.created" and entry.object_type == "person" for entry in entries)
    return [{"at": _moment(entry.at), "case": entry.case.reference if entry.case_id else None,
             "action": entry.action, "agency": entry.agency.code if entry.agency_id else None,
             "changes": dict(entry.changes)}
            for entry in entries], registered_seen


def _reads(scope: ExportScope) -> list[dict]:
    """Who read their data, by agency and day (the secretariat has no agency):
    every read of the cases the caller's agency owns, and only its own reads
    of the cases it collaborates on (their owner answers for the others)."""
    if scope.whole_record:
        which = Q(case_id__in=scope.case_ids)
    else:
        which = Q(case_id__in=scope.owned_case_ids) | Q(case_id__in=scope.case_ids, agency_id=scope.agency_id)
    rows = (CaseAccessLog.objects.filter(which).annotate(day=TruncDate("at"))
            .values("day", "agency__code", "agency__name", "agency__country").annotate(reads=Count("id"))
            .order_by("day", "agency__code"))
    return [{"date": row["day"].isoformat(), "agency": row["agency__code"], "agency_name": row["agency__name"],
             "agency_country": row["agency__country"], "by_committee_secretariat": row["agency__code"] is None,
             "reads": row["reads"]}
            for row in rows]


def _requests(scope: ExportScope) -> list[dict]:
    """The person's requests the caller reads: its agency's (all for the secretariat)."""
    return [{"reference": request.reference, "kind": request.kind, "status": request.status,
             "received_at": _moment(request.received_at), "due_at": _moment(request.due_at), "law": request.law,
             "handled_by_agency": request.handled_by_agency.code, "outcome": request.outcome,
             "completed_at": _moment(request.completed_at)}
            for request in scope.requests.order_by("received_at", "id")]


def _log(user, scope: ExportScope, channel: str) -> None:
    """The export is a full read of the person: one access-log row per case
    of theirs it showed (after the reads it lists were counted)."""
    CaseAccessLog.objects.bulk_create([
        CaseAccessLog(case_id=case_id, user=user, agency_id=user.agency_id, access=EXPORT_ACCESS, channel=channel)
        for case_id in sorted(scope.case_ids, key=str)
    ])
