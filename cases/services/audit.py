"""History writes shared by every service (events: ``outbox.services.emit``).
Call them inside the transaction of the change they describe."""
import datetime
import decimal
import uuid

from django.db import models
from django_countries.fields import Country

from cases.models import HistoryEntry


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

