"""OpenAPI post-processing for behaviour that lives outside the views: the
problem details (RFC 9457) any operation may answer with, so the contract lists
every status a client can meet and generated clients get a typed error; and the
``Idempotency-Key`` header every POST accepts; and what each list filter
accepts. Imported when the app is ready, so the extension below is known
before any schema is generated."""
import functools

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.validators import RegexValidator, validate_slug
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular import generators, openapi
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.plumbing import force_instance, is_list_serializer, is_serializer
from drf_spectacular.settings import spectacular_settings
from rest_framework import serializers

from .exceptions import PROBLEM_CONTENT_TYPE
from .fields import NON_BLANK_TEXT_PATTERN, SlugRelatedField
from .filters import FilterSet
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
        "412": _("`If-Match` does not match the current ETag: read again, reapply, retry."),
        "413": _("The request body is too large."),
        "415": _("Unsupported request media type."),
        "422": _("A business rule refuses the change."),
        "429": _("Too many requests; see Retry-After."),
        "503": _("The request took too long and was stopped (`statement_timeout`); retry after Retry-After "
                 "seconds, or narrow it."),
    }


def _problem_codes(method: str, operation: dict) -> list[str]:
    # 404 everywhere: an object that is not visible, and also a stale pagination cursor.
    # An operation without security (the secret calendar address) checks no token or role.
    codes = ["404", "406", "429", "503"]
    if operation.get("security") != []:
        codes += ["401", "403"]
    parameters = operation.get("parameters", [])
    if parameters or "requestBody" in operation:
        codes.append("400")
    if "requestBody" in operation:
        codes += ["413", "415"]
    if method in WRITE_METHODS:
        codes += ["409", "422"]
    if any(parameter.get("in") == "header" and parameter.get("name", "").lower() == "if-match"
           for parameter in parameters):
        codes.append("412")
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
    _fix_pagination_examples(schemas)
    result.setdefault("components", {}).setdefault("headers", {})[RETRY_AFTER_COMPONENT] = RETRY_AFTER_HEADER
    descriptions = _descriptions()
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            # The root names no security; an operation without any says so
            # (``security: []``) instead of leaving a reader to guess.
            operation.setdefault("security", [])
            for parameter in operation.get("parameters", []):
                parameter.get("schema", {}).pop("title", None)
                parameter.get("schema", {}).get("items", {}).pop("title", None)
            responses = operation.setdefault("responses", {})
            for code in _problem_codes(method, operation):
                responses.setdefault(code, {"description": str(descriptions[code])})
            for code, response in responses.items():
                # An error a view describes in words only still comes as problem details.
                if code[0] in "45" and "content" not in response and "$ref" not in response:
                    response["content"] = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
                # 429 and 503 always say when to come back; a 409 of an idempotent
                # request still running does too (api_core.idempotency).
                if code in RETRY_AFTER_CODES and "$ref" not in response:
                    response.setdefault("headers", {})["Retry-After"] = {
                        "$ref": f"#/components/headers/{RETRY_AFTER_COMPONENT}"}
    return result


RETRY_AFTER_COMPONENT = "RetryAfter"
RETRY_AFTER_CODES = {"409", "429", "503"}
RETRY_AFTER_HEADER = {
    "description": "Seconds to wait before sending the request again.",
    "schema": {"type": "integer", "minimum": 0},
}

# DRF's pagination schema ends its example link in a stray quote, which breaks
# its own ``format: uri``; the example below is the shape our cursors have.
PAGINATION_EXAMPLES = {
    "next": "https://puente.example.org/api/v1/cases/?cursor=gAAAAABpZ3VlbnRlLWV4YW1wbGUtY3Vyc29y",
    "previous": None,
}


def _fix_pagination_examples(schemas: dict) -> None:
    for name, component in schemas.items():
        properties = component.get("properties", {})
        if name.startswith("Paginated") and {"next", "previous", "results"} <= set(properties):
            for link, example in PAGINATION_EXAMPLES.items():
                properties[link].pop("example", None)
                if example is not None:
                    properties[link]["example"] = example


def include_webhook_components(result, generator, request, public):
    """drf-spectacular postprocessing hook, the first: drf-spectacular builds
    the components before it reads the webhooks, so their schemas are only in
    the registry until it is built again, here, before the enum hook."""
    result["components"] = generator.registry.build(spectacular_settings.APPEND_COMPONENTS)
    return result


