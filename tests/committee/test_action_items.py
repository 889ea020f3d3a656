import datetime

import pytest
import time_machine
from django.utils import timezone

from api_core.preconditions import etag_for
from cases.models import HistoryEntry
from committee.models import ActionItem
from outbox.models import Event
from tests.factories import CaseFactory, UserFactory

from .factories import ActionItemFactory, AgendaItemFactory, DecisionFactory

NOW = datetime.datetime(2026, 6, 15, 15, 0, tzinfo=datetime.UTC)


def _titles(response):
    assert response.status_code == 200, response.content
    return sorted(item["title"] for item in response.json()["results"])


@pytest.fixture
def items(pe_agency, cl_agency, meeting):
    """Action items of two agencies, as of NOW."""
    with time_machine.travel(NOW, tick=False):
        return {
            "pe_open": ActionItemFactory(title="pe_open", owner_agency=pe_agency, meeting=meeting,
                                         due_at=NOW + datetime.timedelta(days=5)),
            "pe_overdue": ActionItemFactory(title="pe_overdue", owner_agency=pe_agency,
                                            due_at=NOW - datetime.timedelta(days=1)),
            "pe_done": ActionItemFactory(title="pe_done", owner_agency=pe_agency, status="done", completed_at=NOW,
                                         due_at=NOW - datetime.timedelta(days=3)),
            "cl_open": ActionItemFactory(title="cl_open", owner_agency=cl_agency,
                                         due_at=NOW + datetime.timedelta(days=20)),
        }


@pytest.mark.django_db
class TestActionItemList:
    def test_an_agency_sees_its_own_action_items_only(self, client_for, pe_caseworker, cl_caseworker, outsider,
                                                      items):
        assert _titles(client_for(pe_caseworker).get("/api/v1/action-items/")) == ["pe_done", "pe_open",
                                                                                  "pe_overdue"]
        assert _titles(client_for(cl_caseworker).get("/api/v1/action-items/")) == ["cl_open"]
        assert _titles(client_for(outsider).get("/api/v1/action-items/")) == []

    def test_an_assignee_sees_what_is_assigned_to_them(self, client_for, outsider, items):
        ActionItemFactory(title="personal", owner_agency=None, assignee=outsider)
        assert _titles(client_for(outsider).get("/api/v1/action-items/")) == ["personal"]

    def test_a_member_sees_those_of_their_committees_meetings(self, client_for, pe_delegate, items):
        assert _titles(client_for(pe_delegate).get("/api/v1/action-items/")) == ["pe_open"]

    @pytest.mark.parametrize("query, expected", [
        ("status=open", ["cl_open", "pe_open", "pe_overdue"]),
        ("owner_agency=cl-sermig", ["cl_open"]),
        ("overdue=true", ["pe_overdue"]),
        ("overdue=false", ["cl_open", "pe_done", "pe_open"]),
        ("due_before=2026-06-21T00:00:00Z", ["pe_done", "pe_open", "pe_overdue"]),
        ("due_before=2026-06-21T00:00:00Z&status=open", ["pe_open", "pe_overdue"]),
    ])
    def test_it_filters(self, client_for, secretariat, items, query, expected):
        with time_machine.travel(NOW, tick=False):
            assert _titles(client_for(secretariat).get(f"/api/v1/action-items/?{query}")) == expected

    def test_it_filters_by_meeting_case_and_assignee(self, client_for, secretariat, items, meeting, pe_agency):
        case = CaseFactory(owner_agency=pe_agency)
        ActionItemFactory(title="by_case", owner_agency=pe_agency, case=case,
                          assignee=UserFactory(username="r.quispe"))
        client = client_for(secretariat)
        assert _titles(client.get(f"/api/v1/action-items/?meeting={meeting.pk}")) == ["pe_open"]
        assert _titles(client.get(f"/api/v1/action-items/?case={case.pk}")) == ["by_case"]
        assert _titles(client.get("/api/v1/action-items/?assignee=r.quispe")) == ["by_case"]

    def test_filters_never_widen_the_scope(self, client_for, cl_caseworker, items):
        assert _titles(client_for(cl_caseworker).get("/api/v1/action-items/?owner_agency=pe-migraciones")) == []

    def test_a_bad_filter_is_a_validation_problem(self, client_for, secretariat):
        response = client_for(secretariat).get("/api/v1/action-items/?due_before=yesterday")
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "due_before"

    def test_the_number_of_queries_does_not_grow_with_the_items(self, client_for, pe_caseworker, pe_agency,
                                                                django_assert_num_queries):
        client = client_for(pe_caseworker)
        ActionItemFactory(owner_agency=pe_agency, case=CaseFactory(), assignee=UserFactory())
        client.get("/api/v1/action-items/")
        with django_assert_num_queries(1) as few:  # the page (the token remembered)
            client.get("/api/v1/action-items/")
        for _ in range(5):
            ActionItemFactory(owner_agency=pe_agency, case=CaseFactory(), assignee=UserFactory())
        with django_assert_num_queries(len(few.captured_queries)):
            assert len(client.get("/api/v1/action-items/").json()["results"]) == 6

    def test_a_case_shows_by_reference_only(self, client_for, pe_caseworker, pe_agency):
        case = CaseFactory(owner_agency=pe_agency, summary="Niña no acompañada de 14 años")
        ActionItemFactory(owner_agency=pe_agency, case=case)
        response = client_for(pe_caseworker).get("/api/v1/action-items/")
        assert response.json()["results"][0]["case"] == {"id": str(case.pk), "reference": case.reference}
        assert "Niña" not in response.content.decode()


