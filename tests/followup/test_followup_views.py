"""The follow-up page, the analysis, the exports and the PDF through the test client."""

import csv
import datetime
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from agreements.models import FollowUpAnalysis
from config import spreadsheets
from deviations import summary
from tests import factories

pytestmark = pytest.mark.django_db
URL = reverse("followup:followup")


def params(dataset, **extra):
    base = {
        "agreement": dataset.agreement.pk,
        "period_type": "year",
        "year": 2026,
        "scope": "county",
        "basis": "reported_on",
    }
    base.update(extra)
    return base


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_user_without_council_gets_404(client, dataset):
    client.force_login(dataset.outsider)
    assert client.get(URL, params(dataset)).status_code == 404
    assert client.get(reverse("followup:document"), params(dataset)).status_code == 404


def test_regional_coordinator_sees_county_figures_with_charts_and_tables(
    client, dataset, regional_coordinator
):
    client.force_login(regional_coordinator)
    response = client.get(URL, params(dataset))
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["stats"].total == 9
    assert 'role="img"' in html and '<title id="chart-trend-title">' in html
    assert '<th scope="col">Månad</th>' in html
    assert re.search(r'<caption id="table-category-caption-\d+">Per kategori</caption>', html)
    assert " style=" not in html  # CSP: no inline styles
    # Organisation pairs unmasked at the regional level (places are always masked below 3).
    pairs = html.split('id="table-pairs"')[1].split("</table>")[0]
    assert "Beroendecentrum" in pairs and "&lt; 3" not in pairs


def test_page_without_parameters_uses_defaults(client, dataset, regional_coordinator):
    client.force_login(regional_coordinator)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["form"].is_valid()


def test_parameters_left_out_take_the_defaults(client, dataset, regional_coordinator):
    client.force_login(regional_coordinator)
    response = client.get(URL, {"agreement": dataset.agreement.pk, "year": 2026})
    assert response.status_code == 200
    assert response.context["form"].cleaned_data["basis"] == "reported_on"
    assert response.context["stats"].total == 9


def test_local_member_is_limited_to_own_council_and_sees_masked_pairs(client, dataset):
    client.force_login(dataset.c1_member)
    response = client.get(URL, params(dataset, scope="county"))
    assert response.status_code == 400
    assert "scope" in response.context["form"].errors
    response = client.get(URL, params(dataset, scope=f"council:{dataset.c2.pk}"))
    assert response.status_code == 400
    response = client.get(URL, params(dataset, scope=f"municipality:{dataset.m2.pk}"))
    assert response.status_code == 400
    response = client.get(URL, params(dataset, scope=f"council:{dataset.c1.pk}"))
    assert response.status_code == 200
    assert response.context["stats"].total == 6
    html = response.content.decode()
    assert "&lt; 3" in html
    # The analysis is read-only for local members.
    assert response.context["analysis_form"] is None


def test_bad_input_gives_swedish_errors_and_keeps_values(client, dataset, regional_coordinator):
    client.force_login(regional_coordinator)
    response = client.get(
        URL, params(dataset, period_type="custom", start="2026-05-01", end="2026-04-01", year="2026")
    )
    assert response.status_code == 400
    assert response.context["form"].errors["end"] == ["Slutdatumet kan inte ligga före startdatumet."]
    assert 'value="2026-05-01"' in response.content.decode()
    response = client.get(URL, params(dataset, period_type="quarter"))
    assert response.context["form"].errors["quarter"] == ["Välj kvartal."]


def test_custom_and_quarter_periods_through_the_page(client, dataset, regional_coordinator):
    client.force_login(regional_coordinator)
    response = client.get(URL, params(dataset, period_type="quarter", quarter=1, basis="occurred_on"))
    assert response.context["stats"].total == 4
    response = client.get(
        URL, params(dataset, period_type="custom", start="2026-01-01", end="2026-01-15", year="")
    )
    assert response.context["stats"].total == 2
    response = client.get(URL, params(dataset, period_type="half", half=2))
    assert response.context["stats"].total == 2


