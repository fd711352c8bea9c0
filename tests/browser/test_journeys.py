"""The six end-to-end journeys of issue 7, in a real browser against the live server.

Each journey builds its county with ``load_reference_data`` and factories (the database is emptied
after every browser test) and runs ``check_page`` (lang, title, one h1, one main, axe WCAG 2.0/2.1 A+AA,
reflow at 320 px, screenshot) on every distinct page it visits, in Swedish. ``test_pages_in_english``
visits the English version of each of those pages, signed in as the role that sees it.
"""

import datetime
import io
import time
from types import SimpleNamespace
from unittest import mock

from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from agreements.models import Agreement, DeviationCategory
from agreements.reference_data import CATEGORY_DISCHARGE, CATEGORY_SIP, REGIONAL_COUNCIL
from councils.models import Council, Municipality, Region
from deviations import summary, tokens
from deviations.models import Deviation, DeviationEvent, ResponseRequest
from deviations.response_tokens import make_token
from deviations.workflow import Status
from tests import factories
from tests.browser.helpers import (
    assert_error_summary_focused,
    assert_focus_visible,
    axe_check,
    check_page,
    check_reflow,
    download,
    fill_form,
    link_from_last_email,
    press_until,
    require_playwright,
    screenshot,
    select_by_keyboard,
    tab_through_page,
    tab_to,
)

expect = require_playwright().expect

NACKA_COUNCIL = "Lokalt samråd Nacka-Värmdö (exempel)"
# A valid personal identity number (Skatteverket's test number 19121212-1212, Luhn-correct).
PERSONNUMMER = "121212-1212"
DESCRIPTION = "Utskrivning från slutenvården skedde utan att socialtjänsten fick information."
CONSEQUENCE = "Ingen insats var planerad vid hemkomsten."
BUS_QUESTION = "Gäller bristen ett barn eller en ung person under 18 år?"
NOT_A_CHILD = "Nej, personen är 18 år eller äldre"


def build_county() -> SimpleNamespace:
    """The reference data (Region Stockholm, the municipalities, agreements, councils), two
    organisations with registered e-mail domains, a local coordinator in Nacka and a regional one."""
    call_command("load_reference_data", stdout=io.StringIO())
    w = SimpleNamespace()
    w.region = Region.objects.get(code="01")
    w.nacka = Municipality.objects.get(code="0182")
    w.nacka_council = Council.objects.get(name=NACKA_COUNCIL)
    w.regional_council = Council.objects.get(name=REGIONAL_COUNCIL)
    w.psyk = Agreement.objects.get(code="PSYK")
    w.discharge = DeviationCategory.objects.get(name=CATEGORY_DISCHARGE)
    w.sip = DeviationCategory.objects.get(name=CATEGORY_SIP)
    w.own = factories.OrganizationFactory(
        name="Socialtjänst Nacka, vuxenenheten", principal_municipality=w.nacka, domains=["nacka.se"]
    )
    w.counterpart = factories.RegionOrganizationFactory(
        name="Psykiatri Södra",
        principal_region=w.region,
        domains=["regionstockholm.se"],
        contact_email="yttrande@psykiatrisodra.example.se",
    )
    w.coordinator = factories.UserFactory(
        username="nackasam", first_name="Nora", last_name="Lund", email="samordnare@nacka.se"
    )
    factories.CouncilMembershipFactory(council=w.nacka_council, user=w.coordinator)
    w.regional = factories.UserFactory(
        username="regional", first_name="Rut", last_name="Berg", email="regional@storsthlm.se"
    )
    factories.CouncilMembershipFactory(council=w.regional_council, user=w.regional)
    return w


def report(w, **fields) -> Deviation:
    """A confirmed report in Nacka, PSYK / discharge, between the two organisations."""
    values = {
        "agreement": w.psyk,
        "category": w.discharge,
        "municipality": w.nacka,
        "council": w.nacka_council,
        "reporting_organization": w.own,
        "counterparts": [w.counterpart],
        "reporter_email": "rapportor@nacka.se",
        "reported_on": timezone.localdate(),
    }
    values.update(fields)
    values.setdefault("occurred_on", values["reported_on"] - datetime.timedelta(days=2))
    return factories.DeviationFactory(**values)


def url(name: str, *args, language: str = "sv") -> str:
    with translation.override(language):
        return reverse(name, args=args)


def submit(page, name: str):
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).click()


# --- 1. A reporter without an account --------------------------------------------------------------