@pytest.mark.django_db
class TestActionItemCreate:
    def test_it_assigns_an_agency_and_tells_it(self, client_for, secretariat, pe_agency, meeting):
        decision = DecisionFactory(agenda_item=AgendaItemFactory(meeting=meeting, case=CaseFactory()))
        response = client_for(secretariat).post("/api/v1/action-items/", {
            "title": "Remitir listado de familias en el albergue", "owner_agency": "pe-migraciones",
            "due_at": "2026-12-15T18:00:00-05:00", "decision": str(decision.pk)}, format="json")
        assert response.status_code == 201, response.json()
        item = ActionItem.objects.get(pk=response.json()["id"])
        # Linked to the decision, hence to its item, meeting and case.
        assert (item.agenda_item_id, item.meeting_id, item.case_id) == (
            decision.agenda_item_id, meeting.pk, decision.agenda_item.case_id)
        event = Event.objects.get(type="action_item.assigned")
        assert list(event.agencies.values_list("code", flat=True)) == ["pe-migraciones"]
        assert event.case_reference == decision.agenda_item.case.reference
        assert HistoryEntry.objects.filter(action="action_item_created", object_id=str(item.pk)).exists()

    def test_someone_must_own_it(self, client_for, secretariat):
        response = client_for(secretariat).post("/api/v1/action-items/", {"title": "x"}, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "owner_required"
        assert not ActionItem.objects.exists() and not Event.objects.exists()

    @pytest.mark.parametrize("code", [5, "pe-migra\x00ciones"])
    def test_an_agency_code_is_a_string_without_nul(self, client_for, secretariat, pe_agency, code):
        """A NUL would reach PostgreSQL in the lookup and fail there (a 500)."""
        response = client_for(secretariat).post("/api/v1/action-items/", {"title": "x", "owner_agency": code},
                                                format="json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "owner_agency"
        assert not ActionItem.objects.exists()

    def test_an_unknown_agency_is_a_field_error(self, client_for, secretariat):
        response = client_for(secretariat).post("/api/v1/action-items/", {"title": "x", "owner_agency": "nope"},
                                                format="json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "owner_agency"


@pytest.mark.django_db
class TestActionItemUpdate:
    def test_a_new_owner_is_told(self, client_for, secretariat, items, cl_agency):
        item = items["pe_open"]
        client = client_for(secretariat)
        etag = client.get(f"/api/v1/action-items/{item.pk}/")["ETag"]
        response = client.patch(f"/api/v1/action-items/{item.pk}/", {"owner_agency": "cl-sermig"}, format="json",
                                HTTP_IF_MATCH=etag)
        assert response.status_code == 200
        item.refresh_from_db()
        assert response["ETag"] == etag_for(item) and item.version == 2
        event = Event.objects.get(type="action_item.assigned")
        assert list(event.agencies.values_list("code", flat=True)) == ["cl-sermig"]
        stale = client.patch(f"/api/v1/action-items/{item.pk}/", {"title": "x"}, format="json", HTTP_IF_MATCH=etag)
        assert stale.status_code == 412

    def test_a_finished_item_no_longer_changes(self, client_for, secretariat, items):
        response = client_for(secretariat).patch(f"/api/v1/action-items/{items['pe_done'].pk}/", {"title": "x"},
                                                 format="json")
        assert response.status_code == 409
        assert response.json()["code"] == "not_open"


@pytest.mark.django_db
class TestActionItemComplete:
    def test_the_owner_agency_completes_it(self, client_for, pe_caseworker, items):
        item = items["pe_open"]
        response = client_for(pe_caseworker).post(f"/api/v1/action-items/{item.pk}/complete/",
                                                  {"note": "Listado enviado por oficio"}, format="json")
        assert response.status_code == 200
        item.refresh_from_db()
        assert (item.status, item.completed_by, item.completion_note) == ("done", pe_caseworker,
                                                                          "Listado enviado por oficio")
        assert item.completed_at is not None
        event = Event.objects.get(type="action_item.completed")
        assert list(event.agencies.values_list("code", flat=True)) == ["pe-migraciones"]

    def test_the_assignee_completes_it(self, client_for, outsider, pe_agency):
        item = ActionItemFactory(owner_agency=pe_agency, assignee=outsider)
        assert client_for(outsider).post(f"/api/v1/action-items/{item.pk}/complete/").status_code == 200

    def test_it_is_completed_once(self, client_for, pe_caseworker, items):
        response = client_for(pe_caseworker).post(f"/api/v1/action-items/{items['pe_done'].pk}/complete/")
        assert response.status_code == 409
        assert not Event.objects.exists()

    def test_another_agency_cannot_see_it(self, client_for, cl_caseworker, items):
        response = client_for(cl_caseworker).post(f"/api/v1/action-items/{items['pe_open'].pk}/complete/")
        assert response.status_code == 404
        items["pe_open"].refresh_from_db()
        assert items["pe_open"].status == "open"


@pytest.mark.django_db
class TestActionItemCancel:
    def test_the_secretariat_cancels_and_the_agency_may_not(self, client_for, secretariat, pe_caseworker, items):
        item = items["pe_open"]
        assert client_for(pe_caseworker).post(f"/api/v1/action-items/{item.pk}/cancel/").status_code == 403
        response = client_for(secretariat).post(f"/api/v1/action-items/{item.pk}/cancel/",
                                                {"reason": "Superado por el acuerdo 3"}, format="json")
        assert response.status_code == 200
        item.refresh_from_db()
        assert (item.status, item.cancellation_reason) == ("cancelled", "Superado por el acuerdo 3")
        assert item.completed_at is None


@pytest.mark.django_db
def test_is_overdue_follows_the_clock(pe_agency):
    item = ActionItemFactory(owner_agency=pe_agency, due_at=timezone.now() + datetime.timedelta(hours=1))
    assert not item.is_overdue
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2)):
        assert item.is_overdue
        assert list(ActionItem.objects.overdue()) == [item]