@pytest.mark.parametrize("n_extra", [0, 25])
def test_page_query_count_is_bounded_whatever_the_data_size(
    client, dataset, regional_coordinator, django_assert_max_num_queries, n_extra
):
    for _ in range(n_extra):
        factories.DeviationFactory(
            agreement=dataset.agreement,
            category=factories.DeviationCategoryFactory(),
            reporting_organization=factories.OrganizationFactory(),
            reported_on=datetime.date(2026, 6, 1),
            occurred_on=datetime.date(2026, 5, 1),
        )
    summary.rebuild()  # made by factories, past the services
    client.force_login(regional_coordinator)
    client.get(URL, params(dataset))  # a fresh session is saved once (SessionRefreshMiddleware)
    with django_assert_max_num_queries(23):
        response = client.get(URL, params(dataset))
    assert response.context["stats"].total == 9 + n_extra


def test_page_takes_the_same_statements_for_more_reports_and_pairs(client, dataset, regional_coordinator):
    """The summary's year rows, added up in the database, and the pair times of the pairs shown: the
    statements do not depend on the reports, places, months or organisation pairs of the year."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(regional_coordinator)
    client.get(URL, params(dataset))  # a fresh session is saved once (SessionRefreshMiddleware)

    def statements():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, params(dataset))
        assert response.status_code == 200
        return len(queries), response.context["stats"]

    before, stats = statements()
    assert stats.total == 9
    for number in range(40):  # forty more pairs, each in its own month and place
        factories.DeviationFactory(
            agreement=dataset.agreement,
            category=dataset.k1,
            municipality=(dataset.m1, dataset.m2)[number % 2],
            council=(dataset.c1, dataset.c2, None)[number % 3],
            # Organisations of the dataset's municipality: no new place to choose (the forms' choices,
            # and with them their cached HTML, stay the same).
            reporting_organization=factories.OrganizationFactory(principal_municipality=dataset.m1),
            counterparts=[factories.OrganizationFactory(principal_municipality=dataset.m1)],
            reported_on=datetime.date(2026, 1 + number % 12, 1 + number % 28),
            occurred_on=datetime.date(2026, 1 + number % 12, 1),
        )
    summary.rebuild()  # made by factories, past the services
    after, stats = statements()
    assert stats.total == 49
    assert len(stats.by_organization_pair) == 45
    assert after == before <= 20  # one asks whether changes are pending (deviations.summary.source_for)


def test_the_forms_are_cached_under_their_content(client, dataset, regional_coordinator):
    """The selection and analysis forms' HTML is served from the cache on the next request with the same
    content, and another selection or a new analysis version is another key."""
    from django.core.cache import cache

    cache.clear()
    client.force_login(regional_coordinator)
    first = client.get(URL, params(dataset))
    second = client.get(URL, params(dataset))
    assert first.context["selection_cache_key"] == second.context["selection_cache_key"]
    assert first.context["analysis_cache_key"] == second.context["analysis_cache_key"]

    def forms_html(response):
        html = response.content.decode()
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
        return re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "", html)

    assert forms_html(first) == forms_html(second)
    other_year = client.get(URL, params(dataset, year=2025))
    assert other_year.context["selection_cache_key"] != first.context["selection_cache_key"]
    assert 'value="2025"' in other_year.content.decode()
    url = reverse("followup:save_analysis") + "?" + "&".join(f"{k}={v}" for k, v in params(dataset).items())
    assert client.post(url, {"analysis": "En ny analys", "recommendations": ""}).status_code == 302
    after = client.get(URL, params(dataset))
    assert after.context["analysis_cache_key"] != first.context["analysis_cache_key"]
    assert "En ny analys" in after.content.decode()
    # A form with errors is rendered each time.
    bad = client.get(URL, params(dataset, year="abc"))
    assert bad.status_code == 400 and bad.context["selection_cache_key"] is None


def test_regional_coordinator_saves_versions_of_the_analysis(client, dataset, regional_coordinator):
    client.force_login(regional_coordinator)
    url = reverse("followup:save_analysis") + "?" + "&".join(f"{k}={v}" for k, v in params(dataset).items())
    for text in ("Första analysen", "Andra analysen"):
        response = client.post(url, {"analysis": text, "recommendations": "Fler SIP", "followup_areas": ""})
        assert response.status_code == 302
    versions = FollowUpAnalysis.objects.filter(agreement=dataset.agreement)
    assert versions.count() == 2
    page = client.get(URL, params(dataset))
    assert page.context["analysis"].analysis == "Andra analysen"
    assert [v.analysis for v in page.context["analysis_versions"]] == ["Andra analysen", "Första analysen"]
    assert "Historik (2 versioner)" in page.content.decode()
    # Versions are immutable.
    version = versions.first()
    version.analysis = "ändrad"
    with pytest.raises(TypeError):
        version.save()
    with pytest.raises(TypeError):
        versions.update(analysis="x")


def test_empty_analysis_is_refused(client, dataset, regional_coordinator):
    client.force_login(regional_coordinator)
    url = reverse("followup:save_analysis") + "?" + "&".join(f"{k}={v}" for k, v in params(dataset).items())
    response = client.post(url, {"analysis": " ", "recommendations": "", "followup_areas": ""})
    assert response.status_code == 400
    assert "Skriv något i minst ett av fälten." in response.content.decode()
    assert not FollowUpAnalysis.objects.exists()


def test_analysis_with_an_identity_number_is_refused_on_its_field(client, dataset, regional_coordinator):
    client.force_login(regional_coordinator)
    url = reverse("followup:save_analysis") + "?" + "&".join(f"{k}={v}" for k, v in params(dataset).items())
    data = {"analysis": "Bra år.", "recommendations": "Kontakta 811218-9876 igen.", "followup_areas": ""}
    response = client.post(url, data)
    assert response.status_code == 400
    assert "personnummer" in " ".join(response.context["analysis_form"].errors["recommendations"])
    assert not FollowUpAnalysis.objects.exists()


def test_local_member_may_not_write_the_analysis(client, dataset):
    client.force_login(dataset.c1_member)
    url = (
        reverse("followup:save_analysis")
        + "?"
        + "&".join(f"{k}={v}" for k, v in params(dataset, scope=f"council:{dataset.c1.pk}").items())
    )
    response = client.post(url, {"analysis": "x", "recommendations": "", "followup_areas": ""})
    assert response.status_code == 404
    assert not FollowUpAnalysis.objects.exists()


def test_superuser_may_write_the_analysis(client, dataset, superuser):
    client.force_login(superuser)
    url = reverse("followup:save_analysis") + "?" + "&".join(f"{k}={v}" for k, v in params(dataset).items())
    assert client.post(url, {"analysis": "x", "recommendations": "", "followup_areas": ""}).status_code == 302


# --- Exports ---------------------------------------------------------------------------------------


def export_url(what, fmt):
    return reverse("followup:export", args=[what, fmt])


def read_csv_bytes(content: bytes, delimiter=";") -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=delimiter))


def read_csv(response, delimiter=";") -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def csv_sections(rows) -> dict[str, list[list[str]]]:
    """The statistics CSV's sections: a title row, a header row, the rows, an empty row."""
    sections, title = {}, None
    for row in rows:
        if not row:
            title = None
        elif title is None:
            title = row[0]
            sections[title] = []
        else:
            sections[title].append(row)
    return sections


