"""The follow-up document as a Word file (python-docx), for the coordinator to finish in Word.

The same ``followup.document.Document`` as the page and the PDF: headings as Word's own heading styles
(so Word's navigation pane and table of contents see them), tables as Word tables with a repeated
header row, lists as Word lists, the document language set, a table-of-contents field Word fills in
when the file is opened, and "sida X av Y" in the footer. Charts are left out: their figures are in the
tables next to them.
"""

import io

from django.http import HttpResponse
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from .document import Bullets, Document, Heading, Paragraph, Swedish, Table, parts_of

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LANGUAGES = {"sv": "sv-SE", "en": "en-GB"}


def render_docx(document: Document) -> bytes:
    from docx import Document as WordDocument
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    language = LANGUAGES.get((get_language() or "sv").split("-")[0], "sv-SE")
    word = WordDocument()
    word.core_properties.title = document.title
    word.core_properties.language = language
    word.core_properties.subject = _("Uppföljning")
    _set_language(word, language)
    _ask_to_update_fields(word)
    _page_numbers(word)

    word.add_heading(document.title, level=0)
    for label, value in document.meta:
        paragraph = word.add_paragraph()
        paragraph.add_run(f"{label}: ").bold = True
        paragraph.add_run(value)

    contents = word.add_paragraph()
    contents.add_run(_("Innehåll")).bold = True
    _field(
        word.add_paragraph(),
        'TOC \\o "1-2" \\h \\z \\u',
        _("Högerklicka här och välj Uppdatera fält för att visa innehållsförteckningen."),
    )

    for block in document.blocks:
        if isinstance(block, Heading):
            _write(word.add_heading("", level=min(block.level - 1, 9)), block.text)
        elif isinstance(block, Paragraph):
            for run in _write(word.add_paragraph(), block.text):
                run.italic = block.style == "placeholder"
                if block.style == "note":
                    run.font.size = Pt(9)
        elif isinstance(block, Bullets):
            for item in block.items:
                _write(word.add_paragraph(style="List Bullet"), item)
        elif isinstance(block, Table):
            _write(word.add_paragraph(style="Caption"), block.caption)
            table = word.add_table(rows=1, cols=len(block.headers))
            table.style = "Table Grid"
            _repeat_header(table.rows[0])
            for column, header in enumerate(block.headers):
                cell = table.rows[0].cells[column]
                cell.text = str(header)
                cell.paragraphs[0].runs[0].bold = True
            for row in block.rows:
                cells = table.add_row().cells
                for column, value in enumerate(row):
                    _write(cells[column].paragraphs[0], value if isinstance(value, str) else str(value))
                    if column in block.numeric:
                        cells[column].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
            word.add_paragraph()
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def docx_response(document: Document, *, filename: str) -> HttpResponse:
    response = HttpResponse(render_docx(document), content_type=DOCX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- WordprocessingML that python-docx has no API for ---------------------------------------------


def _element(tag: str, **attributes):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    element = OxmlElement(tag)
    for name, value in attributes.items():
        element.set(qn(f"w:{name}"), value)
    return element


def _set_language(word, language: str) -> None:
    """The language of every style's text (spelling, hyphenation and screen readers use it)."""
    from docx.oxml.ns import qn

    defaults = word.styles.element.find(qn("w:docDefaults"))
    run_properties = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang = run_properties.find(qn("w:lang"))
    if lang is None:
        lang = _element("w:lang")
        run_properties.append(lang)
    for attribute in ("val", "eastAsia", "bidi"):
        lang.set(qn(f"w:{attribute}"), language)


def _write(paragraph, text: str) -> list:
    """Add ``text`` to ``paragraph`` as runs (a line break between its lines) and return them. Text stored
    in Swedish (``followup.document.Swedish``, alone or inside a sentence: ``Mixed``) keeps its language
    in a document in another one: its runs say so (spelling, hyphenation and screen readers), after their
    other properties, where the schema puts ``w:lang``."""
    runs = []
    for part in parts_of(text):
        lines = part.splitlines() or [""]
        for number, line in enumerate(lines):
            run = paragraph.add_run(line)
            if number < len(lines) - 1:
                run.add_break()
            if isinstance(part, Swedish):
                # python-docx puts the properties the caller sets afterwards before it, in the schema's order.
                run._r.get_or_add_rPr().append(_element("w:lang", val=LANGUAGES["sv"]))
            runs.append(run)
    return runs


def _ask_to_update_fields(word) -> None:
    """Word fills in the table of contents and page counts when the file is opened."""
    word.settings.element.append(_element("w:updateFields", val="true"))


def _field(paragraph, instruction: str, placeholder: str = "") -> None:
    """A Word field (TOC, PAGE, NUMPAGES) with the text shown until Word updates it."""
    run = paragraph.add_run()
    run._r.append(_element("w:fldChar", fldCharType="begin"))
    code = _element("w:instrText")
    code.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    code.text = f" {instruction} "
    run._r.append(code)
    run._r.append(_element("w:fldChar", fldCharType="separate"))
    paragraph.add_run(placeholder)
    paragraph.add_run()._r.append(_element("w:fldChar", fldCharType="end"))


def _page_numbers(word) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    paragraph = word.sections[0].footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    paragraph.add_run(pgettext("sida x av y", "sida") + " ")
    _field(paragraph, "PAGE", "1")
    paragraph.add_run(" " + pgettext("sida x av y", "av") + " ")
    _field(paragraph, "NUMPAGES", "1")


def _repeat_header(row) -> None:
    """Repeat the header row at the top of every page the table runs onto."""
    properties = row._tr.get_or_add_trPr()
    properties.append(_element("w:tblHeader", val="true"))
