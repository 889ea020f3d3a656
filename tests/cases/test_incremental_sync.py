"""``?updated_since=`` sync never loses a write: a row stamped before a pass
reads and committed after it is listed by the next pass, started from the
answer's ``Sync-Watermark`` (api_core.sync). On the real PostgreSQL, with
writers committing in other connections while a reader syncs."""
import datetime
import random
import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.utils.dateparse import parse_datetime

from api_core.sync import WATERMARK_HEADER
from cases.models import Case, Handoff
from cases.services import casework
from committee.models import ActionItem, Meeting
from tests.committee.factories import ActionItemFactory, MeetingFactory
from tests.factories import CaseFactory, HandoffFactory

LONG_AGO = "2000-01-01T00:00:00Z"

LISTS = {
    "cases": ("/api/v1/cases/", Case, CaseFactory),
    "handoffs": ("/api/v1/handoffs/", Handoff, HandoffFactory),
    "meetings": ("/api/v1/meetings/", Meeting, MeetingFactory),
    "action-items": ("/api/v1/action-items/", ActionItem, ActionItemFactory),
}


def sync_pass(client, path, since, page_size=50):
    """One pass from ``since`` to the end of the list: ({id: updated_at}, the
    watermark every page answered)."""
    seen, watermarks = {}, set()
    url = f"{path}?updated_since={since}&page_size={page_size}"
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        watermarks.add(response[WATERMARK_HEADER])
        body = response.json()
        for row in body["results"]:
            seen[row["id"]] = max(seen.get(row["id"], ""), row["updated_at"], key=_instant)
        url = body["next"]
    watermark, = watermarks  # one per pass, whatever committed while it paged
    return seen, watermark


def _instant(value):
    return parse_datetime(value) if value else datetime.datetime.min.replace(tzinfo=datetime.UTC)


def _in_thread(target):
    """Run ``target`` in a thread with a connection of its own, closed after."""
    errors = []

    def run():
        try:
            target()
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


@pytest.fixture
def short_margin(settings):
    """A margin shorter than the writer's pause: the running transaction, not the margin, must hold the mark."""
    settings.PUENTE = {**settings.PUENTE, "SYNC_CLOCK_MARGIN": datetime.timedelta(milliseconds=200)}


@pytest.mark.django_db(transaction=True)
class TestWatermark:
    @pytest.mark.parametrize("name", LISTS)
    def test_a_write_committed_after_the_pass_read_is_listed_by_the_next_pass(self, client_for, secretariat,
                                                                               short_margin, name):
        """The write the old recipe lost: stamped before the pass, committed after it."""
        path, model, factory = LISTS[name]
        row = factory()
        client = client_for(secretariat)
        _, first_mark = sync_pass(client, path, LONG_AGO)
        stamped, release, stamp = threading.Event(), threading.Event(), []

        def slow_writer():
            with transaction.atomic():
                obj = model.objects.get(pk=row.pk)
                obj.save(update_fields=["updated_at"])
                stamp.append(obj.updated_at)
                stamped.set()
                assert release.wait(10)

        thread, errors = _in_thread(slow_writer)
        assert stamped.wait(10)
        time.sleep(0.5)  # longer than the margin: "when my pass started" is past the stamp
        before_commit, mark = sync_pass(client, path, first_mark)
        release.set()
        thread.join(10)
        assert not errors

        assert str(row.pk) not in before_commit or _instant(before_commit[str(row.pk)]) < stamp[0]
        assert _instant(mark) <= stamp[0]
        after_commit, _ = sync_pass(client, path, mark)
        assert _instant(after_commit[str(row.pk)]) == stamp[0]

    def test_every_page_of_a_pass_answers_the_watermark_of_its_first(self, client_for, pe_caseworker,
                                                                      pe_agency):
        """Writes between the pages do not move it: they may sit behind the cursor."""
        cases = [CaseFactory(owner_agency=pe_agency) for _ in range(3)]
        client = client_for(pe_caseworker)
        first = client.get("/api/v1/cases/", {"updated_since": LONG_AGO, "page_size": 1, "ordering": "updated_at"})
        time.sleep(0.01)
        casework.case_update(actor=pe_caseworker, case_id=cases[0].pk, summary="Otra")
        second = client.get(first.json()["next"])
        third = client.get(second.json()["next"])

        assert first[WATERMARK_HEADER] == second[WATERMARK_HEADER] == third[WATERMARK_HEADER]
        assert parse_datetime(first[WATERMARK_HEADER]) < Case.objects.get(pk=cases[0].pk).updated_at

    def test_the_watermark_is_the_database_time_less_the_margin_when_nothing_runs(self, client_for,
                                                                                   pe_caseworker):
        client = client_for(pe_caseworker)
        with connection.cursor() as cursor:
            cursor.execute("SELECT clock_timestamp()")
            before, = cursor.fetchone()
        response = client.get("/api/v1/cases/", {"updated_since": LONG_AGO})
        with connection.cursor() as cursor:
            cursor.execute("SELECT clock_timestamp()")
            after, = cursor.fetchone()
        mark = parse_datetime(response[WATERMARK_HEADER])
        margin = datetime.timedelta(seconds=2)
        assert response[WATERMARK_HEADER].endswith("Z")
        assert before - margin <= mark <= after - margin

    def test_an_idle_transaction_holds_the_watermark_back(self, client_for, pe_caseworker):
        """A transaction that has written nothing yet may still write: its start bounds the mark."""
        opened, release, started = threading.Event(), threading.Event(), []

        def idle():
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT transaction_timestamp()")
                started.append(cursor.fetchone()[0])
                opened.set()
                assert release.wait(10)

        thread, errors = _in_thread(idle)
        assert opened.wait(10)
        time.sleep(0.3)
        response = client_for(pe_caseworker).get("/api/v1/cases/", {"updated_since": LONG_AGO})
        release.set()
        thread.join(10)
        assert not errors
        assert parse_datetime(response[WATERMARK_HEADER]) == started[0] - datetime.timedelta(seconds=2)

    def test_a_list_read_without_updated_since_has_no_watermark(self, client_for, pe_caseworker):
        response = client_for(pe_caseworker).get("/api/v1/cases/")
        assert response.status_code == 200
        assert WATERMARK_HEADER not in response

    def test_the_schema_declares_the_header_on_every_list_with_updated_since(self):
        from api_core.schema import SchemaGenerator

        schema = SchemaGenerator().get_schema(request=None, public=True)
        with_header = {path for path, operations in schema["paths"].items()
                       if WATERMARK_HEADER in operations.get("get", {}).get("responses", {}).get("200", {})
                       .get("headers", {})}
        assert with_header == {path for path, _, _ in LISTS.values()}


