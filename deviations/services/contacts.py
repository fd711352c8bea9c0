"""The reporter's contact details on a report: erased on request before their retention (the retention
job, ``services.retention``, erases them after it), and corrected.

Who may: as for redaction (``selectors.may_redact``): coordinators of the handling council and regional
coordinators. Every change writes an event naming the fields, never their values (the event log keeps
no contact details, which their retention could not reach).
"""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import Conflict, Invalid, NotAllowed
from config.personal_data import guard_texts

from ..models import CONTACT_DETAIL_FIELDS, Deviation, DeviationEvent
from ..notifications import queue_email, reporter_address
from ..selectors import may_redact
from .transitions import write_event, write_system_events

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
    values = [getattr(deviation, name) for name in CONTACT_DETAIL_FIELDS]
    reason = _checked_reason(reason, missing=_("Skriv varför kontaktuppgifterna raderas."), details=values)
    now = timezone.now()
    Deviation.objects.filter(pk=deviation.pk).update(**ERASED, contact_erased_at=now, updated_at=now)
    event = write_event(
        deviation=deviation, actor=actor, text=reason, created_at=now, **_erasure_event(deviation.pk, values)
    )
    logger.info("deviation %s: reporter contact details erased on request", deviation.reference)
    return event


def locked_details(reports) -> list[tuple]:
    """``(pk, *CONTACT_DETAIL_FIELDS)`` of ``reports`` (a queryset), their rows locked until the
    transaction ends: what ``erase_held`` then erases and names in its events."""
    return list(reports.select_for_update(of=("self",)).values_list("pk", *CONTACT_DETAIL_FIELDS))


def erase_held(reports, held: list[tuple], *, now, text: str = "") -> int:
    """Erase the contact details of ``reports``, whose rows the caller locked and read as ``held``
    (``locked_details``), stamp them, and write an ``erase_contact`` event by "system" (its text
    ``text``) on each report that held any, one INSERT per thousand. Returns how many reports."""
    count = reports.update(**ERASED, contact_erased_at=now, updated_at=now)
    write_system_events(
        {
            "deviation_id": pk,
            "actor_label": "system",
            "text": text,
            "created_at": now,
            **_erasure_event(pk, values),
        }
        for pk, *values in held
        if any(values)
    )
    return count


