"""Malformed input is the client's mistake: a 400 problem, never a 500.

Every operation of the published schema is walked: each list that takes a
``cursor`` is read with garbage and tampered cursors, and each operation that
takes a JSON body is sent a deeply nested one, with and without an
``Idempotency-Key``. A new endpoint is covered as soon as it is in the schema;
one whose path has an id this module cannot fill in fails
``test_every_path_parameter_can_be_filled``."""
import base64
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from api_core.models import IdempotencyRecord
from cases.models import CaseMember, HistoryEntry
from cases.roles import Role
from committee.services import calendar_feed_create
from dataprotection.services import data_request_create
from integrations import signing
from integrations.feed import feed_head
from integrations.models import WebhookDelivery, WebhookEndpoint
from tests.committee.factories import (
    ActionItemFactory,
    AgendaItemFactory,
    CommitteeFactory,
    DecisionFactory,
    MeetingFactory,
)
from tests.factories import ConsentFactory, HandoffFactory, NoteFactory, UserFactory, case_with_family
from tests.openapi import operations

PROBLEM = "application/problem+json"
PREFIX = "/api/v1"
DEEP = 100_000  # far past the interpreter's recursion limit


def _takes_cursor(method, operation):
    return method == "get" and any(p["name"] == "cursor" for p in operation.get("parameters", []))


def _takes_json(method, operation):
    return "application/json" in operation.get("requestBody", {}).get("content", {})


LISTS = sorted((path, method) for path, method, operation in operations() if _takes_cursor(method, operation))
WRITES = sorted((path, method) for path, method, operation in operations() if _takes_json(method, operation))


@pytest.fixture
def world(pe_agency, cl_agency, pe_caseworker, secretariat):
    """One object of every kind the paths name, each reachable by the caller
    used for its path."""
    case = case_with_family(pe_agency, children=1)
    person = CaseMember.objects.filter(case=case).first().person
    consent = ConsentFactory(case=case, given_by=person)
    # Two of everything listed, so every list has a second page to tamper with.
    case_with_family(pe_agency, children=0)
    ConsentFactory(case=case, given_by=person)
    NoteFactory(case=case), NoteFactory(case=case)
    for action in ("created", "updated"):
        HistoryEntry.objects.create(case=case, action=action, object_type="case", object_id=str(case.pk))
    handoff = HandoffFactory(case=case, kind="referral", from_agency=pe_agency, to_agency=cl_agency)
    HandoffFactory(case=case, kind="referral", from_agency=pe_agency, to_agency=cl_agency, status="withdrawn")
    meeting = MeetingFactory(status="draft")
    MeetingFactory(status="draft", committee=meeting.committee), CommitteeFactory(), ActionItemFactory()
    item = AgendaItemFactory(meeting=meeting)
    decision = DecisionFactory(agenda_item=AgendaItemFactory(meeting=meeting))
    action = ActionItemFactory(owner_agency=pe_agency)
    endpoint = WebhookEndpoint.objects.create(agency=pe_agency, url="https://hooks.partner.example/p",
                                              secret=signing.generate_secret(), feed_position=feed_head())
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, payload={}, message_id="msg_fuzz")
    WebhookDelivery.objects.create(endpoint=endpoint, payload={}, message_id="msg_fuzz_2")
    WebhookEndpoint.objects.create(agency=pe_agency, url="https://hooks.partner.example/q",
                                   secret=signing.generate_secret(), feed_position=feed_head())
    feed_user = UserFactory(username="delegada", roles=[Role.COMMITTEE_MEMBER], is_staff=True)
    feed, _secret = calendar_feed_create(user=secretariat, committee=meeting.committee)
    data_requests = [data_request_create(actor=pe_caseworker, person=person.pk, kind=kind, received_at=timezone.now(),
                                         channel="in_person") for kind in ("access", "rectification")]
    ids = {
        "cases": case.pk, "people": person.pk, "handoffs": handoff.pk, "committees": meeting.committee_id,
        "meetings": meeting.pk, "agenda-items": item.pk, "decisions": decision.pk, "action-items": action.pk,
        "webhooks": endpoint.pk, "agencies": pe_agency.code, "calendar-feeds": feed.pk,
        "data-requests": data_requests[0].pk,
        "person_id": person.pk, "consent_id": consent.pk, "delivery_id": delivery.pk,
    }
    committee_side = ("committees", "meetings", "agenda-items", "decisions", "action-items", "calendar-feeds")
    return {"ids": ids, "committee_side": committee_side, "caseworker": pe_caseworker,
            "secretariat": secretariat, "feed_user": feed_user}


def fill(path: str, ids: dict) -> str:
    """The path with its parameters: the first names the resource of its
    segment, the others are named for themselves."""
    resource = path[len(PREFIX):].strip("/").split("/")[0]
    first = True

    def value(match):
        nonlocal first
        name = match.group(1)
        key = resource if first else name
        first = False
        return str(ids[key])

    return re.sub(r"\{([^}]+)\}", value, path)


