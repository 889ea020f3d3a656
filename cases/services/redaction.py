"""What of a case is personal, and how it is scrubbed: one rule, used when a
member is taken off a case (their details leave its history) and when
retention anonymises a closed case (everything personal goes)."""
from django.db.models import QuerySet

from cases.models import HistoryEntry

# Values scrubbed from history ``changes``. Sex and nationality stay, as on an
# anonymised person: the committee's statistics need them and they identify
# nobody. Free text is personal whatever its field: people write names in it.
PERSONAL_HISTORY_FIELDS = frozenset({
    "given_names", "family_names", "date_of_birth", "date_of_birth_is_estimate", "document_type",
    "document_country", "document_number", "phone", "languages", "summary", "closure_note", "body", "note",
    "reason", "services_requested", "legal_basis_note", "response_note", "completion_note",
})

# The free text of a handoff, emptied by retention.
HANDOFF_FREE_TEXT = ("reason", "services_requested", "legal_basis_note", "response_note", "completion_note")


def scrub_changes(changes: dict) -> dict:
    """``changes`` with the personal values replaced by ``[None, None]``."""
    return {name: ([None, None] if name in PERSONAL_HISTORY_FIELDS else values) for name, values in changes.items()}


def history_scrub(entries: QuerySet) -> None:
    """Scrub the personal values of the history ``entries``."""
    scrubbed = []
    for entry in entries.exclude(changes={}).only("pk", "changes"):
        changes = scrub_changes(entry.changes)
        if changes != entry.changes:
            entry.changes = changes
            scrubbed.append(entry)
    HistoryEntry.objects.bulk_update(scrubbed, ["changes"], batch_size=500)
