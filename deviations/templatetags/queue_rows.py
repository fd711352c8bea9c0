"""``{% queue_rows rows show_council %}``: the rows of a queue page (``deviations.selectors.QueueRow``),
each rendered once per content and kept in the cache.

A row's HTML depends only on what the row shows (``QueueRow`` holds it as text: reference, status,
names, dates), whether the council column is shown, the language, the URL prefix and the release and
templates (``config.render_cache.render_version``). Its key is made of exactly those, so a changed
status, a renamed organisation or a new assignee is another key and nothing is invalidated; a
page's rows are fetched from the cache with one ``get_many``. Rendering the 25 rows through the
template cost about a fifth of the queue page's CPU (bench/RESULTS.md).
"""

from django import template
from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.safestring import mark_safe

from config.render_cache import content_key

register = template.Library()

TEMPLATE = "deviations/includes/queue_row.html"
TIMEOUT = 3600


def row_keys(rows, *, show_council: bool) -> list[str]:
    prefix, council = get_script_prefix(), bool(show_council)
    return [f"queue-row:{content_key(prefix, council, row)}" for row in rows]


@register.simple_tag
def queue_rows(rows, show_council):
    keys = row_keys(rows, show_council=show_council)
    found = cache.get_many(keys)
    rendered = {}
    html = []
    for key, row in zip(keys, rows, strict=True):
        fragment = found.get(key)
        if fragment is None:
            # The table's own indentation around each row, as the loop it replaces wrote it.
            body = render_to_string(TEMPLATE, {"row": row, "show_council": show_council}).strip()
            fragment = rendered[key] = f"\n    {body}\n  "
        html.append(fragment)
    if rendered:
        cache.set_many(rendered, TIMEOUT)
    return mark_safe("".join(html))  # noqa: S308 - rendered (and escaped) by the row's template
