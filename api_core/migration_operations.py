"""Migration operations shared by the apps' migrations."""
from django.db import migrations


class PostgreSQLOnly(migrations.RunSQL):
    """Raw SQL that only PostgreSQL understands (extensions, expression and
    GIN indexes); a no-op on SQLite, where the tests of those features skip."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
