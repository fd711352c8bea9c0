"""The follow-up document on the known dataset: the comparison with the previous period, factors and
severity, the breakdown per place, times per organisation pair, the analysis per scope, and the PDF
(tagged, PDF/UA) and Word renderings."""

import datetime
import io

import pytest
from django.urls import reverse

from agreements.models import FollowUpAnalysis
from deviations import summary
from deviations.models import Deviation, Severity
from followup import document
from followup.selectors import DateBasis, Period, Scope, followup_statistics
from tests import factories
from tests.followup.dataset import TODAY

pytestmark = pytest.mark.django_db
D = datetime.date
COUNTY = Scope(Scope.COUNTY)


def stats_for(dataset, period=None, scope=COUNTY, masked=False):
    return followup_statistics(
        agreement=dataset.agreement,
        period=period or Period.year(2026),
        scope=scope,
        basis=DateBasis.REPORTED,
        masked=masked,
        today=TODAY,
    )


def params(dataset, **extra):
    return {
        "agreement": dataset.agreement.pk,
        "period_type": "year",
        "year": 2026,
        "scope": "county",
        "basis": "reported_on",
        **extra,
    }


# --- The previous period -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "previous"),
    [
        (Period.year(2026), (D(2025, 1, 1), D(2025, 12, 31))),
        (Period.half(2026, 1), (D(2025, 7, 1), D(2025, 12, 31))),
        (Period.half(2026, 2), (D(2026, 1, 1), D(2026, 6, 30))),
        (Period.quarter(2026, 1), (D(2025, 10, 1), D(2025, 12, 31))),
        (Period.quarter(2026, 3), (D(2026, 4, 1), D(2026, 6, 30))),
        (Period.custom(D(2026, 3, 10), D(2026, 3, 19)), (D(2026, 2, 28), D(2026, 3, 9))),
    ],
)
def test_the_previous_period_has_the_same_length_just_before(period, previous):
    assert (period.previous().start, period.previous().end) == previous


def test_comparison_with_the_previous_year(dataset):
    """2025 holds d9 only: reported 2025-12-31, closed, first action after 1 day, closed after 2."""
    stats = stats_for(dataset)
    assert stats.previous.total == 1
    rows = {row["label"]: row for row in stats.comparison}
    assert (rows["Antal rapporter"]["current"], rows["Antal rapporter"]["previous"]) == (9, 1)
    assert (rows["Antal rapporter"]["change"], rows["Antal rapporter"]["change_pct"]) == (8, 800.0)
    median = rows["Tid till första åtgärd, median (dagar)"]
    assert (median["current"], median["previous"], median["change"]) == (3.5, 1.0, 2.5)
    p90 = rows["Tid till avslut, 90:e percentil (dagar)"]
    assert (p90["current"], p90["previous"], p90["change"]) == (37.0, 2.0, 35.0)
    shares = rows["Andel eskalerade av de hanterade (%)"]
    assert (shares["current"], shares["previous"], shares["change"]) == (66.7, None, None)
    per_commitment = {
        row["label"]: (row["count"], row["previous"], row["change"]) for row in stats.commitments
    }
    assert per_commitment == {
        "1. SIP upprättas vid behov": (5, 1, 4),
        "2. God tillgänglighet": (3, 0, 3),
        "Inget åtagande angivet": (1, 0, 1),
    }


def test_comparison_of_a_quarter_with_the_one_before(dataset):
    stats = stats_for(dataset, period=Period.quarter(2026, 2))  # d5, d6, d11 against Q1: d1–d4
    rows = {row["label"]: row for row in stats.comparison}
    assert (rows["Antal rapporter"]["current"], rows["Antal rapporter"]["previous"]) == (3, 4)
    assert rows["Antal rapporter"]["change_pct"] == -25.0
    # First action: Q2 [5, 1] median 3.0; Q1 [1, 2, 3, 4] median 2.5.
    assert rows["Tid till första åtgärd, median (dagar)"]["change"] == 0.5


# --- Factors, severity, places, pairs ------------------------------------------------------------