def test_statistics_csv_holds_the_page_numbers_with_decimal_commas(client, dataset, regional_coordinator):
    client.force_login(regional_coordinator)
    response = client.get(export_url("statistik", "csv"), params(dataset))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="uppfoljning-psyk-2026-01-01')
    sections = csv_sections(read_csv(response))
    summary_rows = {row[0]: row[1:] for row in sections["Sammanfattning"]}
    assert summary_rows["Antal rapporter"] == ["9"]
    assert summary_rows["Tid till första åtgärd, median (dagar)"] == ["3,5"]
    assert summary_rows["Tid till första åtgärd, 90:e percentil (dagar)"] == ["7,2"]
    assert summary_rows["Tid till avslut, 90:e percentil (dagar)"] == ["37,0"]
    assert {row[0]: row[1:] for row in sections["Per kategori"]}["Utskrivning utan information"] == [
        "5",
        "55,6",
    ]
    assert sections["Per månad"][1][:3] == ["2026-01-01", "2", "22,2"]
    assert sections["Per organisationspar"][1][:4] == ["Socialtjänst Ett", "Psykiatri Syd", "6", "66,7"]
    comparison = {row[0]: row[1:] for row in sections["Jämförelse"]}
    assert comparison["Antal rapporter"] == ["9", "1", "8"]


