"""The coordinator's workbench in a real browser. A coordinator's day in one journey: the start page
("Att göra") → the queue → assigning the selected rows → a response request (yttrande) from a report's
page → the counterpart's late answer, accepted and marked late → the council's meeting pack. The queue
and the menu at 1280 px, in Swedish and English; the start page, the queue and the meeting pack checked
with axe and screenshotted at 1280 and 320 px (test-artifacts/screenshots/workbench-*)."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from agreements.models import Agreement, DeviationCategory
from agreements.reference_data import CATEGORY_DISCHARGE, REGIONAL_COUNCIL
from councils.models import Council, CouncilMembership, Municipality
from deviations import summary
from deviations.models import DeviationEvent, ResponseRequest
from deviations.response_tokens import make_token
from deviations.workflow import Status
from tests import factories
from tests.browser.helpers import axe_check, check_page, require_playwright, screenshot

expect = require_playwright().expect

NACKA_COUNCIL = "Lokalt samråd Nacka-Värmdö (exempel)"
OTHER_COUNCIL = "Lokalt samråd Södertörn (exempel)"


def build_county():
    call_command("load_reference_data", stdout=io.StringIO())
    nacka = Municipality.objects.get(code="0182")
    council = Council.objects.get(name=NACKA_COUNCIL)
    own = factories.OrganizationFactory(name="Socialtjänst Nacka, vuxenenheten", principal_municipality=nacka)
    counterpart = factories.RegionOrganizationFactory(
        name="Psykiatri Södra", contact_email="yttrande@psykiatrisodra.example.se"
    )
    coordinator = factories.UserFactory(username="nackasam", first_name="Nora", last_name="Lund")
    factories.CouncilMembershipFactory(council=council, user=coordinator)
    member = factories.UserFactory(username="nackaled", first_name="Leo", last_name="Ek")
    factories.CouncilMembershipFactory(council=council, user=member, role=CouncilMembership.Role.MEMBER)
    common = {
        "agreement": Agreement.objects.get(code="PSYK"),
        "category": DeviationCategory.objects.get(name=CATEGORY_DISCHARGE),
        "municipality": nacka,
        "council": council,
        "reporting_organization": own,
        "counterparts": [counterpart],
        "reported_on": timezone.localdate(),
        "occurred_on": timezone.localdate() - datetime.timedelta(days=2),
    }
    new = [factories.DeviationFactory(**common) for _ in range(3)]
    awaiting = factories.DeviationFactory(status=Status.AWAITING_RESPONSE, assigned_to=coordinator, **common)
    factories.ResponseRequestFactory(
        deviation=awaiting, organization=counterpart, due_on=timezone.localdate() + datetime.timedelta(days=5)
    )
    return council, coordinator, member, new, awaiting


def at_width(page, width: int, name: str) -> None:
    """axe-core and a screenshot of the page as it is at ``width`` px (the viewport is restored
    afterwards); ``check_page`` has already checked that nothing scrolls sideways at 320 px."""
    original = page.viewport_size
    page.set_viewport_size({"width": width, "height": 900})
    try:
        axe_check(page, name)
        screenshot(page, name)
    finally:
        page.set_viewport_size(original)


def assert_fits_1280(page) -> None:
    """At 1280 px: no sideways scrolling of the page or of the table's box, the menu on one line, and
    no reference number or date broken over two lines."""
    assert page.viewport_size["width"] == 1280
    layout = page.evaluate(
        """() => {
          const root = document.documentElement;
          const box = document.querySelector('.table-responsive');
          const items = [...document.querySelectorAll('header .navbar-brand, header .nav-item')];
          const tops = items
            .map(e => Math.round(e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2));
          const lines = cell => { const r = document.createRange(); r.selectNodeContents(cell);
                                  return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; };
          const broken = [...document.querySelectorAll('.queue-table td.text-nowrap')]
            .filter(cell => lines(cell) > 1).map(cell => cell.textContent.trim());
          return {page: [root.scrollWidth, root.clientWidth], innerWidth: window.innerWidth,
                  box: box && [box.scrollWidth, box.clientWidth],
                  menuRows: new Set(tops.map(t => Math.round(t / 8))).size,
                  // The menu is open (not behind the toggler), so "one row" is about its items.
                  hiddenItems: items.filter(e => !e.getClientRects().length).length,
                  toggler: !!document.querySelector('header .navbar-toggler').getClientRects().length,
                  broken};
        }"""
    )
    assert layout["page"][0] <= layout["innerWidth"], layout
    assert layout["page"][0] <= layout["page"][1], layout
    assert not layout["toggler"] and layout["hiddenItems"] == 0, layout
    assert layout["box"] is None or layout["box"][0] <= layout["box"][1], layout
    assert layout["menuRows"] == 1, layout
    assert layout["broken"] == [], layout


def test_coordinators_day_from_start_page_to_meeting_pack(page, login, live_server):
    """Start page → queue of new reports → bulk assign → request a response → the counterpart answers
    after the due date (accepted, marked late) → the council's meeting pack."""
    council, coordinator, member, new, awaiting = build_county()
    summary.rebuild()  # the reports were made by factories, past the services that keep it
    login(page, coordinator)

    page.goto(reverse("home"))
    expect(page.locator("h1")).to_have_text("Att göra")
    new_tile = page.get_by_role("link", name="Nya rapporter i mina samråd")
    expect(new_tile).to_contain_text("3")
    expect(page.get_by_role("link", name="Öppna rapporter tilldelade mig")).to_contain_text("1")
    assert_fits_1280(page)
    check_page(page, "workbench-start-1280-sv", language="sv")
    at_width(page, 320, "workbench-start-320-sv")

    new_tile.click()
    expect(page.locator("h1")).to_have_text("Ärenden")
    table = page.get_by_role("table")
    for deviation in new:
        expect(table.get_by_role("link", name=deviation.reference)).to_be_visible()
    expect(table.get_by_role("link", name=awaiting.reference)).to_have_count(0)
    # One council: no council column.
    expect(table.get_by_role("columnheader", name="Samråd")).to_have_count(0)
    assert_fits_1280(page)
    check_page(page, "workbench-queue-1280-sv", language="sv")
    at_width(page, 320, "workbench-queue-320-sv")

    # Tick two rows and assign them to a member of the council.
    for deviation in new[:2]:
        page.get_by_label(f"Markera {deviation.reference}").check()
    page.get_by_role("combobox", name="Åtgärd").select_option(label="Tilldela handläggare")
    page.get_by_label("Tilldela till").select_option(label="Leo Ek")
    with page.expect_navigation():
        page.get_by_role("button", name="Utför").click()
    expect(page.get_by_role("status")).to_contain_text("2 rapporter är klara")
    expect(page.get_by_role("row", name=new[0].reference)).to_contain_text("Leo Ek")
    check_page(page, "workbench-queue-assigned-sv", language="sv")
    for deviation in new[:2]:
        deviation.refresh_from_db()
        assert deviation.assigned_to == member
        assert deviation.events.filter(kind=DeviationEvent.Kind.ASSIGNMENT).count() == 1
    new[2].refresh_from_db()
    assert new[2].assigned_to is None

    # Open an assigned report, start the triage and ask the counterpart for a response (yttrande).
    deviation = new[0]
    counterpart = deviation.counterpart_organizations.get()
    page.get_by_role("table").get_by_role("link", name=deviation.reference).click()
    expect(page.locator("h1")).to_have_text(f"Rapport {deviation.reference}")
    with page.expect_navigation():
        page.get_by_role("button", name="Påbörja bedömning", exact=True).click()
    page.get_by_role("link", name="Begär yttrande").click()
    expect(page.locator("h1")).to_have_text("Begär yttrande")
    page.get_by_label(str(counterpart), exact=True).check()
    page.get_by_label("Meddelande till organisationen (valfritt)").fill("Hur ser er rutin ut?")
    with page.expect_navigation():
        page.get_by_role("button", name="Begär yttrande", exact=True).click()
    responses = page.get_by_role("region", name="Yttranden")
    expect(responses).to_contain_text("Väntar på svar")
    response_request = ResponseRequest.objects.get(deviation=deviation)
    assert response_request.organization == counterpart

    # Time passes: the due date goes by without an answer, and the report's page says so.
    ResponseRequest.objects.filter(pk=response_request.pk).update(
        due_on=timezone.localdate() - datetime.timedelta(days=2)
    )
    page.reload()
    expect(responses).to_contain_text("Försenat")

    # The counterpart answers late through its signed link (no account, a browser of its own): the
    # answer is taken, with a note that it is late, instead of a dead link.
    counterpart_page = page.context.browser.new_context(
        base_url=live_server.url, locale="sv-SE", bypass_csp=True
    ).new_page()
    try:
        counterpart_page.goto(reverse("deviations:respond", args=[make_token(response_request)]))
        expect(counterpart_page.get_by_role("main")).to_contain_text("markeras som sent")
        check_page(counterpart_page, "workbench-respond-late-sv", language="sv")
        counterpart_page.get_by_label("Ditt namn och din funktion").fill("Enhetschef, Psykiatri Södra")
        counterpart_page.get_by_label("Vad hände enligt er?").fill("Meddelandet skickades inte.")
        counterpart_page.get_by_label("Åtgärder som vidtagits eller planeras").fill("Rutinen är genomgången.")
        with counterpart_page.expect_navigation():
            counterpart_page.get_by_role("button", name="Skicka yttrandet", exact=True).click()
        expect(counterpart_page.locator("h1")).to_have_text("Tack för ert yttrande")
    finally:
        counterpart_page.context.close()
    response_request.refresh_from_db()
    assert response_request.answered_at is not None
    assert response_request.answered_late

    # The coordinator sees the answer on the report, marked late.
    page.reload()
    expect(responses).to_contain_text("Rutinen är genomgången.")
    expect(responses.get_by_text("Sent svar", exact=True)).to_be_visible()
    assert deviation.events.filter(action="answered_late").count() == 1

    # The council's meeting pack, from the menu: today's new reports, and no overdue request left.
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Mötesunderlag").click()
    page.get_by_role("link", name=council.name, exact=True).click()
    expect(page.locator("h1")).to_have_text(f"Mötesunderlag: {council.name}")
    new_reports = page.get_by_role("table", name="Nya rapporter")
    for report in new:
        expect(new_reports.get_by_role("link", name=report.reference)).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Inga försenade yttranden.")
    check_page(page, "workbench-meeting-pack-1280-sv", language="sv")
    at_width(page, 320, "workbench-meeting-pack-320-sv")