@pytest.fixture
def tagged(dataset):
    information = factories.ContributingFactorFactory(name="Informationsöverföring", order=1)
    late = factories.ContributingFactorFactory(parent=information, name="Informationen kom för sent")
    missing = factories.ContributingFactorFactory(parent=information, name="Meddelande skickades inte")
    routines = factories.ContributingFactorFactory(name="Rutiner", order=2)
    r = dataset.reports
    r["d1"].contributing_factors.set([late])
    r["d2"].contributing_factors.set([late, missing])
    r["d3"].contributing_factors.set([information, routines])
    r["d5"].contributing_factors.set([routines])
    r["d9"].contributing_factors.set([routines])  # 2025: not in the period
    Deviation.objects.filter(pk__in=[r["d1"].pk, r["d4"].pk]).update(severity=Severity.SERIOUS)
    Deviation.objects.filter(pk=r["d2"].pk).update(severity=Severity.VERY_SERIOUS)
    Deviation.objects.filter(pk=r["d3"].pk).update(severity=Severity.NONE)
    summary.rebuild()
    return dataset


def test_contributing_factors_are_counted_per_main_factor_with_sub_factors(tagged):
    stats = stats_for(tagged)
    assert stats.factor_tagged == 4
    assert [(row["label"], row["count"], row["share"]) for row in stats.by_factor] == [
        ("Informationsöverföring", 3, 75.0),  # d1, d2, d3: d2's two sub-factors count once
        ("Rutiner", 2, 50.0),
    ]
    information = stats.by_factor[0]
    assert [(c["label"], c["count"]) for c in information["children"]] == [
        ("Informationen kom för sent", 2),
        ("Meddelande skickades inte", 1),
    ]
    assert information["general"] == 1  # d3 names the main factor itself
    commitment1 = next(row for row in stats.commitments if row["label"].startswith("1."))
    assert commitment1["factors"] == [{"label": "Informationsöverföring", "count": 2}]  # d1, d2


def test_hindering_factors_are_proposed_from_the_tagged_factors(tagged):
    stats = stats_for(tagged)
    assert document.proposed_hindering_factors(stats) == [
        "Informationsöverföring: 3 av 4 rapporter med angivna faktorer (75,0\u00a0%), "
        "främst ”Informationen kom för sent” (2)",
        "Rutiner: 2 av 4 rapporter med angivna faktorer (50,0\u00a0%)",
    ]


def test_the_english_document_marks_factor_names_inside_its_sentences(client, tagged, regional_coordinator):
    """WCAG 3.1.2 inside a sentence: the factors' names in "Most frequent contributing factors: …" and
    in the proposed hindering factors keep their language (HTML and Word); the sentences do not."""
    import docx
    from docx.oxml.ns import qn

    page, word_file = reverse("followup:followup"), reverse("followup:document_docx")
    client.force_login(regional_coordinator)
    html = client.get("/en" + page, params(tagged)).content.decode()
    assert (
        'Most frequent contributing factors: <span lang="sv">Informationsöverföring</span> (2).' in html
    )  # commitment 1: d1, d2
    assert (
        '<li><span lang="sv">Informationsöverföring</span>: 3 of 4 reports with factors given '
        '(75.0\u00a0%), mainly “<span lang="sv">Informationen kom för sent</span>” (2)</li>'
    ) in html

    response = client.get("/en" + word_file, params(tagged))
    word = docx.Document(io.BytesIO(response.content))

    def runs(paragraph):
        return [
            (run.text, run._r.rPr is not None and run._r.rPr.find(qn("w:lang")) is not None)
            for run in paragraph.runs
        ]

    bullet = next(p for p in word.paragraphs if p.text.startswith("Informationsöverföring: 3 of 4"))
    assert runs(bullet) == [
        ("Informationsöverföring", True),
        (": 3 of 4 reports with factors given (75.0\u00a0%), mainly “", False),
        ("Informationen kom för sent", True),
        ("” (2)", False),
    ]
    facts = next(p for p in word.paragraphs if "Most frequent contributing factors" in p.text)
    assert ("Informationsöverföring", True) in runs(facts)
    assert all(not swedish for text, swedish in runs(facts) if "reports" in text)