def document_servers_and_webhooks(result, generator, request, public):
    """drf-spectacular postprocessing hook. ``servers``: the address the
    schema was asked at (the same installation serves it and the API), else
    ``PUBLIC_BASE_URL``. Webhooks: OpenAPI 3.0 has no ``webhooks`` (3.1 has),
    so they go under ``x-webhooks``, which Redocly and Swagger tools read,
    each with the Standard Webhooks headers."""
    base = request.build_absolute_uri("/").rstrip("/") if request is not None else settings.PUBLIC_BASE_URL
    result["servers"] = [{"url": base, "description": "This installation of Puente."}]
    webhooks = result.pop("webhooks", None)
    if not webhooks:
        return result
    parameters = result.setdefault("components", {}).setdefault("parameters", {})
    for name, parameter in WEBHOOK_HEADERS.items():
        parameters[name] = parameter
    for item in webhooks.values():
        for operation in item.values():
            operation["parameters"] = [{"$ref": f"#/components/parameters/{name}"} for name in WEBHOOK_HEADERS]
            operation["security"] = []
    result["x-webhooks"] = webhooks
    return result


WEBHOOK_HEADERS = {
    "WebhookId": {
        "name": "webhook-id", "in": "header", "required": True,
        "description": "The message's id, the same on every retry: deduplicate on it.",
        "schema": {"type": "string", "minLength": 1},
    },
    "WebhookTimestamp": {
        "name": "webhook-timestamp", "in": "header", "required": True,
        "description": "When this attempt was signed, in seconds since 1970 (UTC). Refuse a message more than "
                       "five minutes off your clock.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "WebhookSignature": {
        "name": "webhook-signature", "in": "header", "required": True,
        "description": "Space-separated `v1,<base64 HMAC-SHA256>` signatures of `webhook-id.webhook-timestamp.body`, "
                       "keyed with the base64 part of the endpoint's `whsec_` secret (Standard Webhooks). Two "
                       "while an old secret is still valid after a rotation: accept the message if one matches.",
        "schema": {"type": "string", "pattern": r"^v1,[A-Za-z0-9+/]+={0,2}( v1,[A-Za-z0-9+/]+={0,2})*$"},
    },
}

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


def ecma_pattern(pattern: str) -> str:
    """A Python regular expression as JSON Schema writes it (as drf-spectacular
    does for serializer fields)."""
    pattern = pattern.encode("ascii", "backslashreplace").decode().replace(r"\x", r"\u00")
    return pattern.replace(r"\Z", "$").replace(r"\A", "^")


class StrictFilterExtension(DjangoFilterExtension):
    """Filter parameters as ``api_core.filters.FilterSet`` takes them: a free
    text parameter must hold some text (a blank one is refused), no NUL, and
    keep to its length and pattern."""

    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        parameters = super().resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
        if not issubclass(filterset_class, FilterSet):
            return parameters
        form_field = filter_field.field
        for parameter in parameters:
            schema = parameter["schema"]
            schema = schema.get("items", schema) if schema.get("type") == "array" else schema
            if schema.get("type") != "string" or {"enum", "format", "pattern"} & set(schema):
                continue
            patterns = [ecma_pattern(v.regex.pattern) for v in form_field.validators if isinstance(v, RegexValidator)]
            schema["pattern"] = patterns[0] if patterns else NON_BLANK_TEXT_PATTERN
            schema["minLength"] = max(1, getattr(form_field, "min_length", None) or 0)
            if getattr(form_field, "max_length", None):
                schema["maxLength"] = form_field.max_length
        return parameters


SCHEMA_LANGUAGE = "en"