def test_reporter_without_account_files_confirms_and_follows_a_report(page):
    w = build_county()
    page.goto(url("deviations:report_start"))
    check_page(page, "j1-report-start-sv", language="sv")
    page.get_by_role("link", name="Till formuläret").click()
    expect(page.locator("h1")).to_have_text("Rapportera en samverkansbrist")
    check_page(page, "j1-report-form-sv", language="sv")

    occurred = (timezone.localdate() - datetime.timedelta(days=3)).isoformat()
    fill_form(
        page,
        {
            BUS_QUESTION: NOT_A_CHILD,
            "Datum då bristen inträffade": occurred,
            "Överenskommelse": str(w.psyk),
            "Kategori": str(w.discharge),
            "Kommun där bristen inträffade": "Nacka",
            "Din organisation": str(w.own),
            "Motpart(er)": str(w.counterpart),
            "Vad hände": f"{DESCRIPTION} Gäller {PERSONNUMMER}.",
            "Konsekvens för individen": CONSEQUENCE,
            "Gällde det en SIP (samordnad individuell plan)?": "Nej",
            "Gällde det utskrivning från slutenvård?": "Ja",
            "Ditt namn": "Rapportör Exempel",
            "Din e-postadress i tjänsten": "rapportor@nacka.se",
        },
    )
    before = Deviation.objects.count()
    submit(page, "Skicka rapporten")
    # Refused with a clear message next to the field and in the focused summary; nothing stored.
    assert_error_summary_focused(page)
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("personnummer")
    expect(page.locator("#id_description")).to_have_attribute("aria-invalid", "true")
    assert Deviation.objects.count() == before
    # Nothing typed is lost.
    expect(page.locator("#id_consequence")).to_have_value(CONSEQUENCE)
    check_page(page, "j1-report-form-error-sv", language="sv")

    page.get_by_label("Vad hände").fill(DESCRIPTION)
    submit(page, "Skicka rapporten")
    expect(page.locator("h1")).to_have_text("Bekräfta din rapport")
    expect(page.locator("main")).to_contain_text("rapportor@nacka.se")
    check_page(page, "j1-report-sent-sv", language="sv")
    deviation = Deviation.objects.get()
    assert deviation.status == Status.UNCONFIRMED

    page.goto(link_from_last_email(to="rapportor@nacka.se", containing="/bekrafta/"))
    expect(page.locator("h1")).to_have_text("Bekräfta din rapport")
    check_page(page, "j1-confirm-sv", language="sv")
    submit(page, "Bekräfta och skicka rapporten")

    deviation.refresh_from_db()
    assert deviation.status == Status.SUBMITTED
    assert deviation.council == w.nacka_council
    expect(page.locator("h1")).to_have_text(f"Status för rapport {deviation.reference}")
    expect(page.get_by_role("status")).to_contain_text(deviation.reference)
    check_page(page, "j1-status-sv", language="sv")
    # The receipt e-mail links to the same status page.
    receipt_link = link_from_last_email(to="rapportor@nacka.se", containing="/status/")
    assert receipt_link == page.url


# --- 2. A local coordinator triages; the counterpart answers -------------------------------------


