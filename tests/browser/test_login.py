"""Signing in, with the keyboard only."""

import pytest

from tests import factories
from tests.browser.helpers import (
    assert_error_summary_focused,
    assert_focus_visible,
    axe_check,
    check_page,
    fill_form,
    require_playwright,
    tab_to,
)

expect = require_playwright().expect


@pytest.fixture
def user(db):
    return factories.UserFactory(username="samordnare", first_name="Sara", last_name="Lind")


def focus_username(page):
    username = page.locator("input[name=username]")
    if not username.evaluate("el => el === document.activeElement"):
        tab_to(page, username)
    expect(username).to_be_focused()
    assert_focus_visible(page)


def test_sign_in_with_the_keyboard_only(page, user):
    page.goto("/konto/logga-in/")
    focus_username(page)
    page.keyboard.type("samordnare")
    page.keyboard.press("Tab")
    expect(page.locator("input[name=password]")).to_be_focused()
    assert_focus_visible(page)
    page.keyboard.type(factories.DEFAULT_PASSWORD)
    page.keyboard.press("Enter")

    expect(page).to_have_url("/")
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()
    expect(page.get_by_role("banner")).to_contain_text("Sara Lind")
    check_page(page, "home-signed-in-sv", language="sv")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_failed_sign_in_shows_a_focused_error_summary(page, user, language):
    prefix = "" if language == "sv" else "/en"
    page.goto(f"{prefix}/konto/logga-in/")
    focus_username(page)
    page.keyboard.type("samordnare")
    page.keyboard.press("Tab")
    page.keyboard.type("fel-lösenord")
    page.keyboard.press("Enter")

    page.wait_for_load_state()
    expect(page.locator(".error-summary")).to_be_visible()
    # The error is shown once, in the summary (crispy-forms would repeat it above the fields).
    expect(page.locator(".alert")).to_have_count(1)
    assert_error_summary_focused(page)
    assert_focus_visible(page)
    # What the user typed is kept (except the password).
    expect(page.locator("input[name=username]")).to_have_value("samordnare")
    expect(page.locator("input[name=password]")).to_have_value("")
    expect(page.locator("form[action$='/konto/logga-ut/']")).to_have_count(0)
    check_page(page, f"login-error-{language}", language=language)


def test_fill_form_by_labels_then_sign_in(page, user):
    page.goto("/konto/logga-in/")
    fill_form(page, {"Användarnamn": "samordnare", "Lösenord": factories.DEFAULT_PASSWORD})
    page.get_by_role("main").get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()


def test_login_fixture_signs_in_without_the_form(page, user, login):
    login(page, user)
    page.goto("/")
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()


def test_empty_sign_in_links_each_error_to_its_field(page, user):
    page.goto("/konto/logga-in/")
    page.get_by_role("main").get_by_role("button", name="Logga in").click()
    assert_error_summary_focused(page)
    summary = page.locator(".error-summary")
    expect(summary.get_by_role("link")).to_have_count(2)
    expect(page.locator(".invalid-feedback")).to_have_count(2)
    tab_to(page, summary.get_by_role("link").last)
    page.keyboard.press("Enter")
    expect(page.locator("input[name=password]")).to_be_focused()
    expect(page.locator("input[name=password]")).to_have_attribute("aria-invalid", "true")
    axe_check(page, "login-empty-sv")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_password_login_blocked_at_the_address_says_why_in_a_focused_summary(page, user, settings, language):
    """After the address's failed logins (``LOGIN_FAILURES_PER_ADDRESS``) even the right password is
    refused: the login page says why, in a focused summary, in the page's language."""
    settings.RATELIMIT_ENABLE = True
    settings.LOGIN_FAILURES_PER_ADDRESS = "1/h"
    prefix = "" if language == "sv" else "/en"
    page.goto(f"{prefix}/konto/logga-in/")
    page.fill("input[name=username]", "samordnare")
    page.fill("input[name=password]", "fel-lösenord")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    page.fill("input[name=password]", factories.DEFAULT_PASSWORD)
    page.keyboard.press("Enter")

    page.wait_for_load_state()
    blocked = {
        "sv": "Inloggning med lösenord är tillfälligt spärrad från din adress",
        "en": "Signing in with a password is temporarily blocked from your address",
    }[language]
    expect(page.locator(".error-summary")).to_contain_text(blocked)
    assert_error_summary_focused(page)
    expect(page.get_by_role("button", name="Logga ut")).to_have_count(0)
    check_page(page, f"login-blocked-{language}", language=language)
