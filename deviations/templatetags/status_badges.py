"""``{% status_badge status %}``: a report's status as a coloured badge with its translated label;
``{{ status|status_label }}``: the label alone."""

from django import template
from django.utils.html import format_html

from deviations.workflow import Status

register = template.Library()


@register.filter
def status_label(status: str) -> str:
    """``{{ event.to_status|status_label }}``: what ``get_to_status_display`` prints, without the model
    method rebuilding (and translating) the whole choice list on every call."""
    try:
        return Status(status).label
    except ValueError:
        return status


@register.simple_tag
def status_badge(status: str) -> str:
    # A tag, not an include with get_status_display: queue pages show dozens of badges.
    return format_html('<span class="badge status-badge status-{}">{}</span>', status, status_label(status))