def test_local_coordinator_triages_requests_a_response_and_escalates(page, login, live_server):
    w = build_county()
    deviation = report(w, description=DESCRIPTION)
    other = report(w, category=w.sip, description="SIP kallades inte trots begäran.")
    login(page, w.coordinator)

    page.goto(url("deviations:queue"))
    check_page(page, "j2-queue-sv", language="sv")
    page.get_by_text("Fler filter").click()
    fill_form(page, {"Kategori": str(w.discharge)})
    submit(page, "Filtrera")
    table = page.get_by_role("table")
    expect(table.get_by_role("link", name=deviation.reference)).to_be_visible()
    expect(table.get_by_role("link", name=other.reference)).to_have_count(0)
    check_page(page, "j2-queue-filtered-sv", language="sv")

    table.get_by_role("link", name=deviation.reference).click()
    expect(page.locator("h1")).to_have_text(f"Rapport {deviation.reference}")
    check_page(page, "j2-detail-submitted-sv", language="sv")
    submit(page, "Tilldela mig")
    expect(page.get_by_role("status")).to_contain_text("Handläggaren är ändrad")
    submit(page, "Påbörja bedömning")
    expect(page.get_by_role("status")).to_contain_text("Påbörja bedömning")

    page.get_by_role("link", name="Begär yttrande").click()
    expect(page.locator("h1")).to_have_text("Begär yttrande")
    check_page(page, "j2-request-response-sv", language="sv")
    fill_form(page, {"Organisationer som ska yttra sig": str(w.counterpart)})
    page.get_by_label("Meddelande till organisationen (valfritt)").fill("Hur ser er rutin ut?")
    submit(page, "Begär yttrande")
    deviation.refresh_from_db()
    assert deviation.status == Status.AWAITING_RESPONSE
    assert deviation.assigned_to == w.coordinator

    # The counterpart answers through the e-mailed link, without an account.
    # A separate browser context: the counterpart has no session (bypass_csp for axe, as in ``page``).
    counterpart_page = page.context.browser.new_context(
        base_url=live_server.url, locale="sv-SE", bypass_csp=True
    ).new_page()
    try:
        counterpart_page.goto(link_from_last_email(to=w.counterpart.contact_email, containing="/yttrande/"))
        expect(counterpart_page.locator("h1")).to_contain_text(deviation.reference)
        check_page(counterpart_page, "j2-respond-sv", language="sv")
        fill_form(
            counterpart_page,
            {
                "Ditt namn och din funktion": "Enhetschef, Psykiatri Södra",
                "Vad hände enligt er?": "Utskrivningsmeddelandet skickades inte på grund av en miss.",
                "Åtgärder som vidtagits eller planeras": "Rutinen är genomgången med personalen.",
            },
        )
        submit(counterpart_page, "Skicka yttrandet")
        expect(counterpart_page.locator("h1")).to_have_text("Tack för ert yttrande")
        check_page(counterpart_page, "j2-respond-done-sv", language="sv")
    finally:
        counterpart_page.context.close()
    assert ResponseRequest.objects.get().answered_at is not None

    page.goto(url("deviations:detail", deviation.reference))
    expect(page.get_by_role("region", name="Yttranden")).to_contain_text("Rutinen är genomgången")
    page.get_by_role("link", name="Eskalera till regionalt samråd").click()
    check_page(page, "j2-escalate-sv", language="sv")
    submit(page, "Eskalera till regionalt samråd")
    # The motivation is required: the form says so and keeps the user on the page.
    assert_error_summary_focused(page)
    page.locator("#id_text").fill("Återkommande: tredje gången i år, kräver länsgemensam rutin.")
    submit(page, "Eskalera till regionalt samråd")
    expect(page.get_by_role("status")).to_contain_text("Eskalera till regionalt samråd")
    deviation.refresh_from_db()
    assert deviation.status == Status.ESCALATED
    check_page(page, "j2-detail-escalated-sv", language="sv")

    # Something identifying slipped into the report: the coordinator redacts it from every text, with
    # the small form on the detail page; the history says who, which texts and why.
    redact = page.locator("#maskera")
    redact.locator("summary").click()
    redact.get_by_label("Text som ska tas bort").fill("utan att socialtjänsten")
    redact.get_by_label("Skäl").fill("Prov av maskering.")
    submit(page, "Ta bort texten överallt i rapporten")
    expect(page.get_by_role("status")).to_contain_text("Texten är borttagen")
    expect(page.get_by_role("region", name="Händelser")).to_contain_text("Text maskerad")
    deviation.refresh_from_db()
    assert "utan att socialtjänsten" not in deviation.description and "[borttaget]" in deviation.description
    page.goto(url("deviations:redact", deviation.reference))
    expect(page.locator("h1")).to_have_text("Maskera text")
    check_page(page, "j2-redact-sv", language="sv")

    # The reporter's address was mistyped: the coordinator corrects it; the history names the field.
    page.goto(url("deviations:detail", deviation.reference))
    page.get_by_role("link", name="Rätta kontaktuppgifterna").click()
    check_page(page, "j2-correct-contact-sv", language="sv")
    page.get_by_label("Rapportörens e-post").fill("rapportor.ny@nacka.se")
    page.get_by_label("Skäl").fill("Rapportören ringde: adressen var felskriven.")
    submit(page, "Spara rättelsen")
    expect(page.get_by_role("status")).to_contain_text("Rapportörens kontaktuppgifter är rättade")
    expect(page.get_by_role("region", name="Händelser")).to_contain_text("Kontaktuppgifter rättade")
    deviation.refresh_from_db()
    assert deviation.reporter_email == "rapportor.ny@nacka.se"

    # The reporter asked to be forgotten: the coordinator erases the contact details before their
    # retention, with the small form on the detail page; the history says which, never what.
    page.goto(url("deviations:erase_contact", deviation.reference))
    expect(page.locator("h1")).to_have_text("Radera rapportörens kontaktuppgifter")
    check_page(page, "j2-erase-contact-sv", language="sv")
    page.goto(url("deviations:detail", deviation.reference))
    erase = page.locator("#radera-kontaktuppgifter")
    erase.locator("summary").click()
    erase.get_by_label("Skäl").fill("Rapportören begärde radering.")
    submit(page, "Radera kontaktuppgifterna")
    expect(page.get_by_role("status")).to_contain_text("Rapportörens kontaktuppgifter är raderade")
    events = page.get_by_role("region", name="Händelser")
    expect(events).to_contain_text("Kontaktuppgifter raderade")
    expect(events).not_to_contain_text("rapportor.ny@nacka.se")
    deviation.refresh_from_db()
    assert deviation.reporter_email == "" and deviation.contact_erased_at is not None
    check_page(page, "j2-detail-contact-erased-sv", language="sv")


# --- 3. A regional coordinator groups reports into a systemic issue ------------------------------


def test_regional_coordinator_resolves_a_systemic_issue_with_feedback(page, login):
    w = build_county()
    first = report(w, status=Status.ESCALATED)
    similar = report(w, status=Status.ESCALATED, description="Utskrivning utan information, igen.")
    login(page, w.regional)

    page.goto(url("deviations:escalated"))
    check_page(page, "j3-escalated-queue-sv", language="sv")
    page.get_by_role("table").get_by_role("link", name=first.reference).click()
    expect(page.get_by_role("region", name="Liknande rapporter")).to_contain_text(similar.reference)
    check_page(page, "j3-detail-escalated-sv", language="sv")
    submit(page, "Påbörja regional analys")
    expect(page.get_by_role("status")).to_contain_text("Påbörja regional analys")

    page.goto(url("deviations:systemic_list"))
    check_page(page, "j3-systemic-list-sv", language="sv")
    page.get_by_role("link", name="Ny systemfråga").click()
    check_page(page, "j3-systemic-new-sv", language="sv")
    fill_form(
        page,
        {
            "Rubrik": "Utskrivning utan information till socialtjänsten",
            "Beskrivning": "Återkommande i Nacka: utskrivningsmeddelanden kommer inte fram.",
            "Överenskommelser": str(w.psyk),
        },
    )
    submit(page, "Spara")
    expect(page.get_by_role("status")).to_contain_text("Systemfrågan är sparad")
    check_page(page, "j3-systemic-detail-sv", language="sv")

    for deviation in (first, similar):
        page.get_by_label("Referensnummer").fill(deviation.reference)
        submit(page, "Koppla")
        expect(page.get_by_role("status")).to_contain_text(deviation.reference)

    due = (timezone.localdate() + datetime.timedelta(days=90)).isoformat()
    fill_form(
        page,
        {
            "Åtgärd": "Gemensam rutin för utskrivningsmeddelanden tas fram.",
            "Ansvarig": str(w.counterpart),
            "Klart senast": due,
        },
        within=page.locator("form", has=page.get_by_role("button", name="Lägg till åtgärd")),
    )
    submit(page, "Lägg till åtgärd")
    expect(page.get_by_role("status")).to_contain_text("Åtgärden är sparad")

    feedback = "Regionala samrådet har beslutat om en gemensam rutin för utskrivningsmeddelanden."
    fill_form(
        page,
        {
            "Resultat": "Rutin beslutad och införd.",
            "Återkoppling till rapportörerna (valfri)": feedback,
            "Avsluta kopplade öppna rapporter med denna återkoppling": True,
        },
    )
    submit(page, "Markera som löst")
    expect(page.get_by_role("status")).to_contain_text("Systemfrågan är löst")
    # The report under regional analysis is closed with the feedback; the one still escalated (the
    # state machine does not close from there) stays open, is listed with the reason, and gets no
    # feedback saying the issue is resolved.
    expect(page.get_by_role("status")).to_contain_text(f"{similar.reference} är fortfarande öppen")
    check_page(page, "j3-systemic-resolved-sv", language="sv")
    first.refresh_from_db()
    similar.refresh_from_db()
    assert first.status == Status.CLOSED
    assert similar.status == Status.ESCALATED
    assert not similar.events.filter(kind=DeviationEvent.Kind.FEEDBACK).exists()

    # The reporter's status page (their personal link) shows the feedback.
    page.context.clear_cookies()
    page.goto(url("deviations:status", tokens.status_token(first)))
    expect(page.get_by_role("main")).to_contain_text(feedback)
    check_page(page, "j3-status-closed-sv", language="sv")


