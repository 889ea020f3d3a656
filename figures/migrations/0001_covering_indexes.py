"""Covering indexes for the statistics: every grouped count reads an index
(newest first by registration or creation) and never the wide case rows,
whose summaries and search documents are most of their size."""
from django.db import migrations

FLAGS = ", ".join(f"vulnerable_{flag}" for flag in (
    "unaccompanied_minor", "family_with_children", "pregnancy", "disability", "medical_need", "elderly",
    "asylum_seeker", "trafficking_risk", "gbv_risk"))


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_case_search_document"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX figures_case_idx ON cases_case (created_at) INCLUDE "
            f"(owner_agency_id, status, border_point, priority, member_count, {FLAGS})",
            "DROP INDEX figures_case_idx",
        ),
        migrations.RunSQL(
            "CREATE INDEX figures_handoff_idx ON cases_handoff (created_at) INCLUDE "
            "(from_agency_id, to_agency_id, kind, status, response_due, responded_at)",
            "DROP INDEX figures_handoff_idx",
        ),
    ]