def test_severity_is_counted_with_the_unstated_ones(tagged):
    stats = stats_for(tagged)
    counts = {row["key"]: row["count"] for row in stats.by_severity}
    assert counts == {"none": 1, "moderate": 0, "serious": 2, "very_serious": 1, "unknown": 0, "": 5}
    assert (stats.summary["severe"], stats.summary["severe_share"]) == (3, 33.3)
    commitment1 = next(row for row in stats.commitments if row["label"].startswith("1."))
    assert commitment1["severe"] == 2  # d1, d2; d4 is commitment 2
    rows = {row["label"]: row for row in stats.comparison}
    assert rows["Andel med allvarlig eller mycket allvarlig följd (%)"]["previous"] == 0.0


def test_breakdown_per_council_and_municipality_masks_small_numbers(dataset):
    stats = stats_for(dataset)
    assert [(r["label"], r["count_display"], r["share_display"]) for r in stats.by_council] == [
        ("Samråd Ett", 6, 66.7),
        ("Samråd Två", 3, 33.3),
    ]
    assert [(r["label"], r["previous_display"], r["change"]) for r in stats.by_municipality] == [
        ("Ettkommun", "< 3", None),  # 2025: d9 alone
        ("Tvåkommun", 0, 3),
    ]
    q4 = stats_for(dataset, period=Period.quarter(2026, 4))
    assert [(r["label"], r["count_display"], r["share_display"]) for r in q4.by_council] == [
        ("Samråd Ett", "< 3", "< 3")
    ]


def test_times_and_answers_per_organisation_pair(dataset):
    stats = stats_for(dataset)
    pair = next(r for r in stats.pair_times if r["label"] == "Socialtjänst Ett → Psykiatri Syd")
    # d1, d2, d3, d4, d8, d11: first action after 1, 2, 3, 4, 6, 1 days; asked twice: d2 in time, d4 overdue.
    assert (pair["count"], pair["first_action_days"], pair["requests"], pair["in_time_share"]) == (
        6,
        2.8,
        2,
        50.0,
    )
    assert pair["answer_days"] == 5.0  # d2: asked 2026-01-15 09:00, answered 01-20 09:00
    masked = stats_for(dataset, masked=True)
    small = next(r for r in masked.pair_times if r["label"] == "Socialtjänst Ett → Beroendecentrum")
    assert (small["count_display"], small["first_action_days"], small["in_time_share"]) == ("< 3", None, None)


# --- The analysis per scope ----------------------------------------------------------------------


def save_url(dataset, **extra):
    from urllib.parse import urlencode

    return reverse("followup:save_analysis") + "?" + urlencode(params(dataset, **extra))


def test_each_scope_has_its_own_analysis(client, dataset, regional_coordinator):
    client.force_login(regional_coordinator)
    assert client.post(save_url(dataset), {"summary": "Länets sammanfattning"}).status_code == 302
    council = f"council:{dataset.c2.pk}"
    page = client.get(reverse("followup:followup"), params(dataset, scope=council))
    assert page.context["analysis"] is None
    assert "Länets sammanfattning" not in page.content.decode()
    client.force_login(dataset.c2_member)  # coordinator of council 2
    assert (
        client.post(save_url(dataset, scope=council), {"summary": "Rådets sammanfattning"}).status_code == 302
    )
    page = client.get(reverse("followup:followup"), params(dataset, scope=council))
    assert page.context["analysis"].summary == "Rådets sammanfattning"
    assert "Länets sammanfattning" not in page.content.decode()
    client.force_login(regional_coordinator)
    county = client.get(reverse("followup:followup"), params(dataset))
    assert county.context["analysis"].summary == "Länets sammanfattning"
    assert [(v.council, v.municipality) for v in FollowUpAnalysis.objects.order_by("pk")] == [
        (None, None),
        (dataset.c2, None),
    ]


