"""Every request example in the published schema succeeds against the demo
(``seed_demo``), sent as it stands by the caller it is written for. Ids in an
example stand for the caller's own objects: the table below says which, and
the example must carry the field it replaces. A new example without a row,
or a row without an example, fails."""
import io
import json

import pytest
from django.core.management import call_command
from django.db import transaction

from cases.models import Case, ConsentScope, Handoff, HandoffKind, HandoffStatus, User
from committee.models import ActionItem, ActionItemStatus, Meeting, MeetingStatus
from tests.openapi import operations


def _own_open_case(user):
    return Case.objects.filter(owner_agency=user.agency, status="open").order_by("reference").first()


def _head_of(case):
    return case.memberships.get(relationship="head").person_id


def _case_to_transfer(user):
    """An open case of the caller's agency, with an active cross-border consent and no pending transfer."""
    return (Case.objects.filter(owner_agency=user.agency, status="open",
                                consents__scope=ConsentScope.SHARE_CROSS_BORDER, consents__withdrawn_at=None)
            .exclude(handoffs__status=HandoffStatus.PENDING, handoffs__kind=HandoffKind.TRANSFER)
            .order_by("reference").first())


def _pending_to(user):
    return Handoff.objects.filter(to_agency=user.agency, status=HandoffStatus.PENDING).order_by("created_at").first()


def _next_meeting():
    upcoming = Meeting.objects.filter(status__in=[MeetingStatus.DRAFT, MeetingStatus.SCHEDULED])
    return upcoming.order_by("starts_at").first()


def _open_item_of(user):
    return ActionItem.objects.filter(owner_agency=user.agency, status=ActionItemStatus.OPEN).first()


# operationId → (the caller's username, user → (path parameters, body fields that hold ids)).
CALLERS = {
    "cases_create": ("pe.migraciones", lambda user: ({}, {})),
    "cases_members_create": ("pe.migraciones", lambda user: ({"case_id": _own_open_case(user).pk}, {})),
    "cases_notes_create": ("pe.migraciones", lambda user: ({"case_id": _own_open_case(user).pk}, {})),
    "cases_consents_create": ("pe.migraciones", lambda user: (
        {"case_id": _own_open_case(user).pk}, {"given_by": _head_of(_own_open_case(user))})),
    "handoffs_create": ("pe.migraciones", lambda user: ({}, {"case": _case_to_transfer(user).pk})),
    "handoffs_accept_create": ("pe.migraciones", lambda user: ({"id": _pending_to(user).pk}, {})),
    "handoffs_reject_create": ("pe.migraciones", lambda user: ({"id": _pending_to(user).pk}, {})),
    "data_requests_create": ("pe.migraciones", lambda user: ({}, {"person": _head_of(_own_open_case(user))})),
    "me_partial_update": ("oim.arica", lambda user: ({}, {})),
    "meetings_agenda_items_create": ("secretaria", lambda user: ({"id": _next_meeting().pk}, {})),
    "action_items_complete_create": ("cl.sermig", lambda user: ({"id": _open_item_of(user).pk}, {})),
}


def request_examples():
    """(operationId, method, path, example name, value) of every request example."""
    for path, method, operation in operations():
        for media in operation.get("requestBody", {}).get("content", {}).values():
            for name, example in media.get("examples", {}).items():
                yield operation["operationId"], method, path, name, example["value"]


def test_every_example_has_a_caller_and_every_caller_an_example():
    assert {operation_id for operation_id, *_ in request_examples()} == set(CALLERS)


def test_the_main_writes_have_examples():
    """The writes a partner starts with are documented by example."""
    assert {"cases_create", "cases_members_create", "handoffs_create", "handoffs_accept_create",
            "data_requests_create"} <= {operation_id for operation_id, *_ in request_examples()}


@pytest.mark.django_db
def test_every_request_example_succeeds_against_the_demo(client_for):
    call_command("seed_demo", stdout=io.StringIO())
    failures, sent = [], 0
    for operation_id, method, path, name, value in request_examples():
        username, world = CALLERS[operation_id]
        user = User.objects.get(username=username)
        parameters, ids = world(user)
        assert set(ids) <= set(value), (operation_id, name, "the example lacks", set(ids) - set(value))
        body = {**value, **{field: str(id_) for field, id_ in ids.items()}}
        # Each example runs on the demo as seeded: what one writes, the next does not see.
        with transaction.atomic():
            response = client_for(user).generic(method.upper(), path.format(**parameters), json.dumps(body),
                                                content_type="application/json")
            transaction.set_rollback(True)
        sent += 1
        if not 200 <= response.status_code < 300:
            failures.append((operation_id, name, response.status_code, response.content[:500]))
    assert sent > 0
    assert failures == []
