"""``{% from_to old new %}``: a change in the report's history, "old → new" (the arrow hidden from screen
readers, which hear "till"), or only the new value when there was none before. A tag rather than an
include: the history shows several per event, and an include costs a context and a template lookup."""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext

register = template.Library()


@register.simple_tag
def from_to(old, new) -> str:
    if old:
        return format_html(
            '{} <span aria-hidden="true">→</span><span class="visually-hidden">{}</span> {}\n',
            old,
            gettext("till"),
            new,
        )
    return format_html("{}\n", new)
