"""The API documentation as a partner reads it: every operation explained and
tagged, every tag described and placed in ReDoc's menu, one language per
document, the partner guide named, and pages that ask no other host for
anything (agencies read them offline)."""
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.openapi import operations, published_schema, strings_under

ROOT = Path(__file__).resolve().parents[1]
URL = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""")


class TestTheSchema:
    def test_every_operation_has_a_summary_a_description_and_a_tag(self):
        lacking = [(method, path) for path, method, operation in operations()
                   if not (operation.get("summary", "").strip() and operation.get("description", "").strip()
                           and operation.get("tags"))]
        assert lacking == []

    def test_no_description_is_a_docstring_for_the_code(self):
        """Docstrings speak of the code (``serializer_class``…); partners read the descriptions."""
        assert [(method, path) for path, method, operation in operations() if "``" in operation["description"]] == []

    def test_every_tag_used_is_declared_with_a_description(self):
        declared = {tag["name"]: tag.get("description", "") for tag in published_schema()["tags"]}
        used = {tag for _, _, operation in operations() for tag in operation["tags"]}
        assert used - set(declared) == set()
        assert [name for name, description in declared.items() if not description.strip()] == []
        assert set(declared) - used == set(), "a declared tag no operation uses"

    def test_the_tags_come_in_a_partners_order(self):
        names = [tag["name"] for tag in published_schema()["tags"]]
        assert names[:3] == ["cases", "people", "handoffs"]
        assert names.index("meetings") < names.index("statistics") < names.index("data-requests") \
            < names.index("events") < names.index("webhooks") < names.index("me")

    def test_every_tag_is_in_exactly_one_group_of_the_menu(self):
        """ReDoc leaves a tag that is in no ``x-tagGroups`` group out of its menu."""
        grouped = [tag for group in published_schema()["x-tagGroups"] for tag in group["tags"]]
        assert sorted(grouped) == sorted(tag["name"] for tag in published_schema()["tags"])

    def test_the_description_names_the_partner_guide_which_exists(self):
        description = published_schema()["info"]["description"]
        named = re.findall(r"`(docs/[^`]+\.md)`", description)
        assert "docs/api/README.md" in named
        assert [path for path in named if not (ROOT / path).is_file()] == []
        for name in re.findall(r"`([a-z]+\.md)`", description):
            assert (ROOT / "docs" / "api" / name).is_file(), name

    def test_the_description_links_nowhere_it_cannot_reach(self):
        """The docs are read offline: no link out of the server, and no relative link that would 404."""
        description = published_schema()["info"]["description"]
        assert URL.findall(description) == []
        assert re.findall(r"\]\(", description) == []


@pytest.mark.django_db
class TestOneLanguage:
    def test_the_schema_is_the_same_english_document_whatever_the_callers_language(self, api_client):
        answers = {language: api_client.get("/api/v1/schema/", HTTP_ACCEPT="application/json",
                                            HTTP_ACCEPT_LANGUAGE=language)
                   for language in ("es", "en")}
        answers["lang=es"] = api_client.get("/api/v1/schema/?lang=es", HTTP_ACCEPT="application/json")
        for response in answers.values():
            assert response.status_code == 200
            assert response["Content-Language"] == "en"
        assert answers["es"].json() == answers["en"].json() == answers["lang=es"].json()

    def test_its_words_are_english_ones(self, api_client):
        """Descriptions, summaries and titles that have a Spanish translation come in English.
        (Example values stay as a Peruvian caseworker would write them: they are data.)"""
        schema = api_client.get("/api/v1/schema/", HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="es").json()
        words = " ".join(strings_under(schema, ("description", "summary", "title"), skip=("examples",)))
        for spanish in ("Número de resultados", "Token ausente", "La familia: exactamente", "Pendiente", "Perú"):
            assert spanish not in words, spanish
        for english in ("Number of results to return per page.", "Missing, invalid, expired or revoked token.",
                        "The family: exactly one", "To do"):
            assert english in words, english

    @pytest.mark.parametrize("page", ["/api/v1/redoc/", "/api/v1/docs/"])
    def test_the_docs_pages_say_they_are_in_english(self, api_client, page):
        response = api_client.get(page, HTTP_ACCEPT_LANGUAGE="es")
        assert response.status_code == 200
        assert response["Content-Language"] == "en"


class _Sources(HTMLParser):
    """Every address an HTML page makes the browser load or link."""

    def __init__(self):
        super().__init__()
        self.addresses, self.scripts = [], []

    def handle_starttag(self, tag, attrs):
        self.addresses += [value for name, value in attrs if name in ("src", "href", "action") and value]

    def handle_data(self, data):
        self.scripts.append(data)


def _other_hosts(html: str) -> list[str]:
    parser = _Sources()
    parser.feed(html)
    found = [address for address in parser.addresses if re.match(r"(?:https?:)?//", address)]
    found += [url for text in parser.scripts for url in URL.findall(text)]
    return [address for address in found if not re.match(r"(?:https?:)?//testserver(?:[:/]|$)", address)]


@pytest.mark.django_db
class TestNothingFromAnotherHost:
    @pytest.mark.parametrize("page", ["/api/v1/redoc/", "/api/v1/docs/"])
    def test_the_page_names_no_other_host(self, api_client, page):
        response = api_client.get(page)
        assert response.status_code == 200
        html = response.content.decode()
        assert "<script" in html  # the page was parsed, not an error body
        assert _other_hosts(html) == []

    def test_the_check_sees_the_stock_redoc_pages_fonts(self):
        """What the check is for: drf-spectacular's own page loads Google's fonts."""
        from django.template.loader import render_to_string

        stock = render_to_string("drf_spectacular/redoc.html", {"redoc_standalone": "/static/redoc.js",
                                                                 "schema_url": "/api/v1/schema/", "settings": "{}"})
        assert any("fonts.googleapis.com" in address for address in _other_hosts(stock))

    def test_redoc_is_told_to_use_the_systems_fonts(self, api_client):
        html = api_client.get("/api/v1/redoc/").content.decode()
        assert "system-ui" in html
        assert "Montserrat" not in html and "fonts.g" not in html

    @pytest.mark.parametrize("page", ["/api/v1/redoc/", "/api/v1/docs/"])
    def test_the_browser_is_told_to_load_from_the_server_only(self, api_client, page):
        """ReDoc's menu fetches the Redocly logo from a CDN whatever its settings: the policy stops it."""
        policy = api_client.get(page)["Content-Security-Policy"]
        directives = dict(directive.split(" ", 1) for directive in policy.split("; "))
        assert directives["default-src"] == "'self'"
        assert directives["img-src"] == "'self' data: blob:"
        assert URL.findall(policy) == [] and "*" not in policy

    def test_swagger_ui_has_no_online_validator(self, api_client):
        """Swagger UI's validator badge sends the schema's address to validator.swagger.io."""
        html = api_client.get("/api/v1/docs/").content.decode()
        assert '"validatorUrl": null' in html
