"""A reschedule note was stored in the history as a bare string, read back as
a list of characters; every change is ``[old, new]``."""
from django.db import migrations


def note_as_change(apps, schema_editor):
    HistoryEntry = apps.get_model("cases", "HistoryEntry")
    entries = HistoryEntry.objects.filter(action="handoff.rescheduled", changes__has_key="note")
    fixed = []
    for entry in entries.iterator(chunk_size=500):
        if isinstance(entry.changes["note"], str):
            entry.changes["note"] = [None, entry.changes["note"]]
            fixed.append(entry)
    HistoryEntry.objects.bulk_update(fixed, ["changes"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_event_moves_to_outbox")]

    operations = [migrations.RunPython(note_as_change, migrations.RunPython.noop, elidable=True)]
