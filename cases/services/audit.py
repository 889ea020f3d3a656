"""History and outbox writes shared by every service. Call them inside the
transaction of the change they describe."""
import datetime
import decimal
import uuid

from django.db import models
from django_countries.fields import Country

from cases.models import Event, HistoryEntry


def _jsonable(value):
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, Country):
        return value.code or ""
    return value


def snapshot(instance: models.Model, fields) -> dict:
    """The current values of ``fields``, JSON-ready (foreign keys as ids)."""
    values = {}
    for name in fields:
        field = instance._meta.get_field(name)
        attname = field.attname if field.is_relation else name
        values[name] = _jsonable(getattr(instance, attname))
    return values


def diff(before: dict, after: dict) -> dict:
    """``{field: [old, new]}`` for the fields whose value changed."""
    return {name: [before.get(name), value] for name, value in after.items() if before.get(name) != value}


def history_entry(*, actor, case, action: str, obj: models.Model, changes: dict | None = None) -> HistoryEntry:
    """The history row of a change, not yet written (see ``record_many``)."""
    return HistoryEntry(
        case=case,
        actor=actor if actor is not None and actor.is_authenticated else None,
        agency_id=getattr(actor, "agency_id", None),
        action=action,
        object_type=obj._meta.model_name,
        object_id=str(obj.pk),
        changes=changes or {},
    )


def record(*, actor, case, action: str, obj: models.Model, changes: dict | None = None) -> HistoryEntry:
    entry = history_entry(actor=actor, case=case, action=action, obj=obj, changes=changes)
    entry.save()
    return entry


def record_many(entries: list[HistoryEntry]) -> list[HistoryEntry]:
    """Write history rows built with ``history_entry`` in one insert."""
    return HistoryEntry.objects.bulk_create(entries)


def _event(event_type: str, obj: models.Model, case) -> Event:
    return Event(
        type=event_type,
        object_type=obj._meta.model_name,
        object_id=str(obj.pk),
        case=case,
        case_reference=case.reference if case is not None else "",
    )


def _agency_ids(agencies) -> list:
    return sorted({getattr(agency, "pk", agency) for agency in agencies if agency is not None})


def emit(event_type: str, *, obj: models.Model, case=None, agencies=()) -> Event:
    """Write an event to the outbox; ``agencies`` may see it in their feed."""
    event = _event(event_type, obj, case)
    event.save(force_insert=True)
    agency_ids = _agency_ids(agencies)
    if agency_ids:
        event.agencies.add(*agency_ids)
    return event


def emit_many(event_type: str, items) -> list[Event]:
    """``emit`` for a batch, in two INSERTs whatever its size: ``items`` are
    ``(obj, case, agencies)`` in the order the events happened. Their ids,
    hence their feed positions (the sequencer numbers committed events in id
    order), follow that order, as if each had been emitted on its own."""
    items = list(items)
    if not items:
        return []
    events = Event.objects.bulk_create([_event(event_type, obj, case) for obj, case, _agencies in items])
    audience = Event.agencies.through
    audience.objects.bulk_create([
        audience(event_id=event.pk, agency_id=agency_id)
        for event, (_obj, _case, agencies) in zip(events, items, strict=True) for agency_id in _agency_ids(agencies)
    ])
    return events
