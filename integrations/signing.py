"""Standard Webhooks signatures (standardwebhooks.com).

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``; the key is
the base64 part of the ``whsec_`` secret; the header carries
``v1,<base64 HMAC-SHA256>``, several of them space-separated while an old
secret is still valid after a rotation."""
import base64
import hashlib
import hmac
import secrets as _secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the specification asks for at least 24
SIGNATURE_VERSION = "v1"
# Receivers should refuse messages whose timestamp is further off than this.
TOLERANCE_SECONDS = 5 * 60


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<signature>`` entry for the ``webhook-signature`` header."""
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def signature_header(secrets: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    return " ".join(sign(secret, message_id, timestamp, body) for secret in secrets)


def verify(secret: str, message_id: str, timestamp: int, body: bytes, header: str, *, now: int) -> bool:
    """What a receiver does (our tests use it as one): a fresh timestamp and
    at least one matching ``v1`` signature, compared in constant time."""
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    expected = sign(secret, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in header.split())
