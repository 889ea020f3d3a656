"""Validate bodies against the published schema, as the contract fuzzer does:
so a test can show that what the schema accepts and what the server accepts
(or answers) are the same thing."""
import copy
import functools

import jsonschema
from drf_spectacular.settings import spectacular_settings


@functools.cache
def published_schema() -> dict:
    """The schema as ``/api/v1/schema/`` serves it (the configured generator)."""
    return spectacular_settings.DEFAULT_GENERATOR_CLASS().get_schema(request=None, public=True)


HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def operations():
    """(path, method, operation) of every operation the schema publishes."""
    for path, item in published_schema()["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def strings_under(node, keys, *, skip=()):
    """Every string held under one of ``keys``, anywhere in a schema (not inside ``skip``)."""
    if isinstance(node, dict):
        for name, value in node.items():
            if name in skip:
                continue
            if name in keys and isinstance(value, str):
                yield value
            else:
                yield from strings_under(value, keys, skip=skip)
    elif isinstance(node, list):
        for item in node:
            yield from strings_under(item, keys, skip=skip)


def _as_json_schema(node):
    """OpenAPI 3.0 ``nullable`` in JSON Schema terms; the rest is the same."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _as_json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        node = {"anyOf": [node, {"type": "null"}]}
    return node


def validator(component: str) -> jsonschema.Draft7Validator:
    """A validator for ``#/components/schemas/<component>`` of the published schema."""
    components = _as_json_schema(copy.deepcopy(published_schema()["components"]))
    return jsonschema.Draft7Validator({"$ref": f"#/components/schemas/{component}", "components": components},
                                      format_checker=jsonschema.FormatChecker())


def conforms(component: str, body) -> bool:
    return validator(component).is_valid(body)
