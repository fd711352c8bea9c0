"""The follow-up document's blocks rendered as HTML (``followup_document.document_blocks``), the state
labels of systemic issues and actions, and what the systemic-issue section costs."""

import pytest
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from deviations import summary
from deviations.models import SystemicAction, SystemicIssue
from followup.document import (
    Bullets,
    Chart,
    Document,
    Heading,
    Mixed,
    Paragraph,
    Swedish,
    Table,
    interpolate,
    joined,
)
from tests import factories

from .test_followup_views import URL, csv_sections, export_url, params, read_csv_bytes


def render(blocks, offset=1) -> str:
    document = Document(title="Titel", meta=[], blocks=blocks)
    return render_to_string("followup/includes/document.html", {"document": document, "offset": offset})


def test_headings_are_shifted_by_the_offset_and_never_deeper_than_h6():
    html = render([Heading(1, "Dokument", "dok"), Heading(2, "Avsnitt", "avs"), Heading(4, "Fråga", "fr")])
    assert '<h2 id="dok" class="section-heading">Dokument</h2>' in html
    assert '<h3 id="avs" class="section-heading">Avsnitt</h3>' in html
    assert '<h5 id="fr">Fråga</h5>' in html
    html = render([Heading(4, "Djup", "d")], offset=3)
    assert '<h6 id="d">Djup</h6>' in html and "<h7" not in html


def test_paragraphs_lists_and_charts():
    html = render(
        [
            Paragraph("Vanlig"),
            Paragraph("Egen text\nmed radbrytning", "written"),
            Paragraph("Inte skriven ännu", "placeholder"),
            Bullets(["ett", "två"]),
            Chart(mark_safe('<svg role="img"><title>Diagram</title></svg>')),
        ]
    )
    assert "<p>Vanlig</p>" in html
    assert '<p class="written prewrap">Egen text\nmed radbrytning</p>' in html
    assert '<p class="placeholder">Inte skriven ännu</p>' in html
    assert '<ul class="document-list"><li>ett</li><li>två</li></ul>' in html
    assert '<figure class="chart-figure"><svg role="img"><title>Diagram</title></svg></figure>' in html


def test_tables_have_captions_named_by_their_place_headers_and_numeric_columns():
    html = render(
        [
            Heading(2, "Resultat", "res"),
            Table(
                "Per kategori", ["Kategori", "Antal", "Andel"], [["Utskrivning", "5", "55,6"]], {1, 2}, "tk"
            ),
            Table("Utan ankare", ["Åtgärd", "Status"], []),
        ]
    )
    assert (
        '<div class="table-responsive" tabindex="0" role="region" aria-labelledby="tk-caption-1">'
        '<table class="table table-sm" id="tk">\n  <caption id="tk-caption-1">Per kategori</caption>'
    ) in html
    assert (
        '<thead><tr><th scope="col">Kategori</th><th scope="col" class="text-end num">Antal</th>'
        '<th scope="col" class="text-end num">Andel</th></tr></thead>'
    ) in html
    assert (
        '<tbody><tr><th scope="row">Utskrivning</th><td class="text-end num">5</td>'
        '<td class="text-end num">55,6</td></tr></tbody>'
    ) in html
    # A table without an anchor: a caption id of its own, no table id, and a row saying it is empty.
    assert 'aria-labelledby="document-table-caption-2"><table class="table table-sm">' in html
    assert '<tbody><tr><td colspan="2">Inga rapporter.</td></tr></tbody>' in html


def test_every_text_is_escaped_and_lazy_texts_are_translated():
    evil = '<script>alert("x")</script>'
    html = render(
        [
            Heading(2, evil, '"><b>'),
            Paragraph(evil, "written"),
            Bullets([evil]),
            Table(evil, [evil], [[evil, 3]], anchor="t"),
            Paragraph(gettext_lazy("Inga rapporter.")),
        ]
    )
    assert "<script>" not in html and "<b>" not in html
    assert html.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") == 6
    assert "<td>3</td>" in html
    with translation.override("en"):
        assert "<p>No reports.</p>" in render([Paragraph(gettext_lazy("Inga rapporter."))])


def test_text_stored_in_swedish_is_marked_so_and_escaped():
    """WCAG 3.1.2: stored names keep their language on the English page; the rest follows the page."""
    html = render(
        [
            Heading(4, Swedish("Boende <först>"), "b"),
            Paragraph(Swedish("Överenskommelsens beskrivning")),
            Bullets([Swedish("Åtagande 1"), "plain"]),
            Table("Per kategori", ["Kategori", "Antal"], [[Swedish("Utskrivning"), "5"]], {1}, "tk"),
        ]
    )
    assert '<h5 id="b"><span lang="sv">Boende &lt;först&gt;</span></h5>' in html
    assert '<p><span lang="sv">Överenskommelsens beskrivning</span></p>' in html
    assert '<li><span lang="sv">Åtagande 1</span></li><li>plain</li>' in html
    assert '<th scope="row"><span lang="sv">Utskrivning</span></th>' in html
    assert html.count('lang="sv"') == 4


