"""Helpers for the browser journeys: accessibility checks, screenshots, keyboard, forms and e-mail.

Plain functions taking a Playwright ``page``; signing in is the ``login`` fixture (it needs the live
server). Use ``playwright.sync_api.expect`` for assertions that should wait for the page.
"""

import os
import re
import time
from pathlib import Path

import pytest
from django.core import mail

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# WCAG 2.0 and 2.1, levels A and AA: what Swedish law (DOS-lagen, EN 301 549) requires.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"true", "1"}


def require_playwright():
    """``playwright.sync_api``, for a test module's top: skips the module when Playwright is not
    installed, except on CI (CI=true), where the import error fails the run."""
    try:
        import playwright.sync_api
    except ImportError:
        if on_ci():
            raise
        pytest.skip(
            "browser tests need the Python package playwright (pip install -e '.[dev]')",
            allow_module_level=True,
        )
    return playwright.sync_api


# --- Accessibility --------------------------------------------------------------------------------


def axe_check(page, name: str) -> None:
    """Run axe-core on the page as it is now; fail listing each violated rule and the elements."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    results = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})""",
        AXE_TAGS,
    )
    violations = results["violations"]
    if violations:
        screenshot(page, f"axe-{name}")
        lines = [f"axe: {len(violations)} WCAG A/AA rule(s) violated on {name!r} ({page.url}):"]
        for violation in violations:
            lines.append(
                f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>"
            )
            for node in violation["nodes"]:
                # A target is a CSS selector, or a list of them for elements inside shadow DOM.
                target = " ".join(
                    " >> ".join(part) if isinstance(part, list) else part for part in node["target"]
                )
                lines.append(f"    {target}  {node['html'][:160]}")
                lines.append(f"      {' '.join(node['failureSummary'].split())}")
        raise AssertionError("\n".join(lines))


def check_page(page, name: str, *, language: str | None = None) -> None:
    """The checks for every distinct page a journey visits: ``lang`` set (to ``language`` if given),
    a title, one ``h1``, one ``main`` landmark, headings in order, axe-core (WCAG 2.0/2.1 A and AA) with
    no violations, no horizontal scrolling at 320 px (wide tables scroll in a focusable, named box) nor
    with the text at 200 %; then a screenshot named ``name``."""
    # A click that submits a form may still be replacing the document: check the page it leads to.
    page.wait_for_load_state("load")
    lang = page.get_attribute("html", "lang")
    assert lang, f"{name}: <html> has no lang attribute"
    if language:
        assert lang == language, f"{name}: <html lang={lang!r}>, expected {language!r}"
    assert page.title().strip(), f"{name}: the page has no title"
    assert page.locator("h1").count() == 1, f"{name}: {page.locator('h1').count()} h1 elements, expected 1"
    assert page.get_by_role("main").count() == 1, f"{name}: expected one main landmark"
    check_heading_order(page, name)
    axe_check(page, name)
    check_reflow(page)
    check_text_resize(page)
    screenshot(page, name)


def check_heading_order(page, name: str) -> None:
    """Headings go down one level at a time (h1, h2, h3 – never h2 straight to h4); the h1 comes first."""
    levels = page.evaluate(
        """() => [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")]
          .filter(h => h.getClientRects().length || h.closest(".visually-hidden"))
          .map(h => [Number(h.tagName[1]), h.textContent.trim().slice(0, 60)])"""
    )
    previous = 0
    for level, text in levels:
        assert level <= previous + 1, f"{name}: heading h{level} {text!r} follows an h{previous} ({levels})"
        previous = level


#: What sticks out of the page sideways (null if nothing): the page's widths and the first elements
#: beyond its right edge that do not scroll inside a box of their own (.table-responsive).
_OVERFLOW_JS = """() => {
  const root = document.documentElement;
  if (root.scrollWidth <= root.clientWidth) return null;
  const inScrollBox = el => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (["auto", "scroll", "hidden"].includes(getComputedStyle(up).overflowX)) return true;
    }
    return false;
  };
  const wide = [...document.body.querySelectorAll("*")]
    .filter(el => el.getBoundingClientRect().right > root.clientWidth + 1 && !inScrollBox(el))
    .slice(0, 5)
    .map(el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
               + (el.className && typeof el.className === "string"
                  ? "." + el.className.trim().split(/\\s+/).join(".") : ""));
  return {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide};
}"""


def check_text_resize(page, width: int = 1280) -> None:
    """WCAG 1.4.4 Resize text: with the text at 200 % (the browser's font size doubled, as "zoom text
    only" does; the layout's pixel breakpoints stay where they are) at ``width`` px, nothing scrolls
    sideways. Page zoom is checked by ``check_reflow``; the menu must also wrap, not run off the page."""
    original = page.viewport_size
    page.set_viewport_size({"width": width, "height": 800})
    page.evaluate("() => document.documentElement.style.setProperty('font-size', '200%')")
    try:
        overflow = page.evaluate(_OVERFLOW_JS)
        assert overflow is None, (
            f"Horizontal scrolling with 200 % text at {width} px on {page.url}: scrollWidth "
            f"{overflow['scrollWidth']} > clientWidth {overflow['clientWidth']}; too wide: {overflow['wide']}"
        )
    finally:
        page.evaluate("() => document.documentElement.style.removeProperty('font-size')")
        page.set_viewport_size(original)


