import datetime
import threading
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from api_core.preconditions import etag_for
from cases.models import Case, HistoryEntry
from committee.models import AgendaItem, Meeting
from tests.factories import CaseFactory, HandoffFactory, PersonFactory

from .factories import AgendaItemFactory, DecisionFactory, MeetingFactory


def _positions(meeting):
    return list(meeting.agenda_items.order_by("position").values_list("title", "position"))


@pytest.fixture
def agenda(meeting):
    """Three items: A, B, C."""
    return [AgendaItemFactory(meeting=meeting, title=title) for title in "ABC"]


@pytest.mark.django_db
class TestAgendaList:
    def test_it_lists_the_agenda_in_order_with_cases_by_reference_only(self, client_for, pe_delegate, meeting,
                                                                       pe_agency):
        case = CaseFactory(owner_agency=pe_agency, summary="Madre con tres hijos, pasaporte vencido")
        PersonFactory(given_names="Yusmary")
        AgendaItemFactory(meeting=meeting, title="Informe")
        AgendaItemFactory(meeting=meeting, title="Revisión", kind="case_review", case=case)
        response = client_for(pe_delegate).get(f"/api/v1/meetings/{meeting.pk}/agenda-items/")
        assert response.status_code == 200
        assert response["ETag"] == etag_for(meeting)
        items = response.json()
        assert [(i["position"], i["title"]) for i in items] == [(1, "Informe"), (2, "Revisión")]
        assert items[1]["case"] == {"id": str(case.pk), "reference": case.reference}
        assert "Madre" not in response.content.decode() and "Yusmary" not in response.content.decode()

    def test_the_number_of_queries_does_not_grow_with_the_items(self, client_for, secretariat, meeting,
                                                                django_assert_num_queries):
        client = client_for(secretariat)
        url = f"/api/v1/meetings/{meeting.pk}/agenda-items/"
        DecisionFactory(agenda_item=AgendaItemFactory(meeting=meeting, case=CaseFactory()))
        client.get(url)
        with django_assert_num_queries(3) as few:  # the token remembered
            client.get(url)
        for _ in range(4):
            DecisionFactory(agenda_item=AgendaItemFactory(meeting=meeting, case=CaseFactory()))
        with django_assert_num_queries(len(few.captured_queries)):
            assert len(client.get(url).json()) == 5


