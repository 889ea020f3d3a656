import random
import threading
import time

import pytest
from django.db import connections, transaction
from rest_framework import renderers

from integrations.api.serializers import FeedPageSerializer
from integrations.feed import decode_cursor, encode_cursor, event_representation, feed_head
from outbox.models import Event
from outbox.sequencer import sequence_events
from outbox.services import emit
from tests.factories import CaseFactory, PersonFactory


def read_all(client, after=None, page_size=100):
    """Follow the feed from ``after`` to its end; returns (events, last cursor)."""
    events = []
    while True:
        query = f"?page_size={page_size}" + (f"&after={after}" if after else "")
        body = client.get(f"/api/v1/events/{query}").json()
        events += body["results"]
        after = body["next"]
        if not body["has_more"]:
            return events, after


@pytest.mark.django_db
class TestEventFeed:
    def test_it_lists_the_callers_events_oldest_first_in_a_thin_shape(self, client_for, pe_caseworker, pe_agency,
                                                                      make_event):
        case = CaseFactory(owner_agency=pe_agency, reference="BC-2026-000042")
        first = emit("case.created", obj=case, case=case, agencies=[pe_agency])
        second = emit("case.updated", obj=case, case=case, agencies=[pe_agency])

        response = client_for(pe_caseworker).get("/api/v1/events/")

        assert response.status_code == 200
        body = response.json()
        assert [event["id"] for event in body["results"]] == [first.id, second.id]
        assert body["results"][0] == {
            "id": first.id, "type": "case.created", "occurred_at": body["results"][0]["occurred_at"],
            "object": {"type": "case", "id": str(case.pk)}, "case_reference": "BC-2026-000042",
        }
        assert body["has_more"] is False
        assert decode_cursor(body["next"]) == Event.objects.get(pk=second.pk).position
        first.refresh_from_db()
        second.refresh_from_db()
        assert first.position < second.position  # numbered when read

    @pytest.mark.parametrize("zone", ["America/Lima", "America/Santiago"])
    def test_a_page_is_what_its_schema_serializer_writes_byte_for_byte(self, client_for, pe_caseworker, pe_agency,
                                                                        settings, zone):
        settings.TIME_ZONE = zone
        case = CaseFactory(owner_agency=pe_agency, reference="")
        emit("case.created", obj=case, case=case, agencies=[pe_agency])
        emit("case.updated", obj=case, case=case, agencies=[pe_agency])

        response = client_for(pe_caseworker).get("/api/v1/events/?page_size=1", HTTP_ACCEPT="application/json")

        assert response.status_code == 200
        events = list(Event.objects.filter(agencies=pe_agency).order_by("position")[:1])
        page = {"results": [event_representation(event) for event in events],
                "next": encode_cursor(events[0].position), "has_more": True}
        assert response.content == renderers.JSONRenderer().render(FeedPageSerializer(page).data)
        assert response.json()["results"][0]["case_reference"] is None

    def test_it_carries_no_personal_data(self, client_for, pe_caseworker, pe_agency):
        person = PersonFactory(created_by_agency=pe_agency, given_names="Yusmary", document_number="V12345678")
        case = CaseFactory(owner_agency=pe_agency, summary="Yusmary y sus hijos")
        emit("case.created", obj=case, case=case, agencies=[pe_agency])
        emit("case.updated", obj=person, case=case, agencies=[pe_agency])

        text = client_for(pe_caseworker).get("/api/v1/events/").content.decode()

        assert "Yusmary" not in text and "V12345678" not in text
        assert '"type":"person"' in text.replace(" ", "")

    def test_it_shows_each_agency_only_its_events(self, client_for, pe_caseworker, cl_caseworker, outsider,
                                                 pe_agency, cl_agency, make_event):
        own = make_event("case.created", pe_agency)
        both = make_event("handoff.created", pe_agency, cl_agency)
        theirs = make_event("case.created", cl_agency)

        def ids(user):
            return [event["id"] for event in client_for(user).get("/api/v1/events/").json()["results"]]

        assert ids(pe_caseworker) == [own.id, both.id]
        assert ids(cl_caseworker) == [both.id, theirs.id]
        assert ids(outsider) == []

    def test_the_secretariat_sees_every_event(self, client_for, secretariat, pe_agency, cl_agency, make_event):
        events = [make_event("case.created", pe_agency), make_event("case.created", cl_agency)]
        response = client_for(secretariat).get("/api/v1/events/")
        assert [event["id"] for event in response.json()["results"]] == [event.id for event in events]

    def test_a_committee_member_without_agency_sees_nothing(self, client_for, committee_member, pe_agency,
                                                           make_event):
        make_event("case.created", pe_agency)
        assert client_for(committee_member).get("/api/v1/events/").json()["results"] == []

    def test_it_requires_authentication(self, api_client):
        response = api_client.get("/api/v1/events/")
        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"

    def test_pages_follow_each_other_without_gaps_or_repeats(self, client_for, pe_caseworker, pe_agency,
                                                           make_event):
        written = [make_event("case.updated", pe_agency).id for _ in range(7)]
        client = client_for(pe_caseworker)

        pages = []
        after = None
        while True:
            body = client.get("/api/v1/events/?page_size=3" + (f"&after={after}" if after else "")).json()
            pages.append([event["id"] for event in body["results"]])
            after = body["next"]
            if not body["has_more"]:
                break

        assert pages == [written[0:3], written[3:6], written[6:7]]

    def test_a_stored_cursor_picks_up_what_came_later_and_nothing_twice(self, client_for, pe_caseworker,
                                                                       pe_agency, make_event):
        client = client_for(pe_caseworker)
        make_event("case.created", pe_agency)
        seen, cursor = read_all(client)
        empty = client.get(f"/api/v1/events/?after={cursor}").json()
        assert empty["results"] == [] and empty["next"] == cursor

        later = make_event("case.closed", pe_agency)
        body = client.get(f"/api/v1/events/?after={cursor}").json()

        assert [event["id"] for event in body["results"]] == [later.id]
        assert len(seen) == 1

    @pytest.mark.parametrize("cursor", ["abc", "p1.-1", "p1.01", "p2.5", "p1.5%0A"])
    def test_a_cursor_it_did_not_give_out_is_a_validation_problem(self, client_for, pe_caseworker, cursor):
        response = client_for(pe_caseworker).get(f"/api/v1/events/?after={cursor}")
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "after"

    def test_a_cursor_beyond_the_last_position_is_an_invalid_cursor(self, client_for, pe_caseworker, pe_agency,
                                                                    make_event):
        """A cursor past the feed's end was never given out: 400, not an empty page for ever."""
        make_event("case.created", pe_agency)
        client = client_for(pe_caseworker)
        _, cursor = read_all(client)

        response = client.get("/api/v1/events/?after=p1.999999")

        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["errors"] == [{"field": "after", "code": "invalid_cursor",
                                              "message": response.json()["errors"][0]["message"]}]
        # The last position itself is the cursor a caught-up client holds.
        assert client.get(f"/api/v1/events/?after={cursor}").json() == {"results": [], "next": cursor,
                                                                       "has_more": False}

    def test_a_cursor_is_bounded_by_the_callers_events_not_the_feeds_head(self, client_for, pe_caseworker,
                                                                           cl_caseworker, pe_agency, cl_agency,
                                                                           make_event):
        """Another agency's later position is refused like any other: the answer says nothing of its events."""
        make_event("case.created", pe_agency)
        theirs = make_event("case.created", cl_agency)
        client = client_for(pe_caseworker)
        _, cursor = read_all(client)
        theirs.refresh_from_db()
        assert decode_cursor(cursor) < theirs.position

        refused = client.get(f"/api/v1/events/?after={encode_cursor(theirs.position)}")
        beyond = client.get(f"/api/v1/events/?after={encode_cursor(theirs.position + 1000)}")

        assert refused.status_code == beyond.status_code == 400
        assert refused.content == beyond.content
        assert client_for(cl_caseworker).get(f"/api/v1/events/?after={encode_cursor(theirs.position)}").status_code \
            == 200

    def test_an_empty_cursor_is_an_error_not_the_beginning(self, client_for, pe_caseworker):
        response = client_for(pe_caseworker).get("/api/v1/events/?after=")
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "after"

    def test_the_page_size_is_bounded(self, client_for, pe_caseworker):
        assert client_for(pe_caseworker).get("/api/v1/events/?page_size=501").status_code == 400
        assert client_for(pe_caseworker).get("/api/v1/events/?page_size=0").status_code == 400

    def test_the_number_of_queries_does_not_grow_with_the_page(self, client_for, pe_caseworker, pe_agency,
                                                              make_event, django_assert_num_queries):
        client = client_for(pe_caseworker)
        for _ in range(3):
            make_event("case.updated", pe_agency)
        client.get("/api/v1/events/")  # numbers them; the token's last use is recorded
        for _ in range(30):
            make_event("case.updated", pe_agency)
        sequence_events()
        # the probe for unnumbered events, the page (the token remembered)
        with django_assert_num_queries(2):
            body = client.get("/api/v1/events/?page_size=500").json()
        assert len(body["results"]) == 33