class SchemaGenerator(generators.SchemaGenerator):
    """The contract in one language, whatever the caller's: the summaries and
    descriptions are written in English, and the translated labels, help texts
    and enum names would otherwise follow ``Accept-Language`` (or the default,
    Spanish) and mix two languages in one document."""

    def get_schema(self, request=None, public=False):
        with translation.override(SCHEMA_LANGUAGE):
            return super().get_schema(request=request, public=public)


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, plus what the server enforces and the generator
    leaves out: the size limits of nested lists (``many=True`` with
    ``allow_empty=False`` or ``max_length``); a body that is required because
    its serializer has required fields, even when an extension describes it
    (``oneOf``); the pattern of codes and usernames naming other objects; and
    the empty string of read-only choices that may be blank. An operation's
    description is only what its ``extend_schema`` says: docstrings are written
    for the code's readers, not for partners."""

    def get_description(self):
        return ""

    def _get_request_for_media_type(self, serializer, direction="request"):
        schema, required = super()._get_request_for_media_type(serializer, direction)
        serializer = force_instance(serializer)
        if (not required and self.method != "PATCH" and is_serializer(serializer)
                and not is_list_serializer(serializer)):
            required = any(field.required and not field.read_only for field in serializer.fields.values())
        return schema, required

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if schema is not None and schema.get("description") == _django_username_help_text():
            # Django's sign-up rule for the username ("Required. 150 characters or
            # fewer…"), written for the admin's form, not for a field naming a user.
            del schema["description"]
        if schema is not None and _is_single_ref(schema) and schema.get("nullable"):
            # OpenAPI 3.0 ignores ``nullable`` beside a reference (it needs a ``type``).
            ref = schema.pop("allOf", None) or [{"$ref": schema.pop("$ref")}]
            del schema["nullable"]
            schema = {"oneOf": [*ref, dict(NULL_SCHEMA)], **schema}
        if (schema is not None and direction == "response" and schema.get("type") == "string"
                and "format" in schema and "oneOf" not in schema and _model_field_is_blank(field)):
            # A read-only URL or email the model lets be blank comes as "".
            schema = _blank_or(schema)
        if schema is not None and is_list_serializer(field) and schema.get("type") == "array":
            minimum = max(field.min_length or 0, 0 if field.allow_empty else 1)
            if minimum:
                schema["minItems"] = minimum
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
        if (schema is not None and direction == "request" and isinstance(field, SlugRelatedField)
                and schema.get("type") == "string" and "pattern" not in schema):
            schema["pattern"] = _slug_pattern(field)
        if (schema is not None and direction == "response" and isinstance(field, serializers.ChoiceField)
                and "enum" in schema and "" not in schema["enum"] and _model_field_is_blank(field)):
            schema["enum"] = [*schema["enum"], ""]
        return schema


    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        if "oneOf" in schema and schema["oneOf"][-1] == BLANK_SCHEMA:
            _fix_blank_alternative(schema)


# The value ``null`` in OpenAPI 3.0, which has no null type: a type that allows
# null (``nullable`` needs a ``type`` beside it) and no other value.
NULL_SCHEMA = {"type": "object", "nullable": True, "enum": [None]}
# drf-spectacular's alternative for the empty string of a text with a pattern or a format.
BLANK_SCHEMA = {"type": "string", "maxLength": 0}
_OUTER_KEYS = {"readOnly", "writeOnly", "deprecated", "description", "title"}


def _is_single_ref(schema: dict) -> bool:
    return "$ref" in schema or (len(schema.get("allOf", [])) == 1 and "$ref" in schema["allOf"][0])


def _blank_or(schema: dict) -> dict:
    inner = {key: value for key, value in schema.items() if key not in _OUTER_KEYS | {"nullable"}}
    outer = {key: value for key, value in schema.items() if key in _OUTER_KEYS | {"nullable"}}
    outer["oneOf"] = [inner, dict(BLANK_SCHEMA)]
    _fix_blank_alternative(outer)
    return outer


def _fix_blank_alternative(schema: dict) -> None:
    """drf-spectacular offers the empty string as ``oneOf: [text, {maxLength: 0}]``
    and leaves ``default`` in the first branch (where ``""`` breaks its pattern)
    and ``nullable`` outside (where OpenAPI 3.0 ignores it, as there is no
    ``type``). The default belongs to the whole field; null joins the empty
    branch, so that it matches exactly one."""
    first = schema["oneOf"][0]
    if "format" in first and "pattern" not in first and not first.get("minLength"):
        # A validator that does not check the format would find "" in both branches.
        first["minLength"] = 1
    for key in ("default", "example"):
        if key in first:
            schema[key] = first.pop(key)
    if schema.pop("nullable", False):
        schema["oneOf"][-1] = {**schema["oneOf"][-1], "nullable": True}


@functools.cache
def _django_username_help_text() -> str:
    from django.contrib.auth import get_user_model

    with translation.override(SCHEMA_LANGUAGE):
        return str(get_user_model()._meta.get_field("username").help_text)


def _slug_pattern(field) -> str:
    """What a code or username may look like: the slug pattern for a slug, any
    text that is not blank otherwise."""
    model_field = field.get_queryset().model._meta.get_field(field.slug_field)
    if isinstance(model_field, models.SlugField):
        return ecma_pattern(validate_slug.regex.pattern)
    return NON_BLANK_TEXT_PATTERN


def _model_field_is_blank(field) -> bool:
    """Whether a serializer field reads a model field that may be blank. DRF
    leaves ``allow_blank`` off read-only fields, so the schema would promise a
    choice where an empty string can come."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source:
        return False
    try:
        return model._meta.get_field(field.source).blank
    except FieldDoesNotExist:
        return False
