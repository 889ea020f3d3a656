"""Reads that depend on who is asking. The access table of the design lives
here, once, for the API, the admin and the tasks alike.

| viewer                                        | access       |
| --------------------------------------------- | ------------ |
| caseworker of the owner agency                | owner        |
| caseworker of an agency with an accepted      | collaborator |
|   referral for the case                       |              |
| secretariat                                   | oversight    |
| caseworker of an agency with a pending        | limited      |
|   handoff for the case                        |              |
| caseworker of a former owner (transferred     | former_owner |
|   the case away)                              |              |
| committee member, case on an agenda of one    | limited      |
|   of their committees                         |              |
| anyone else                                   | none (404)   |
"""
import functools
from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, router, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.http import Http404

from .models import Case, CaseMember, CaseStatus, Handoff, HandoffKind, HandoffStatus, NoteVisibility, Person
from .models.audit import Access, AccessChannel, CaseAccessLog
from .roles import Role

FULL_ACCESS = frozenset({Access.OWNER, Access.COLLABORATOR, Access.OVERSIGHT})
# A former owner sees the case as it handed it over, never the new owner's work
# since. A transfer is accepted only while the case is open (``handoff_accept``),
# so that is the status it handed over.
FORMER_OWNER_STATUS = CaseStatus.OPEN


def _handoff_access(agency_id) -> Subquery:
    """What the agency's handoffs of the case give it: ``collaborator`` (an
    accepted referral to it), ``limited`` (a pending handoff to it from the
    case's owner), ``former_owner`` (a transfer it made that was accepted), or
    NULL, the strongest first.

    One scalar subquery per case row rather than an EXISTS per rule:
    PostgreSQL may answer an EXISTS by hashing every handoff of the agency
    first, a cost that grows with the data however few cases a page shows,
    while a scalar subquery is always a probe of the handoffs of that one case.
    """
    collaborator = Q(to_agency_id=agency_id, kind=HandoffKind.REFERRAL, status=HandoffStatus.ACCEPTED)
    # A pending handoff counts only while its sender owns the case (stale authority).
    limited = Q(to_agency_id=agency_id, status=HandoffStatus.PENDING, from_agency_id=OuterRef("owner_agency_id"))
    former_owner = Q(from_agency_id=agency_id, kind=HandoffKind.TRANSFER,
                     status__in=[HandoffStatus.ACCEPTED, HandoffStatus.COMPLETED])
    strongest_first = [(Access.COLLABORATOR, collaborator), (Access.LIMITED, limited),
                       (Access.FORMER_OWNER, former_owner)]
    granted = models.Case(*(models.When(rule, then=Value(access.value)) for access, rule in strongest_first),
                          output_field=models.CharField())
    rank = models.Case(*(models.When(rule, then=Value(n)) for n, (_access, rule) in enumerate(strongest_first)),
                       output_field=models.IntegerField())
    related = (Handoff.objects.filter(collaborator | limited | former_owner, case=OuterRef("pk"))
               .annotate(granted=granted, rank=rank).order_by("rank").values("granted")[:1])
    return Subquery(related, output_field=models.CharField())


# The committee-member row of the table needs agenda data, which the
# committee app holds. It registers its provider when it is ready
# (``CommitteeConfig.ready``), so this app never imports it: committee sits
# above cases, and the import contracts in pyproject.toml keep it that way.
# With no provider registered, committee members see no case: denied by default.
AgendaCaseProvider = Callable[[object], "models.QuerySet | None"]
_agenda_case_provider: AgendaCaseProvider | None = None


def register_agenda_case_provider(provider: AgendaCaseProvider) -> None:
    """Install the function giving the ids (a queryset) of the cases on the
    agendas of the committees a user belongs to. One provider only: a second,
    different one is a wiring mistake, not a configuration."""
    global _agenda_case_provider
    if _agenda_case_provider not in (None, provider):
        raise ImproperlyConfigured(f"An agenda case provider is registered already: {_agenda_case_provider!r}")
    _agenda_case_provider = provider


def committee_case_ids(user):
    """Ids of cases on an agenda of a committee the user belongs to, or None
    when no provider is registered."""
    if _agenda_case_provider is None:
        return None
    return _agenda_case_provider(user)


