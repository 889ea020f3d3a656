"""Outbound HTTP to partner systems, guarded against server-side request
forgery (OWASP API7).

A webhook URL is chosen by an agency, so without care it could make Puente
call its own database, the cloud metadata service or anything else on the
internal network. Two checks:

- when the URL is saved: https only (plain http only to localhost, and only
  where ``WEBHOOK_ALLOW_HTTP_LOCALHOST`` is set, for development), no
  credentials in it, and a literal address or ``localhost`` must be public;
  names are not resolved then, since an answer at that time proves nothing
  about the time of sending;
- when sending: the name is resolved, every address must be public, and the
  connection goes to the address that was checked (the name still drives TLS
  verification and the Host header), so a DNS answer that changes between
  the check and the connection cannot smuggle in an internal address.

Non-public means anything that is not globally routable: private ranges,
loopback, link-local (cloud metadata lives there), shared, reserved and
multicast addresses, deprecated IPv6 forms (IPv4-compatible, site-local), and
IPv4 hidden inside IPv6 (mapped, 6to4, Teredo, local NAT64; the well-known
NAT64 prefix only to a public IPv4 address). ``WEBHOOK_ALLOWED_NETWORKS``
lists networks that are let through anyway; production leaves it empty.
"""
import ipaddress
import logging
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from api_core.errors import InvalidInput

logger = logging.getLogger(__name__)

USER_AGENT = "Puente-Webhooks/1.0"
# The one error a partner reads when the target may not be called or cannot be resolved.
REFUSED = "refused: the address cannot be resolved or is not a public one"
LOCALHOST_NAMES = ("localhost", "localhost.localdomain")


class TargetRefused(Exception):
    """The target resolves to an address Puente may not call."""


def _setting(name):
    return settings.PUENTE[name]


def _allowed_networks():
    return [ipaddress.ip_network(net, strict=False) for net in _setting("WEBHOOK_ALLOWED_NETWORKS")]


# IPv6 forms that carry an IPv4 address, or that no public host uses.
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known prefix: the IPv4 address in the last 32 bits
REFUSED_V6 = [ipaddress.ip_network(net) for net in (
    "64:ff9b:1::/48",  # local-use NAT64: whatever IPv4 a local translator chooses
    "::/96",  # IPv4-compatible (deprecated): ::10.0.0.1
    "fec0::/10",  # site-local (deprecated): an internal network
    "2002::/16",  # 6to4: an IPv4 address in bits 16-48
    "2001::/32",  # Teredo: an IPv4 address, obfuscated, in the last 32 bits
)]


def address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if any(ip in network for network in _allowed_networks()):
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped or any(ip in network for network in REFUSED_V6):
            return False
        if ip in NAT64:
            # A public IPv4 host reached through the standard translator is fine; the
            # translator must not become a way to the IPv4 addresses refused directly.
            return address_allowed(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
    return ip.is_global and not ip.is_multicast


def _is_localhost(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host in LOCALHOST_NAMES or host.endswith(".localhost")


def _literal_ip(host: str):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def check_url(url: str) -> None:
    """Creation-time checks of a webhook URL; raises ``InvalidInput`` on the ``url`` field."""

    def refuse(message, code):
        raise InvalidInput(message, code=code, field="url")

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        refuse(_("Not a valid URL."), "invalid_url")
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in ("https", "http") or not host or any(c.isspace() for c in url):
        refuse(_("Not a valid URL: give an absolute https:// address."), "invalid_url")
    if parts.username is not None or parts.password is not None:
        refuse(_("The URL must not contain a user name or password."), "invalid_url")
    if parts.fragment:
        refuse(_("The URL must not contain a fragment (#…)."), "invalid_url")
    if port == 0:
        refuse(_("Not a valid URL."), "invalid_url")
    literal = _literal_ip(host)
    local = _is_localhost(host) or (literal is not None and literal.is_loopback)
    if parts.scheme == "http" and not (local and _setting("WEBHOOK_ALLOW_HTTP_LOCALHOST")):
        refuse(_("The URL must use https."), "insecure_url")
    if _is_localhost(host):
        literal = ipaddress.ip_address("127.0.0.1")
    if literal is not None and not address_allowed(str(literal)):
        refuse(_("The URL points to a private or internal address."), "forbidden_target")


def resolve_target(host: str, port: int) -> str:
    """A checked address to connect to for ``host``; raises ``TargetRefused``."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"cannot resolve {host}: {exc}") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    refused = [address for address in addresses if not address_allowed(address)]
    if not addresses or refused:
        # All or nothing: a name that also points inside is not called at all.
        raise TargetRefused(f"{host} resolves to a non-public address ({', '.join(refused)})")
    return addresses[0]


@dataclass
class Outcome:
    status: int | None
    error: str
    duration_ms: int


def post(url: str, *, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST ``body`` to ``url`` through the SSRF guard. Never raises for
    network trouble: the outcome carries the status or the error."""
    started = time.monotonic()

    def outcome(status=None, error=""):
        return Outcome(status, error[:300], int((time.monotonic() - started) * 1000))

    try:
        check_url(url)
        parts = urlsplit(url)
        host = parts.hostname.rstrip(".")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = resolve_target(host, port)
    except (InvalidInput, TargetRefused) as exc:
        # What a name resolves to (or whether it resolves at all) is a map of
        # the network Puente runs in: the details go to the server log only,
        # the partner reads one answer for every refusal.
        logger.warning("Webhook target refused: %s", getattr(exc, "message", exc))
        return outcome(error=REFUSED)

    netloc = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = parts.netloc.rsplit("@", 1)[-1]
    request_headers = {**headers, "Host": host_header, "User-Agent": USER_AGENT}
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    timeout = httpx.Timeout(_setting("WEBHOOK_TIMEOUT_SECONDS"), connect=min(5.0, _setting("WEBHOOK_TIMEOUT_SECONDS")))
    try:
        # trust_env=False: a proxy from the environment would bypass the address check.
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client, \
                client.stream("POST", pinned, content=body, headers=request_headers,
                              extensions=extensions) as response:
            return outcome(status=response.status_code)
    except httpx.TimeoutException:
        return outcome(error="timeout")
    except httpx.HTTPError as exc:
        # The message may name the address connected to; the class says enough.
        logger.warning("Webhook delivery to %s failed: %s: %s", host, exc.__class__.__name__, exc)
        return outcome(error=f"connection failed ({exc.__class__.__name__})")
