"""Writes to the outbox. Call them inside the transaction of the change the
event describes, so the event exists exactly when the change does."""
from django.db import models

from .models import Event, EventType


class UndeclaredEventType(ValueError):
    """An event type that ``EventType`` does not declare: partners could not
    subscribe to it, nor the API schema describe it."""


def _declared(event_type: str) -> str:
    if event_type not in EventType.values:
        raise UndeclaredEventType(f"{event_type!r} is not a declared event type (outbox.models.EventType)")
    return event_type


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
    event = _event(_declared(event_type), obj, case)
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
    _declared(event_type)
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