def test_international_csv_has_commas_and_decimal_points(client, dataset, regional_coordinator):
    client.force_login(regional_coordinator)
    response = client.get(export_url("statistik", "csv"), {**params(dataset), "dialect": "int"})
    assert "statistik-int.csv" in response["Content-Disposition"]
    sections = csv_sections(read_csv(response, delimiter=","))
    summary_rows = {row[0]: row[1:] for row in sections["Sammanfattning"]}
    assert summary_rows["Tid till första åtgärd, median (dagar)"] == ["3.5"]
    assert {row[0]: row[1:] for row in sections["Per kategori"]}["Utskrivning utan information"] == [
        "5",
        "55.6",
    ]
    response = client.get(export_url("rapporter", "csv"), {**params(dataset), "dialect": "int"})
    rows = read_csv(response, delimiter=",")
    assert rows[0][:2] == ["Referensnummer", "Status"] and len(rows) == 10


def test_statistics_csv_is_masked_for_local_members(client, dataset):
    client.force_login(dataset.c1_member)
    response = client.get(export_url("statistik", "csv"), params(dataset, scope=f"council:{dataset.c1.pk}"))
    rows = read_csv(response)
    pair_rows = [row for row in rows if row[:2] == ["Socialtjänst Ett", "Beroendecentrum"]]
    assert pair_rows == [["Socialtjänst Ett", "Beroendecentrum", "< 3", "< 3", "", "", "", ""]]


def test_statistics_xlsx_has_typed_cells(client, dataset, regional_coordinator):
    client.force_login(regional_coordinator)
    response = client.get(export_url("statistik", "xlsx"), params(dataset))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    summary = {row[0]: row[1] for row in workbook["Sammanfattning"].iter_rows(min_row=2, values_only=True)}
    assert summary["Antal rapporter"] == 9
    assert summary["Tid till avslut, median (dagar)"] == 25.0
    assert summary["Andel yttranden i tid (%)"] == 33.3
    months = list(workbook["Per månad"].iter_rows(min_row=2, values_only=True))
    assert months[0] == (datetime.datetime(2026, 1, 1), 2, 22.2)
    categories = list(workbook["Per kategori"].iter_rows(min_row=1, values_only=True))
    assert categories[0] == ("Kategori", "Antal", "Andel (%)")
    assert categories[1] == ("Utskrivning utan information", 5, 55.6)
    issues = list(workbook["Systemfrågor"].iter_rows(min_row=2, values_only=True))
    assert issues[0][0] == "Utskrivning utan underrättelse"
    assert issues[0][5] == datetime.datetime(2026, 9, 30)


def test_reports_csv_streams_without_reporter_contact_data(client, dataset, regional_coordinator):
    client.force_login(regional_coordinator)
    response = client.get(export_url("rapporter", "csv"), params(dataset))
    assert response.streaming
    rows = read_csv(response)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Referensnummer", "Status", "Överenskommelse"]
    assert len(body) == 9
    text = "\n".join(";".join(r) for r in rows)
    assert "rapportor@example.se" not in text and "Rapportör Exempel" not in text
    first = dict(zip(header, body[0], strict=True))
    assert first["Referensnummer"] == "SB-2026-00001"
    assert first["Rapporteringsdatum"] == "2026-01-01"
    assert first["Inkommen"] == "2026-01-01 00:30"  # Swedish time
    assert first["Status"] == "Avslutad"
    d4 = next(dict(zip(header, r, strict=True)) for r in body if r[0] == "SB-2026-00004")
    assert sorted(d4["Motpart(er)"].split(", ")) == ["Beroendecentrum", "Psykiatri Syd"]


def test_reports_xlsx_has_real_dates(client, dataset, regional_coordinator):
    client.force_login(regional_coordinator)
    response = client.get(export_url("rapporter", "xlsx"), params(dataset, period_type="quarter", quarter=1))
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook["Rapporter"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert len(rows) == 5
    first = dict(zip(header, rows[1], strict=True))
    assert first["Rapporteringsdatum"] == datetime.datetime(2026, 1, 1)
    assert first["Datum då bristen inträffade"] == datetime.datetime(2025, 12, 28)
    assert first["Inkommen"] == datetime.datetime(2026, 1, 1, 0, 30)
    assert sheet.cell(row=2, column=header.index("Rapporteringsdatum") + 1).is_date
    assert "rapportör" not in " ".join(str(h).lower() for h in header)


def test_reports_xlsx_keeps_every_text_as_text(client, dataset, regional_coordinator):
    from deviations.models import Deviation

    Deviation.objects.filter(reference="SB-2026-00001").update(
        description='=HYPERLINK("http://evil.example")+1', consequence="Se https://example.se\x01 nu"
    )
    client.force_login(regional_coordinator)
    response = client.get(export_url("rapporter", "xlsx"), params(dataset, period_type="quarter", quarter=1))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)))["Rapporter"]
    header = [cell.value for cell in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "SB-2026-00001")
    description = row[header.index("Vad hände")]
    assert description.data_type == "s" and description.value.startswith("=HYPERLINK(")
    consequence = row[header.index("Konsekvens för individen")]
    assert consequence.data_type == "s" and consequence.hyperlink is None
    assert consequence.value.startswith("Se https://example.se")


