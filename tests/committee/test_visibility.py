"""Who may do what with the committee's API, as one table: every endpoint ×
method × role. A committee endpoint missing from the table fails the suite."""
import datetime

import pytest
from django.urls import URLPattern, URLResolver
from django.utils import timezone

from cases.models import HistoryEntry
from committee.api import urls as committee_urls
from committee.models import ActionItem, AgendaItem, CalendarFeed, Decision, Meeting
from committee.services import calendar_feed_create
from outbox.models import Event
from tests.factories import CaseFactory

from .factories import ActionItemFactory, AgendaItemFactory, DecisionFactory, MeetingFactory

ROLES = ["secretariat", "member", "other_member", "owner_caseworker", "other_caseworker", "anonymous"]

# url name, method, path template, body, expected status per role (in ROLES order)
MATRIX = [
    ("committee-list", "GET", "/committees/", None, [200, 200, 200, 200, 200, 401]),
    ("committee-detail", "GET", "/committees/{committee}/", None, [200, 200, 404, 404, 404, 401]),
    ("committee-feeds", "GET", "/committees/{committee}/calendar-feeds/", None, [200, 200, 404, 404, 404, 401]),
    ("committee-feeds", "POST", "/committees/{committee}/calendar-feeds/", {}, [201, 201, 404, 404, 404, 401]),
    ("calendar-feed-detail", "DELETE", "/calendar-feeds/{feed}/", None, [404, 204, 404, 404, 404, 401]),
    # The secret in the address is the credential; whoever holds it reads the feed.
    ("calendar-feed-ics", "GET", "/calendars/{secret}.ics", None, [200, 200, 200, 200, 200, 200]),
    ("meeting-list", "GET", "/meetings/", None, [200, 200, 200, 200, 200, 401]),
    ("meeting-list", "POST", "/meetings/", "new_meeting", [201, 403, 403, 403, 403, 401]),
    ("meeting-detail", "GET", "/meetings/{meeting}/", None, [200, 200, 404, 404, 404, 401]),
    ("meeting-detail", "GET", "/meetings/{draft}/", None, [200, 404, 404, 404, 404, 401]),
    ("meeting-detail", "PATCH", "/meetings/{meeting}/", {"title": "Sesión extraordinaria"},
     [200, 403, 404, 404, 404, 401]),
    ("meeting-schedule", "POST", "/meetings/{draft}/schedule/", {}, [200, 404, 404, 404, 404, 401]),
    ("meeting-cancel", "POST", "/meetings/{meeting}/cancel/", {"reason": "Paro de transportes"},
     [200, 403, 404, 404, 404, 401]),
    ("meeting-mark-held", "POST", "/meetings/{meeting}/mark-held/", {}, [200, 403, 404, 404, 404, 401]),
    ("minutes-circulate", "POST", "/meetings/{held}/minutes/circulate/", {}, [200, 403, 404, 404, 404, 401]),
    ("minutes-approve", "POST", "/meetings/{circulated}/minutes/approve/", {}, [200, 403, 404, 404, 404, 401]),
    ("meeting-attendance", "GET", "/meetings/{meeting}/attendance/", None, [200, 200, 404, 404, 404, 401]),
    ("meeting-attendance", "PUT", "/meetings/{meeting}/attendance/", "attendance", [200, 403, 404, 404, 404, 401]),
    ("meeting-docket", "GET", "/meetings/{meeting}/docket/", None, [200, 403, 404, 404, 404, 401]),
    ("meeting-docket", "POST", "/meetings/{meeting}/docket/", "docket", [201, 403, 404, 404, 404, 401]),
    ("meeting-calendar", "GET", "/meetings/{meeting}/calendar.ics", None, [200, 200, 404, 404, 404, 401]),
    ("meeting-agenda", "GET", "/meetings/{meeting}/agenda-items/", None, [200, 200, 404, 404, 404, 401]),
    ("meeting-agenda", "POST", "/meetings/{meeting}/agenda-items/", {"title": "Varios"},
     [201, 403, 404, 404, 404, 401]),
    ("agenda-reorder", "POST", "/meetings/{meeting}/agenda-items/reorder/", "reorder",
     [200, 403, 404, 404, 404, 401]),
    ("agenda-item-detail", "GET", "/agenda-items/{item}/", None, [200, 200, 404, 404, 404, 401]),
    ("agenda-item-detail", "PATCH", "/agenda-items/{item}/", {"notes": "Informe de SERMIG"},
     [200, 403, 404, 404, 404, 401]),
    ("agenda-item-detail", "DELETE", "/agenda-items/{spare_item}/", None, [204, 403, 404, 404, 404, 401]),
    ("agenda-item-defer", "POST", "/agenda-items/{item}/defer/", {}, [201, 403, 404, 404, 404, 401]),
    ("agenda-item-decisions", "POST", "/agenda-items/{item}/decisions/", {"text": "Se toma nota.", "outcome": "noted"},
     [201, 403, 404, 404, 404, 401]),
    ("decision-detail", "GET", "/decisions/{decision}/", None, [200, 200, 404, 404, 404, 401]),
    ("action-item-list", "GET", "/action-items/", None, [200, 200, 200, 200, 200, 401]),
    ("action-item-list", "POST", "/action-items/", "new_action_item", [201, 403, 403, 403, 403, 401]),
    ("action-item-detail", "GET", "/action-items/{action}/", None, [200, 200, 404, 200, 404, 401]),
    ("action-item-detail", "PATCH", "/action-items/{action}/", {"title": "Enviar informe"},
     [200, 403, 404, 403, 404, 401]),
    ("action-item-complete", "POST", "/action-items/{action}/complete/", {}, [200, 403, 404, 200, 404, 401]),
    ("action-item-cancel", "POST", "/action-items/{action}/cancel/", {}, [200, 403, 404, 403, 404, 401]),
]


