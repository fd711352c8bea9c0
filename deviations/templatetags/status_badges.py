"""``{% status_badge status %}``: a report's status as a coloured badge with its translated label."""

from django import template
from django.utils.html import format_html

from deviations.workflow import Status

register = template.Library()


@register.simple_tag
def status_badge(status: str) -> str:
    # A tag, not an include with get_status_display: queue pages show dozens of badges, and the model
    # method rebuilds (and translates) the whole choice list on every call.
    try:
        label = Status(status).label
    except ValueError:
        label = status
    return format_html('<span class="badge status-badge status-{}">{}</span>', status, label)
