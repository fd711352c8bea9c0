"""Rendering the blocks of ``followup.document``: the heading element for a block's level."""

from django import template

register = template.Library()


@register.filter
def heading_level(block, offset) -> int:
    """The HTML heading level of a ``Heading`` block: its document level shifted by ``offset`` (the page
    puts the document under its own h1), never deeper than h6."""
    return min(block.level + int(offset), 6)
