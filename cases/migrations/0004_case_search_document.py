"""The search document of each case (cases.services.search), its backfill and
its index of word starts.

Not atomic, so that a large installation keeps working while it runs: adding
the column with a constant default is instant; the backfill then writes the
documents in batches of cases, each batch in its own transaction with its
cases locked as the services lock them (a member added meanwhile is not
overwritten with an older document); the index is built with CREATE INDEX
CONCURRENTLY on PostgreSQL, without blocking writes. At a million cases the
backfill took 11 minutes and the index 8 on a busy 2-core machine (510 MB;
docs/performance.md).
"""
from django.db import migrations, models, transaction


BATCH = 2000
INDEX = "case_search_document_idx"


def backfill(apps, schema_editor):
    from cases.services.search import search_document

    Case = apps.get_model("cases", "Case")
    CaseMember = apps.get_model("cases", "CaseMember")
    alias = schema_editor.connection.alias
    last = None
    while True:
        with transaction.atomic(using=alias):
            batch = Case.objects.using(alias).order_by("pk")
            if last is not None:
                batch = batch.filter(pk__gt=last)
            ids = list(batch.select_for_update(no_key=True).values_list("pk", flat=True)[:BATCH])
            if not ids:
                return
            people = {case_id: [] for case_id in ids}
            rows = (CaseMember.objects.using(alias).filter(case_id__in=ids).order_by("case_id", "added_at", "id")
                    .values_list("case_id", "person__given_names", "person__family_names",
                                 "person__document_number"))
            for case_id, *person in rows:
                people[case_id].append(person)
            Case.objects.using(alias).bulk_update(
                [Case(pk=case_id, search_document=search_document(members)) for case_id, members in people.items()],
                ["search_document"], batch_size=500)
            last = ids[-1]


# Every start of every word of the document, as lexemes taken as they are
# (no parser, no dictionary): a search word is then one exact lookup in the
# index, however common the word, where a prefix query (word:*) would gather
# every lexeme it starts and recheck every row.
PREFIXES_FUNCTION = """
CREATE OR REPLACE FUNCTION case_search_prefixes(document text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT array_to_tsvector(coalesce(array_agg(DISTINCT left(word, n)), '{}'))
  FROM regexp_split_to_table(document, '\\s+') AS word, generate_series(1, length(word)) AS n
  WHERE word <> ''
$$
"""


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0003_merge_0002_event_feed_0002_performance"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="search_document",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.RunSQL(sql=PREFIXES_FUNCTION, reverse_sql="DROP FUNCTION IF EXISTS case_search_prefixes(text)"),
        # The expression must be the one cases.api.case_filters compares, or PostgreSQL ignores the index.
        migrations.RunSQL(
            sql=f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{INDEX}" ON "cases_case" '
                'USING gin (case_search_prefixes("search_document"))',
            reverse_sql=f'DROP INDEX CONCURRENTLY IF EXISTS "{INDEX}"',
        ),
    ]
