"""The published schema is valid for strict third-party validators (what
openapi-spec-validator and openapi-core check, and the rules of Redocly and
Spectral that docs/api/contract.md does not argue away), and states what the
server does outside the views: Retry-After, the 503 of a statement cut off,
the servers, the calendar feed's credential, the webhooks."""
import copy

import pytest
from openapi_core import OpenAPI
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from openapi_spec_validator import validate as validate_spec

from outbox.models import EventType
from tests.openapi import published_schema

pytestmark = pytest.mark.django_db


def _nodes(node, path=()):
    """(path, schema-like dict) of every dict in the document."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _nodes(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _nodes(value, (*path, index))


def _conforms(schema: dict, value) -> list[str]:
    root = {**schema, "components": published_schema()["components"]}
    validator = OAS30Validator(root, format_checker=oas30_format_checker)
    return [error.message for error in validator.iter_errors(value)]


def test_openapi_spec_validator_accepts_it():
    validate_spec(copy.deepcopy(published_schema()))


def test_openapi_core_loads_it():
    OpenAPI.from_dict(copy.deepcopy(published_schema()))


def test_nullable_always_has_a_type_beside_it():
    """OpenAPI 3.0 ignores ``nullable`` without ``type``: a strict client would refuse a null."""
    assert [path for path, node in _nodes(published_schema())
            if node.get("nullable") is True and "type" not in node] == []


def test_every_default_and_example_fits_its_own_schema():
    failures = []
    for path, node in _nodes(published_schema()["components"]["schemas"]):
        if "properties" in path[-1:] or not isinstance(node.get("type", node.get("oneOf")), (str, list)):
            continue
        for key in ("default", "example"):
            if key in node:
                schema = {name: value for name, value in node.items() if name not in ("default", "example")}
                failures += [(path, key, message) for message in _conforms(schema, node[key])]
    assert failures == []


def test_a_blank_text_with_a_default_keeps_the_default_outside_its_alternatives():
    note = published_schema()["components"]["schemas"]["HandoffRejectRequest"]["properties"]["note"]
    assert note["default"] == "" and all("default" not in branch for branch in note["oneOf"])


def test_a_nullable_reference_admits_null_and_the_object():
    assignee = published_schema()["components"]["schemas"]["ActionItem"]["properties"]["assignee"]
    assert assignee["oneOf"][1] == {"type": "object", "nullable": True, "enum": [None]}
    assert _conforms(assignee, None) == []
    assert _conforms(assignee, {"username": "r.quispe", "name": "Rosa Quispe"}) == []


def test_a_nullable_username_admits_null_once():
    assigned_to = published_schema()["components"]["schemas"]["CaseCreateRequest"]["properties"]["assigned_to"]
    assert _conforms(assigned_to, None) == [] and _conforms(assigned_to, "pe.caseworker") == []


def test_a_meeting_without_video_link_fits_the_schema():
    video_link = published_schema()["components"]["schemas"]["Meeting"]["properties"]["video_link"]
    assert _conforms(video_link, "") == []
    assert _conforms(video_link, "https://meet.example.org/comite") == []
    assert _conforms(video_link, "no es una dirección") != []


def test_djangos_username_help_text_is_not_published():
    assert [path for path, node in _nodes(published_schema())
            if "150 characters or fewer" in str(node.get("description", ""))] == []


def test_every_operation_lists_the_503_of_a_statement_timeout_with_retry_after():
    schema = published_schema()
    assert schema["components"]["headers"]["RetryAfter"]["schema"] == {"type": "integer", "minimum": 0}
    missing = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for code in ("429", "503"):
                response = operation["responses"].get(code, {})
                if response.get("headers", {}).get("Retry-After") != {"$ref": "#/components/headers/RetryAfter"}:
                    missing.append((method, path, code))
    assert missing == []


def test_the_schema_made_without_a_request_names_the_public_address(settings):
    assert published_schema()["servers"] == [{"url": settings.PUBLIC_BASE_URL,
                                              "description": "This installation of Puente."}]


def test_the_served_schema_names_the_host_it_was_asked_at(api_client, settings):
    settings.ALLOWED_HOSTS = ["puente.committee.example"]
    response = api_client.get("/api/v1/schema/?format=json", HTTP_HOST="puente.committee.example")
    assert response.status_code == 200
    assert response.json()["servers"] == [{"url": "http://puente.committee.example",
                                           "description": "This installation of Puente."}]


def test_the_calendar_feed_says_it_takes_no_token_and_every_other_operation_a_bearer_token():
    schema = published_schema()
    feed = schema["paths"]["/api/v1/calendars/{secret}.ics"]["get"]
    assert feed["security"] == []
    assert not {"401", "403"} & set(feed["responses"])
    [secret] = [parameter for parameter in feed["parameters"] if parameter["name"] == "secret"]
    assert "credential" in secret["description"]
    others = {(path, method): operation["security"] for path, item in schema["paths"].items()
              for method, operation in item.items() if operation is not feed}
    assert {str(security) for security in others.values()} == {str([{"bearerAuth": []}])}


def test_the_webhooks_are_published_with_every_event_type_and_the_signature_headers():
    schema = published_schema()
    webhooks = schema["x-webhooks"]
    assert set(webhooks) == {"event", "webhook.ping"}
    schemas = schema["components"]["schemas"]
    assert schemas["EventTypeEnum"]["enum"] == list(EventType.values)
    event = schemas["WebhookEvent"]
    assert event["required"] == ["data", "timestamp", "type"]
    assert event["properties"]["type"]["allOf"] == [{"$ref": "#/components/schemas/EventTypeEnum"}]
    assert "cursor" in schemas["WebhookEventData"]["required"]
    assert schemas["WebhookPingTypeEnum"]["enum"] == ["webhook.ping"]
    for item in webhooks.values():
        headers = [schema["components"]["parameters"][ref["$ref"].rsplit("/", 1)[1]]
                   for ref in item["post"]["parameters"]]
        assert [(header["in"], header["name"], header["required"]) for header in headers] == [
            ("header", "webhook-id", True), ("header", "webhook-timestamp", True),
            ("header", "webhook-signature", True)]