def check_reflow(page, width: int = 320) -> None:
    """WCAG 1.4.10 Reflow: at 320 CSS px (1280 px at 400 % zoom) nothing scrolls sideways.
    The viewport is restored afterwards."""
    original = page.viewport_size
    page.set_viewport_size({"width": width, "height": 800})
    try:
        overflow = page.evaluate(_OVERFLOW_JS)
        assert overflow is None, (
            f"Horizontal scrolling at {width} px on {page.url}: scrollWidth {overflow['scrollWidth']} > "
            f"clientWidth {overflow['clientWidth']}; too wide: {overflow['wide']}"
        )
        # Content that still scrolls sideways inside its own box (a wide table in .table-responsive) must
        # be reachable by keyboard and named: <div class="table-responsive" tabindex="0" role="region"
        # aria-label="...">. (axe's scrollable-region-focusable only sees what scrolls at full width.)
        unreachable = page.evaluate(
            """() => [...document.body.querySelectorAll("*")]
              .filter(el => el.scrollWidth > el.clientWidth + 1
                            && ["auto", "scroll"].includes(getComputedStyle(el).overflowX))
              .filter(el => !(el.tabIndex >= 0 && el.getAttribute("role") === "region"
                              && (el.getAttribute("aria-label") || el.getAttribute("aria-labelledby"))))
              .map(el => el.outerHTML.slice(0, 120))"""
        )
        assert not unreachable, (
            f"At {width} px on {page.url} these scroll sideways but are not focusable, named regions "
            f"(tabindex=0 role=region aria-label): {unreachable}"
        )
    finally:
        page.set_viewport_size(original)


def focus_is_visible(page) -> bool:
    """Whether the focused element shows a focus indicator (an outline or a box shadow)."""
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          if (!el || el === document.body) return false;
          // Chromium's date inputs take one Tab stop per segment plus one for their calendar button,
          // inside the browser's own shadow DOM; on that button the input itself is not :focus, and
          // the browser draws the ring. Native controls are the browser's to show.
          const dateLike = /^(date|time|datetime-local|month|week)$/.test(el.type || "");
          if (dateLike && !el.matches(":focus")) return true;
          const style = getComputedStyle(el);
          const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
          return outline || style.boxShadow !== "none";
        }"""
    )


def assert_focus_visible(page) -> None:
    described = describe_focus(page)
    assert focus_is_visible(page), f"No visible focus indicator on {described} ({page.url})"


def describe_focus(page) -> str:
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          if (!el) return "nothing";
          const text = (el.innerText || el.value || el.getAttribute("aria-label") || "").trim().slice(0, 40);
          return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (text ? ` "${text}"` : "");
        }"""
    )


def tab_to(page, locator, *, max_presses: int = 60, check_focus_visible: bool = True, backwards=False):
    """Press Tab (Shift+Tab when ``backwards``) until ``locator`` has focus, as a keyboard user would.
    Every element passed on the way must show a visible focus indicator; past the last element focus
    goes to the browser for one press, then wraps round. Returns the presses needed."""
    key = "Shift+Tab" if backwards else "Tab"
    for presses in range(1, max_presses + 1):
        page.keyboard.press(key)
        if page.evaluate("document.activeElement === document.body"):
            continue
        if check_focus_visible:
            assert_focus_visible(page)
        if locator.evaluate("el => el === document.activeElement"):
            return presses
    raise AssertionError(f"{max_presses} x {key} never reached {locator}; focus is on {describe_focus(page)}")


def tab_through_page(page, *, max_presses: int = 100) -> list[str]:
    """Tab through every focusable element of the page once, round to where focus started, asserting
    that each shows a visible focus indicator. Returns what was focused, in order."""
    seen: list[str] = []
    first = None
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        handle = page.evaluate_handle("document.activeElement")
        if page.evaluate("el => el === null || el === document.body", handle):
            continue  # past the last element: focus is on the browser for one press, then wraps
        if first is None:
            first = handle
        elif page.evaluate("([a, b]) => a === b", [first, handle]):
            return seen
        assert_focus_visible(page)
        seen.append(describe_focus(page))
    raise AssertionError(f"Focus did not come round within {max_presses} presses: {seen}")


def press_until(page, key: str, condition, *, max_presses: int = 30) -> int:
    """Press ``key`` until ``condition()`` is true (e.g. ArrowDown in a select or a radio group, which
    changes the choice without a mouse). Returns the presses needed."""
    for presses in range(1, max_presses + 1):
        page.keyboard.press(key)
        if condition():
            return presses
    raise AssertionError(
        f"{max_presses} x {key} did not reach the wanted state; focus on {describe_focus(page)}"
    )


