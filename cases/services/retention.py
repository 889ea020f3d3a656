"""Retention: closed cases older than ``PUENTE["RETENTION_YEARS"]`` are
anonymised. The case keeps its reference, status, dates, flags, members'
relationships and the fact that things happened; names, documents, phones,
dates of birth, free text and the old values in its history go.

A person is anonymised only when no other case still in use holds them: the
other agency's work must not lose its data because an old case expired.
"""
import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cases.models import Case, CaseMember, CaseStatus, DocumentType, DuplicateCandidate, HistoryEntry, Person
from outbox.services import emit

from .audit import record
from .search import case_search_refresh

# Values scrubbed from history ``changes``. Sex and nationality stay, as on the
# anonymised person: the committee's statistics need them and they identify nobody.
PERSONAL_HISTORY_FIELDS = frozenset({
    "given_names", "family_names", "date_of_birth", "date_of_birth_is_estimate", "document_type",
    "document_country", "document_number", "phone", "languages", "summary", "closure_note", "body",
})


def retention_cutoff(now=None) -> datetime.datetime:
    now = now or timezone.now()
    years = settings.PUENTE["RETENTION_YEARS"]
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def cases_due_for_anonymisation(now=None):
    return Case.objects.filter(status=CaseStatus.CLOSED, closed_at__lt=retention_cutoff(now),
                               anonymised_at__isnull=True)


def _scrub(changes: dict) -> dict:
    return {name: ([None, None] if name in PERSONAL_HISTORY_FIELDS else values) for name, values in changes.items()}


def _anonymise_person(person: Person, now) -> None:
    person.given_names = person.family_names = person.document_number = person.phone = ""
    person.document_country = ""
    person.document_type = DocumentType.NONE
    person.date_of_birth, person.date_of_birth_is_estimate = None, False
    person.languages = []
    person.anonymised_at = now
    person.version += 1
    person.save()
    DuplicateCandidate.objects.filter(Q(new_person=person) | Q(existing_person=person)).delete()


@transaction.atomic
def case_anonymise(*, case_id, now=None) -> bool:
    """Anonymise one case if it is (still) due. True when it did."""
    now = now or timezone.now()
    case = (Case.objects.select_for_update(no_key=True)
            .filter(pk=case_id, anonymised_at__isnull=True, status=CaseStatus.CLOSED,
                    closed_at__lt=retention_cutoff(now)).first())
    if case is None:
        return False  # reopened, already done, or not old enough: nothing to do
    case.summary = case.closure_note = ""
    case.anonymised_at = now
    case.version += 1
    case.save()
    case.notes.update(body="")

    people = Person.objects.select_for_update(no_key=True).filter(
        memberships__case=case, anonymised_at__isnull=True).order_by("pk")
    for person in people:
        still_used = CaseMember.objects.filter(person=person, case__anonymised_at__isnull=True).exclude(case=case)
        if not still_used.exists():
            _anonymise_person(person, now)
    case_search_refresh(case_ids=[case.pk])

    entries = list(HistoryEntry.objects.filter(case=case).exclude(changes={}))
    for entry in entries:
        entry.changes = _scrub(entry.changes)
    HistoryEntry.objects.bulk_update(entries, ["changes"], batch_size=500)

    record(actor=None, case=case, action="case.anonymised", obj=case)
    emit("case.updated", obj=case, case=case, agencies=[case.owner_agency_id])
    return True


def anonymise_due_cases(*, now=None, limit: int | None = None) -> list[str]:
    """Anonymise every due case (at most ``limit``), each in its own
    transaction; returns their references."""
    due = cases_due_for_anonymisation(now).order_by("closed_at", "pk").values_list("pk", "reference")
    if limit is not None:
        due = due[:limit]
    return [reference for pk, reference in list(due) if case_anonymise(case_id=pk, now=now)]