def _checked_reason(reason: str, *, missing: str, details) -> str:
    """``reason`` stripped, for the event log: refused (``Invalid``, ``errors["reason"]``) when empty
    (with ``missing``), when it repeats any of the contact ``details`` (any letter case) or holds an
    identity number."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(missing, errors={"reason": missing})
    folded = reason.casefold()
    if any(detail.strip() and detail.strip().casefold() in folded for detail in details):
        message = _("Skälet får inte innehålla kontaktuppgifterna.")
        raise Invalid(message, errors={"reason": message})
    guard_texts(reason=reason)
    return reason


def _erasure_event(pk: int, values: list[str]) -> dict:
    """The kind, action and details of the event recording that the report ``pk``'s contact details,
    ``values`` in the order of ``CONTACT_DETAIL_FIELDS``, were erased: the details name the fields that
    held something (as a redaction's do), never what they held."""
    fields = [name for name, value in zip(CONTACT_DETAIL_FIELDS, values, strict=True) if value]
    return {
        "kind": DeviationEvent.Kind.REDACTION,
        "action": "erase_contact",
        "details": {"fields": [{"object": "deviation", "id": pk, "field": name} for name in fields]},
    }


@transaction.atomic
def correct_contact_details(*, deviation: Deviation, actor, reason: str, **values: str) -> DeviationEvent:
    """Correct the reporter's contact details (``values``: any of ``CONTACT_DETAIL_FIELDS``; an empty one
    removes that detail), e.g. a mistyped address the receipt never reached: later mails to the
    reporter go to the new one. A changed address replaces the status link (the old address may have
    reached someone else): the old link stops working and the new one is mailed to the reporter. Writes
    a CORRECTION event (action ``correct_contact``) naming the fields changed (and ``status_link``:
    ``renewed``, or ``revoked`` when no address is left to send the new one to) and the reason, never
    the old or new values.

    Raises ``NotAllowed`` (who may: as for redaction), ``Conflict`` (the details are erased: a correction
    would bring them back) or ``Invalid`` with ``errors`` by field: a value the model refuses (an
    address that is not one, an identity number, too long), no change, every detail emptied (that is
    the erasure), no reason or one that repeats a detail."""
    unknown = set(values) - set(CONTACT_DETAIL_FIELDS)
    if unknown:
        raise Invalid(_("Fälten ändras inte här: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    deviation = Deviation.objects.select_for_update().get(pk=deviation.pk)
    if not may_redact(actor, deviation):
        raise NotAllowed(_("Du har inte behörighet att rätta rapportörens kontaktuppgifter."))
    if deviation.contact_erased_at is not None:
        raise Conflict(_("Kontaktuppgifterna är raderade och kan inte rättas."))
    errors, changed = {}, {}
    for name, value in values.items():
        try:
            value = Deviation._meta.get_field(name).clean((value or "").strip(), deviation)
        except ValidationError as error:
            errors[name] = " ".join(error.messages)
            continue
        if value != getattr(deviation, name):
            changed[name] = value
    if errors:
        raise Invalid(" ".join(errors.values()), errors=errors)
    if not changed:
        message = _("Ändra minst en av uppgifterna.")
        raise Invalid(message, errors={"__all__": message})
    after = {name: changed.get(name, getattr(deviation, name)) for name in CONTACT_DETAIL_FIELDS}
    if not any(after.values()):
        message = _("Använd Radera kontaktuppgifterna för att ta bort alla uppgifter.")
        raise Invalid(message, errors={"__all__": message})
    reason = _checked_reason(
        reason,
        missing=_("Skriv varför kontaktuppgifterna rättas."),
        details=[*(getattr(deviation, name) for name in CONTACT_DETAIL_FIELDS), *changed.values()],
    )
    now = timezone.now()
    details = {"fields": [{"object": "deviation", "id": deviation.pk, "field": name} for name in changed]}
    renewed = False
    if "reporter_email" in changed:
        # Whoever the old address reached (a stranger, for a mistyped one) may hold the status link.
        changed["status_link_version"] = F("status_link_version") + 1
        deviation.reporter_email = changed["reporter_email"]
        renewed = bool(reporter_address(deviation))  # else no address to send the new link to
        details["status_link"] = "renewed" if renewed else "revoked"
    Deviation.objects.filter(pk=deviation.pk).update(**changed, updated_at=now)
    event = write_event(
        deviation=deviation,
        actor=actor,
        kind=DeviationEvent.Kind.CORRECTION,
        action="correct_contact",
        details=details,
        text=reason,
        created_at=now,
    )
    if renewed:
        # The new link, to the new address (or the account's, if the address was removed); the mail
        # is composed when sent, from the report as it is then. The reporter's language is not kept.
        queue_email(template="status_link", deviation=deviation, language=settings.LANGUAGE_CODE)
    logger.info("deviation %s: reporter contact details corrected", deviation.reference)
    return event


@transaction.atomic
def erase_contacts_of_address(*, email: str, reason: str) -> int:
    """Erase now the contact details of every report whose reporter is the person behind ``email``: the
    address on the report, or the account that filed it, in any letter case, in any council and state.
    An erasure request the data protection officer handles for all councils at once (``manage.py
    erase_reporter_contacts --email``, after ``personal_data_extract`` has shown the reports). Each
    report that held a detail gets an ``erase_contact`` event by "system" with ``reason`` as its text.
    Raises ``Invalid`` for no reason, or one that repeats the address or a detail. Returns how many
    reports (with those that held nothing, stamped as erased all the same, as the retention does)."""
    email = email.strip()
    reports = Deviation.objects.filter(
        Q(reporter_email__iexact=email) | Q(reporter__email__iexact=email), contact_erased_at__isnull=True
    )
    held = locked_details(reports)
    reason = _checked_reason(
        reason,
        missing=_("Skriv varför kontaktuppgifterna raderas."),
        details=[email, *(value for _pk, *values in held for value in values)],
    )
    count = erase_held(reports, held, now=timezone.now(), text=reason)
    logger.info("erased reporter contact details from %d reports on request", count)
    return count