@pytest.mark.django_db
class TestAgendaItemCreate:
    def test_it_appends_by_default(self, client_for, secretariat, meeting, agenda):
        response = client_for(secretariat).post(f"/api/v1/meetings/{meeting.pk}/agenda-items/",
                                                {"title": "D", "kind": "information"}, format="json")
        assert response.status_code == 201
        assert response.json()["position"] == 4
        assert _positions(meeting) == [("A", 1), ("B", 2), ("C", 3), ("D", 4)]
        meeting.refresh_from_db()
        assert meeting.version == 2

    def test_it_inserts_at_a_position(self, client_for, secretariat, meeting, agenda):
        response = client_for(secretariat).post(f"/api/v1/meetings/{meeting.pk}/agenda-items/",
                                                {"title": "Z", "position": 1}, format="json")
        assert response.status_code == 201
        assert _positions(meeting) == [("Z", 1), ("A", 2), ("B", 3), ("C", 4)]

    def test_a_position_beyond_the_end_is_refused(self, client_for, secretariat, meeting, agenda):
        response = client_for(secretariat).post(f"/api/v1/meetings/{meeting.pk}/agenda-items/",
                                                {"title": "Z", "position": 5}, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_position"
        assert meeting.agenda_items.count() == 3

    def test_a_handoff_brings_its_case_and_labels(self, client_for, secretariat, meeting, pe_agency, cl_agency):
        handoff = HandoffFactory(case=CaseFactory(owner_agency=pe_agency), to_agency=cl_agency)
        response = client_for(secretariat).post(f"/api/v1/meetings/{meeting.pk}/agenda-items/", {
            "title": "Traslado pendiente", "kind": "case_review", "handoff": str(handoff.pk)}, format="json")
        assert response.status_code == 201
        item = AgendaItem.objects.get(pk=response.json()["id"])
        assert item.case_id == handoff.case_id and item.case_label == handoff.case.reference
        assert item.handoff_label == f"{handoff.case.reference} · transfer · pe-migraciones → cl-sermig"
        assert HistoryEntry.objects.filter(case=handoff.case, action="agenda_item_added").exists()

    def test_a_handoff_of_another_case_is_refused(self, client_for, secretariat, meeting):
        handoff = HandoffFactory()
        response = client_for(secretariat).post(f"/api/v1/meetings/{meeting.pk}/agenda-items/", {
            "title": "x", "case": str(CaseFactory().pk), "handoff": str(handoff.pk)}, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "handoff_of_other_case"
        assert not meeting.agenda_items.exists()

    def test_a_cancelled_meeting_takes_no_items(self, client_for, secretariat, meeting):
        Meeting.objects.filter(pk=meeting.pk).update(status="cancelled")
        response = client_for(secretariat).post(f"/api/v1/meetings/{meeting.pk}/agenda-items/", {"title": "x"},
                                                format="json")
        assert response.status_code == 409
        assert not meeting.agenda_items.exists()


@pytest.mark.django_db
class TestAgendaItemDetail:
    def test_deleting_closes_the_gap(self, client_for, secretariat, meeting, agenda):
        response = client_for(secretariat).delete(f"/api/v1/agenda-items/{agenda[0].pk}/")
        assert response.status_code == 204
        assert _positions(meeting) == [("B", 1), ("C", 2)]

    def test_an_item_with_a_decision_stays(self, client_for, secretariat, meeting, agenda):
        DecisionFactory(agenda_item=agenda[1])
        response = client_for(secretariat).delete(f"/api/v1/agenda-items/{agenda[1].pk}/")
        assert response.status_code == 409
        assert response.json()["code"] == "has_decisions"
        assert _positions(meeting) == [("A", 1), ("B", 2), ("C", 3)]

    def test_it_changes_an_item(self, client_for, secretariat, agenda):
        response = client_for(secretariat).patch(f"/api/v1/agenda-items/{agenda[0].pk}/",
                                                 {"status": "discussed", "planned_minutes": 20}, format="json")
        assert response.status_code == 200
        agenda[0].refresh_from_db()
        assert (agenda[0].status, agenda[0].planned_minutes) == ("discussed", 20)

    @pytest.mark.parametrize("minutes", ["20", 20.5, True])
    def test_planned_minutes_are_a_json_integer(self, client_for, secretariat, agenda, minutes):
        """As the schema says (``type: integer``): DRF alone would take "20" or true."""
        response = client_for(secretariat).patch(f"/api/v1/agenda-items/{agenda[0].pk}/",
                                                 {"planned_minutes": minutes}, format="json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "planned_minutes"
        agenda[0].refresh_from_db()
        assert agenda[0].planned_minutes != 20

    def test_deleting_a_case_leaves_the_agenda_whole(self, meeting):
        case = CaseFactory()
        handoff = HandoffFactory(case=case)
        item = AgendaItemFactory(meeting=meeting, case=case, handoff=handoff, handoff_label="label")
        reference = case.reference
        Case.objects.filter(pk=case.pk).delete()
        item.refresh_from_db()
        assert (item.case_id, item.handoff_id, item.case_label, item.handoff_label) == (None, None, reference, "label")


@pytest.mark.django_db
class TestAgendaReorder:
    def _reorder(self, client, meeting, ids, **headers):
        return client.post(f"/api/v1/meetings/{meeting.pk}/agenda-items/reorder/",
                           {"order": [str(i) for i in ids]}, format="json", **headers)

    def test_it_puts_the_agenda_in_the_order_given(self, client_for, secretariat, meeting, agenda):
        a, b, c = agenda
        response = self._reorder(client_for(secretariat), meeting, [c.pk, a.pk, b.pk])
        assert response.status_code == 200
        assert [i["title"] for i in response.json()] == ["C", "A", "B"]
        assert _positions(meeting) == [("C", 1), ("A", 2), ("B", 3)]
        meeting.refresh_from_db()
        assert response["ETag"] == etag_for(meeting) and meeting.version == 2

    @pytest.mark.parametrize("order, code", [
        (lambda a, b, c: [a, b, b, c], "duplicate_ids"),
        (lambda a, b, c: [a, b], "missing_ids"),
        (lambda a, b, c: [a, b, c, uuid.uuid4()], "foreign_ids"),
    ])
    def test_a_bad_order_changes_nothing(self, client_for, secretariat, meeting, agenda, order, code):
        response = self._reorder(client_for(secretariat), meeting, order(*(i.pk for i in reversed(agenda))))
        assert response.status_code == 400
        assert response.json()["code"] == code
        assert _positions(meeting) == [("A", 1), ("B", 2), ("C", 3)]
        meeting.refresh_from_db()
        assert meeting.version == 1

    def test_an_item_of_another_meeting_is_foreign(self, client_for, secretariat, meeting, agenda):
        stranger = AgendaItemFactory(meeting=MeetingFactory(committee=meeting.committee))
        response = self._reorder(client_for(secretariat), meeting, [stranger.pk] + [i.pk for i in agenda])
        assert response.status_code == 400
        assert response.json()["code"] == "foreign_ids"
        assert stranger.meeting.agenda_items.get().position == 1

    def test_a_stale_if_match_is_refused(self, client_for, secretariat, meeting, agenda):
        a, b, c = agenda
        client = client_for(secretariat)
        etag = client.get(f"/api/v1/meetings/{meeting.pk}/agenda-items/")["ETag"]
        assert self._reorder(client, meeting, [b.pk, a.pk, c.pk], HTTP_IF_MATCH=etag).status_code == 200
        response = self._reorder(client, meeting, [c.pk, b.pk, a.pk], HTTP_IF_MATCH=etag)
        assert response.status_code == 412
        assert _positions(meeting) == [("B", 1), ("A", 2), ("C", 3)]


@pytest.mark.django_db(transaction=True)
class TestConcurrentReorder:
    def test_of_two_reorders_from_the_same_version_exactly_one_wins(self, client_for, secretariat, meeting, agenda):
        a, b, c = agenda
        orders = {"first": [c.pk, b.pk, a.pk], "second": [b.pk, c.pk, a.pk]}
        clients = {name: client_for(secretariat) for name in orders}
        etag = clients["first"].get(f"/api/v1/meetings/{meeting.pk}/agenda-items/")["ETag"]
        barrier = threading.Barrier(2)
        results = {}

        def reorder(name):
            try:
                barrier.wait()
                results[name] = clients[name].post(
                    f"/api/v1/meetings/{meeting.pk}/agenda-items/reorder/",
                    {"order": [str(pk) for pk in orders[name]]}, format="json", HTTP_IF_MATCH=etag).status_code
            finally:
                connection.close()

        threads = [threading.Thread(target=reorder, args=(name,)) for name in orders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results.values()) == [200, 412]
        winner = next(name for name, code in results.items() if code == 200)
        assert list(meeting.agenda_items.order_by("position").values_list("pk", flat=True)) == orders[winner]
        meeting.refresh_from_db()
        assert meeting.version == 2


@pytest.mark.django_db
class TestAgendaItemDefer:
    def test_it_carries_the_item_to_the_next_scheduled_meeting(self, client_for, secretariat, meeting, agenda,
                                                               other_committee):
        committee = meeting.committee
        later = meeting.starts_at + datetime.timedelta(days=30)
        MeetingFactory(committee=committee, status="draft", starts_at=later - datetime.timedelta(days=10))
        MeetingFactory(committee=other_committee, starts_at=later - datetime.timedelta(days=5))
        MeetingFactory(committee=committee, starts_at=meeting.starts_at - datetime.timedelta(days=1))
        after_that = MeetingFactory(committee=committee, starts_at=later + datetime.timedelta(days=30))
        target = MeetingFactory(committee=committee, starts_at=later)
        AgendaItemFactory(meeting=target, title="Ya previsto")
        case = CaseFactory()
        AgendaItem.objects.filter(pk=agenda[1].pk).update(case=case, case_label=case.reference)

        response = client_for(secretariat).post(f"/api/v1/agenda-items/{agenda[1].pk}/defer/")
        assert response.status_code == 201
        carried = AgendaItem.objects.get(pk=response.json()["id"])
        assert (carried.meeting_id, carried.position, carried.title) == (target.pk, 2, "B")
        assert (carried.deferred_from_id, carried.case_id, carried.status) == (agenda[1].pk, case.pk, "pending")
        agenda[1].refresh_from_db()
        assert agenda[1].status == "deferred"
        assert _positions(meeting) == [("A", 1), ("B", 2), ("C", 3)]  # stays, marked deferred
        assert not after_that.agenda_items.exists()

    def test_without_a_next_meeting_nothing_moves(self, client_for, secretariat, meeting, agenda):
        response = client_for(secretariat).post(f"/api/v1/agenda-items/{agenda[0].pk}/defer/")
        assert response.status_code == 409
        assert response.json()["code"] == "no_next_meeting"
        agenda[0].refresh_from_db()
        assert agenda[0].status == "pending"

    def test_only_a_pending_item_is_deferred(self, client_for, secretariat, meeting, agenda):
        MeetingFactory(committee=meeting.committee, starts_at=meeting.starts_at + datetime.timedelta(days=30))
        AgendaItem.objects.filter(pk=agenda[0].pk).update(status="discussed")
        response = client_for(secretariat).post(f"/api/v1/agenda-items/{agenda[0].pk}/defer/")
        assert response.status_code == 409
        assert response.json()["code"] == "not_pending"
        assert AgendaItem.objects.count() == 3

    def test_items_of_a_cancelled_meeting_can_be_carried(self, client_for, secretariat, meeting, agenda):
        target = MeetingFactory(committee=meeting.committee, starts_at=timezone.now() + datetime.timedelta(days=60))
        Meeting.objects.filter(pk=meeting.pk).update(status="cancelled")
        response = client_for(secretariat).post(f"/api/v1/agenda-items/{agenda[2].pk}/defer/")
        assert response.status_code == 201
        assert target.agenda_items.get().deferred_from_id == agenda[2].pk