def test_a_council_member_reads_but_only_its_coordinator_writes(client, dataset):
    client.force_login(dataset.c1_member)  # a member, not a coordinator
    council = f"council:{dataset.c1.pk}"
    assert (
        client.get(reverse("followup:followup"), params(dataset, scope=council)).context["analysis_form"]
        is None
    )
    assert client.post(save_url(dataset, scope=council), {"summary": "x"}).status_code == 404
    client.force_login(dataset.c2_member)  # coordinator of the other council
    assert client.post(save_url(dataset, scope=council), {"summary": "x"}).status_code == 404
    assert not FollowUpAnalysis.objects.exists()


def test_a_local_member_sees_a_municipality_as_its_councils_reports(client, dataset):
    client.force_login(dataset.c1_member)
    page = client.get(reverse("followup:followup"), params(dataset, scope=f"council:{dataset.c1.pk}"))
    choices = dict(c for group in page.context["form"].fields["scope"].choices[1:] for c in group[1])
    assert choices == {f"municipality:{dataset.m1.pk}:{dataset.c1.pk}": "Ettkommun (rapporter i Samråd Ett)"}
    page = client.get(
        reverse("followup:followup"), params(dataset, scope=f"municipality:{dataset.m1.pk}:{dataset.c1.pk}")
    )
    assert page.context["stats"].scope.label == "Ettkommun, rapporter i Samråd Ett"
    assert "Ettkommun, rapporter i Samråd Ett" in page.context["document"].meta[0][1]
    assert (
        client.get(
            reverse("followup:followup"), params(dataset, scope=f"municipality:{dataset.m1.pk}")
        ).status_code
        == 400
    )


def test_the_analysis_form_saves_every_section_and_proposes_hindering_factors(
    client, tagged, regional_coordinator
):
    client.force_login(regional_coordinator)
    page = client.get(reverse("followup:followup"), params(tagged))
    form = page.context["analysis_form"]
    assert form.initial["hindering_factors"].startswith("Informationsöverföring: 3 av 4 rapporter")
    commitment = tagged.reports["d1"].commitment
    # The commitment in a field's label is stored Swedish: marked so, also on the English page.
    english = client.get("/en" + reverse("followup:followup"), params(tagged)).content.decode()
    assert f'Results: <span lang="sv">{commitment}</span>' in english
    response = client.post(
        save_url(tagged),
        {
            "summary": "Sammanfattning",
            "purpose": "Syfte",
            "promoting_factors": "Gemensamma möten\n\n Tydliga rutiner ",
            "hindering_factors": "Personalomsättning",
            "references": "Överenskommelsen 2019",
            f"results_{commitment.pk}": "Fler SIP",
            f"analysis_{commitment.pk}": "Målet nås delvis",
        },
    )
    assert response.status_code == 302
    version = FollowUpAnalysis.objects.get()
    assert version.promoting_factors == ["Gemensamma möten", "Tydliga rutiner"]
    assert version.commitment_texts == {
        str(commitment.pk): {"results": "Fler SIP", "analysis": "Målet nås delvis"}
    }
    doc = client.get(reverse("followup:followup"), params(tagged)).context["document"]
    texts = [getattr(block, "text", "") for block in doc.blocks]
    assert "Fler SIP" in texts and "Målet nås delvis" in texts and "Syfte" in texts


# --- PDF and Word ---------------------------------------------------------------------------------


def test_pdf_is_tagged_pdf_ua_with_language_title_and_structure(client, dataset, regional_coordinator):
    from pypdf import PdfReader

    client.force_login(regional_coordinator)
    response = client.get(reverse("followup:document"), params(dataset))
    reader = PdfReader(io.BytesIO(response.content))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "sv"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert reader.metadata.title.startswith("Uppföljning av överenskommelse: Psykisk sjukdom")
    assert b'pdfuaid:part="1"' in root["/Metadata"].get_object().get_data()

    tags, figures = [], []

    def walk(node):
        node = node.get_object()
        if hasattr(node, "keys"):
            if "/S" in node:
                tags.append(node["/S"])
                if node["/S"] == "/Figure":
                    figures.append(node.get("/Alt"))
            kids = node.get("/K")
            for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
                walk(kid)

    walk(root["/StructTreeRoot"])
    assert tags.count("/H1") == 1
    assert {"/H2", "/H3", "/H4", "/Table", "/TH", "/TD", "/Caption", "/L", "/LI"} <= set(tags)
    assert figures == ["Antal rapporter per månad", "Antal rapporter per kategori"]  # charts have text
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert f"sida 1 av {len(reader.pages)}" in text
    assert "66,7 %" in text.replace("\u00a0", " ")


