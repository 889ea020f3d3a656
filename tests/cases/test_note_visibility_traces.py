"""An ``agency`` note leaves no trace for the agencies that may not read it:
not the case's tag or ``updated_at``, not the list's ``updated_since``, not the
events feed or webhooks. A ``shared`` note still moves all of them."""
import datetime

import pytest
from django.utils import timezone

from cases.models import Case
from cases.services import casework
from integrations import signing
from integrations.feed import feed_head
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.services import deliveries_fan_out
from outbox.sequencer import sequence_events
from tests.factories import HandoffFactory, case_with_family


@pytest.fixture
def shared_case(pe_agency, cl_agency):
    """A Peruvian case on which the Chilean agency collaborates (accepted referral)."""
    case = case_with_family(pe_agency)
    HandoffFactory(case=case, kind="referral", to_agency=cl_agency, status="accepted")
    return case


def seen_by(client, case, since):
    """The case's detail (body and tag), whether ``updated_since`` lists it, and the feed's events."""
    detail = client.get(f"/api/v1/cases/{case.pk}/")
    assert detail.status_code == 200
    listed = client.get("/api/v1/cases/", {"updated_since": since.isoformat()}).json()["results"]
    feed = client.get("/api/v1/events/", {"page_size": 200}).json()["results"]
    return {"body": detail.json(), "etag": detail["ETag"], "listed": [row["id"] for row in listed],
            "events": [event["id"] for event in feed]}


@pytest.mark.django_db
class TestAgencyNoteTraces:
    @pytest.mark.parametrize("writer", ["owner", "collaborator"])
    def test_the_other_agency_sees_no_trace_of_an_agency_note(self, client_for, shared_case, pe_caseworker,
                                                              cl_caseworker, writer):
        """Tag, updated_at, updated_since and the feed as the reader sees them do not move."""
        author, reader = (pe_caseworker, cl_caseworker) if writer == "owner" else (cl_caseworker, pe_caseworker)
        since = timezone.now() + datetime.timedelta(seconds=1)
        stored = Case.objects.get(pk=shared_case.pk)
        client = client_for(reader)
        before = seen_by(client, shared_case, since)
        assert str(shared_case.pk) not in before["listed"]

        note = casework.note_add(actor=author, case_id=shared_case.pk, body="Solo para nuestra agencia.",
                                 visibility="agency")

        after = seen_by(client, shared_case, since)
        assert after == before
        now = Case.objects.get(pk=shared_case.pk)
        assert (now.version, now.updated_at) == (stored.version, stored.updated_at)
        # The writer's agency still hears of its own note.
        own = client_for(author).get("/api/v1/events/", {"page_size": 200}).json()["results"]
        assert own[-1]["type"] == "case.updated" and own[-1]["object"]["id"] == str(shared_case.pk)
        assert client_for(author).get(f"/api/v1/cases/{shared_case.pk}/notes/").json()["results"][0]["id"] == str(
            note.pk)

    def test_no_webhook_reaches_the_other_agency(self, shared_case, pe_caseworker, cl_agency, pe_agency):
        sequence_events()
        theirs = WebhookEndpoint.objects.create(agency=cl_agency, url="https://hooks.partner.example/cl",
                                                secret=signing.generate_secret(), feed_position=feed_head())
        ours = WebhookEndpoint.objects.create(agency=pe_agency, url="https://hooks.partner.example/pe",
                                              secret=signing.generate_secret(), feed_position=feed_head())
        casework.note_add(actor=pe_caseworker, case_id=shared_case.pk, body="Interna.", visibility="agency")
        sequence_events()
        assert deliveries_fan_out(endpoint_id=theirs.pk) == 0
        assert not WebhookDelivery.objects.filter(endpoint=theirs).exists()
        assert deliveries_fan_out(endpoint_id=ours.pk) == 1

    def test_a_shared_note_still_moves_the_case_for_everyone(self, client_for, shared_case, pe_caseworker,
                                                             cl_caseworker):
        since = timezone.now() + datetime.timedelta(seconds=1)
        client = client_for(cl_caseworker)
        before = seen_by(client, shared_case, since)
        later = timezone.now() + datetime.timedelta(seconds=2)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(timezone, "now", lambda: later)
            casework.note_add(actor=pe_caseworker, case_id=shared_case.pk, body="Para todos.", visibility="shared")
        after = seen_by(client, shared_case, since)
        assert after["etag"] != before["etag"]
        assert after["body"]["updated_at"] != before["body"]["updated_at"]
        assert str(shared_case.pk) in after["listed"]
        assert len(after["events"]) == len(before["events"]) + 1
