"""WCAG 1.4.11 Non-text contrast, computed from the stylesheets the pages load (Bootstrap, then
static/css/app.css): the border of text fields, selects, checkboxes and radio buttons (unchecked) is at
least 3:1 against the page background. axe does not check this; the browser tests do not see it either.

The cascade is followed for the plain selectors (``.form-control`` …): the last rule setting
``border``/``border-color`` wins, ``var(--x)`` is resolved from ``:root``."""

from pathlib import Path

import pytest
import tinycss2
from django.conf import settings

STYLESHEETS = [
    Path(settings.BASE_DIR) / "static" / "vendor" / "bootstrap" / "bootstrap.min.css",
    Path(settings.BASE_DIR) / "static" / "css" / "app.css",
]
CONTROLS = [".form-control", ".form-select", ".form-check-input"]


def rules():
    """(selectors, declarations) of every top-level style rule (not inside @media), in load order."""
    for path in STYLESHEETS:
        for rule in tinycss2.parse_stylesheet(path.read_text(), skip_comments=True, skip_whitespace=True):
            if rule.type != "qualified-rule":
                continue
            selectors = [s.strip() for s in tinycss2.serialize(rule.prelude).split(",")]
            declarations = tinycss2.parse_blocks_contents(
                rule.content, skip_comments=True, skip_whitespace=True
            )
            yield selectors, [d for d in declarations if d.type == "declaration"]


def custom_properties() -> dict[str, list]:
    found = {}
    for selectors, declarations in rules():
        if set(selectors) & {":root", "[data-bs-theme=light]"}:
            for declaration in declarations:
                if declaration.name.startswith("--"):
                    found[declaration.name] = declaration.value
    return found


def border_color_tokens(selector: str) -> list:
    """The tokens of the winning border colour for ``selector`` (border-color beats an earlier border)."""
    winner = None
    for selectors, declarations in rules():
        if selector not in selectors:
            continue
        for declaration in declarations:
            if declaration.name in {"border", "border-color"}:
                winner = declaration.value
    assert winner is not None, f"no border rule for {selector}"
    return winner


def resolve_colour(tokens, variables, depth=0) -> tuple[int, int, int]:
    assert depth < 10, "var() loop"
    for token in tokens:
        if token.type == "hash":
            value = token.value
            if len(value) == 3:
                value = "".join(c * 2 for c in value)
            return tuple(int(value[i : i + 2], 16) for i in (0, 2, 4))
        if token.type == "function" and token.lower_name == "var":
            name = next(t.value for t in token.arguments if t.type == "ident")
            if name in variables:
                try:
                    return resolve_colour(variables[name], variables, depth + 1)
                except ValueError:
                    continue
        if token.type == "ident" and token.lower_value in {"white", "black"}:
            return (255, 255, 255) if token.lower_value == "white" else (0, 0, 0)
    raise ValueError(f"no colour in {tinycss2.serialize(tokens)!r}")


def luminance(rgb) -> float:
    def channel(c):
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    lighter, darker = sorted((luminance(a), luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.parametrize("selector", CONTROLS)
def test_form_control_borders_reach_3_to_1(selector):
    variables = custom_properties()
    border = resolve_colour(border_color_tokens(selector), variables)
    background = resolve_colour(variables["--bs-body-bg"], variables)
    ratio = contrast(border, background)
    assert ratio >= 3, (
        f"{selector}: border #{bytes(border).hex()} on #{bytes(background).hex()} is {ratio:.2f}:1"
    )


def test_the_light_header_background_too():
    """Controls in the header (bg-body-tertiary) keep 3:1 as well."""
    variables = custom_properties()
    border = resolve_colour(border_color_tokens(".form-select"), variables)
    header = resolve_colour(variables["--bs-tertiary-bg"], variables)
    assert contrast(border, header) >= 3


def test_the_computation():
    assert round(contrast((255, 255, 255), (0, 0, 0)), 1) == 21.0
    assert round(contrast((0xDE, 0xE2, 0xE6), (255, 255, 255)), 2) == 1.3  # Bootstrap's default border


def winning_colour(selector: str, variables) -> tuple[int, int, int]:
    """The last ``color`` set for exactly ``selector``, resolved."""
    winner = None
    for selectors, declarations in rules():
        if selector in selectors:
            for declaration in declarations:
                if declaration.name == "color":
                    winner = declaration.value
    assert winner is not None, f"no colour rule for {selector}"
    return resolve_colour(winner, variables)


def test_links_on_striped_table_rows_reach_4_5_to_1():
    """WCAG 1.4.3: the queue's reference links on its grey rows. Bootstrap paints a striped row as an
    inset shadow of black at --bs-table-striped-bg's 5 % over the page, which axe cannot see: #f2f2f2
    on white. Its link blue is 4.0:1 there."""
    variables = custom_properties()
    page = resolve_colour(variables["--bs-body-bg"], variables)
    stripe = tuple(round(c * 0.95) for c in page)
    link = winning_colour(".table-striped > tbody a:not(.btn)", variables)
    assert contrast(link, stripe) >= 4.5, f"#{bytes(link).hex()} on #{bytes(stripe).hex()}"
    default_link = resolve_colour(variables["--bs-link-color"], variables)
    assert contrast(default_link, stripe) < 4.5  # why the rule is there
