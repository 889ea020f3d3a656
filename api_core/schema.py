"""OpenAPI post-processing for behaviour that lives outside the views."""
from django.conf import settings

from .idempotency import HEADER, KEY_CHARACTERS, KEY_MAX_LENGTH, REPLAYED_HEADER

IDEMPOTENCY_KEY_PARAMETER = "IdempotencyKey"
REPLAYED_HEADER_COMPONENT = "IdempotentReplayed"


def document_idempotency_key(result, generator, request, public):
    """Add the ``Idempotency-Key`` request header and the ``Idempotent-Replayed``
    response header to every POST operation; ``api_core.idempotency`` handles
    them for every POST, so no view declares them."""
    hours = int(settings.PUENTE["IDEMPOTENCY_KEY_TTL"].total_seconds() // 3600)
    posts = [operations["post"] for operations in result.get("paths", {}).values() if "post" in operations]
    if not posts:
        return result
    components = result.setdefault("components", {})
    components.setdefault("parameters", {})[IDEMPOTENCY_KEY_PARAMETER] = {
        "name": HEADER,
        "in": "header",
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": KEY_MAX_LENGTH, "pattern": KEY_CHARACTERS},
        "description": (
            "A unique value (a UUID is a good choice) that makes retrying this request safe. "
            "The same key with the same request returns the first answer again, with "
            "`Idempotent-Replayed: true`, and changes nothing. The same key with a different "
            "request is refused with 422 `idempotency_key_reused`; while the first request is "
            "still running, a retry gets 409 `idempotency_request_in_progress`. Answers with a "
            f"5xx status free the key. Keys are remembered per user for {hours} hours."
        ),
    }
    components.setdefault("headers", {})[REPLAYED_HEADER_COMPONENT] = {
        "description": "`true` when this is the stored answer to an earlier request with the same Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    }
    for operation in posts:
        operation.setdefault("parameters", []).append({"$ref": f"#/components/parameters/{IDEMPOTENCY_KEY_PARAMETER}"})
        for response in operation.get("responses", {}).values():
            if "$ref" not in response:
                response.setdefault("headers", {})[REPLAYED_HEADER] = {
                    "$ref": f"#/components/headers/{REPLAYED_HEADER_COMPONENT}"
                }
    return result
