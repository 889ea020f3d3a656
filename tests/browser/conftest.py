"""Real-browser journeys: Debian's Chromium driven by Playwright against
pytest-django's live server. No browser is downloaded; without
/usr/bin/chromium these tests skip, unless REQUIRE_SERVICES=1 says the
machine must have it.

Signing in lives in one fixture (``sign_in``) so a change to the sign-in
page is adapted here once."""
import os
from pathlib import Path

import pytest

from tests.staff import enrol_totp, totp_code

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "browser"
PASSWORD = "secret-password"  # tests.factories.UserFactory's

# Playwright's sync API runs an event loop in this thread; the test's own ORM
# calls are still plain synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            if os.environ.get("REQUIRE_SERVICES") == "1":
                item.add_marker(pytest.mark.xfail(reason=f"{CHROMIUM} is required (REQUIRE_SERVICES=1)",
                                                  run=False, strict=True))
            else:
                item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} is not installed"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "es-PE", "timezone_id": "America/Lima",
            "viewport": {"width": 1366, "height": 900}}


@pytest.fixture
def sign_in(live_server):
    """``sign_in(page, user)``: the staff sign-in page, as a person uses it: the
    password, then for staff the code their authenticator app shows."""
    def go(page, user):
        device = enrol_totp(user) if user.is_staff else None
        page.goto(f"{live_server.url}/admin/login/?next=/admin/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("#login-form input[type=submit]")
        page.wait_for_load_state()
        if device is not None:
            page.fill("#id_code", totp_code(device))
            page.click("#second-factor-form input[type=submit]")
            page.wait_for_load_state()
        return page
    return go


@pytest.fixture
def screenshot():
    """``screenshot(page, name)`` writes var/browser/<name>.png for a reviewer."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path
    return take
