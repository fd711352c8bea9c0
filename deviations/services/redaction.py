"""Redaction after the fact: a passage of a report's stored text (its own fields, the texts of its events,
the response requests and answers) replaced by a visible marker.

The passage is overwritten in place (an UPDATE; the event log allows exactly this one change, through
``DeviationEventQuerySet.redact``), so no table keeps it; the report's search document is a generated
column and follows. A REDACTION event records who redacted which fields and why, never the removed text.
PostgreSQL keeps the old row versions until VACUUM reclaims them, and backups and WAL archives keep them
for as long as those are kept (README, "Security").

Who may: the coordinators of the handling council and regional coordinators (``workflow.COORDINATORS``),
in any state of the report, including one rejected because it contains personal data.
"""

import logging
import re

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from config.errors import Invalid, NotAllowed

from ..models import Deviation, DeviationEvent, ResponseRequest
from ..selectors import EVERYWHERE, may_redact, stored_texts
from .transitions import site_language_text, write_event

logger = logging.getLogger(__name__)

#: What replaces a removed passage (in the site's language, like every text stored in the log).
MARKER = gettext_noop("[borttaget]")


def passage_pattern(passage: str) -> re.Pattern:
    """The passage as typed or copied from the page: any run of white space matches any other (line
    breaks are rendered as spaces), letter case is ignored, so every occurrence goes."""
    return re.compile(r"\s+".join(re.escape(word) for word in passage.split()), re.IGNORECASE)


@transaction.atomic
def redact_passage(
    *, deviation: Deviation, actor, passage: str, reason: str, target: str = EVERYWHERE
) -> DeviationEvent:
    """Replace every occurrence of ``passage`` in the report's texts (``target``: one
    ``StoredText.key``, or ``EVERYWHERE``) by the marker, and record it.

    The REDACTION event's ``details``: ``fields`` (``[{"object", "id", "field"}]``, which texts changed)
    and ``occurrences`` (how many passages were replaced); its text is ``reason``.
    Raises ``NotAllowed`` (not a coordinator of the report) or ``Invalid`` (with ``errors`` by form
    field: empty passage or reason, a reason that repeats the passage, an unknown target, a passage
    not found).
    """
    deviation = Deviation.objects.select_for_update().get(pk=deviation.pk)
    if not may_redact(actor, deviation):
        raise NotAllowed(_("Du har inte behörighet att maskera text i rapporten."))
    passage = " ".join((passage or "").split())
    reason = (reason or "").strip()
    errors = {}
    if not any(character.isalnum() for character in passage):
        errors["passage"] = _("Skriv eller klistra in texten som ska tas bort.")
    if not reason:
        errors["reason"] = _("Skriv varför texten tas bort.")
    elif passage and passage_pattern(passage).search(reason):
        errors["reason"] = _("Skälet får inte innehålla texten som tas bort.")
    if errors:
        raise Invalid(" ".join(errors.values()), errors=errors)

    texts = stored_texts(deviation)
    if target != EVERYWHERE:
        texts = [text for text in texts if text.key == target]
        if not texts:
            raise Invalid(_("Välj en text i rapporten."), errors={"target": _("Välj en text i rapporten.")})
    pattern, marker = passage_pattern(passage), site_language_text(MARKER)
    changed, occurrences, report_fields = [], 0, {}
    for stored in texts:
        redacted, count = pattern.subn(marker, stored.text)
        if not count:
            continue
        occurrences += count
        changed.append({"object": stored.kind, "id": stored.pk, "field": stored.field})
        if stored.kind == "deviation":
            report_fields[stored.field] = redacted
        elif stored.kind == "event":
            DeviationEvent.objects.redact(pk=stored.pk, field=stored.field, text=redacted)
        else:
            ResponseRequest.objects.filter(pk=stored.pk).update(**{stored.field: redacted})
    if not changed:
        message = _("Texten finns inte i rapporten. Kopiera den exakt som den står på sidan.")
        raise Invalid(message, errors={"passage": message})
    # One UPDATE of the report (its search document is generated from these columns).
    Deviation.objects.filter(pk=deviation.pk).update(**report_fields, updated_at=timezone.now())
    event = write_event(
        deviation=deviation,
        actor=actor,
        kind=DeviationEvent.Kind.REDACTION,
        action="redact",
        details={"fields": changed, "occurrences": occurrences},
        text=reason,
    )
    logger.info(
        "deviation %s: %d passage(s) redacted in %d text(s)", deviation.reference, occurrences, len(changed)
    )
    return event
