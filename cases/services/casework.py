"""Cases, their people, consents and notes.

Every function here decides all its 4xx answers before it writes anything,
then writes the change, a history row per changed object (``{field: [old,
new]}``) and an outbox event in one transaction. Access comes from
``cases.selectors``: a case the actor may not see is a 404, one they may see
but not change is a 403.
"""
import datetime
import functools
import operator
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from api_core.errors import Conflict, Forbidden, InvalidInput, Unprocessable
from api_core.preconditions import IfMatch, check_if_match
from cases.models import (
    VULNERABILITIES,
    BorderPoint,
    Case,
    CaseMember,
    CaseReferenceCounter,
    CaseStatus,
    ClosureReason,
    Consent,
    ConsentMethod,
    ConsentScope,
    DocumentType,
    DuplicateCandidate,
    Note,
    NoteVisibility,
    Person,
    Priority,
    Relationship,
    Sex,
    User,
    normalise_document_number,
)
from cases.roles import Role
from cases.selectors import (
    Access,
    cases_visible_to,
    collaborator_agency_ids,
    people_owned_by,
    people_visible_to,
    person_on_cases_not_owned_by,
)
from outbox.services import emit

from .audit import diff, history_entry, record, record_many, snapshot
from .guards import check_writes_allowed
from .redaction import history_scrub
from .search import case_search_refresh, search_document

PERSON_FIELDS = (
    "given_names", "family_names", "sex", "date_of_birth", "date_of_birth_is_estimate", "nationality",
    "document_type", "document_country", "document_number", "phone", "languages",
)
CASE_FIELDS = ("summary", "status", "priority", "border_point", "closure_reason", "closure_note", "closed_at")
# Consent given "now" on a device whose clock runs a little ahead is still fine.
CLOCK_SKEW = datetime.timedelta(minutes=5)

UNSET = object()


# --- Reading what the actor may change ---------------------------------------

def _forbidden(access: str) -> Forbidden:
    if access == Access.OVERSIGHT:
        return Forbidden(_("The secretariat reads cases but does not change them."), code="read_only")
    if access == Access.COLLABORATOR:
        return Forbidden(_("Only the owner agency can change this case."), code="owner_only")
    return Forbidden(_("Your agency has limited access to this case."), code="limited_access")


def _case_for_change(actor, case_id, *, allowed=(Access.OWNER,), if_match: IfMatch | None = None,
                     open_only: bool = True, guarded: bool = True) -> Case:
    """The case locked for the change, or the 404/403/412/409 the actor gets."""
    try:
        # NO KEY: children rows (members, notes, handoffs) may still reference it meanwhile.
        case = Case.objects.select_for_update(no_key=True).filter(pk=case_id).first()
    except (ValidationError, ValueError):
        case = None
    access = None
    if case is not None:
        access = cases_visible_to(actor).filter(pk=case.pk).values_list("access", flat=True).first()
    if access is None:
        raise Http404
    if access not in allowed:
        raise _forbidden(access)
    case.access = access
    check_if_match(if_match, case)
    if open_only and case.status != CaseStatus.OPEN:
        raise Conflict(_("The case is closed; reopen it first."), code="case_closed")
    if guarded:
        check_writes_allowed(case_ids=[case.pk])
    return case


def registering_agency(actor):
    if not actor.is_authenticated or actor.agency_id is None or not actor.has_role(Role.CASEWORKER):
        raise Forbidden(_("Only caseworkers of an agency can register cases."), code="agency_required")
    return actor.agency


def _audience(case: Case) -> list:
    return [case.owner_agency_id, *collaborator_agency_ids(case)]


def _touch(case: Case, *extra_fields) -> None:
    case.version += 1
    case.save(update_fields=["version", "updated_at", *extra_fields])


# --- Validation shared by every caller ----------------------------------------

