"""Rendering the blocks of ``followup.document``: every block as HTML, in Python.

A county's document holds some 300 blocks and over a thousand table cells. Rendered by template loops,
each block paid for its tags (the kind's ``if`` chain, ``with``, the headers' loop): half the page's
template calls, and each systemic issue shown (a heading, a paragraph, a table) cost ~1,100 calls. Here a
block costs a few string operations, so the page costs about the same whatever number of issues and pairs
it shows (issue 17). Every value is escaped as ``{{ value }}`` would escape it; safe strings (the charts'
SVG) are kept.
"""

import html

from django import template
from django.template.base import render_value_in_context
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from followup.document import Mixed, Swedish

register = template.Library()


def _text(value) -> str:
    """``{{ value }}`` of a text the document wrote: a plain string escaped by ``html.escape`` (what
    Django's ``escape`` calls, without its lazy-string wrapper, which cost more than the escaping), a safe
    string kept, a lazy one translated and escaped; text stored in Swedish (``Swedish``) marked so, also
    inside a sentence (``Mixed``)."""
    kind = type(value)
    if kind is str:
        return html.escape(value)
    if kind is Swedish:
        return f'<span lang="sv">{html.escape(value)}</span>'
    if kind is Mixed:
        return "".join(_text(part) for part in value.parts)
    return conditional_escape(value)


#: A right-aligned (numeric) column's cells.
_NUMERIC = ' class="text-end num"'


def _heading(block, offset: int) -> str:
    level = min(block.level + offset, 6)
    css = ' class="section-heading"' if level <= 3 else ""
    return f'\n<h{level} id="{_text(block.anchor)}"{css}>{_text(block.text)}</h{level}>'


def _paragraph(block) -> str:
    css = ""
    if block.style:
        css = f' class="{_text(block.style)}{" prewrap" if block.style == "written" else ""}"'
    return f"\n<p{css}>{_text(block.text)}</p>"


def _table(block, index: int, context) -> str:
    # The caption's id is unique by the block's place in the document (tables without an anchor).
    caption_id = f"{_text(block.anchor or 'document-table')}-caption-{index}"
    anchor = f' id="{_text(block.anchor)}"' if block.anchor else ""
    numeric = block.numeric
    headers = "".join(
        f'<th scope="col"{_NUMERIC if i in numeric else ""}>{_text(header)}</th>'
        for i, header in enumerate(block.headers)
    )
    return (
        f'\n<div class="table-responsive" tabindex="0" role="region" aria-labelledby="{caption_id}">'
        f'<table class="table table-sm"{anchor}>\n'
        f'  <caption id="{caption_id}">{_text(block.caption)}</caption>\n'
        f"  <thead><tr>{headers}</tr></thead>\n  <tbody>{table_rows(context, block)}</tbody>\n</table></div>"
    )


@register.simple_tag(takes_context=True)
def document_blocks(context, document, offset=0):
    """The blocks of ``document`` as HTML; heading levels shifted by ``offset`` (the page puts the
    document under its own h1), never deeper than h6."""
    offset = int(offset)
    parts = []
    for index, block in enumerate(document.blocks):
        if block.kind == "heading":
            parts.append(_heading(block, offset))
        elif block.kind == "paragraph":
            parts.append(_paragraph(block))
        elif block.kind == "bullets":
            parts.append(
                f'\n<ul class="document-list">{"".join(f"<li>{_text(i)}</li>" for i in block.items)}</ul>'
            )
        elif block.kind == "chart":
            parts.append(f'\n<figure class="chart-figure">{conditional_escape(block.svg)}</figure>')
        else:  # table
            parts.append(_table(block, index, context))
    return mark_safe("".join(parts))  # noqa: S308 (every value above is escaped)


def table_rows(context, block) -> str:
    """The body rows of a ``Table`` block: the first cell of a row is its header, numeric columns are
    right-aligned. Every value is rendered as ``{{ value }}`` would render it (the cells are text the
    document formatted: escaped; anything else localised and escaped by the template engine's own
    function)."""
    if not block.rows:
        return format_html('<tr><td colspan="{}">{}</td></tr>', len(block.headers), _("Inga rapporter."))
    numeric = block.numeric
    parts = []
    for row in block.rows:
        parts.append("<tr>")
        for index, value in enumerate(row):
            text = _text(value) if isinstance(value, str) else render_value_in_context(value, context)
            if index == 0:
                parts.append(f'<th scope="row">{text}</th>')
            elif index in numeric:
                parts.append(f"<td{_NUMERIC}>{text}</td>")
            else:
                parts.append(f"<td>{text}</td>")
        parts.append("</tr>")
    return "".join(parts)
