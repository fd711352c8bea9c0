"""The helpers catch what they are meant to catch (on small pages made in the test), and find what the
journeys will need (fields by label, links in e-mails)."""

import threading

import pytest
from django.core import mail

from tests.browser.helpers import (
    assert_error_summary_focused,
    axe_check,
    check_reflow,
    download,
    fill_form,
    last_email,
    link_from_last_email,
    press_until,
    require_playwright,
    select_by_keyboard,
    tab_through_page,
    tab_to,
)

expect = require_playwright().expect

FORM = """<!doctype html><html lang="sv"><head><title>Formulär</title>
<style>:focus-visible { outline: 3px solid #0a3d91; }</style></head><body><main>
<h1>Formulär</h1>
<form>
  <label for="t">Beskrivning<span>*</span></label><textarea id="t"></textarea>
  <label for="d">Datum</label><input id="d" type="date">
  <label for="s">Överenskommelse</label>
  <select id="s"><option value="">---</option><option value="PSYK">Psykisk sjukdom</option></select>
  <input id="c" type="checkbox"><label for="c">Jag intygar</label>
  <fieldset><legend>SIP inblandad</legend>
    <input id="r1" type="radio" name="r" value="yes"><label for="r1">Ja</label>
    <input id="r2" type="radio" name="r" value="no"><label for="r2">Nej</label>
  </fieldset>
  <fieldset><legend>Motparter</legend>
    <input id="m1" type="checkbox" name="m" value="1"><label for="m1">Psykiatri Södra</label>
    <input id="m2" type="checkbox" name="m" value="2"><label for="m2">BAS</label>
  </fieldset>
</form></main></body></html>"""


def test_fill_form_finds_each_kind_of_field_by_its_label(page):
    page.set_content(FORM)
    fill_form(
        page,
        {
            "Beskrivning": "Utskrivning utan information",
            "Datum": "2026-11-02",
            "Överenskommelse": "Psykisk sjukdom",
            "Jag intygar": True,
            "SIP inblandad": "Nej",
            "Motparter": ["Psykiatri Södra", "BAS"],
        },
    )
    expect(page.locator("#t")).to_have_value("Utskrivning utan information")
    expect(page.locator("#d")).to_have_value("2026-11-02")
    expect(page.locator("#s")).to_have_value("PSYK")
    expect(page.locator("#c")).to_be_checked()
    expect(page.locator("#r2")).to_be_checked()
    expect(page.locator("#m1")).to_be_checked()
    expect(page.locator("#m2")).to_be_checked()


def test_axe_check_fails_with_the_rule_and_the_element(page):
    page.set_content(
        '<!doctype html><html lang="sv"><head><title>x</title></head><body><main><h1>x</h1>'
        '<input id="namnlos" type="text"></main></body></html>'
    )
    with pytest.raises(AssertionError) as failure:
        axe_check(page, "unlabelled-input")
    assert "label" in str(failure.value)
    assert "#namnlos" in str(failure.value)


def test_check_reflow_fails_on_horizontal_scrolling(page):
    page.set_content(
        '<!doctype html><html lang="sv"><body><div id="bred" style="width:600px">x</div></body></html>'
    )
    with pytest.raises(AssertionError, match="div#bred"):
        check_reflow(page)
    assert page.viewport_size["width"] == 1280


def test_tab_through_page_fails_when_focus_is_invisible(page):
    page.set_content(
        '<!doctype html><html lang="sv"><body><a href="#a">a</a>'
        '<a href="#b" style="outline:none">b</a></body></html>'
    )
    with pytest.raises(AssertionError, match="No visible focus"):
        tab_through_page(page)


def test_assert_error_summary_focused_fails_on_a_link_to_nowhere(page):
    page.set_content(
        '<!doctype html><html lang="sv"><body><div class="error-summary" role="alert" tabindex="-1">'
        '<a href="#finns-inte">Fel</a></div><script>document.querySelector(".error-summary").focus()</script>'
        "</body></html>"
    )
    with pytest.raises(AssertionError, match="#finns-inte"):
        assert_error_summary_focused(page)


def test_link_from_last_email_waits_for_the_mail_and_finds_the_link(live_server):
    def send_later():
        mail.send_mail(
            "Bekräfta din rapport",
            f"Hej!\nBekräfta: {live_server.url}/rapportera/bekrafta/abc123/.\nLäs mer på {live_server.url}/.",
            None,
            ["rapportor@example.se"],
        )

    timer = threading.Timer(0.2, send_later)
    timer.start()
    link = link_from_last_email(to="rapportor@example.se", containing="/bekrafta/")
    timer.join()
    assert link == f"{live_server.url}/rapportera/bekrafta/abc123/"
    assert last_email().subject == "Bekräfta din rapport"
    with pytest.raises(AssertionError, match="No e-mail to annan@example.se"):
        last_email(to="annan@example.se", timeout=0.1)


def test_keyboard_alone_chooses_options_radio_buttons_and_checkboxes(page):
    page.set_content(FORM)
    select = page.locator("#s")
    select_by_keyboard(page, select, "Psykisk sjukdom")
    expect(select).to_have_value("PSYK")
    tab_to(page, page.locator("#c"))
    page.keyboard.press("Space")
    expect(page.locator("#c")).to_be_checked()
    tab_to(page, page.locator("#r1"))
    page.keyboard.press("Space")
    press_until(page, "ArrowDown", lambda: page.locator("#r2").is_checked())
    expect(page.locator("#r2")).to_be_focused()


def test_download_returns_the_file_name_and_content(page):
    page.set_content(
        '<a href="data:application/pdf;base64,JVBERi0xLjcK" download="rapport.pdf">Ladda ner</a>'
    )
    name, content = download(page, page.get_by_role("link", name="Ladda ner"))
    assert name == "rapport.pdf"
    assert content.startswith(b"%PDF-")
