# The outbox's Event model, until now ``cases.Event``: the model moves, the
# table (``cases_event``, ``cases_event_agencies``) and its rows stay as they are.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    # Keeps the permissions (and admin log entries) that point at the old content type.
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="outbox", model="event").exists():
        ContentType.objects.filter(app_label="cases", model="event").update(app_label="outbox")


def move_content_type_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="cases", model="event").exists():
        ContentType.objects.filter(app_label="outbox", model="event").update(app_label="cases")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('cases', '0004_case_search_document'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Event',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('type', models.CharField(max_length=50, verbose_name='type')),
                        ('occurred_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='occurred at')),
                        ('object_type', models.CharField(max_length=30, verbose_name='object type')),
                        ('object_id', models.CharField(max_length=64, verbose_name='object id')),
                        ('case_reference', models.CharField(blank=True, max_length=20, verbose_name='case reference')),
                        ('position', models.BigIntegerField(blank=True, editable=False, null=True, unique=True, verbose_name='feed position')),
                        ('agencies', models.ManyToManyField(blank=True, related_name='+', to='cases.agency')),
                        ('case', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='cases.case')),
                    ],
                    options={
                        'verbose_name': 'event',
                        'verbose_name_plural': 'events',
                        'db_table': 'cases_event',
                        'ordering': ['id'],
                        'indexes': [models.Index(condition=models.Q(('position__isnull', True)), fields=['id'], name='event_unsequenced_idx')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
