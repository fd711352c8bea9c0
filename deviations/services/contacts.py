"""The reporter's contact details on a report: erased on request before their retention (the retention
job, ``services.retention``, erases them after it), and corrected.

Who may: as for redaction (``selectors.may_redact``): coordinators of the handling council and regional
coordinators. Every change writes an event naming the fields, never their values (the event log keeps
no contact details, which their retention could not reach).
"""

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import Conflict, Invalid, NotAllowed
from config.personal_data import guard_texts

from ..models import CONTACT_DETAIL_FIELDS, Deviation, DeviationEvent
from ..selectors import may_redact
from .transitions import write_event

logger = logging.getLogger(__name__)

#: What erasing the contact details writes on the report (``updated_at`` and the stamp besides).
ERASED = dict.fromkeys(CONTACT_DETAIL_FIELDS, "")


@transaction.atomic
def erase_contact_details(*, deviation: Deviation, actor, reason: str) -> DeviationEvent:
    """Erase the reporter's name, e-mail and phone from ``deviation`` now, before their retention: the
    reporter asked (the right to erasure), or a detail holds what must not be kept. Stamps
    ``contact_erased_at`` and writes an ``erase_contact`` event naming the fields erased, its text
    ``reason``; never the details. Mails already queued to the reporter find no address and are not sent
    (an account's own address, for a reporter who filed signed in, stays the account's).

    Who may: as for redaction (``selectors.may_redact``). Raises ``NotAllowed``, ``Conflict`` (nothing
    left to erase) or ``Invalid`` (``errors["reason"]``: no reason, or one that repeats a detail)."""
    deviation = Deviation.objects.select_for_update().get(pk=deviation.pk)
    if not may_redact(actor, deviation):
        raise NotAllowed(_("Du har inte behörighet att radera rapportörens kontaktuppgifter."))
    if not deviation.has_contact_details:
        raise Conflict(_("Rapporten har inga kontaktuppgifter att radera."))
    reason = (reason or "").strip()
    if not reason:
        message = _("Skriv varför kontaktuppgifterna raderas.")
        raise Invalid(message, errors={"reason": message})
    details = (getattr(deviation, name).strip().casefold() for name in CONTACT_DETAIL_FIELDS)
    if any(detail and detail in reason.casefold() for detail in details):
        message = _("Skälet får inte innehålla kontaktuppgifterna.")
        raise Invalid(message, errors={"reason": message})
    guard_texts(reason=reason)
    now = timezone.now()
    Deviation.objects.filter(pk=deviation.pk).update(**ERASED, contact_erased_at=now, updated_at=now)
    event = write_event(
        deviation=deviation,
        actor=actor,
        text=reason,
        created_at=now,
        **erasure_event(deviation.pk, [getattr(deviation, name) for name in CONTACT_DETAIL_FIELDS]),
    )
    logger.info("deviation %s: reporter contact details erased on request", deviation.reference)
    return event


def erasure_event(pk: int, values: list[str]) -> dict:
    """The kind, action and details of the event recording that the report ``pk``'s contact details,
    ``values`` in the order of ``CONTACT_DETAIL_FIELDS``, were erased: the details name the fields that
    held something (as a redaction's do), never what they held."""
    fields = [name for name, value in zip(CONTACT_DETAIL_FIELDS, values, strict=True) if value]
    return {
        "kind": DeviationEvent.Kind.REDACTION,
        "action": "erase_contact",
        "details": {"fields": [{"object": "deviation", "id": pk, "field": name} for name in fields]},
    }