@pytest.fixture
def world(committee, meeting, pe_delegate, cl_delegate, other_member, secretariat, pe_caseworker, cl_caseworker,
          pe_agency):
    now = timezone.now()
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=now - datetime.timedelta(hours=1),
                                                 ends_at=now + datetime.timedelta(hours=1))
    draft = MeetingFactory(committee=committee, status="draft", starts_at=now + datetime.timedelta(days=20))
    MeetingFactory(committee=committee, starts_at=now + datetime.timedelta(days=30))  # where deferrals go
    held = MeetingFactory(committee=committee, status="held", starts_at=now - datetime.timedelta(days=30),
                          minutes="Se abre la sesión a las 10:00.")
    circulated = MeetingFactory(committee=committee, status="held", starts_at=now - datetime.timedelta(days=60),
                                minutes="Acta.", minutes_status="circulated", minutes_circulated_at=now)
    item = AgendaItemFactory(meeting=meeting, case=CaseFactory(owner_agency=pe_agency))
    spare = AgendaItemFactory(meeting=meeting)
    decision = DecisionFactory(agenda_item=AgendaItemFactory(meeting=meeting))
    action = ActionItemFactory(owner_agency=pe_agency, meeting=meeting)
    overdue = ActionItemFactory(owner_agency=pe_agency, due_at=now - datetime.timedelta(days=1))
    feed, secret = calendar_feed_create(user=pe_delegate, committee=committee)
    ids = {"committee": committee.pk, "meeting": meeting.pk, "draft": draft.pk, "held": held.pk,
           "circulated": circulated.pk, "item": item.pk, "spare_item": spare.pk, "decision": decision.pk,
           "action": action.pk, "feed": feed.pk, "secret": secret}
    bodies = {
        "new_meeting": {"committee": str(committee.pk), "title": "III Sesión", "starts_at": "2027-03-02T10:00:00-05:00",
                        "ends_at": "2027-03-02T12:00:00-05:00"},
        "attendance": {"attendance": [{"user": pe_delegate.username, "status": "present"}]},
        "docket": {"items": [{"source": "overdue_action_item", "id": str(overdue.pk)}]},
        "reorder": {"order": [str(i.pk) for i in meeting.agenda_items.order_by("-position")]},
        "new_action_item": {"title": "Informe de albergues", "owner_agency": pe_agency.code},
    }
    users = {"secretariat": secretariat, "member": pe_delegate, "other_member": other_member,
             "owner_caseworker": pe_caseworker, "other_caseworker": cl_caseworker, "anonymous": None}
    return ids, bodies, users


