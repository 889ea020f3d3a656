"""A partner's day, driven through the client generated from the OpenAPI
schema (package ``puente_api_client``): if the contract and the service drift
apart, a step fails here.

``make contract`` runs it against a fresh server; docs/api/contract.md says
how to run it by hand.

To extend it, write a ``step_…(ctx)`` function and add it to ``STEPS``; steps
share what they learn through ``ctx`` (a plain dict).
"""
import datetime
import os
import sys
import uuid

from puente_api_client import AuthenticatedClient
from puente_api_client.api.agencies import agencies_list
from puente_api_client.api.cases import cases_consents_create, cases_create, cases_retrieve
from puente_api_client.api.events import events_feed
from puente_api_client.api.handoffs import handoffs_accept_create, handoffs_create
from puente_api_client.api.me import me_retrieve
from puente_api_client.api.webhooks import webhooks_create, webhooks_list, webhooks_test
from puente_api_client.models import (
    AgenciesListCountry,
    BorderPointEnum,
    Case,
    CaseCreated,
    CaseCreateRequest,
    CaseLimited,
    Consent,
    ConsentInputRequest,
    ConsentMethodEnum,
    ConsentScopeEnum,
    CountryCodeEnum,
    DocumentTypeEnum,
    EventTypeEnum,
    FeedPage,
    FullAccessEnum,
    Handoff,
    HandoffCreateRequest,
    HandoffKindEnum,
    HandoffNoteRequest,
    HandoffStatusEnum,
    LegalBasisEnum,
    Me,
    NewMemberRequest,
    PaginatedAgencyList,
    PaginatedWebhookEndpointList,
    RelationshipEnum,
    SexEnum,
    VulnerabilitiesEnum,
    WebhookDelivery,
    WebhookEndpointInputRequest,
    WebhookEndpointWithSecret,
)
from puente_api_client.types import UNSET


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


def step_register_a_family_at_the_border(ctx):
    mother = NewMemberRequest(relationship=RelationshipEnum.HEAD, given_names="Yohana", family_names="Pérez Rojas",
                              sex=SexEnum.FEMALE, date_of_birth=datetime.date(1994, 5, 2),
                              nationality=CountryCodeEnum.VE, document_type=DocumentTypeEnum.PASSPORT,
                              document_country=CountryCodeEnum.VE, document_number=f"C-{uuid.uuid4().hex[:9]}")
    son = NewMemberRequest(relationship=RelationshipEnum.CHILD, given_names="Santiago", family_names="Pérez",
                           date_of_birth=datetime.date(2019, 11, 20), nationality=CountryCodeEnum.VE)
    body = CaseCreateRequest(members=[mother, son], summary="Familia en el paso Chacalluta–Santa Rosa.",
                             border_point=BorderPointEnum.CHACALLUTA_SANTA_ROSA,
                             vulnerabilities=[VulnerabilitiesEnum.FAMILY_WITH_CHILDREN])
    response = cases_create.sync_detailed(client=ctx["pe"], body=body, idempotency_key=str(uuid.uuid4()))
    case = expect(response, 201, CaseCreated)
    assert case.owner_agency == ctx["pe_agency"] and case.access == FullAccessEnum.OWNER, case
    assert case.reference.startswith("BC-") and case.member_count == 2, case
    ctx["case"] = case
    ctx["head"] = next(member.person for member in case.members if member.relationship == RelationshipEnum.HEAD)


def step_record_consent_to_share_across_the_border(ctx):
    body = ConsentInputRequest(scope=ConsentScopeEnum.SHARE_CROSS_BORDER, method=ConsentMethodEnum.WRITTEN,
                               given_at=datetime.datetime.now(datetime.UTC), given_by=ctx["head"])
    response = cases_consents_create.sync_detailed(ctx["case"].id, client=ctx["pe"], body=body,
                                                   idempotency_key=str(uuid.uuid4()))
    consent = expect(response, 201, Consent)
    assert consent.is_active and consent.given_by == ctx["head"], consent


def step_hand_the_case_across_the_border(ctx):
    body = HandoffCreateRequest(case=ctx["case"].id, to_agency=ctx["cl_agency"], kind=HandoffKindEnum.TRANSFER,
                                reason="La familia cruza a Arica para reunirse con un familiar.",
                                legal_basis=LegalBasisEnum.CONSENT)
    key = str(uuid.uuid4())
    handoff = expect(handoffs_create.sync_detailed(client=ctx["pe"], body=body, idempotency_key=key), 201, Handoff)
    assert handoff.status == HandoffStatusEnum.PENDING and handoff.is_cross_border, handoff
    assert (handoff.from_agency, handoff.to_agency) == (ctx["pe_agency"], ctx["cl_agency"]), handoff
    # A retry with the same key (a lost answer at a border post) gets the same handoff back, not a second one.
    retry = handoffs_create.sync_detailed(client=ctx["pe"], body=body, idempotency_key=key)
    assert expect(retry, 201, Handoff).id == handoff.id and retry.headers["Idempotent-Replayed"] == "true"
    # Until it accepts, Chile reads the limited view: nothing personal.
    limited = expect(cases_retrieve.sync_detailed(ctx["case"].id, client=ctx["cl"]), 200, CaseLimited)
    assert limited.reference == ctx["case"].reference, limited
    ctx["handoff"] = handoff


def step_accept_it_in_chile(ctx):
    body = HandoffNoteRequest(note="Recibidos en el complejo fronterizo Chacalluta.")
    response = handoffs_accept_create.sync_detailed(ctx["handoff"].id, client=ctx["cl"], body=body,
                                                    idempotency_key=str(uuid.uuid4()))
    handoff = expect(response, 200, Handoff)
    assert handoff.status == HandoffStatusEnum.ACCEPTED, handoff
    case = expect(cases_retrieve.sync_detailed(ctx["case"].id, client=ctx["cl"]), 200, Case)
    assert case.owner_agency == ctx["cl_agency"] and case.access == FullAccessEnum.OWNER, case


def _feed_after(client, after):
    """Every event after the cursor (from the start without one), and the cursor to store."""
    events = []
    while True:
        page = expect(events_feed.sync_detailed(client=client, after=after), 200, FeedPage)
        events += page.results
        after = page.next_
        if not page.has_more:
            return events, after


def step_both_sides_read_the_handoff_in_their_feeds(ctx):
    handoff_id = str(ctx["handoff"].id)
    for side, after in (("pe", ctx["pe_cursor"]), ("cl", UNSET)):
        events, after = _feed_after(ctx[side], after)
        about = [event for event in events if event.object_.type_ == "handoff" and event.object_.id == handoff_id]
        assert [event.type_ for event in about] == ["handoff.created", "handoff.accepted"], (side, about)
        assert {event.case_reference for event in about} == {ctx["case"].reference}, (side, about)
        ctx[f"{side}_cursor"] = after


STEPS = [
    step_who_am_i,
    step_list_agencies,
    step_read_the_feed_from_the_start,
    step_register_a_webhook,
    step_the_feed_goes_on_from_the_stored_cursor,
    step_register_a_family_at_the_border,
    step_record_consent_to_share_across_the_border,
    step_hand_the_case_across_the_border,
    step_accept_it_in_chile,
    step_both_sides_read_the_handoff_in_their_feeds,
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
