"""What a partner learns from a webhook that was not delivered: that it was
refused or failed, never what a name resolves to inside Puente's network
(the details are in the server log). And the address check knows every IPv6
form that carries an IPv4 address or no public host."""
import logging
import socket

import pytest

from integrations import outbound
from integrations.models import WebhookAttempt

from .test_delivery import fan_out_and_send

INTERNAL_NAME = "intranet.partner.example"
INTERNAL_ADDRESS = "10.77.3.9"


@pytest.fixture
def internal_dns(monkeypatch):
    """A name that resolves to an address inside the network Puente runs in."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host == INTERNAL_NAME:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (INTERNAL_ADDRESS, 443))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.django_db
class TestDeliveryErrors:
    def test_a_refused_target_does_not_tell_the_partner_where_a_name_points(
            self, internal_dns, pe_agency, pe_caseworker, make_endpoint, make_event, webhook_settings, client_for,
            caplog):
        webhook_settings(WEBHOOK_ALLOWED_NETWORKS=[])
        endpoint = make_endpoint(pe_agency, url=f"https://{INTERNAL_NAME}/hook")
        make_event("case.created", pe_agency)
        with caplog.at_level(logging.WARNING, logger="integrations.outbound"):
            assert fan_out_and_send(endpoint) == ["pending"]
        attempt = WebhookAttempt.objects.get()
        assert attempt.response_status is None and attempt.error == outbound.REFUSED
        body = client_for(pe_caseworker).get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/").content.decode()
        assert outbound.REFUSED in body
        assert INTERNAL_ADDRESS not in body and "10." not in attempt.error and "resolves" not in body
        # The operator still sees why.
        assert any(INTERNAL_ADDRESS in record.getMessage() for record in caplog.records)

    def test_a_name_that_does_not_resolve_reads_the_same_as_a_refused_one(
            self, pe_agency, make_endpoint, make_event, webhook_settings):
        """Otherwise "cannot resolve" against "refused" tells which internal names exist."""
        webhook_settings(WEBHOOK_ALLOWED_NETWORKS=[])
        endpoint = make_endpoint(pe_agency, url="https://no-such-host.invalid/hook")
        make_event("case.created", pe_agency)
        assert fan_out_and_send(endpoint) == ["pending"]
        assert WebhookAttempt.objects.get().error == outbound.REFUSED

    def test_a_connection_error_names_no_address(self, pe_agency, make_endpoint, make_event):
        endpoint = make_endpoint(pe_agency, url="http://127.0.0.1:9/nothing-listens-here")
        make_event("case.created", pe_agency)
        assert fan_out_and_send(endpoint) == ["pending"]
        error = WebhookAttempt.objects.get().error
        assert error == "connection failed (ConnectError)" and "127.0.0.1" not in error


@pytest.mark.parametrize("address", [
    "64:ff9b::a00:1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::c0a8:101",  # NAT64 of private IPv4
    "64:ff9b:1::808:808", "64:ff9b:1::a00:1",  # local-use NAT64, whatever it embeds
    "::a00:1", "::7f00:1", "::808:808",  # IPv4-compatible
    "fec0::1", "fec0:1::1234",  # site-local
    "2002:a00:1::1", "2002:c0a8:101::1", "2002:7f00:1::",  # 6to4 of private IPv4
    "2001:0:4136:e378:8000:63bf:f5ff:fffe", "2001::ffff:f5ff:fffe",  # Teredo (client 10.0.0.1)
])
def test_ipv6_forms_of_inner_addresses_are_refused(settings, address):
    settings.PUENTE = {**settings.PUENTE, "WEBHOOK_ALLOWED_NETWORKS": []}
    assert not outbound.address_allowed(address)


def test_nat64_of_a_public_address_passes(settings):
    settings.PUENTE = {**settings.PUENTE, "WEBHOOK_ALLOWED_NETWORKS": []}
    assert outbound.address_allowed("64:ff9b::808:808")  # 8.8.8.8 through the standard translator
    assert outbound.address_allowed("2606:4700:4700::1111")
