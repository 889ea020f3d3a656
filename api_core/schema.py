"""OpenAPI post-processing for behaviour that lives outside the views: the
problem details (RFC 9457) any operation may answer with, so the contract lists
every status a client can meet and generated clients get a typed error; and the
``Idempotency-Key`` header every POST accepts."""
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .exceptions import PROBLEM_CONTENT_TYPE
from .idempotency import HEADER, KEY_CHARACTERS, KEY_MAX_LENGTH, REPLAYED_HEADER

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string", "format": "uri", "description": "Stable URI naming the problem."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "Stable machine-readable code."},
        "errors": {
            "type": "array",
            "description": "Per-field errors, for validation problems.",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string", "nullable": True},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["field", "code", "message"],
            },
        },
    },
    "required": ["type", "title", "status", "detail", "code"],
}

WRITE_METHODS = {"post", "put", "patch", "delete"}


def _descriptions():
    return {
        "400": _("Invalid input."),
        "401": _("Missing, invalid, expired or revoked token."),
        "403": _("Not allowed for the caller's role."),
        "404": _("No such resource, or not visible to the caller."),
        "406": _("None of the accepted media types can be produced."),
        "409": _("The object's current state forbids the change."),
        "413": _("The request body is too large."),
        "415": _("Unsupported request media type."),
        "422": _("A business rule refuses the change."),
        "429": _("Too many requests; see Retry-After."),
    }


def _problem_codes(method: str, operation: dict) -> list[str]:
    # 404 everywhere: an object that is not visible, and also a stale pagination cursor.
    codes = ["401", "403", "404", "406", "429"]
    parameters = operation.get("parameters", [])
    if parameters or "requestBody" in operation:
        codes.append("400")
    if "requestBody" in operation:
        codes += ["413", "415"]
    if method in WRITE_METHODS:
        codes += ["409", "422"]
    return codes


def _move_enum_varnames(schemas: dict) -> None:
    """``x-enum-varnames`` (names for generated enum members) belongs beside
    the enum; drf-spectacular's enum hook moves the enum to a component of its
    own and leaves the names behind on the property."""
    for component in schemas.values():
        for prop in component.get("properties", {}).values():
            names = prop.pop("x-enum-varnames", None) if "allOf" in prop else None
            if names:
                target = prop["allOf"][0]["$ref"].rsplit("/", 1)[-1]
                schemas[target]["x-enum-varnames"] = names


def add_problem_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook. Also drops the titles of parameter
    schemas: they are translated field labels, and client generators would
    turn them into type names that change with the server's language."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    _move_enum_varnames(schemas)
    schemas["Problem"] = PROBLEM_SCHEMA
    descriptions = _descriptions()
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                parameter.get("schema", {}).pop("title", None)
            responses = operation.setdefault("responses", {})
            for code in _problem_codes(method, operation):
                responses.setdefault(code, {
                    "description": str(descriptions[code]),
                    "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                })
    return result

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
