"""WCAG 2.1 AA checks on the pages that exist without signing in, in Swedish and in English."""

import pytest
from django.urls import reverse
from django.utils import translation

from tests.browser.helpers import (
    axe_check,
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
}
LANGUAGES = ["sv", "en"]


def url_of(url_name: str, language: str) -> str:
    with translation.override(language):
        return reverse(url_name)


@pytest.fixture(params=[(name, lang) for name in PAGES for lang in LANGUAGES], ids=lambda p: f"{p[0]}-{p[1]}")
def public_page(request, page):
    """The page open in the browser; returns (name, language)."""
    name, language = request.param
    response = page.goto(url_of(PAGES[name], language))
    assert response.ok, f"{name} ({language}) answered {response.status}"
    return name, language


def test_page_passes_axe_and_has_structure(page, public_page):
    name, language = public_page
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert page.title().strip()
    expect(page.locator("h1")).to_have_count(1)
    expect(page.get_by_role("main")).to_have_count(1)
    axe_check(page, f"{name}-{language}")
    screenshot(page, f"public-{name}-{language}")


def test_skip_link_moves_keyboard_focus_to_main(page, public_page):
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


def test_every_focusable_element_shows_focus(page, public_page):
    focused = tab_through_page(page)
    assert len(focused) >= 3, focused


def test_page_reflows_at_320_px(page, public_page):
    check_reflow(page)


@pytest.mark.parametrize("language", LANGUAGES)
def test_menu_works_by_keyboard_at_320_px(page, language):
    """At 320 px the navigation collapses behind a button, which opens with the keyboard."""
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(url_of("home", language))
    toggler = page.locator("button.navbar-toggler")
    login_link = page.locator("#main-nav").get_by_role(
        "link", name="Logga in" if language == "sv" else "Log in"
    )
    expect(login_link).to_be_hidden()
    tab_to(page, toggler)
    expect(toggler).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(toggler).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#main-nav")).to_be_visible()
    tab_to(page, page.locator("#main-nav a").first)
    axe_check(page, f"home-menu-open-{language}")
    check_reflow(page)
    screenshot(page, f"public-home-menu-320px-{language}")