def _no_cases() -> models.QuerySet:
    # Annotated like the others, so callers can filter on ``access`` whatever the user.
    return Case.objects.annotate(access=Value(None, output_field=models.CharField())).none()


def cases_visible_to(user) -> models.QuerySet:
    """Every case ``user`` may see, each annotated with ``access``."""
    if not user.is_authenticated:
        return _no_cases()
    if user.has_role(Role.SECRETARIAT):
        return Case.objects.annotate(access=Value(Access.OVERSIGHT.value, output_field=models.CharField()))

    agency_id = user.agency_id if user.has_role(Role.CASEWORKER) else None
    committee = None
    if user.has_role(Role.COMMITTEE_MEMBER):
        agenda_case_ids = committee_case_ids(user)
        if agenda_case_ids is not None:
            committee = models.Case(models.When(pk__in=agenda_case_ids, then=Value(Access.LIMITED.value)),
                                    default=None, output_field=models.CharField())
    if agency_id is None and committee is None:
        return _no_cases()
    if committee is None:
        return _cases_of_agency(agency_id).all()  # a copy: the cached one is never evaluated
    access = committee if agency_id is None else _agency_access(agency_id, committee)
    return Case.objects.annotate(access=access).filter(access__isnull=False)


def _agency_access(agency_id, committee=None) -> models.Case:
    through_handoffs = _handoff_access(agency_id)
    if committee is not None:
        # The agenda's limited view is stronger than a former owner's.
        through_handoffs = Coalesce(NullIf(through_handoffs, Value(Access.FORMER_OWNER.value)), committee,
                                    through_handoffs)
    return models.Case(models.When(owner_agency_id=agency_id, then=Value(Access.OWNER.value)),
                       default=through_handoffs, output_field=models.CharField())


@functools.lru_cache(maxsize=1024)
def _cases_of_agency(agency_id) -> models.QuerySet:
    """The cases a caseworker of the agency sees, built once per agency and
    process: building the access expression took a fifth of a case read. It
    holds no rows, only the query, which depends on nothing but the agency."""
    return Case.objects.annotate(access=_agency_access(agency_id)).filter(access__isnull=False)


def _the_visible_case(visible: models.QuerySet, case_id):
    try:
        return visible.get(pk=case_id)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def case_for(user, case_id, *, with_access=None) -> Case:
    """The case if ``user`` may see it, else 404 — the same answer as for a case
    that does not exist. ``with_access`` narrows further (still 404)."""
    case = _the_visible_case(cases_visible_to(user).select_related("owner_agency"), case_id)
    if with_access is not None and case.access not in with_access:
        raise Http404
    return case


def case_row_for(user, case_id, fields) -> dict:
    """``case_for`` as a dictionary of ``fields`` (``access`` among them), for
    reads that only represent the case: the same 404."""
    return _the_visible_case(cases_visible_to(user).values(*fields), case_id)


def notes_visible_to(user, case: Case) -> models.QuerySet:
    """Notes of a case the user has full access to: the secretariat reads all;
    an agency reads its own and the shared ones."""
    notes = case.notes.select_related("author", "agency")
    if user.has_role(Role.SECRETARIAT):
        return notes
    return notes.filter(Q(agency_id=user.agency_id) | Q(visibility=NoteVisibility.SHARED))


def handoffs_visible_to(user) -> models.QuerySet:
    """Handoffs sent or received by the user's agency; the secretariat sees all."""
    handoffs = Handoff.objects.select_related("case", "from_agency", "to_agency")
    if user.has_role(Role.SECRETARIAT):
        return handoffs
    if user.agency_id is None or not user.has_role(Role.CASEWORKER):
        return handoffs.none()
    return handoffs.filter(Q(from_agency_id=user.agency_id) | Q(to_agency_id=user.agency_id))


def handoffs_actionable_by(user) -> models.QuerySet:
    """``handoffs_visible_to``, and for a caseworker also every handoff of a
    case its agency owns: the owner answers for collaborations a former owner
    started."""
    handoffs = handoffs_visible_to(user)
    if user.has_role(Role.SECRETARIAT) or user.agency_id is None or not user.has_role(Role.CASEWORKER):
        return handoffs
    return handoffs | Handoff.objects.filter(case__owner_agency_id=user.agency_id)


def must_log_read(user, access: str) -> bool:
    return access in FULL_ACCESS or user.has_role(Role.SECRETARIAT)