def _field(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _choice(value, choices, field_name: str):
    if value not in choices:
        raise InvalidInput(_("“%(value)s” is not a valid choice.") % {"value": value}, code="invalid_choice",
                           field=field_name)
    return value


def _vulnerabilities(flags) -> list[str]:
    for flag in flags:
        _choice(flag, VULNERABILITIES, "vulnerabilities")
    return list(dict.fromkeys(flags))


def _assignee(agency, username):
    if username in (None, ""):
        return None
    user = User.objects.filter(username=username, agency=agency, is_active=True).first()
    if user is None or not user.has_role(Role.CASEWORKER):
        raise Unprocessable(_("Assign the case to an active caseworker of the owner agency."),
                            code="unknown_assignee", field="assigned_to")
    return user


def _clean_person_fields(fields: dict, prefix: str = "", *, creating: bool = True) -> dict:
    unknown = set(fields) - set(PERSON_FIELDS)
    if unknown:
        raise TypeError(f"not person fields: {sorted(unknown)}")
    cleaned = dict(fields)
    if creating and not (cleaned.get("given_names") or "").strip():
        raise InvalidInput(_("This field is required."), code="required", field=_field(prefix, "given_names"))
    if "sex" in cleaned:
        _choice(cleaned["sex"], Sex.values, _field(prefix, "sex"))
    if "document_type" in cleaned:
        _choice(cleaned["document_type"], DocumentType.values, _field(prefix, "document_type"))
    born = cleaned.get("date_of_birth")
    if born is not None and born > timezone.localdate():
        raise Unprocessable(_("The date of birth cannot be in the future."), code="in_future",
                            field=_field(prefix, "date_of_birth"))
    return cleaned


def _check_document(person_fields: dict, prefix: str) -> None:
    document_type = person_fields.get("document_type", DocumentType.NONE)
    number = (person_fields.get("document_number") or "").strip()
    if document_type == DocumentType.NONE and number:
        raise Unprocessable(_("Give the type of the document whose number you entered."),
                            code="document_type_required", field=_field(prefix, "document_type"))
    if document_type != DocumentType.NONE and not number:
        raise Unprocessable(_("Give the document number, or document type “none”."),
                            code="document_number_required", field=_field(prefix, "document_number"))


# --- Members: who is meant, decided before anything is written -----------------
#
# In this order, so that no answer depends on people the caller cannot see:
# every check that needs nothing stored (each member, the same person twice,
# the caller's own rules such as one head), then the look-ups, which only
# ever consider people on cases the caller's agency owns. A document held by
# anyone else is flagged for the secretariat by one statement that runs
# whether or not such a person exists (``_flag_document_matches``).

@dataclass
class _MemberPlan:
    relationship: str
    field: str  # where errors about this member point
    person_id: object = None  # an existing person to link, as given
    person: Person | None = None
    new_fields: dict = field(default_factory=dict)
    matched_existing: bool = False

    @property
    def identity(self):
        if self.person is not None:
            return ("person", self.person.pk)
        if self.person_id is not None:
            return ("person", self.person_id)
        return _document(self.new_fields)


def _unknown_person(field_name: str) -> Unprocessable:
    # The same answer whether the person does not exist or is on someone else's case.
    return Unprocessable(_("No such person."), code="unknown_person", field=field_name or "person")


def _plan_member(spec: dict, prefix: str) -> _MemberPlan:
    """The member ``spec`` describes, validated without looking anything up."""
    spec = dict(spec)
    relationship = _choice(spec.pop("relationship", None), Relationship.values, _field(prefix, "relationship"))
    person_id = spec.pop("person", None)
    if person_id is not None:
        try:
            person_id = uuid.UUID(str(person_id))
        except ValueError:
            raise _unknown_person(_field(prefix, "person")) from None
        return _MemberPlan(relationship=relationship, field=prefix, person_id=person_id)
    fields = _clean_person_fields(spec, prefix)
    _check_document(fields, prefix)
    return _MemberPlan(relationship=relationship, field=prefix, new_fields=fields)


def _document(fields: dict) -> tuple | None:
    if fields.get("document_type", DocumentType.NONE) == DocumentType.NONE:
        return None
    return (fields["document_type"], str(fields.get("document_country") or ""),
            normalise_document_number(fields["document_number"]))


def _refuse_twice(plans: list[_MemberPlan]) -> None:
    seen = set()
    for plan in plans:
        if plan.identity is not None:
            if plan.identity in seen:
                raise Unprocessable(_("This person appears twice in the family."), code="duplicate_member",
                                    field=plan.field or None)
            seen.add(plan.identity)


def _link_people(actor, plans: list[_MemberPlan]) -> None:
    """The people given by id, among those on the caller's own cases."""
    wanted = [plan for plan in plans if plan.person_id is not None]
    if not wanted:
        return
    found = people_owned_by(actor).in_bulk([plan.person_id for plan in wanted])
    for plan in wanted:
        plan.person = found.get(plan.person_id)
        if plan.person is None:
            raise _unknown_person(_field(plan.field, "person"))


def _match_documents(actor, plans: list[_MemberPlan]) -> None:
    """Link each new person whose document is held by someone on the caller's
    own cases, to the oldest such person (``matched_existing``): one query
    for all the documents."""
    wanted = {}
    for plan in plans:
        document = _document(plan.new_fields) if plan.person is None else None
        if document is not None:
            wanted.setdefault(document, []).append(plan)
    if not wanted:
        return
    stored = functools.reduce(operator.or_, (Person.objects.with_document(*document) for document in wanted))
    owned = people_owned_by(actor).filter(pk__in=stored.values("pk")).order_by("created_at", "id")
    for person in owned:
        document = (person.document_type, str(person.document_country or ""), person.document_number_normalised)
        for plan in wanted.pop(document, []):
            plan.person, plan.matched_existing = person, True


def _plan_members(actor, specs, prefix: str = "members", *, before_lookup=None) -> list[_MemberPlan]:
    """Every member planned, or the first error: the checks of ``specs`` in
    their order, the same person twice, ``before_lookup(plans)``, and only
    then what needs the people already stored."""
    plans = [_plan_member(spec, _field(prefix, str(index)) if prefix else "") for index, spec in enumerate(specs)]
    _refuse_twice(plans)
    if before_lookup is not None:
        before_lookup(plans)
    _link_people(actor, plans)
    _match_documents(actor, plans)
    _refuse_twice(plans)  # a person given by id and again by their document
    return plans


def _flag_document_matches(person_ids) -> None:
    """Record a possible duplicate, for the secretariat, for every other
    person holding the document of one of ``person_ids``: one statement,
    run whatever it finds, so the caller's answer and its timing tell nothing
    about people it cannot see."""
    person = connection.ops.quote_name(Person._meta.db_table)
    candidate = connection.ops.quote_name(DuplicateCandidate._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {candidate} (new_person_id, existing_person_id, detected_at) "  # noqa: S608 (our tables)
            f"SELECT new.id, old.id, now() FROM {person} new JOIN {person} old "
            "ON old.document_type = new.document_type AND old.document_country = new.document_country "
            "AND old.document_number_normalised = new.document_number_normalised AND old.id <> new.id "
            "WHERE new.id = ANY(%s) AND new.document_type <> %s AND old.anonymised_at IS NULL "
            "ON CONFLICT DO NOTHING",
            [list(person_ids), DocumentType.NONE],
        )


def _person_created_changes(person: Person) -> dict:
    return {name: [None, value] for name, value in snapshot(person, PERSON_FIELDS).items()
            if value not in (None, "", [], False)}


def _carry_out(actor, case: Case, plans: list[_MemberPlan]) -> tuple[list[CaseMember], list]:
    """Write the planned members: the new people, the possible duplicates for
    the secretariat and the memberships, one bulk insert each. Returns the
    memberships and their history entries, not yet written (the caller writes
    them with its own, in one insert)."""
    new_people = [Person(created_by_agency_id=actor.agency_id, **plan.new_fields)
                  for plan in plans if plan.person is None]
    for person in new_people:  # what Person.save() does, as bulk_create does not call it
        person.document_number_normalised = normalise_document_number(person.document_number)
    Person.objects.bulk_create(new_people)
    people, is_new = iter(new_people), []
    for plan in plans:
        is_new.append(plan.person is None)
        if plan.person is None:
            plan.person = next(people)
    documented = [person.pk for person in new_people if person.document_type != DocumentType.NONE]
    if documented:
        _flag_document_matches(documented)
    memberships = CaseMember.objects.bulk_create(
        [CaseMember(case=case, person=plan.person, relationship=plan.relationship) for plan in plans]
    )
    history = []
    for membership, plan, new in zip(memberships, plans, is_new, strict=True):
        if new:
            history.append(history_entry(actor=actor, case=case, action="person.created", obj=plan.person,
                                         changes=_person_created_changes(plan.person)))
        changes = {"person": [None, str(plan.person.pk)], "relationship": [None, plan.relationship]}
        if plan.matched_existing:
            changes["matched_existing"] = [None, True]
        history.append(history_entry(actor=actor, case=case, action="member.added", obj=membership,
                                     changes=changes))
        membership.matched_existing = plan.matched_existing
    return memberships, history


# --- Cases --------------------------------------------------------------------

def _case_state(case: Case) -> dict:
    state = snapshot(case, CASE_FIELDS)
    state["vulnerabilities"] = case.vulnerabilities
    state["assigned_to"] = case.assigned_to.username if case.assigned_to_id else None
    return state


def _give_reference(case: Case, **also) -> None:
    """Give ``case`` its ``BC-<year>-<number>``, gapless: the counter row is
    incremented and locked in one statement and stays locked until the
    creating transaction ends (a rollback gives the number back). Call it as
    the last write before the commit, so creations queue on the counter for
    the fewest statements. ``also``: other columns of the case written in the
    same UPDATE."""
    year = timezone.localdate().year
    counter = connection.ops.quote_name(CaseReferenceCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {counter} (year, last_number) VALUES (%s, 1) "  # noqa: S608 (the table name is ours)
            f"ON CONFLICT (year) DO UPDATE SET last_number = {counter}.last_number + 1 RETURNING last_number",
            [year],
        )
        (number,) = cursor.fetchone()
    case.reference = f"BC-{year}-{number:06d}"
    Case.objects.filter(pk=case.pk).update(reference=case.reference, **also)


def _provisional_reference() -> str:
    """A unique stand-in, replaced by ``_give_reference`` in the same
    transaction: never committed, never seen by anyone else."""
    return f"~{uuid.uuid4().hex[:19]}"


def _refuse_without_one_head(plans: list[_MemberPlan]) -> None:
    if sum(plan.relationship == Relationship.HEAD for plan in plans) != 1:
        raise Unprocessable(_("A case needs exactly one head of family."), code="exactly_one_head", field="members")


def case_create(*, actor, members, summary: str = "", priority: str = Priority.NORMAL, vulnerabilities=(),
                border_point: str = BorderPoint.OTHER, assigned_to: str | None = None) -> Case:
    """Register a case and its family; the actor's agency owns it. Each member
    is either new person fields or ``{relationship, person: <id>}`` of a person
    the actor already reads in full. The returned case carries
    ``created_memberships`` (each with ``matched_existing``).

    Statements: the case, the new people, the memberships (and possible
    duplicates), then the reference, the history of all of them and the
    event: the same number whatever the size of the family. Every refusal is
    decided before the transaction; within a caller's transaction (the
    ``Idempotency-Key``'s) the writes need no savepoint of their own."""
    agency = registering_agency(actor)
    _choice(priority, Priority.values, "priority")
    _choice(border_point, BorderPoint.values, "border_point")
    flags = _vulnerabilities(vulnerabilities)
    assignee = _assignee(agency, assigned_to)
    plans = _plan_members(actor, members or [], before_lookup=_refuse_without_one_head)
    check_writes_allowed(person_ids=[plan.person.pk for plan in plans if plan.person is not None])

    with transaction.atomic(savepoint=False):
        case = Case(reference=_provisional_reference(), summary=summary, priority=priority, border_point=border_point,
                    owner_agency=agency, assigned_to=assignee, created_by=actor, member_count=len(plans))
        case.set_vulnerabilities(flags)
        case.save()
        created = {name: [None, value] for name, value in _case_state(case).items() if value not in (None, "", [])}
        created["owner_agency"] = [None, agency.code]
        history = [history_entry(actor=actor, case=case, action="case.created", obj=case, changes=created)]
        case.created_memberships, member_history = _carry_out(actor, case, plans)
        case.search_document = search_document(
            (member.person.given_names, member.person.family_names, member.person.document_number)
            for member in case.created_memberships)
        # Last: the counter row is locked from here until commit.
        _give_reference(case, search_document=case.search_document)
        created["reference"] = [None, case.reference]
        record_many([*history, *member_history])
        emit("case.created", obj=case, case=case, agencies=[agency])
    case.access = Access.OWNER
    return case


@transaction.atomic
def case_update(*, actor, case_id, if_match: IfMatch | None = None, summary=UNSET, priority=UNSET,
                vulnerabilities=UNSET, border_point=UNSET, assigned_to=UNSET) -> Case:
    """Change the editable fields given. Only the owner agency may."""
    case = _case_for_change(actor, case_id, if_match=if_match)
    before = _case_state(case)
    if summary is not UNSET:
        case.summary = summary
    if priority is not UNSET:
        case.priority = _choice(priority, Priority.values, "priority")
    if border_point is not UNSET:
        case.border_point = _choice(border_point, BorderPoint.values, "border_point")
    if vulnerabilities is not UNSET:
        case.set_vulnerabilities(_vulnerabilities(vulnerabilities))
    if assigned_to is not UNSET:
        case.assigned_to = _assignee(case.owner_agency, assigned_to)
    changes = diff(before, _case_state(case))
    if changes:
        case.version += 1
        case.save()
        record(actor=actor, case=case, action="case.updated", obj=case, changes=changes)
        emit("case.updated", obj=case, case=case, agencies=_audience(case))
    return case


@transaction.atomic
def case_close(*, actor, case_id, reason: str, note: str = "", if_match: IfMatch | None = None) -> Case:
    case = _case_for_change(actor, case_id, if_match=if_match, open_only=False)
    if case.status == CaseStatus.CLOSED:
        raise Conflict(_("The case is already closed."), code="case_closed")
    _choice(reason, ClosureReason.values, "reason")
    before = _case_state(case)
    case.status, case.closure_reason, case.closure_note = CaseStatus.CLOSED, reason, note or ""
    case.closed_at = timezone.now()
    case.version += 1
    case.save()
    record(actor=actor, case=case, action="case.closed", obj=case, changes=diff(before, _case_state(case)))
    emit("case.closed", obj=case, case=case, agencies=_audience(case))
    return case


@transaction.atomic
def case_reopen(*, actor, case_id, if_match: IfMatch | None = None) -> Case:
    case = _case_for_change(actor, case_id, if_match=if_match, open_only=False)
    if case.status != CaseStatus.CLOSED:
        raise Conflict(_("The case is not closed."), code="case_not_closed")
    if case.anonymised_at is not None:
        raise Conflict(_("The case was anonymised and cannot be reopened."), code="case_anonymised")
    before = _case_state(case)
    case.status, case.closure_reason, case.closure_note, case.closed_at = CaseStatus.OPEN, "", "", None
    case.version += 1
    case.save()
    record(actor=actor, case=case, action="case.reopened", obj=case, changes=diff(before, _case_state(case)))
    emit("case.updated", obj=case, case=case, agencies=_audience(case))
    return case


# --- Members ------------------------------------------------------------------

@transaction.atomic
def member_add(*, actor, case_id, relationship: str, person=None, **person_fields) -> CaseMember:
    """Add one member: new person fields, or ``person`` (an id) the actor
    already reads in full. A document matching such a person links it
    (``matched_existing``)."""
    case = _case_for_change(actor, case_id)
    spec = {"relationship": relationship, **person_fields}
    if person is not None:
        spec["person"] = person
    (plan,) = _plan_members(actor, [spec], prefix="")
    if plan.person is not None:
        check_writes_allowed(person_ids=[plan.person.pk])
    if plan.person is not None and case.memberships.filter(person=plan.person).exists():
        raise Conflict(_("This person is already a member of the case."), code="already_member",
                       field="person" if not plan.matched_existing else "document_number")
    if plan.relationship == Relationship.HEAD and case.memberships.filter(relationship=Relationship.HEAD).exists():
        raise Conflict(_("The case already has a head of family."), code="head_exists", field="relationship")
    (membership,), history = _carry_out(actor, case, [plan])
    record_many(history)
    case.member_count += 1
    _touch(case, "member_count")
    case_search_refresh(case_ids=[case.pk])
    emit("case.updated", obj=case, case=case, agencies=_audience(case))
    return membership


def _membership(case: Case, person_id) -> CaseMember:
    try:
        membership = case.memberships.select_related("person").filter(person_id=person_id).first()
    except (ValidationError, ValueError):
        membership = None
    if membership is None:
        raise Http404
    return membership


@transaction.atomic
def member_update(*, actor, case_id, person_id, relationship: str | None = None,
                  previous_head_relationship: str | None = None) -> CaseMember:
    """Change a member's relationship (None: leave it). Making someone the
    head moves the current head to ``previous_head_relationship`` in the same
    step, so the case always has exactly one head."""
    case = _case_for_change(actor, case_id)
    membership = _membership(case, person_id)
    if relationship is None or relationship == membership.relationship:
        return membership
    _choice(relationship, Relationship.values, "relationship")
    if membership.relationship == Relationship.HEAD:
        raise Conflict(_("A case needs a head of family: make another member the head instead."),
                       code="head_required", field="relationship")
    changed = []
    if relationship == Relationship.HEAD:
        if previous_head_relationship in (None, "", Relationship.HEAD):
            raise Unprocessable(_("Say what the current head of family becomes."), code="required",
                                field="previous_head_relationship")
        _choice(previous_head_relationship, Relationship.values, "previous_head_relationship")
        head = case.memberships.filter(relationship=Relationship.HEAD).first()
        if head is not None:
            changed.append((head, previous_head_relationship))
    changed.append((membership, relationship))
    for member, new_relationship in changed:  # the old head first: one head at any time
        old = member.relationship
        member.relationship = new_relationship
        member.save(update_fields=["relationship"])
        record(actor=actor, case=case, action="member.updated", obj=member,
               changes={"relationship": [old, new_relationship]})
    _touch(case)
    emit("case.updated", obj=case, case=case, agencies=_audience(case))
    return membership


@transaction.atomic
def member_remove(*, actor, case_id, person_id) -> None:
    """Take a person off the case. The person stays (other cases and consents
    may refer to them); their details are scrubbed from this case's history."""
    case = _case_for_change(actor, case_id)
    membership = _membership(case, person_id)
    if membership.relationship == Relationship.HEAD:
        raise Conflict(_("A case needs a head of family: make another member the head first."),
                       code="head_required")
    record(actor=actor, case=case, action="member.removed", obj=membership,
           changes={"person": [str(membership.person_id), None], "relationship": [membership.relationship, None]})
    # Their details leave the case's history with them: whoever reads the case
    # later (a next owner included) has no business with them.
    history_scrub(case.history.filter(object_type="person", object_id=str(membership.person_id)))
    membership.delete()
    case.member_count -= 1
    _touch(case, "member_count")
    case_search_refresh(case_ids=[case.pk])
    emit("case.updated", obj=case, case=case, agencies=_audience(case))


# --- People -------------------------------------------------------------------

def check_person_change_allowed(*, actor, person: Person) -> None:
    """The one rule for every change to a person as such — a correction, an
    erasure, a restriction of their processing: only an agency owning every
    case in use the person is on may make it (403 otherwise). A person is one
    record shared by those cases; no agency decides for another's."""
    owned = cases_visible_to(actor).filter(access=Access.OWNER, memberships__person=person,
                                           anonymised_at__isnull=True)
    if not owned.exists():
        raise Forbidden(_("Only an agency owning a case of this person can change their details."),
                        code="owner_only")
    if person_on_cases_not_owned_by(actor, person):
        raise Forbidden(_("This person is also on another agency's case: only an agency owning every case of the "
                          "person can change their details."), code="person_on_other_agencies_cases")


@transaction.atomic
def person_update(*, actor, person_id, if_match: IfMatch | None = None, **fields) -> Person:
    """Correct a person's details. Only an owner agency of a case holding the
    person may; every case holding them records the change."""
    try:
        person = Person.objects.select_for_update(no_key=True).filter(pk=person_id).first()
    except (ValidationError, ValueError):
        person = None
    if person is None or not people_visible_to(actor).filter(pk=person.pk).exists():
        raise Http404
    check_person_change_allowed(actor=actor, person=person)
    check_if_match(if_match, person)
    # Every case holding the person records the change: a restricted member
    # of any of them stops it, as any other write on their case.
    in_use = list(person.memberships.filter(case__anonymised_at__isnull=True).values_list("case_id", flat=True))
    check_writes_allowed(person_ids=[person.pk], case_ids=in_use)
    cleaned = _clean_person_fields(fields, creating=False)
    if "given_names" in cleaned and not (cleaned["given_names"] or "").strip():
        raise InvalidInput(_("This field is required."), code="required", field="given_names")
    merged = {**snapshot(person, ("document_type", "document_number")), **cleaned}
    _check_document(merged, "")

    before = snapshot(person, PERSON_FIELDS)
    for name, value in cleaned.items():
        setattr(person, name, value)
    changes = diff(before, snapshot(person, PERSON_FIELDS))
    if not changes:
        return person
    person.version += 1
    person.save()
    if {"document_type", "document_country", "document_number"} & set(changes):
        _flag_document_matches([person.pk])
    cases = Case.objects.select_for_update(no_key=True).filter(
        memberships__person=person, anonymised_at__isnull=True).order_by("pk")
    for case in cases:
        record(actor=actor, case=case, action="person.updated", obj=person, changes=changes)
        _touch(case)
        emit("case.updated", obj=case, case=case, agencies=_audience(case))
    if {"given_names", "family_names", "document_number"} & set(changes):
        case_search_refresh(case_ids=person.memberships.values_list("case_id", flat=True))
    return person


# --- Notes and consents --------------------------------------------------------

@transaction.atomic
def note_add(*, actor, case_id, body: str, visibility: str = NoteVisibility.AGENCY) -> Note:
    """Owner and collaborator agencies write notes; ``agency`` notes stay
    within the writer's agency, and so does every trace of them (no new case
    version or ``updated_at``, the event to that agency alone)."""
    case = _case_for_change(actor, case_id, allowed=(Access.OWNER, Access.COLLABORATOR))
    _choice(visibility, NoteVisibility.values, "visibility")
    if not (body or "").strip():
        raise InvalidInput(_("This field is required."), code="required", field="body")
    note = Note.objects.create(case=case, author=actor, agency_id=actor.agency_id, body=body, visibility=visibility)
    # The text stays in the note: the history says that it was written, and by whom.
    record(actor=actor, case=case, action="note.added", obj=note, changes={"visibility": [None, visibility]})
    if visibility == NoteVisibility.SHARED:
        _touch(case)
        emit("case.updated", obj=case, case=case, agencies=_audience(case))
    else:
        # Only the writer's agency may read it: the case's version, its
        # updated_at and every other agency's feed must show no trace of it.
        emit("case.updated", obj=case, case=case, agencies=[actor.agency_id])
    return note


@transaction.atomic
def consent_record(*, actor, case_id, scope: str, method: str, given_at, given_by) -> Consent:
    """Record a consent given by a member of the case."""
    case = _case_for_change(actor, case_id)
    _choice(scope, ConsentScope.values, "scope")
    _choice(method, ConsentMethod.values, "method")
    if given_at > timezone.now() + CLOCK_SKEW:
        raise Unprocessable(_("A consent cannot be given in the future."), code="in_future", field="given_at")
    try:
        is_member = case.memberships.filter(person_id=given_by).exists()
    except (ValidationError, ValueError):
        is_member = False
    if not is_member:
        raise Unprocessable(_("The consent must be given by a member of the case."), code="not_a_member",
                            field="given_by")
    consent = Consent.objects.create(case=case, scope=scope, method=method, given_at=given_at, given_by_id=given_by,
                                     recorded_by=actor, recorded_by_agency_id=actor.agency_id)
    record(actor=actor, case=case, action="consent.recorded", obj=consent,
           changes={name: [None, value] for name, value in
                    snapshot(consent, ("scope", "method", "given_at", "given_by")).items()})
    _touch(case)
    emit("case.updated", obj=case, case=case, agencies=_audience(case))
    return consent


@transaction.atomic
def consent_withdraw(*, actor, case_id, consent_id) -> Consent:
    """Withdraw a consent. Allowed on a closed case too: withdrawing consent is
    the person's right whatever the case's state."""
    # Not guarded: withdrawing consent only ever narrows the processing.
    case = _case_for_change(actor, case_id, open_only=False, guarded=False)
    try:
        consent = case.consents.select_for_update(no_key=True).filter(pk=consent_id).first()
    except (ValidationError, ValueError):
        consent = None
    if consent is None:
        raise Http404
    if consent.withdrawn_at is not None:
        raise Conflict(_("This consent was already withdrawn."), code="consent_already_withdrawn")
    consent.withdrawn_at, consent.withdrawn_by = timezone.now(), actor
    consent.save(update_fields=["withdrawn_at", "withdrawn_by"])
    record(actor=actor, case=case, action="consent.withdrawn", obj=consent,
           changes={"withdrawn_at": [None, consent.withdrawn_at.isoformat()]})
    _touch(case)
    emit("case.updated", obj=case, case=case, agencies=_audience(case))
    return consent


# --- Possible duplicates --------------------------------------------------------

@transaction.atomic
def duplicate_candidates_mark_reviewed(*, actor, candidate_ids) -> int:
    """The secretariat marks possible duplicates as looked at."""
    if not actor.has_role(Role.SECRETARIAT):
        raise Forbidden(_("Only the secretariat reviews possible duplicates."), code="secretariat_only")
    return DuplicateCandidate.objects.filter(pk__in=list(candidate_ids), reviewed_at__isnull=True).update(
        reviewed_at=timezone.now(), reviewed_by=actor)