def select_by_keyboard(page, select, option_label: str) -> None:
    """Choose ``option_label`` in a focused-or-not ``<select>`` with the arrow keys only."""
    if not select.evaluate("el => el === document.activeElement"):
        tab_to(page, select)
    labels = select.evaluate("el => [...el.options].map(o => o.label.trim())")
    assert option_label in labels, f"{option_label!r} is not among the options {labels}"
    current = select.evaluate("el => el.selectedIndex")
    key = "ArrowDown" if labels.index(option_label) > current else "ArrowUp"
    if labels.index(option_label) != current:
        press_until(
            page,
            key,
            lambda: select.evaluate("el => el.options[el.selectedIndex].label.trim()") == option_label,
        )


def assert_error_summary_focused(page) -> None:
    """After a failed submit the error summary has focus, and each of its links leads to a field."""
    expect = require_playwright().expect
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_have_attribute("role", "alert")
    for href in summary.locator("a[href^='#']").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    ):
        assert page.locator(href).count() == 1, f"Error summary link {href} leads to no field"


# --- Screenshots ----------------------------------------------------------------------------------


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG to test-artifacts/screenshots/<name>.png (for review; git-ignored). Given 30 s
    rather than the context's 10: under CI's load (two test processes, their PostgreSQL and Chromium on
    two cores) one capture after the reflow check's viewport change took longer once."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^\w.-]+', '_', name)}.png"
    page.screenshot(path=str(path), full_page=True, timeout=30_000)
    return path


# --- Forms ----------------------------------------------------------------------------------------


def fill_form(page, fields: dict, *, within=None) -> None:
    """Fill a form by the visible text of its labels, the way a user finds the fields.

    - text, textarea, date, e-mail …: ``"Label": "text"``
    - select: ``"Label": "visible option text"``
    - checkbox: ``"Label": True/False``
    - radio buttons or checkboxes in a fieldset: ``"Legend": "option label"`` (or a list of labels)
    - file input: ``"Label": Path``
    Labels match exactly (case-sensitive; a required field's trailing asterisk may be left out); pass
    ``within`` (a locator) to scope to one form.
    """
    scope = within or page
    for label, value in fields.items():
        # crispy-forms marks required fields with an asterisk inside the label (or legend).
        name = re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$")
        group = scope.get_by_role("group", name=name)
        if not isinstance(value, bool) and group.count() == 1:
            for option in [value] if isinstance(value, str) else value:
                group.get_by_label(option, exact=True).check()
            continue
        field = scope.get_by_label(name)
        tag = field.evaluate("el => el.tagName.toLowerCase()")
        kind = field.get_attribute("type") or ""
        if isinstance(value, bool):
            field.set_checked(value)
        elif isinstance(value, Path):
            field.set_input_files(value)
        elif tag == "select":
            field.select_option(label=value)
        elif kind in {"radio", "checkbox"}:
            raise TypeError(f"{label!r} is a {kind}: pass True/False")
        else:
            field.fill(str(value))


# --- Downloads ------------------------------------------------------------------------------------


def download(page, trigger, *, timeout: float = 30_000) -> tuple[str, bytes]:
    """Activate ``trigger`` (a locator: link or button) and return the downloaded file's suggested name
    and its content. Check the content with the library that reads it (openpyxl for XLSX: it starts
    with b"PK"; a PDF starts with b"%PDF-"). ``timeout`` (ms): files rendered in the request (the
    PDF) take a while on a busy machine."""
    with page.expect_download(timeout=timeout) as info:
        trigger.click(timeout=timeout)  # the click waits for the response too
    download = info.value
    failure = download.failure()
    assert failure is None, f"Download of {download.suggested_filename} failed: {failure}"
    return download.suggested_filename, Path(download.path()).read_bytes()


# --- E-mail ---------------------------------------------------------------------------------------

URL_RE = re.compile(r"https?://[^\s<>\"']+")


def last_email(*, to: str | None = None, timeout: float = 5.0):
    """The last e-mail sent (to ``to``, if given), from the locmem outbox that tests/conftest.py sets.

    The live server runs in this process, so its e-mails land in ``django.core.mail.outbox``; tasks run
    immediately, on commit. Waits up to ``timeout`` seconds for one to arrive."""
    deadline = time.monotonic() + timeout
    while True:
        messages = [m for m in getattr(mail, "outbox", []) if to is None or to in m.to]
        if messages:
            return messages[-1]
        if time.monotonic() > deadline:
            sent = [(m.to, m.subject) for m in getattr(mail, "outbox", [])]
            raise AssertionError(f"No e-mail{f' to {to}' if to else ''} within {timeout}s; outbox: {sent}")
        time.sleep(0.05)


def link_in_email(message, *, containing: str = "") -> str:
    """The one link in the e-mail's text body whose URL contains ``containing``."""
    found = (url.rstrip(".,;:)") for url in URL_RE.findall(message.body))
    links = list(dict.fromkeys(url for url in found if containing in url))
    assert len(links) == 1, f"Expected one link containing {containing!r} in {message.subject!r}, got {links}"
    return links[0]


def link_from_last_email(*, to: str | None = None, containing: str = "") -> str:
    """Shortcut: the link (containing ``containing``) in the last e-mail (to ``to``)."""
    return link_in_email(last_email(to=to), containing=containing)