def _fingerprint():
    return (
        sorted(Meeting.objects.values_list("pk", "version", "status", "minutes_status")),
        sorted(AgendaItem.objects.values_list("pk", "position", "status", "notes")),
        Decision.objects.count(),
        sorted(ActionItem.objects.values_list("pk", "version", "status")),
        CalendarFeed.objects.active().count(),
        Event.objects.count(),
        HistoryEntry.objects.count(),
    )


def _cases():
    for _name, method, template, body, expected in MATRIX:
        for role, status in zip(ROLES, expected, strict=True):
            yield pytest.param(method, template, body, role, status, id=f"{method} {template} as {role}")


@pytest.mark.django_db
class TestAccessMatrix:
    @pytest.mark.parametrize("method, template, body, role, expected", list(_cases()))
    def test_it_answers_each_role_as_the_table_says(self, world, client_for, api_client, method, template, body,
                                                   role, expected):
        ids, bodies, users = world
        client = api_client if users[role] is None else client_for(users[role])
        data = bodies[body] if isinstance(body, str) else body
        before = _fingerprint()
        response = getattr(client, method.lower())("/api/v1" + template.format(**ids), data, format="json")
        assert response.status_code == expected, response.content[:500]
        if expected in (401, 403, 404):
            assert _fingerprint() == before, "a refused request changed something"

    def test_every_committee_endpoint_and_method_is_in_the_table(self):
        listed = {(name, method) for name, method, *_ in MATRIX}
        routed = set()
        for pattern in committee_urls.urlpatterns:
            assert isinstance(pattern, URLPattern) and not isinstance(pattern, URLResolver)
            view = pattern.callback.view_class
            for method in ("get", "post", "put", "patch", "delete"):
                if hasattr(view, method):
                    routed.add((pattern.name, method.upper()))
        assert routed == listed


@pytest.mark.django_db
class TestCancellingADraft:
    """A draft was never published: cancelling it would show the members a
    meeting, and the cases on its agenda, they never saw. It is refused (delete it)."""

    def test_it_is_refused_and_nothing_reaches_the_members(self, client_for, committee, pe_delegate, secretariat,
                                                           pe_agency, mailoutbox, django_capture_on_commit_callbacks):
        from cases.selectors import committee_case_ids
        from reminders.models import Reminder

        case = CaseFactory(owner_agency=pe_agency)
        draft = MeetingFactory(committee=committee, status="draft")
        AgendaItemFactory(meeting=draft, case=case, kind="case_review", title=case.reference)
        before = _fingerprint()

        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(secretariat).post(f"/api/v1/meetings/{draft.pk}/cancel/",
                                                    {"reason": "Ya no hace falta"}, format="json")

        assert response.status_code == 409
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "not_cancellable"
        assert _fingerprint() == before  # still a draft; no event, no history
        assert not Reminder.objects.exists() and mailoutbox == []
        member = client_for(pe_delegate)
        assert member.get(f"/api/v1/meetings/{draft.pk}/").status_code == 404
        assert str(draft.pk) not in {row["id"] for row in member.get("/api/v1/meetings/").json()["results"]}
        assert not committee_case_ids(pe_delegate).filter(case_id=case.pk).exists()
        assert member.get(f"/api/v1/cases/{case.pk}/").status_code == 404

    def test_a_scheduled_meeting_is_still_cancelled(self, client_for, meeting, secretariat):
        response = client_for(secretariat).post(f"/api/v1/meetings/{meeting.pk}/cancel/", {"reason": "Paro"},
                                                format="json")
        assert response.status_code == 200
        meeting.refresh_from_db()
        assert meeting.status == "cancelled"
        assert Event.objects.filter(type="meeting.cancelled", object_id=str(meeting.pk)).count() == 1