WRITERS = 4
CASES_PER_WRITER = 40


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_a_syncing_reader_miss_nothing(client_for, pe_caseworker, pe_agency):
    """Four writers commit case changes, each a little after its stamp, while a
    reader syncs pass after pass from each answer's watermark: every change is
    seen, in its committed version."""
    cases = [CaseFactory(owner_agency=pe_agency) for _ in range(WRITERS * CASES_PER_WRITER)]
    client = client_for(pe_caseworker)
    _, mark = sync_pass(client, "/api/v1/cases/", LONG_AGO)
    written, done = {}, threading.Event()

    def writer(mine):
        rng = random.Random(mine[0].pk.int)
        for case in mine:
            # The service's own transaction inside a longer one: stamped now, committed later.
            with transaction.atomic():
                casework.case_update(actor=pe_caseworker, case_id=case.pk, summary="Actualizado")
                time.sleep(rng.uniform(0, 0.03))
            written[str(case.pk)] = Case.objects.get(pk=case.pk).updated_at
            time.sleep(rng.uniform(0, 0.005))

    threads = [_in_thread(lambda mine=cases[index::WRITERS]: writer(mine)) for index in range(WRITERS)]
    seen, passes = {}, 0

    def watcher():
        for thread, _ in threads:
            thread.join(120)
        done.set()

    threading.Thread(target=watcher).start()
    while True:
        finished = done.is_set()  # a pass that starts after the last commit is the last one needed
        page, mark = sync_pass(client, "/api/v1/cases/", mark, page_size=20)
        passes += 1
        for case_id, updated_at in page.items():
            seen[case_id] = max(seen.get(case_id, ""), updated_at, key=_instant)
        if finished:
            break
    assert not [error for _, errors in threads for error in errors]

    missed = [case_id for case_id, stamp in written.items() if _instant(seen.get(case_id)) < stamp]
    assert len(written) == WRITERS * CASES_PER_WRITER
    stored = {str(pk): updated_at for pk, updated_at in Case.objects.values_list("pk", "updated_at")}
    assert {case_id: _instant(seen[case_id]) for case_id in written} == {case_id: stored[case_id]
                                                                         for case_id in written}
    assert passes > 3  # the reader really synced while the writers wrote
    assert missed == []
