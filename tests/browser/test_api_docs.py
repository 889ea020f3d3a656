"""The API documentation pages in Chromium: every request the browser makes to
show them goes to the Puente server itself (agencies read them offline)."""
import pytest

from .conftest import SCREENSHOTS

pytestmark = pytest.mark.django_db(transaction=True)


def _requests_while_opening(page, url):
    """Every request the page sent out of the browser: those the page's security
    policy stopped (ReDoc's menu asks a CDN for the Redocly logo) never left it."""
    requested, blocked = [], []
    page.on("request", lambda request: requested.append(request.url))
    page.on("requestfailed", lambda request: blocked.append(request.url)
            if request.failure == "csp" else None)
    page.goto(url)
    return requested, blocked


def _elsewhere(requested, blocked, server):
    """The requests sent to anything but the server (a blob of the page's own origin is the server's)."""
    return [url for url in requested if url not in blocked
            and not url.startswith((f"{server}/", f"blob:{server}/", "data:"))]


def test_redoc_renders_the_schema_asking_only_the_server(page, live_server):
    requested, blocked = _requests_while_opening(page, f"{live_server.url}/api/v1/redoc/")
    page.get_by_role("heading", name="Puente API").first.wait_for()
    page.get_by_text("Register a case and its family").first.wait_for(state="attached")
    page.wait_for_load_state("networkidle")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "api-docs-redoc.png"))  # the first screen: the page is very long
    assert any(url.startswith(f"{live_server.url}/api/v1/schema/") for url in requested)
    assert _elsewhere(requested, blocked, live_server.url) == []


def test_swagger_ui_renders_the_schema_asking_only_the_server(page, live_server):
    requested, blocked = _requests_while_opening(page, f"{live_server.url}/api/v1/docs/")
    page.get_by_text("Register a case and its family").first.wait_for()
    page.wait_for_load_state("networkidle")
    assert any(url.startswith(f"{live_server.url}/api/v1/schema/") for url in requested)
    assert _elsewhere(requested, blocked, live_server.url) == []