def test_word_document_has_real_headings_tables_and_language(client, dataset, regional_coordinator):
    import docx

    factories.FollowUpAnalysisFactory(agreement=dataset.agreement, hindering_factors=["Personalomsättning"])
    client.force_login(regional_coordinator)
    response = client.get(reverse("followup:document_docx"), params(dataset))
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('-dokument.docx"')
    word = docx.Document(io.BytesIO(response.content))
    headings = [(p.style.name, p.text) for p in word.paragraphs if p.style.name.startswith("Heading")]
    assert ("Heading 1", "Sammanfattning") in headings
    assert ("Heading 1", "2. Metod och avgränsningar") in headings
    assert ("Heading 2", "3.1 Översikt och jämförelse med föregående period") in headings
    assert ("Heading 3", "1. SIP upprättas vid behov") in headings
    bullets = [p.text for p in word.paragraphs if p.style.name == "List Bullet"]
    assert "Personalomsättning" in bullets
    tables = {word.paragraphs[i].text for i, p in enumerate(word.paragraphs) if p.style.name == "Caption"}
    assert {"Jämförelse med föregående period", "Per kategori", "Per kommun"} <= tables
    category = next(t for t in word.tables if t.rows[0].cells[0].text == "Kategori")
    assert [c.text for c in category.rows[1].cells] == ["Utskrivning utan information", "5", "55,6\u00a0%"]
    assert word.core_properties.language == "sv-SE"
    assert word.styles.element.xpath("//w:docDefaults//w:lang/@w:val") == ["sv-SE"]
    assert "TOC" in word.element.xml  # Word fills in the table of contents when opened


def test_the_english_word_document_keeps_the_stored_names_swedish(client, dataset, regional_coordinator):
    import docx
    from docx.oxml.ns import qn

    client.force_login(regional_coordinator)
    response = client.get("/en" + reverse("followup:document_docx"), params(dataset))
    word = docx.Document(io.BytesIO(response.content))
    assert word.core_properties.language == "en-GB"
    assert word.sections[0].footer.paragraphs[0].text == "page 1 of 1"  # fields, shown as 1 until updated

    def language(paragraph):
        langs = {
            run._r.rPr.find(qn("w:lang")).get(qn("w:val"))
            for run in paragraph.runs
            if run._r.rPr is not None and run._r.rPr.find(qn("w:lang")) is not None
        }
        return langs.pop() if langs else None

    headings = {p.text: language(p) for p in word.paragraphs if p.style.name.startswith("Heading")}
    assert headings["1. SIP upprättas vid behov"] == "sv-SE"
    assert headings["Summary"] is None  # the document's own language
    category = next(t for t in word.tables if t.rows[0].cells[0].text == "Category")
    cells = category.rows[1].cells
    assert (cells[0].text, language(cells[0].paragraphs[0])) == ("Utskrivning utan information", "sv-SE")
    assert language(cells[1].paragraphs[0]) is None


def test_local_member_gets_the_masked_word_document_of_their_council(client, dataset):
    import docx

    client.force_login(dataset.c1_member)
    response = client.get(
        reverse("followup:document_docx"), params(dataset, scope=f"council:{dataset.c1.pk}")
    )
    word = docx.Document(io.BytesIO(response.content))
    pairs = next(t for t in word.tables if t.rows[0].cells[0].text == "Rapporterande organisation")
    beroende = next(r for r in pairs.rows if r.cells[1].text == "Beroendecentrum")
    assert [c.text for c in beroende.cells[2:4]] == ["< 3", "< 3"]
    assert client.get(reverse("followup:document_docx"), params(dataset)).status_code == 400
