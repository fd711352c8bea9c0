"""WCAG 2.1 AA checks on the pages that exist without signing in, in Swedish and in English."""

import pytest
from django.urls import reverse
from django.utils import translation

from tests.browser.helpers import (
    axe_check,
    check_page,
    check_reflow,
    require_playwright,
    screenshot,
    tab_through_page,
    tab_to,
)

expect = require_playwright().expect

PAGES = {
    "home": "home",
    "login": "login",
    "admin-login": "admin:login",
    "accessibility-statement": "pages:accessibility",
    "privacy": "pages:privacy",
    "cookies": "pages:cookies",
}
LANGUAGES = ["sv", "en"]


def url_of(url_name: str, language: str) -> str:
    with translation.override(language):
        return reverse(url_name)


def check_skip_link(page):
    """The skip link is the first stop for the keyboard, shows on focus, and Enter moves focus to main."""
    skip_link = page.locator("body a[href^='#']").first
    if page.evaluate("document.activeElement === document.body"):
        page.keyboard.press("Tab")
        expect(skip_link).to_be_focused()
    else:
        # A login form autofocuses its first field (Django's default); the skip link is still the
        # first stop on the way back.
        tab_to(page, skip_link, backwards=True)
    expect(skip_link).to_be_visible()
    target = skip_link.get_attribute("href")
    page.keyboard.press("Enter")
    expect(page.locator(target)).to_be_focused()
    assert page.evaluate("document.activeElement.closest('main') !== null"), "skip link target not in main"


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_public_page_is_accessible(page, name, language):
    response = page.goto(url_of(PAGES[name], language))
    assert response.ok, f"{name} ({language}) answered {response.status}"
    # axe, lang, one h1, main landmark, reflow at 320 px, screenshot.
    check_page(page, f"public-{name}-{language}", language=language)
    check_skip_link(page)
    page.reload()
    # Every focusable element shows where the focus is.
    assert len(tab_through_page(page)) >= 3


@pytest.mark.parametrize("language", LANGUAGES)
def test_menu_works_by_keyboard_at_320_px(page, language):
    """At 320 px the navigation collapses behind a button, which opens with the keyboard."""
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(url_of("home", language))
    toggler = page.locator("button.navbar-toggler")
    login_link = page.locator("#main-nav a[href$='/konto/logga-in/']")
    expect(login_link).to_be_hidden()
    tab_to(page, toggler)
    expect(toggler).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(toggler).to_have_attribute("aria-expanded", "true")
    expect(login_link).to_be_visible()
    tab_to(page, login_link)
    axe_check(page, f"home-menu-open-{language}")
    check_reflow(page)
    screenshot(page, f"public-home-menu-320px-{language}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_not_found_page_is_accessible(page, language):
    """Denied objects answer 404 (house rule), so users meet this page: it is a full page too."""
    response = page.goto(("" if language == "sv" else "/en") + "/finns-inte/")
    assert response.status == 404
    check_page(page, f"not-found-{language}", language=language)


def test_language_switch_works_by_keyboard(page):
    page.goto(url_of("login", "sv"))
    tab_to(page, page.get_by_role("button", name="English"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(url_of("login", "en"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    tab_to(page, page.get_by_role("button", name="Svenska"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(url_of("login", "sv"))
    expect(page.locator("html")).to_have_attribute("lang", "sv")
