"""Indexes for the hot paths at a million cases (docs/performance.md).

- Handoff lists read a page straight off an index in their own order
  (newest first with the id as the last key, or by deadline for due lists).
- Case search finds its candidates through trigram indexes (pg_trgm) on
  what ``?search=`` compares: ``UPPER(name)`` as ``icontains`` does, the
  normalised document number, and ``UPPER(reference)``.

pg_trgm is a trusted extension (PostgreSQL 13+): the owner of the database
can create it without being a superuser. On a large existing installation,
build the trigram indexes beforehand with CREATE INDEX CONCURRENTLY under the
same names; ``IF NOT EXISTS`` then skips them here.
"""
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models


TRIGRAM_INDEXES = [
    ("person_given_names_trgm", "cases_person", 'UPPER("given_names")'),
    ("person_family_names_trgm", "cases_person", 'UPPER("family_names")'),
    ("person_document_trgm", "cases_person", '"document_number_normalised"'),
    ("case_reference_trgm", "cases_case", 'UPPER("reference")'),
]


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="handoff", name="handoff_incoming_idx"),
        migrations.RemoveIndex(model_name="handoff", name="handoff_outgoing_idx"),
        migrations.AddIndex(
            model_name="handoff",
            index=models.Index(fields=["to_agency", "status", "-created_at", "-id"], name="handoff_incoming_idx"),
        ),
        migrations.AddIndex(
            model_name="handoff",
            index=models.Index(fields=["from_agency", "status", "-created_at", "-id"], name="handoff_outgoing_idx"),
        ),
        migrations.AddIndex(
            model_name="handoff",
            index=models.Index(fields=["to_agency", "status", "response_due", "id"], name="handoff_incoming_due_idx"),
        ),
        TrigramExtension(),
        *(
            migrations.RunSQL(
                sql=f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ({expression} gin_trgm_ops)',
                reverse_sql=f'DROP INDEX IF EXISTS "{name}"',
            )
            for name, table, expression in TRIGRAM_INDEXES
        ),
    ]
