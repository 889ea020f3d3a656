"""The admin sign-in in a real browser: Debian's Chromium driven by Playwright,
against the live server."""
import base64

import pytest
from playwright.sync_api import expect

from cases.roles import Role
from tests.conftest import CHROMIUM
from tests.factories import UserFactory, case_with_family
from tests.staff import enrol_totp, totp_code

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module", autouse=True)
def synchronous_orm_beside_playwright():
    """Playwright's sync API runs an event loop in this thread; the ORM calls of
    these tests and of their database fixtures are plain synchronous ones all
    the same. Set for this module only: the deploy check of other tests
    refuses the variable."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync"]}


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "es-PE", "extra_http_headers": {"Accept-Language": "es"}}


@pytest.fixture
def secretary(pe_agency):
    return UserFactory(username="secretaria", roles=[Role.SECRETARIAT], is_staff=True, password=PASSWORD)


def sign_in_with_password(page, base):
    page.goto(f"{base}/admin/")
    page.fill("#id_username", "secretaria")
    page.fill("#id_password", PASSWORD)
    page.click("#login-form input[type=submit]")


def test_password_and_code_reach_the_case_list(live_server, page, secretary, pe_agency):
    device = enrol_totp(secretary)
    case = case_with_family(pe_agency)
    sign_in_with_password(page, live_server.url)
    page.wait_for_url("**/admin/second-factor/**")
    expect(page.locator("#content-main")).not_to_contain_text(case.reference)
    page.fill("#id_code", totp_code(device))
    page.click("#second-factor-form input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/admin/cases/case/")
    expect(page.locator("#result_list")).to_contain_text(case.reference)


def test_a_first_sign_in_enrols_an_app_and_shows_recovery_codes(live_server, page, secretary):
    sign_in_with_password(page, live_server.url)
    page.wait_for_url("**/admin/second-factor/enrol/**")
    expect(page.locator(".signin-qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    device = secretary.totpdevice_set.get(confirmed=False)
    assert device.bin_key == base64.b32decode(secret)
    page.fill("#id_code", totp_code(device))
    page.click("#enrol-form input[type=submit]")
    page.wait_for_url("**/admin/second-factor/recovery-codes/**")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="Continuar").click()
    page.wait_for_url(f"{live_server.url}/admin/")
    expect(page.locator("#site-name")).to_be_visible()


def test_a_passkey_is_enrolled_and_then_signs_in(live_server, page, secretary, settings):
    """With Chromium's virtual authenticator standing in for a security key."""
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
    }})
    sign_in_with_password(page, live_server.url)
    page.wait_for_url("**/admin/second-factor/enrol/**")
    page.click("#passkey-register-button")
    page.wait_for_url("**/admin/second-factor/recovery-codes/**")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    assert secretary.webauthncredential_set.filter(confirmed=True).count() == 1

    page.context.clear_cookies()
    sign_in_with_password(page, live_server.url)
    page.wait_for_url("**/admin/second-factor/?**")
    page.click("#passkey-verification-button")
    page.wait_for_url(f"{live_server.url}/admin/")
    expect(page.locator("#site-name")).to_be_visible()
