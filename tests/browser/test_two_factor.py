"""Two-step verification in the browser: an administrator sets up an app on first login (reading
the key off the page as a person would), then signs in with password and code; both pages pass axe."""

import pytest

from tests import factories
from tests.browser.helpers import check_page, fill_form, require_playwright
from tests.identity.totp import code, device_code, key_from_page

expect = require_playwright().expect


def sign_in(page, user, prefix="", *, goto=True):
    if goto:
        page.goto(f"{prefix}/konto/logga-in/")
    fill_form(
        page,
        {
            "Användarnamn" if not prefix else "Username": user.username,
            "Lösenord" if not prefix else "Password": factories.DEFAULT_PASSWORD,
        },
    )
    page.get_by_role("main").get_by_role("button", name="Logga in" if not prefix else "Sign in").click()


@pytest.mark.parametrize("language", ["sv", "en"])
def test_administrator_sets_up_an_app_before_reaching_the_admin(page, db, language):
    prefix = "" if language == "sv" else "/en"
    admin = factories.UserFactory(username="admin", is_staff=True, is_superuser=True)
    page.goto(f"{prefix}/admin/")
    expect(page).to_have_url(f"{prefix}/konto/logga-in/?next={prefix}/admin/")
    sign_in(page, admin, prefix, goto=False)
    # Straight to the setup, with the way back to the admin kept.
    expect(page).to_have_url(
        f"{prefix}/konto/tvastegsverifiering/?next=%2F{'en%2F' if prefix else ''}admin%2F"
    )
    check_page(page, f"two-factor-setup-{language}", language=language)
    assert page.locator("img.totp-qr").get_attribute("src").startswith("data:image/svg+xml;base64,")
    key = key_from_page(page.content())
    page.get_by_label("Kod från appen" if language == "sv" else "Code from the app").fill(code(key))
    page.get_by_role(
        "button", name="Slå på tvåstegsverifiering" if language == "sv" else "Turn on two-step verification"
    ).click()
    expect(page).to_have_url(f"{prefix}/admin/")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_sign_in_with_password_and_code(page, db, language):
    prefix = "" if language == "sv" else "/en"
    user = factories.UserFactory(username="samordnare", first_name="Sara", last_name="Lind")
    device = factories.TOTPDeviceFactory(user=user)
    sign_in(page, user, prefix)
    expect(page).to_have_url(f"{prefix}/konto/logga-in/kod/?next=")
    check_page(page, f"two-factor-code-{language}", language=language)
    label = "Kod från appen" if language == "sv" else "Code from the app"
    # A wrong code first: the error summary, then the right one.
    page.get_by_label(label).fill(f"{(int(device_code(device)) + 1) % 10**6:06d}")
    page.keyboard.press("Enter")
    expect(page.locator(".error-summary")).to_be_visible()
    check_page(page, f"two-factor-code-error-{language}", language=language)
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    page.get_by_label(label).fill(device_code(device))
    page.keyboard.press("Enter")
    expect(page.get_by_role("banner")).to_contain_text("Sara Lind")


def test_profile_shows_two_step_verification_on(page, db, login):
    user = factories.UserFactory()
    factories.TOTPDeviceFactory(user=user)
    login(page, user)
    page.goto("/konto/tvastegsverifiering/")
    expect(page.get_by_role("heading", name="Stäng av")).to_be_visible()
    check_page(page, "two-factor-on-sv", language="sv")