def open_cursors() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors WHERE name LIKE '_django_curs_%%'")
        return cursor.fetchone()[0]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_reports_export_sends_its_first_bytes_before_reading_the_rows(
    client, dataset, regional_coordinator, monkeypatch, fmt
):
    monkeypatch.setattr(spreadsheets, "CHUNK_SIZE", 1)
    monkeypatch.setattr(spreadsheets, "STREAM_CHUNK_BYTES", 1)
    client.force_login(regional_coordinator)
    response = client.get(export_url("rapporter", fmt), params(dataset))
    assert response.status_code == 200 and response.streaming
    chunks = iter(response.streaming_content)
    with CaptureQueriesContext(connection) as before_rows:
        first = next(chunks)
    assert first and not before_rows.captured_queries
    if fmt == "csv":
        # The first report is sent while the others are still in the server-side cursor.
        second = next(chunks)
        assert second.decode().startswith("SB-2026-00001;")
        assert open_cursors() == 1
        first += second
    content = first + b"".join(chunks)
    assert open_cursors() == 0
    if fmt == "csv":
        assert len(read_csv_bytes(content)) == 1 + 9
    else:
        assert load_workbook(io.BytesIO(content))["Rapporter"].max_row == 1 + 9


def test_reports_export_respects_local_scope(client, dataset):
    client.force_login(dataset.c2_member)
    response = client.get(export_url("rapporter", "csv"), params(dataset, scope=f"council:{dataset.c2.pk}"))
    refs = [row[0] for row in read_csv(response)[1:]]
    assert refs == ["SB-2026-00005", "SB-2026-00006", "SB-2026-00007"]
    response = client.get(export_url("rapporter", "csv"), params(dataset, scope="county"))
    assert response.status_code == 400


def test_unknown_export_is_404(client, dataset, regional_coordinator):
    client.force_login(regional_coordinator)
    assert client.get(export_url("rapporter", "pdf"), params(dataset)).status_code == 404


# --- PDF -------------------------------------------------------------------------------------------


def pdf_text(response) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_document_holds_headings_key_figures_and_analysis(client, dataset, regional_coordinator):
    factories.FollowUpAnalysisFactory(
        agreement=dataset.agreement,
        analysis="Utskrivningar utan information dominerar.",
        recommendations="Inför länsgemensam rutin.",
        followup_areas="SIP och samsjuklighet",
    )
    client.force_login(regional_coordinator)
    response = client.get(reverse("followup:document"), params(dataset))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response)
    for heading in (
        "Uppföljning av överenskommelse",
        "Innehåll",
        "Sammanfattning",
        "Rekommendationer",
        "Förslag till uppföljningsområden",
        "1. Uppdrag, syfte och fokusområden",
        "2. Metod och avgränsningar",
        "3. Resultat",
        "3.10 Systemfrågor och beslutade åtgärder",
        "4. Analys och slutsatser",
        "5. Referenser",
    ):
        assert heading in text
    assert "Under perioden rapporterades 9 samverkansbrister" in text
    assert "Utskrivningar utan information dominerar." in text
    assert "Länsgemensam rutin för utskrivning" in text
    assert "Psykiatri Syd" in text
    assert "sida 1 av" in text


def test_pdf_is_masked_for_local_members(client, dataset):
    client.force_login(dataset.c1_member)
    response = client.get(reverse("followup:document"), params(dataset, scope=f"council:{dataset.c1.pk}"))
    assert response.status_code == 200
    text = pdf_text(response)
    assert "Under perioden rapporterades 6 samverkansbrister" in text
    assert "< 3" in text