@pytest.mark.django_db
class TestSequencer:
    def test_it_numbers_events_in_id_order_after_the_highest_position(self, pe_agency, make_event):
        events = [make_event("case.created", pe_agency) for _ in range(3)]
        assert sequence_events() == 3
        more = make_event("case.updated", pe_agency)
        assert sequence_events() == 1
        positions = list(Event.objects.order_by("id").values_list("position", flat=True))
        assert positions == [1, 2, 3, 4]
        assert [e.id for e in events] + [more.id] == list(Event.objects.order_by("position").values_list("id",
                                                                                                          flat=True))
        assert sequence_events() == 0

    def test_the_head_is_the_highest_position(self, pe_agency, make_event):
        assert feed_head() == 0
        make_event("case.created", pe_agency)
        make_event("case.created", pe_agency)
        assert feed_head() == 2

    def test_cursors_round_trip(self):
        assert decode_cursor(encode_cursor(0)) == 0
        assert decode_cursor(encode_cursor(123456789)) == 123456789


def _emit_in_thread(agency, started, release, done, event_ids):
    """Write one event and hold the transaction open until released."""
    try:
        with transaction.atomic():
            case = CaseFactory(owner_agency=agency)
            event_ids.append(emit("case.created", obj=case, case=case, agencies=[agency]).id)
            started.set()
            release.wait(10)
        done.set()
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
class TestFeedUnderConcurrentWrites:
    def test_an_event_committed_after_a_higher_id_is_not_skipped(self, client_for, pe_caseworker, pe_agency):
        """The trap: id 5 commits after id 6 was served. It must still come, after the cursor."""
        client = client_for(pe_caseworker)
        started, release, done, slow_ids = threading.Event(), threading.Event(), threading.Event(), []
        slow = threading.Thread(target=_emit_in_thread, args=(pe_agency, started, release, done, slow_ids))
        slow.start()
        assert started.wait(10)
        case = CaseFactory(owner_agency=pe_agency)
        fast = emit("case.created", obj=case, case=case, agencies=[pe_agency])  # autocommit: visible now
        assert fast.id > slow_ids[0]

        first, cursor = read_all(client)
        release.set()
        assert done.wait(10)
        slow.join()
        second, cursor = read_all(client, after=cursor)

        assert [event["id"] for event in first] == [fast.id]
        assert [event["id"] for event in second] == [slow_ids[0]]

    def test_readers_following_the_feed_see_every_event_once_while_writers_commit_out_of_order(
            self, client_for, pe_caseworker, pe_agency):
        writers, per_writer = 6, 5
        client = client_for(pe_caseworker)
        written, lock = [], threading.Lock()
        stop = threading.Event()
        seen = []

        def write(seed):
            rng = random.Random(seed)
            try:
                for _ in range(per_writer):
                    with transaction.atomic():
                        case = CaseFactory(owner_agency=pe_agency)
                        event = emit("case.updated", obj=case, case=case, agencies=[pe_agency])
                        time.sleep(rng.uniform(0, 0.05))  # commit order differs from id order
                    with lock:
                        written.append(event.id)
            finally:
                connections.close_all()

        def read():
            cursor = None
            try:
                while True:
                    last_round = stop.is_set()
                    events, cursor = read_all(client, after=cursor, page_size=4)
                    seen.extend(event["id"] for event in events)
                    if last_round:
                        return
                    time.sleep(0.01)
            finally:
                connections.close_all()

        reader = threading.Thread(target=read)
        reader.start()
        threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stop.set()
        reader.join()

        assert len(written) == writers * per_writer
        assert sorted(seen) == sorted(written)  # no gaps
        assert len(seen) == len(set(seen))  # no repeats
        positions = dict(Event.objects.values_list("id", "position"))
        assert [positions[event_id] for event_id in seen] == sorted(positions[event_id] for event_id in seen)
