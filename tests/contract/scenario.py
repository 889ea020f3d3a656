"""A partner's day, driven through the client generated from the OpenAPI
schema (package ``puente_api_client``): if the contract and the service drift
apart, a step fails here.

``make contract`` runs it against a fresh server; docs/api/contract.md says
how to run it by hand.

To extend it, write a ``step_…(ctx)`` function and add it to ``STEPS``; steps
share what they learn through ``ctx`` (a plain dict).
"""
import os
import sys

from puente_api_client import AuthenticatedClient
from puente_api_client.api.agencies import agencies_list
from puente_api_client.api.events import events_feed
from puente_api_client.api.me import me_retrieve
from puente_api_client.api.webhooks import webhooks_create, webhooks_list, webhooks_test
from puente_api_client.models import (
    AgenciesListCountry,
    EventTypeEnum,
    FeedPage,
    Me,
    PaginatedAgencyList,
    PaginatedWebhookEndpointList,
    WebhookDelivery,
    WebhookEndpointInputRequest,
    WebhookEndpointWithSecret,
)


def client(token: str) -> AuthenticatedClient:
    return AuthenticatedClient(base_url=os.environ["PUENTE_BASE_URL"], token=token, raise_on_unexpected_status=True,
                               headers={"Accept-Language": "en"})


def expect(response, status: int, model):
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.content!r}"
    assert isinstance(response.parsed, model), f"expected {model.__name__}, got {type(response.parsed).__name__}"
    return response.parsed


def step_who_am_i(ctx):
    for side in ("pe", "cl"):
        me = expect(me_retrieve.sync_detailed(client=ctx[side]), 200, Me)
        assert me.agency is not None and "caseworker" in me.roles, me
        ctx[f"{side}_agency"] = me.agency.code


def step_list_agencies(ctx):
    response = agencies_list.sync_detailed(client=ctx["pe"], country=AgenciesListCountry.CL)
    page = expect(response, 200, PaginatedAgencyList)
    codes = [agency.code for agency in page.results]
    assert ctx["cl_agency"] in codes, codes


def step_read_the_feed_from_the_start(ctx):
    page = expect(events_feed.sync_detailed(client=ctx["pe"]), 200, FeedPage)
    while page.has_more:
        page = expect(events_feed.sync_detailed(client=ctx["pe"], after=page.next_), 200, FeedPage)
    ctx["pe_cursor"] = page.next_


def step_register_a_webhook(ctx):
    body = WebhookEndpointInputRequest(url="https://hooks.partner.example/puente", description="contract scenario",
                                       event_types=[EventTypeEnum.HANDOFF_CREATED, EventTypeEnum.HANDOFF_ACCEPTED])
    endpoint = expect(webhooks_create.sync_detailed(client=ctx["pe"], body=body), 201, WebhookEndpointWithSecret)
    assert endpoint.secret.startswith("whsec_") and endpoint.active, endpoint
    listed = expect(webhooks_list.sync_detailed(client=ctx["pe"]), 200, PaginatedWebhookEndpointList)
    assert endpoint.id in [item.id for item in listed.results]
    # The other side of the border does not see it.
    theirs = expect(webhooks_list.sync_detailed(client=ctx["cl"]), 200, PaginatedWebhookEndpointList)
    assert endpoint.id not in [item.id for item in theirs.results]
    ping = expect(webhooks_test.sync_detailed(client=ctx["pe"], id=endpoint.id), 202, WebhookDelivery)
    assert ping.event_type == "webhook.ping"
    ctx["webhook"] = endpoint


def step_the_feed_goes_on_from_the_stored_cursor(ctx):
    page = expect(events_feed.sync_detailed(client=ctx["pe"], after=ctx["pe_cursor"]), 200, FeedPage)
    assert all(event.id for event in page.results)
    ctx["pe_cursor"] = page.next_


STEPS = [
    step_who_am_i,
    step_list_agencies,
    step_read_the_feed_from_the_start,
    step_register_a_webhook,
    step_the_feed_goes_on_from_the_stored_cursor,
]


def main() -> int:
    ctx = {
        "pe": client(os.environ["PUENTE_TOKEN_PE"]),
        "cl": client(os.environ["PUENTE_TOKEN_CL"]),
        "secretariat": client(os.environ["PUENTE_TOKEN_SECRETARIAT"]),
    }
    for step in STEPS:
        try:
            step(ctx)
        except Exception as exc:  # report which step broke, then fail
            print(f"scenario: {step.__name__} FAILED: {exc!r}", flush=True)
            return 1
        print(f"scenario: {step.__name__} ok", flush=True)
    print(f"scenario: {len(STEPS)} steps passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