def caller(path: str, world):
    resource = path[len(PREFIX):].strip("/").split("/")[0]
    return world["secretariat"] if resource in world["committee_side"] else world["caseworker"]


def assert_problem_400(response, what):
    assert response.status_code == 400, (what, response.status_code, response.content[:300])
    assert response["Content-Type"] == PROBLEM, what
    assert response.json()["status"] == 400, what


def _tampered(cursor: str) -> list[str]:
    """Cursors a client could make from a real one."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    flipped = bytearray(raw)
    flipped[len(flipped) // 2] ^= 0x01
    return [cursor[:-2], cursor + "A", base64.urlsafe_b64encode(bytes(flipped)).decode()]


GARBAGE_CURSORS = [
    "x", "%%%", "bm90IGEgY3Vyc29y",  # "not a cursor"
    base64.b64encode(b"o=1&r=0&p=not-a-date").decode(),
    base64.b64encode(b"o=1&r=0&p=2026-13-45T99:99:99").decode(),
    base64.b64encode(b"o=-5&r=x&p=").decode(),
    base64.b64encode(b"p=\x00\x01").decode(),
    base64.b64encode(b"o=999999999999999999999999&p=1").decode(),
    "é", "A" * 5000,
]


@pytest.mark.django_db
class TestGarbageCursors:
    def test_the_schema_has_lists_to_walk(self):
        assert len(LISTS) >= 10 and ("/api/v1/cases/", "get") in LISTS

    @pytest.mark.parametrize(("path", "method"), LISTS)
    def test_every_list_refuses_a_garbage_cursor_with_a_400(self, world, client_for, path, method):
        client = client_for(caller(path, world))
        url = fill(path, world["ids"])
        assert client.get(url).status_code == 200, url  # the list itself is readable
        for cursor in GARBAGE_CURSORS:
            assert_problem_400(client.get(url, {"cursor": cursor}), (url, cursor))

    @pytest.mark.parametrize(("path", "method"), LISTS)
    def test_every_list_refuses_a_tampered_real_cursor(self, world, client_for, path, method):
        client = client_for(caller(path, world))
        url = fill(path, world["ids"])
        first = client.get(url, {"page_size": 1}).json()
        link = first.get("next") or first.get("previous")
        if link is None:
            pytest.fail(f"{url}: the world must give every list two pages")  # never a silent pass
        cursor = parse_qs(urlsplit(link).query)["cursor"][0]
        assert client.get(url, {"page_size": 1, "cursor": cursor}).status_code == 200
        for bad in _tampered(cursor):
            assert_problem_400(client.get(url, {"page_size": 1, "cursor": bad}), (url, bad))

    def test_a_cursor_of_one_list_is_refused_by_another(self, world, client_for):
        """A cursor is bound to the list and ordering it was made for."""
        client = client_for(world["caseworker"])
        page = client.get("/api/v1/handoffs/", {"page_size": 1}).json()
        assert page["next"], page
        cursor = parse_qs(urlsplit(page["next"]).query)["cursor"][0]
        assert_problem_400(client.get("/api/v1/cases/", {"cursor": cursor, "ordering": "reference"}), "cross")


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.django_db
class TestNestedBodies:
    def test_the_schema_has_writes_to_walk(self):
        assert len(WRITES) >= 20 and ("/api/v1/cases/", "post") in WRITES

    @pytest.mark.parametrize("with_key", [False, True], ids=["plain", "idempotency-key"])
    @pytest.mark.parametrize(("path", "method"), WRITES)
    def test_every_write_refuses_a_deeply_nested_body_with_a_400(self, world, client_for, path, method, with_key):
        user = caller(path, world)
        client = client_for(user)
        url = fill(path, world["ids"])
        for number, body in enumerate((nested(DEEP), b'{"a":' * DEEP + b"1" + b"}" * DEEP, nested(200))):
            headers = {"HTTP_IDEMPOTENCY_KEY": f"nested-{number}"} if with_key else {}
            response = getattr(client, method)(url, data=body, content_type="application/json", **headers)
            assert_problem_400(response, (method, url, len(body)))
            assert response.json()["code"] == "parse_error"
        # Nothing was replayed or stored for the key: a later good request is not answered with the 400.
        assert not IdempotencyRecord.objects.filter(user=user, response_status__gte=500).exists()

    def test_a_moderately_nested_body_is_still_read(self, world, client_for):
        """The limit is on depth, not on ordinary bodies: a case with members is three levels deep."""
        client = client_for(world["caseworker"])
        response = client.post("/api/v1/cases/", {"members": [
            {"relationship": "head", "given_names": "Ana", "languages": ["es"]}]}, format="json")
        assert response.status_code == 201, response.content

    def test_every_path_parameter_can_be_filled(self, world):
        for path, _method in {*LISTS, *WRITES}:
            fill(path, world["ids"])  # KeyError names a resource with no object in the world

