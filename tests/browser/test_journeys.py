"""The six end-to-end journeys of issue 7, in a real browser against the live server.

Each journey builds its county with ``load_reference_data`` and factories (the database is emptied
after every browser test) and runs ``check_page`` (lang, title, one h1, one main, axe WCAG 2.0/2.1 A+AA,
reflow at 320 px, screenshot) on every distinct page it visits, in Swedish. ``test_pages_in_english``
visits the English version of each of those pages, signed in as the role that sees it.
"""

import datetime
import io
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from agreements.models import Agreement, DeviationCategory
from agreements.reference_data import CATEGORY_DISCHARGE, CATEGORY_SIP, REGIONAL_COUNCIL
from councils.models import Council, Municipality, Region
from deviations import tokens
from deviations.models import Deviation, ResponseRequest
from deviations.response_tokens import make_token
from deviations.workflow import Status
from tests import factories
from tests.browser.helpers import (
    assert_error_summary_focused,
    assert_focus_visible,
    check_page,
    download,
    fill_form,
    link_from_last_email,
    require_playwright,
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
