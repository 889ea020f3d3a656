"""A case's history as people read it: who, which agency, when (in the
reader's zone) and what changed, in words — the stored entries keep the
machine form ({field: [old, new]})."""
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.utils.translation import gettext_lazy as _

from cases.models import Agency, HistoryEntry

PAGE_SIZE = 20

ACTIONS = {
    "case.created": _("opened the case"),
    "case.updated": _("updated the case"),
    "case.closed": _("closed the case"),
    "case.reopened": _("reopened the case"),
    "case.owner_changed": _("moved the case to another agency"),
    "case.anonymised": _("anonymised the case"),
    "person.created": _("registered a person"),
    "person.updated": _("updated a person's details"),
    "member.added": _("added a member to the case"),
    "member.updated": _("changed a member's relationship"),
    "member.removed": _("removed a member from the case"),
    "note.added": _("added a note"),
    "consent.recorded": _("recorded a consent"),
    "consent.withdrawn": _("recorded the withdrawal of a consent"),
    "handoff.created": _("handed the case over"),
    "handoff.accepted": _("accepted a handoff"),
    "handoff.rejected": _("rejected a handoff"),
    "handoff.withdrawn": _("withdrew a handoff"),
    "handoff.completed": _("completed a handoff"),
    "handoff.rescheduled": _("moved a handoff's deadline"),
}

# Fields whose values are agency ids: shown by code.
AGENCY_FIELDS = {"owner_agency", "from_agency", "to_agency", "agency", "recorded_by_agency"}


def _field(object_type: str, name: str):
    try:
        return apps.get_model("cases", object_type)._meta.get_field(name)
    except (LookupError, FieldDoesNotExist):
        return None


def _label(object_type: str, name: str) -> str:
    field = _field(object_type, name)
    return str(getattr(field, "verbose_name", None) or name.replace("_", " "))


def _value(object_type: str, name: str, value, agencies: dict) -> str:
    if value in (None, "", [], {}):
        return "—"
    if name in AGENCY_FIELDS:
        return agencies.get(value, str(value))
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    field = _field(object_type, name)
    choices = dict(getattr(field, "flatchoices", None) or [])
    if choices and value in choices:
        return str(choices[value])
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def timeline_page(case, page_number) -> dict:
    """One page of the case's history, newest first, each entry in words."""
    entries = (HistoryEntry.objects.filter(case=case).select_related("actor", "agency").order_by("-at", "-id"))
    page = Paginator(entries, PAGE_SIZE).get_page(page_number)
    agency_ids = {value for entry in page for name, pair in entry.changes.items() if name in AGENCY_FIELDS
                  for value in (pair if isinstance(pair, list) else [pair]) if isinstance(value, int)}
    agencies = dict(Agency.objects.filter(pk__in=agency_ids).values_list("pk", "code")) if agency_ids else {}
    rows = []
    for entry in page:
        changes = []
        for name, pair in entry.changes.items():
            old, new = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
            changes.append({"field": _label(entry.object_type, name),
                            "old": _value(entry.object_type, name, old, agencies),
                            "new": _value(entry.object_type, name, new, agencies)})
        actor = entry.actor.get_full_name() or entry.actor.username if entry.actor else _("the system")
        rows.append({"at": entry.at, "actor": actor, "agency": entry.agency.code if entry.agency else "",
                     "what": ACTIONS.get(entry.action, entry.action.replace(".", " ").replace("_", " ")),
                     "changes": changes})
    return {"page": page, "rows": rows}
