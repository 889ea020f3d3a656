"""The OpenAPI schema is built once per process for each version, language
and format, not on every request."""
import pytest
from django.utils import translation
from rest_framework.test import APIClient

from api_core import schema, views


@pytest.fixture
def builds(monkeypatch):
    """The language of each build of the schema, in order."""
    views.forget_built_schemas()
    seen = []
    original = schema.SchemaGenerator.get_schema

    def counted(generator, request=None, public=False):
        seen.append(translation.get_language())
        return original(generator, request=request, public=public)

    monkeypatch.setattr(schema.SchemaGenerator, "get_schema", counted)
    yield seen
    views.forget_built_schemas()


def get(accept="application/json", language="es", **params):
    return APIClient().get("/api/v1/schema/", params, HTTP_ACCEPT=accept, HTTP_ACCEPT_LANGUAGE=language)


@pytest.mark.django_db
class TestSchemaCache:
    def test_the_second_request_does_not_build_it_again(self, builds):
        first, second = get(), get()
        assert first.status_code == second.status_code == 200
        assert second.content == first.content and first.json()["openapi"].startswith("3.")
        assert second["Content-Type"] == first["Content-Type"]
        assert second["Content-Disposition"] == first["Content-Disposition"]
        assert second["Content-Language"] == "en"
        assert builds == ["es"]

    def test_spanish_and_english_are_built_and_kept_apart(self, builds):
        """Each language its own build (the schema's text is English whatever
        the caller's, api_core.schema; the cache must not decide that)."""
        get(language="es"), get(language="en"), get(language="es"), get(language="en")
        get(lang="en")  # ?lang= picks the language as Accept-Language does
        assert builds == ["es", "en"]

    def test_json_and_yaml_are_kept_apart(self, builds):
        as_json, as_yaml = get(), get(accept="application/vnd.oai.openapi")
        assert as_json["Content-Type"].startswith("application/json")
        assert as_yaml["Content-Type"].startswith("application/vnd.oai.openapi")
        assert as_yaml.content.startswith(b"openapi:")
        assert get(accept="application/vnd.oai.openapi").content == as_yaml.content and len(builds) == 2

    def test_a_changed_setting_builds_it_again(self, builds, settings):
        get()
        settings.PUENTE = {**settings.PUENTE, "SEARCH_MAX_WORDS": 3}
        get()
        assert builds == ["es", "es"]