def test_the_widest_menu_and_the_county_queue_fit_1280(page, login):
    """The longest menu (a superuser who is also a regional coordinator, with a long name) on one
    line, and the whole county's queue (with its council column) without sideways scrolling."""
    council, coordinator, member, new, awaiting = build_county()
    user = factories.UserFactory(
        username="admin",
        first_name="Anna-Karin",
        last_name="Johansson Lindqvist",
        is_staff=True,
        is_superuser=True,
    )
    factories.CouncilMembershipFactory(council=Council.objects.get(name=REGIONAL_COUNCIL), user=user)
    other = Council.objects.get(name=OTHER_COUNCIL)
    factories.DeviationFactory(
        council=other,
        municipality=other.municipalities.first(),
        status=Status.ESCALATED,
        counterparts=[factories.RegionOrganizationFactory(name="Norra Stockholms psykiatri, öppenvård")],
    )
    login(page, user)
    page.goto(reverse("deviations:queue") + "?status=submitted&status=escalated&status=awaiting_response")
    expect(page.get_by_role("table").get_by_role("columnheader", name="Samråd")).to_be_visible()
    assert_fits_1280(page)
    check_page(page, "workbench-queue-county-1280-sv", language="sv")
    page.goto(reverse("home"))
    assert_fits_1280(page)


@pytest.mark.parametrize("browser_locale", ["en-GB"])
def test_start_page_and_queue_in_english(page, login):
    """English labels are longer: the same pages fit 1280 px, pass axe at 1280 and 320 px."""
    council, coordinator, member, new, awaiting = build_county()
    login(page, coordinator)
    with translation.override("en"):
        home, queue = reverse("home"), reverse("deviations:queue")
    page.goto(home)
    expect(page.locator("h1")).to_have_text("To do")
    assert_fits_1280(page)
    check_page(page, "workbench-start-1280-en", language="en")
    at_width(page, 320, "workbench-start-320-en")
    page.goto(queue)
    table = page.get_by_role("table")
    for deviation in new:
        expect(table.get_by_role("link", name=deviation.reference)).to_be_visible()
    for heading in ("Reference", "Occurred", "Response due", "Response received"):
        expect(table.get_by_role("columnheader", name=heading)).to_be_visible()
    assert_fits_1280(page)
    check_page(page, "workbench-queue-1280-en", language="en")
    at_width(page, 320, "workbench-queue-320-en")