def log_case_reads(user, cases, *, channel: str = AccessChannel.API) -> None:
    """Write one access-log row per case read in full, and per case read by the
    secretariat, in a single query. ``cases`` are annotated cases, or rows
    with ``id`` and ``access``."""
    read = ((case["id"], case["access"]) if isinstance(case, dict) else (case.pk, case.access) for case in cases)
    rows = [
        CaseAccessLog(case_id=case_id, user=user, agency_id=user.agency_id, access=access, channel=channel)
        for case_id, access in read
        if must_log_read(user, access)
    ]
    if not rows:
        return
    database = router.db_for_write(CaseAccessLog)
    connection = connections[database]
    if connection.in_atomic_block:
        # Inside a write's transaction the log shares its commit (and its durability).
        CaseAccessLog.objects.using(database).bulk_create(rows)
        return
    # A read alone commits its log rows without waiting for the WAL to reach
    # the disk (a flush took 2 ms here, longer than the rest of the read). A
    # database crash could lose the last fraction of a second of log rows,
    # written by reads that were already answered; never corrupt them. The
    # setting is LOCAL to this transaction: no other write is affected.
    with transaction.atomic(using=database):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
        CaseAccessLog.objects.using(database).bulk_create(rows)



def case_handoffs_visible_to(user, case: Case) -> models.QuerySet:
    """The handoffs of ``case`` (as returned by ``case_for``) that ``user`` may
    see: the whole chain with full access, otherwise only those the user's
    agency sent or received."""
    if case.access in FULL_ACCESS:
        return Handoff.objects.filter(case=case).select_related("case", "from_agency", "to_agency")
    return handoffs_visible_to(user).filter(case=case)
def with_seen_updated_at(cases: models.QuerySet) -> models.QuerySet:
    """``cases_visible_to`` with ``seen_updated_at``: when each case last
    changed as far as its viewer may know, to order lists by. ``updated_at``
    for a case read in full; for one seen in a limited or a former owner's
    view, ``created_at``, which no later work moves: the place of a row must
    not tell when its owner worked on it."""
    return cases.annotate(seen_updated_at=models.Case(
        models.When(access__in=list(FULL_ACCESS), then=F("updated_at")), default=F("created_at")))


def cases_fully_visible_to(user) -> models.QuerySet:
    """The cases ``user`` reads in full (owner, collaborator, oversight)."""
    return cases_visible_to(user).filter(access__in=list(FULL_ACCESS))


def people_visible_to(user) -> models.QuerySet:
    """People on a case the user reads in full. An anonymised case no longer
    shows anyone."""
    case_ids = cases_fully_visible_to(user).filter(anonymised_at__isnull=True).values("pk")
    return Person.objects.filter(Exists(CaseMember.objects.filter(person=OuterRef("pk"), case__in=case_ids)))


def people_owned_by(user) -> models.QuerySet:
    """People on a case (not anonymised) that the user's agency owns: the only
    people a caseworker may link into another case."""
    case_ids = cases_visible_to(user).filter(access=Access.OWNER, anonymised_at__isnull=True).values("pk")
    return Person.objects.filter(Exists(CaseMember.objects.filter(person=OuterRef("pk"), case__in=case_ids)))


def person_on_cases_not_owned_by(user, person) -> bool:
    """Whether ``person`` is on a case in use that the user's agency does not
    own: then the agency may not change the person for the other owner."""
    return CaseMember.objects.filter(person=person, case__anonymised_at__isnull=True).exclude(
        case__owner_agency_id=user.agency_id).exists()


def history_visible_to(user, case: Case) -> models.QuerySet:
    """History of a case the user reads in full, without the entries about
    notes the user may not read."""
    history = case.history.select_related("actor", "agency")
    if user.has_role(Role.SECRETARIAT):
        return history
    hidden = case.notes.exclude(pk__in=notes_visible_to(user, case).values("pk")).values_list("pk", flat=True)
    return history.exclude(object_type="note", object_id__in=[str(pk) for pk in hidden])


def collaborator_agency_ids(case: Case) -> list:
    """Agencies collaborating on the case through an accepted referral."""
    return list(Handoff.objects.filter(case=case, kind=HandoffKind.REFERRAL, status=HandoffStatus.ACCEPTED)
                .values_list("to_agency_id", flat=True).distinct())