def test_stored_swedish_inside_a_sentence_is_marked_alone():
    """WCAG 3.1.2 inside a sentence: "Most common contributing factors: Samordning (3)." marks the factor's
    name, not the sentence around it; the sentence is still the plain string everywhere else."""
    factors = joined(Swedish("Samordning <x>"), " (3)", ", ", Swedish("Rutiner"), " (2)")
    sentence = interpolate("Most common: %(factors)s.", {"factors": factors})
    assert type(sentence) is Mixed
    assert sentence == "Most common: Samordning <x> (3), Rutiner (2)."
    assert joined("3 reports.", " ", sentence) == "3 reports. Most common: Samordning <x> (3), Rutiner (2)."
    caption = interpolate("Decided actions: %(title)s", {"title": Swedish("Fråga 1")})
    html = render(
        [
            Paragraph(joined("3 <reports>.", " ", sentence)),
            Table(caption, ["Action"], [[Swedish("Åtgärd")]]),
            Bullets([interpolate("%(factor)s: %(n)s of 4", {"factor": Swedish("Rutiner"), "n": "2"})]),
        ]
    )
    assert (
        '<p>3 &lt;reports&gt;. Most common: <span lang="sv">Samordning &lt;x&gt;</span> (3), '
        '<span lang="sv">Rutiner</span> (2).</p>'
    ) in html
    assert (
        '<caption id="document-table-caption-1">Decided actions: <span lang="sv">Fråga 1</span></caption>'
        in html
    )
    assert '<li><span lang="sv">Rutiner</span>: 2 of 4</li>' in html
    # Nothing stored in Swedish: a plain string, as before.
    assert type(interpolate("%(n)s of %(m)s", {"n": "1", "m": "2"})) is str
    assert type(joined("a", "b")) is str
    # The values are kept as they are, whatever they hold; "%%" is a percent sign, as with "%".
    values = {"a": "%(b)s 100 %", "b": Swedish("x"), "n": 3}
    assert interpolate("%(a)s %(b)s %(n)s %%", values) == "%(b)s 100 % x 3 %"
    with pytest.raises(ValueError, match="placeholders only"):
        interpolate("%(n)d %(b)s", values)


@pytest.mark.django_db
def test_the_english_page_marks_the_stored_swedish_names(client, dataset, regional_coordinator):
    client.force_login(regional_coordinator)
    response = client.get("/en" + URL, params(dataset))
    html = response.content.decode()
    assert '<html lang="en"' in html
    category = dataset.reports["d1"].category.name
    assert f'<th scope="row"><span lang="sv">{category}</span></th>' in html
    for commitment in dataset.agreement.commitments.all():
        assert f'<span lang="sv">{commitment}</span>' in html
    assert "No commitment given" in html  # the reports without one: not a stored name
    assert '<span lang="sv">No commitment given' not in html


@pytest.mark.django_db
def test_state_labels_follow_the_language_and_show_unknown_values_as_they_are():
    issue = SystemicIssue(state=SystemicIssue.State.IN_PROGRESS)
    action = SystemicAction(state=SystemicAction.State.DONE)
    assert (issue.get_state_display(), action.get_state_display()) == ("Pågår", "Genomförd")
    with translation.override("en"):
        assert (issue.get_state_display(), action.get_state_display()) == ("In progress", "Completed")
    issue.state = "archived"  # not among the choices: shown as stored, as Django's own method does
    assert issue.get_state_display() == "archived"


@pytest.mark.django_db
def test_more_systemic_issues_take_no_more_statements_and_show_their_actions(
    client, dataset, regional_coordinator
):
    """The page and the statistics export read the issues shown and their actions (only the fields they
    show) in the same statements whatever their number; nothing deferred is read one by one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(regional_coordinator)
    client.get(URL, params(dataset))  # a fresh session is saved once (SessionRefreshMiddleware)

    def statements(url, query):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, query)
            body = b"".join(response.streaming_content) if response.streaming else response.content
        assert response.status_code == 200
        return len(queries), body

    page_before, _ = statements(URL, params(dataset))
    export_before, _ = statements(export_url("statistik", "csv"), params(dataset))
    for number, key in enumerate(("d1", "d3", "d4")):
        issue = factories.SystemicIssueFactory(title=f"Fråga {number}", agreements=[dataset.agreement])
        for step in range(2):
            factories.SystemicActionFactory(
                issue=issue, description=f"Åtgärd {number}.{step}", owner=dataset.addiction
            )
        report = dataset.reports[key]
        report.systemic_issue = issue
        report.save(update_fields=["systemic_issue"])
    summary.rebuild()  # linked past the services

    page_after, page = statements(URL, params(dataset))
    export_after, export = statements(export_url("statistik", "csv"), params(dataset))
    assert (page_after, export_after) == (page_before, export_before)
    html = page.decode()
    assert '<h5 id="fraga-2"><span lang="sv">Fråga 2</span></h5>' in html
    assert f'<th scope="row"><span lang="sv">Åtgärd 2.1</span></th><td>{dataset.addiction.name}</td>' in html
    rows = csv_sections(read_csv_bytes(export))["Systemfrågor"]
    assert [row[:5] for row in rows if row[0] == "Fråga 0"] == [
        ["Fråga 0", "Öppen", "1", "Åtgärd 0.0", dataset.addiction.name],
        ["Fråga 0", "Öppen", "1", "Åtgärd 0.1", dataset.addiction.name],
    ]