# --- 4. Follow-up: chart, table and files --------------------------------------------------------


def test_coordinator_follows_up_an_agreement_and_downloads_the_files(page, login):
    import openpyxl
    import pypdf

    w = build_county()
    year = timezone.localdate().year
    reported = datetime.date(year, 1, 15)
    for _n in range(4):
        report(w, reported_on=reported)
    report(w, category=w.sip, reported_on=reported)
    summary.rebuild()  # the reports were made by factories, past the services that keep it
    login(page, w.regional)

    page.goto(url("followup:followup"))
    check_page(page, "j4-followup-default-sv", language="sv")
    fill_form(page, {"Överenskommelse": str(w.psyk), "Period": "Helår", "År": str(year)})
    submit(page, "Visa")
    expect(page.locator("#figure-total")).to_have_text("5")
    # The charts are images with an accessible name; the same figures are in the tables.
    expect(page.get_by_role("img", name="Antal rapporter per kategori")).to_be_visible()
    expect(page.get_by_role("img", name="Antal rapporter per månad")).to_be_visible()
    category_table = page.get_by_role("table", name="Per kategori")
    expect(category_table.get_by_role("row", name=CATEGORY_DISCHARGE)).to_contain_text("4")
    check_page(page, "j4-followup-sv", language="sv")

    name, content = download(page, page.get_by_role("link", name="Statistik (Excel)"))
    assert name.endswith(".xlsx") and content.startswith(b"PK")
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    cells = [
        cell for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for cell in row
    ]
    assert CATEGORY_DISCHARGE in cells and 4 in cells, "the XLSX lacks the discharge category's count"

    name, content = download(page, page.get_by_role("link", name="Uppföljningsdokument (PDF)"))
    assert name.endswith(".pdf") and content.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(content)).pages)
    assert w.psyk.name in " ".join(text.split()), "the PDF lacks the agreement's heading"


# --- 4b. A council meeting: record it, read its pack, apply its decisions --------------------------


def test_coordinator_records_a_meeting_and_applies_its_decisions(page, login):
    """Three reports of one kind in triage are proposed for escalation in the pack of a meeting
    recorded today; the coordinator escalates two from the minutes page, one event each."""
    w = build_county()
    today = timezone.localdate()
    first, second, third = (
        report(w, status=Status.TRIAGE, reported_on=today - datetime.timedelta(days=n)) for n in (3, 2, 1)
    )
    login(page, w.coordinator)

    page.goto(url("followup:meetings", w.nacka_council.pk))
    check_page(page, "j4b-meetings-sv", language="sv")
    page.get_by_role("link", name="Nytt möte").click()
    check_page(page, "j4b-meeting-new-sv", language="sv")
    fill_form(
        page,
        {
            "Mötesdatum": today.isoformat(),
            "Närvarande": "Samordnare, socialtjänsten\nEnhetschef, psykiatrin",
            "Minnesanteckningar": "Utskrivningar utan information återkommer.",
        },
    )
    submit(page, "Spara mötet")
    expect(page.get_by_role("status")).to_contain_text("Mötet är sparat")
    check_page(page, "j4b-minutes-sv", language="sv")

    page.get_by_role("main").get_by_role("link", name="Mötesunderlag", exact=True).click()
    proposals = page.get_by_role("table", name=CATEGORY_DISCHARGE)
    for deviation in (first, second, third):
        expect(proposals.get_by_role("link", name=deviation.reference)).to_be_visible()
    check_page(page, "j4b-meeting-pack-sv", language="sv")
    page.go_back()

    fill_form(
        page,
        {
            "Beslut": "Eskalera till regionalt samråd",
            "Föreslagna för eskalering": [
                f"{d.reference} · {CATEGORY_DISCHARGE} · {d.reported_on:%Y-%m-%d} · Under bedömning"
                for d in (first, second)
            ],
            "Motivering eller återkoppling": "Återkommande i hela området; kräver länsgemensam rutin.",
        },
    )
    submit(page, "Utför beslutet")
    expect(page.get_by_role("status")).to_contain_text(f"2 rapporter ({first.reference}, {second.reference})")
    check_page(page, "j4b-minutes-decided-sv", language="sv")
    for deviation, status in ((first, Status.ESCALATED), (second, Status.ESCALATED), (third, Status.TRIAGE)):
        deviation.refresh_from_db()
        assert deviation.status == status
    assert DeviationEvent.objects.filter(action="escalate").count() == 2


