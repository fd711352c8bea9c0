"""Notes on a report: internal, or visible to the reporter on their status page (with an e-mail)."""

from django.db import transaction
from django.utils.translation import gettext as _

from config.errors import Invalid
from config.personal_data import guard_texts

from .. import notifications
from ..models import Deviation, DeviationEvent
from .transitions import require_handler, write_event


@transaction.atomic
def add_note(*, deviation: Deviation, actor, text: str, visible_to_reporter: bool = False) -> DeviationEvent:
    """An internal note, or a note the reporter sees on their status page."""
    require_handler(actor, deviation)
    text = (text or "").strip()
    if not text:
        raise Invalid(_("Anteckningen får inte vara tom."))
    guard_texts(text=text)
    event = write_event(
        deviation=deviation,
        actor=actor,
        kind=DeviationEvent.Kind.NOTE,
        text=text,
        visibility=(
            DeviationEvent.Visibility.REPORTER if visible_to_reporter else DeviationEvent.Visibility.INTERNAL
        ),
    )
    if visible_to_reporter:
        notifications.feedback_given(deviation=deviation)
    return event
