# ``Event`` now belongs to the outbox app (outbox/migrations/0001_initial.py),
# which keeps its table: only the migration state of this app forgets it.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0004_case_search_document'),
        ('integrations', '0002_delivery_event_in_outbox'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='Event'),
            ],
            database_operations=[],
        ),
    ]