# --- 5. No peeking at another council's report ---------------------------------------------------


def test_signed_in_reporter_cannot_open_another_councils_report(page, login):
    w = build_county()
    reporter = factories.UserFactory(username="rapportor", email="rapportor@nacka.se", organization=w.own)
    own = report(w, reporter=reporter)
    stockholm = Municipality.objects.get(code="0180")
    elsewhere = report(
        w,
        municipality=stockholm,
        council=Council.objects.get(name="Lokalt samråd Innerstaden (exempel)"),
        reporter_email="annan@stockholm.se",
    )
    login(page, reporter)

    page.goto(url("deviations:my_reports"))
    check_page(page, "j5-my-reports-sv", language="sv")
    page.get_by_role("link", name=own.reference).click()
    expect(page.locator("h1")).to_contain_text(own.reference)

    response = page.goto(url("deviations:detail", own.reference))
    assert response.status == 200
    check_page(page, "j5-own-report-sv", language="sv")
    response = page.goto(url("deviations:detail", own.reference).replace(own.reference, elsewhere.reference))
    assert response.status == 404
    expect(page.get_by_role("main")).not_to_contain_text(elsewhere.reference)
    check_page(page, "j5-not-found-sv", language="sv")


# --- 6. The filing form with the keyboard only ---------------------------------------------------


def focused(page, locator) -> bool:
    return locator.evaluate("el => el === document.activeElement")


def check_radio_by_keyboard(page, group, option_label: str) -> None:
    """Tab into a radio group (focus lands on its first radio), then Space / arrow keys to choose."""
    tab_to(page, group.get_by_role("radio").first)
    wanted = group.get_by_label(option_label, exact=True)
    page.keyboard.press("Space")
    if not wanted.is_checked():
        press_until(page, "ArrowDown", wanted.is_checked)
    assert_focus_visible(page)


def type_date(page, field, date: datetime.date) -> None:
    """Type a date into a focused native date input, segment by segment. The segments' order follows
    Chromium's UI language (year-month-day in Swedish, month/day/year in US English): try the Swedish
    order, and if the browser took it otherwise, Shift+Tab back to the first segment and retype."""
    page.keyboard.type(date.strftime("%Y%m%d"))
    if field.input_value() != date.isoformat():
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Shift+Tab")
        page.keyboard.type(date.strftime("%m%d%Y"))
    expect(field).to_have_value(date.isoformat())


