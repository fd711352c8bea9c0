"""Rendering the blocks of ``followup.document``: the heading element for a block's level, a table's
body rows."""

from django import template
from django.template.base import render_value_in_context
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def heading_level(block, offset) -> int:
    """The HTML heading level of a ``Heading`` block: its document level shifted by ``offset`` (the page
    puts the document under its own h1), never deeper than h6."""
    return min(block.level + int(offset), 6)


@register.simple_tag(takes_context=True)
def table_rows(context, block):
    """The body rows of a ``Table`` block: the first cell of a row is its header, numeric columns are
    right-aligned. Every value is rendered as ``{{ value }}`` would render it (the cells are text the
    document formatted: escaped; anything else localised and escaped by the template engine's own
    function). Built here rather than by template loops: a county's tables hold over a thousand cells,
    and a loop's tags cost ten times the text."""
    if not block.rows:
        return format_html('<tr><td colspan="{}">{}</td></tr>', len(block.headers), _("Inga rapporter."))
    numeric = block.numeric
    parts = []
    for row in block.rows:
        parts.append("<tr>")
        for index, value in enumerate(row):
            text = escape(value) if type(value) is str else render_value_in_context(value, context)
            if index == 0:
                parts.append(f'<th scope="row">{text}</th>')
            elif index in numeric:
                parts.append(f'<td class="text-end num">{text}</td>')
            else:
                parts.append(f"<td>{text}</td>")
        parts.append("</tr>")
    return mark_safe("".join(parts))  # noqa: S308 (every value above is escaped)