def test_filing_form_with_the_keyboard_only(page):
    w = build_county()
    page.goto(url("deviations:report_form"))
    # The first question; the rest of the form shows once it is answered "Nej".
    expect(page.locator("#report-details")).to_be_hidden()
    check_radio_by_keyboard(page, page.locator("#div_id_concerns_child"), NOT_A_CHILD)
    expect(page.locator("#report-details")).to_be_visible()
    # Every stop on the page shows where the focus is (round from the skip link).
    page.locator(".skip-link").focus()
    stops = tab_through_page(page)
    assert len(stops) > 20, stops

    # A failed submit (nothing but the first answer): Enter on the button, the error summary gets focus.
    page.reload()
    check_radio_by_keyboard(page, page.locator("#div_id_concerns_child"), NOT_A_CHILD)
    tab_to(page, page.get_by_role("button", name="Skicka rapporten"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert_error_summary_focused(page)
    check_page(page, "j6-report-form-errors-sv", language="sv")
    before = Deviation.objects.count()

    # From the summary, on through the form, by keyboard only.
    occurred = timezone.localdate() - datetime.timedelta(days=5)
    tab_to(page, page.locator("#id_occurred_on"))
    type_date(page, page.locator("#id_occurred_on"), occurred)
    select_by_keyboard(page, page.locator("#id_agreement"), str(w.psyk))
    select_by_keyboard(page, page.locator("#id_category"), str(w.discharge))
    select_by_keyboard(page, page.locator("#id_municipality"), "Nacka")
    select_by_keyboard(page, page.locator("#id_reporting_organization"), str(w.own))
    counterpart = page.get_by_role("checkbox", name=str(w.counterpart), exact=True)
    tab_to(page, counterpart)
    page.keyboard.press("Space")
    expect(counterpart).to_be_checked()
    assert_focus_visible(page)
    tab_to(page, page.locator("#id_description"))
    page.keyboard.type(DESCRIPTION)
    page.keyboard.press("Tab")
    expect(page.locator("#id_consequence")).to_be_focused()
    page.keyboard.type(CONSEQUENCE)
    check_radio_by_keyboard(page, page.locator("#div_id_sip_involved"), "Nej")
    check_radio_by_keyboard(page, page.locator("#div_id_discharge_involved"), "Ja")
    # The e-mail first, then Shift+Tab back to the name.
    tab_to(page, page.locator("#id_reporter_email"))
    page.keyboard.type("rapportor@nacka.se")
    tab_to(page, page.locator("#id_reporter_name"), backwards=True)
    page.keyboard.type("Rapportör Exempel")
    tab_to(page, page.get_by_role("button", name="Skicka rapporten"))
    with page.expect_navigation():
        page.keyboard.press("Enter")

    expect(page.locator("h1")).to_have_text("Bekräfta din rapport")
    assert Deviation.objects.count() == before + 1
    deviation = Deviation.objects.get()
    assert deviation.occurred_on == occurred
    assert (deviation.agreement, deviation.category) == (w.psyk, w.discharge)
    assert deviation.municipality == w.nacka and deviation.reporting_organization == w.own
    assert list(deviation.counterpart_organizations.all()) == [w.counterpart]
    assert (deviation.sip_involved, deviation.discharge_involved) == ("no", "yes")
    assert deviation.reporter_name == "Rapportör Exempel"


# --- 7. Issue 18: the BUS question, Back and "Skicka" again, an expired link, the counterparts -----

YES_A_CHILD = "Ja, personen är under 18 år"


def fill_report(page, w) -> None:
    """The whole report form with the mouse, as journey 1 fills it."""
    fill_form(
        page,
        {
            BUS_QUESTION: NOT_A_CHILD,
            "Datum då bristen inträffade": (timezone.localdate() - datetime.timedelta(days=3)).isoformat(),
            "Överenskommelse": str(w.psyk),
            "Kategori": str(w.discharge),
            "Kommun där bristen inträffade": "Nacka",
            "Din organisation": str(w.own),
            "Motpart(er)": str(w.counterpart),
            "Vad hände": DESCRIPTION,
            "Konsekvens för individen": CONSEQUENCE,
            "Gällde det en SIP (samordnad individuell plan)?": "Nej",
            "Gällde det utskrivning från slutenvård?": "Ja",
            "Ditt namn": "Rapportör Exempel",
            "Din e-postadress i tjänsten": "rapportor@nacka.se",
        },
    )


def test_a_report_about_a_child_is_sent_to_the_bus_process(page, live_server, settings):
    w = build_county()
    page.goto(url("deviations:report_form"))
    details = page.locator("#report-details")
    expect(details).to_be_hidden()  # nothing to type before the first answer
    check_radio_by_keyboard(page, page.locator("#div_id_concerns_child"), YES_A_CHILD)
    notice = page.locator("#bus-notice")
    expect(notice).to_be_visible()
    expect(notice.get_by_role("link")).to_have_attribute("href", settings.BUS_URL)
    expect(details).to_be_hidden()  # no form, no button to send it with
    check_page(page, "j7-bus-notice-sv", language="sv")
    # A wrong answer is corrected with the arrow keys: the form comes back.
    press_until(page, "ArrowUp", lambda: page.get_by_label(NOT_A_CHILD).is_checked())
    expect(details).to_be_visible()
    expect(notice).to_be_hidden()
    # Help with the agreement: what each covers; a date before any applied says so (no empty list).
    page.get_by_text("Vilken överenskommelse ska jag välja?").click()
    expect(page.locator(".agreement-guide")).to_contain_text(w.psyk.scope)
    page.get_by_label("Datum då bristen inträffade").fill("2010-06-01")
    expect(page.locator("#agreement-none")).to_contain_text("Ingen av överenskommelserna gällde")
    expect(page.locator("#id_agreement option:not([hidden])")).to_have_count(1)  # "Välj överenskommelse"
    check_page(page, "j7-no-agreement-on-date-sv", language="sv")

    # Without the script the whole form shows; "Ja" is refused by the server, nothing is stored.
    context = page.context.browser.new_context(
        base_url=live_server.url, locale="sv-SE", java_script_enabled=False
    )
    try:
        plain = context.new_page()
        plain.goto(url("deviations:report_form"))
        fill_report(plain, w)
        plain.get_by_label(YES_A_CHILD).check()
        submit(plain, "Skicka rapporten")
        expect(plain.locator("h1")).to_have_text("Rapportera i BUS-processen")
        expect(
            plain.get_by_role("link", name="Läs om BUS-processen och hur du rapporterar där")
        ).to_have_attribute("href", settings.BUS_URL)
    finally:
        context.close()
    assert not Deviation.objects.exists()

    # A report the council rejected as BUS shows the way there on its status page.
    rejected = report(w, status=Status.REJECTED, reject_reason="bus")
    page.goto(url("deviations:status", tokens.status_token(rejected)))
    expect(
        page.get_by_role("main").get_by_role("link", name="Läs om BUS-processen och hur du rapporterar där")
    ).to_have_attribute("href", settings.BUS_URL)
    check_page(page, "j7-status-rejected-bus-sv", language="sv")


def test_back_and_send_again_gives_one_report(page):
    w = build_county()
    page.goto(url("deviations:report_form"))
    fill_report(page, w)
    submit(page, "Skicka rapporten")
    expect(page.locator("h1")).to_have_text("Bekräfta din rapport")
    assert Deviation.objects.count() == 1

    # Back in the browser: the form as it was, and its button works again.
    page.go_back()
    expect(page.locator("h1")).to_have_text("Rapportera en samverkansbrist")
    expect(page.locator("#id_description")).to_have_value(DESCRIPTION)
    expect(page.locator("#report-details")).to_be_visible()
    submit(page, "Skicka rapporten")
    expect(page.get_by_role("status")).to_contain_text("Du har redan skickat den här rapporten")
    expect(page.locator("main")).to_contain_text("rapportor@nacka.se")
    check_page(page, "j7-sent-again-sv", language="sv")
    assert Deviation.objects.count() == 1

    # A fresh form (a new key) with the same content from the same reporter: still the same report.
    page.goto(url("deviations:report_form"))
    fill_report(page, w)
    submit(page, "Skicka rapporten")
    expect(page.get_by_role("status")).to_contain_text("Du har redan skickat den här rapporten")
    assert Deviation.objects.count() == 1
    assert len([m for m in mail.outbox if "rapportor@nacka.se" in m.to]) == 1


def test_an_expired_link_sends_a_new_one_and_keeps_the_report(page, settings):
    w = build_county()
    deviation = report(w, status=Status.UNCONFIRMED, council=None, description=DESCRIPTION)
    issued = time.time() - (settings.CONFIRMATION_MAX_AGE_HOURS * 3600 + 60)
    with mock.patch("django.core.signing.time.time", return_value=issued):
        token = tokens.confirmation_token(deviation)
    response = page.goto(url("deviations:confirm", token))
    assert response.status == 400
    expect(page.locator("h1")).to_have_text("Länken har gått ut")
    check_page(page, "j7-link-expired-sv", language="sv")
    submit(page, "Skicka en ny länk")
    expect(page.locator("h1")).to_have_text("En ny länk är skickad")
    check_page(page, "j7-link-resent-sv", language="sv")

    page.goto(link_from_last_email(to="rapportor@nacka.se", containing="/bekrafta/"))
    submit(page, "Bekräfta och skicka rapporten")
    deviation.refresh_from_db()
    assert deviation.status == Status.SUBMITTED
    assert deviation.description == DESCRIPTION  # what was typed, not lost
    expect(page.locator("h1")).to_have_text(f"Status för rapport {deviation.reference}")


def test_choosing_counterparts_by_keyboard_at_320_px(page):
    w = build_county()
    other = factories.RegionOrganizationFactory(name="Beroendecentrum Stockholm", principal_region=w.region)
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(url("deviations:report_form"))
    check_radio_by_keyboard(page, page.locator("#div_id_concerns_child"), NOT_A_CHILD)

    chosen = page.locator(".counterpart-chosen")
    expect(chosen).to_contain_text("Ingen vald ännu.")
    search = page.get_by_label("Sök bland organisationerna")
    tab_to(page, search)
    page.keyboard.type("psyk")
    counterpart = page.get_by_role("checkbox", name=str(w.counterpart), exact=True)
    expect(counterpart).to_be_visible()
    expect(page.get_by_role("checkbox", name=str(other), exact=True)).to_be_hidden()
    expect(page.locator("#id_counterpart_organizations_filter_count")).to_contain_text("Visar 1 av")
    page.keyboard.press("Enter")  # in the filter field: does not send the form
    expect(page.locator("h1")).to_have_text("Rapportera en samverkansbrist")
    expect(search).to_be_focused()

    tab_to(page, counterpart)
    page.keyboard.press("Space")
    expect(counterpart).to_be_checked()
    expect(chosen).to_contain_text(str(w.counterpart))
    # Back to the filter, emptied: every organisation again; a second one with Space.
    tab_to(page, search, backwards=True)
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    second = page.get_by_role("checkbox", name=str(other), exact=True)
    tab_to(page, second)
    page.keyboard.press("Space")
    expect(chosen).to_contain_text(f"{other}, {w.counterpart}")  # in the order of the list
    # Unchecked again by keyboard.
    page.keyboard.press("Space")
    expect(chosen).not_to_contain_text(str(other))
    check_reflow(page)
    axe_check(page, "j7-counterparts-320px")
    screenshot(page, "j7-counterparts-320px-sv")


def test_report_pages_and_the_meeting_pack_print_without_navigation(page, login):
    w = build_county()
    reporter = factories.UserFactory(username="skrivare", email="rapportor@nacka.se", organization=w.own)
    deviation = report(w, reporter=reporter, description=DESCRIPTION)
    login(page, w.coordinator)
    pages = [
        url("deviations:detail", deviation.reference),
        url("followup:meeting_pack", w.nacka_council.pk),
        url("deviations:status", tokens.status_token(deviation)),
    ]
    for path in pages:
        page.goto(path)
        page.emulate_media(media="print")
        try:
            for hidden in ("body > header", "body > footer", "main form", ".skip-link"):
                for element in page.locator(hidden).all():
                    expect(element).to_be_hidden()
            expect(page.locator("main h1")).to_be_visible()
            screenshot(page, "j7-print-" + path.strip("/").replace("/", "-")[:40])
        finally:
            page.emulate_media(media="screen")
        expect(page.locator("body > header")).to_be_visible()


# --- Every page of the journeys, in English --------------------------------------------------------


def english_world():
    """One county in which every page of the journeys has something to show."""
    w = build_county()
    year = timezone.localdate().year
    w.reporter = factories.UserFactory(username="rapportor", email="rapportor@nacka.se", organization=w.own)
    w.submitted = report(w, reporter=w.reporter, reported_on=datetime.date(year, 1, 15))
    w.triage = report(w, status=Status.TRIAGE, reported_on=datetime.date(year, 1, 16))
    w.unconfirmed = report(w, status=Status.UNCONFIRMED, reporter_email="ny@nacka.se")
    w.escalated = report(w, status=Status.ESCALATED)
    w.closed = report(w, status=Status.CLOSED)
    Deviation.objects.filter(pk=w.closed.pk).update(closed_at=timezone.now())
    factories.DeviationEventFactory(
        deviation=w.closed,
        kind=DeviationEvent.Kind.FEEDBACK,
        visibility=DeviationEvent.Visibility.REPORTER,
        text="Regional routine decided.",
    )
    w.issue = factories.SystemicIssueFactory(created_by=w.regional, agreements=[w.psyk])
    factories.SystemicActionFactory(issue=w.issue, owner=w.counterpart)
    w.escalated.systemic_issue = w.issue
    w.escalated.save(update_fields=["systemic_issue"])
    w.response_request = factories.ResponseRequestFactory(
        deviation=report(w, status=Status.AWAITING_RESPONSE), organization=w.counterpart
    )
    w.meeting = factories.CouncilMeetingFactory(
        council=w.nacka_council, held_on=timezone.localdate(), minutes="Discharges without notice recur."
    )
    summary.rebuild()  # the reports were made by factories, past the services that keep it
    return w


def session_with(live_server, page, **values):
    """Give the page's browser a server-side session holding ``values`` (e.g. the report just filed)."""
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session.update(values)
    session.create()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": live_server.url}]
    )


def visit(page, path: str, name: str, *, status: int = 200) -> None:
    response = page.goto(path)
    assert response.status == status, f"{name}: {path} answered {response.status}"
    check_page(page, f"{name}-en", language="en")


def test_pages_in_english(page, login, live_server, settings):
    from deviations.views.reporting import SESSION_KEY

    w = english_world()
    en = {"language": "en"}

    # Reporters without an account, and the counterpart (signed links, no session).
    visit(page, url("deviations:report_start", **en), "report-start")
    visit(page, url("deviations:report_form", **en), "report-form")
    page.get_by_label("Yes, the person is under 18").check()
    expect(page.locator("#bus-notice")).to_be_visible()
    check_page(page, "report-form-bus-en", language="en")
    page.get_by_label("No, the person is 18 or older").check()
    with page.expect_navigation():
        page.locator("#report-form [type=submit]").click()
    assert_error_summary_focused(page)
    check_page(page, "report-form-errors-en", language="en")
    session_with(live_server, page, **{SESSION_KEY: w.unconfirmed.pk})
    visit(page, url("deviations:report_sent", **en), "report-sent")
    visit(page, url("deviations:confirm", tokens.confirmation_token(w.unconfirmed), **en), "confirm")
    issued = time.time() - (settings.CONFIRMATION_MAX_AGE_HOURS * 3600 + 60)
    with mock.patch("django.core.signing.time.time", return_value=issued):
        expired = tokens.confirmation_token(w.unconfirmed)
    visit(page, url("deviations:confirm", expired, **en), "link-expired", status=400)
    visit(page, url("deviations:status", tokens.status_token(w.closed), **en), "status-closed")
    visit(page, url("deviations:respond", make_token(w.response_request), **en), "respond")
    page.locator("#id_answered_by_name").fill("Unit manager")
    page.locator("#id_what_happened").fill("The discharge notice was not sent.")
    page.locator("#id_actions").fill("The routine has been reviewed.")
    with page.expect_navigation():
        page.locator("main form [type=submit]").click()
    check_page(page, "respond-done-en", language="en")
    page.context.clear_cookies()

    # The local coordinator.
    login(page, w.coordinator)
    visit(page, url("deviations:queue", **en) + f"?category={w.discharge.pk}", "queue")
    visit(page, url("deviations:detail", w.submitted.reference, **en), "detail-submitted")
    visit(page, url("deviations:redact", w.submitted.reference, **en), "redact")
    visit(page, url("deviations:erase_contact", w.submitted.reference, **en), "erase-contact")
    visit(page, url("deviations:correct_contact", w.submitted.reference, **en), "correct-contact")
    visit(
        page,
        url("deviations:transition", w.triage.reference, "request_response", **en),
        "transition-request-response",
    )
    visit(page, url("deviations:transition", w.triage.reference, "escalate", **en), "transition-escalate")
    council, meeting = w.nacka_council.pk, w.meeting.pk
    visit(page, url("followup:meetings", council, **en), "meetings")
    visit(page, url("followup:meeting", council, meeting, **en), "meeting-minutes")
    visit(page, url("followup:meeting_meeting_pack", council, meeting, **en), "meeting-pack")
    page.context.clear_cookies()

    # The regional coordinator.
    login(page, w.regional)
    visit(page, url("deviations:escalated", **en), "escalated-queue")
    visit(page, url("deviations:detail", w.escalated.reference, **en), "detail-escalated")
    visit(page, url("deviations:systemic_list", **en), "systemic-list")
    visit(page, url("deviations:systemic_create", **en), "systemic-new")
    visit(page, url("deviations:systemic_detail", w.issue.pk, **en), "systemic-detail")
    year = timezone.localdate().year
    visit(
        page,
        url("followup:followup", **en) + f"?agreement={w.psyk.pk}&scope=county&period_type=year"
        f"&year={year}&basis=reported_on",
        "followup",
    )
    expect(page.locator("#figure-total")).not_to_have_text("0")
    page.context.clear_cookies()

    # A signed-in reporter.
    login(page, w.reporter)
    visit(page, url("deviations:my_reports", **en), "my-reports")
    visit(page, url("deviations:detail", w.submitted.reference, **en), "detail-own-report")
    visit(page, url("deviations:detail", w.triage.reference, **en), "detail-not-found", status=404)
