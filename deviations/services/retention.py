"""What is kept, and for how long: reporters' contact details (erased at their retention, or earlier on
request) and reports never confirmed."""

import calendar
import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import Conflict, Invalid, NotAllowed
from config.personal_data import guard_texts

from ..models import CONTACT_DETAIL_FIELDS, Deviation, DeviationEvent
from ..selectors import may_redact
from ..tasks import delete_tasks_about
from ..workflow import FINAL_STATES, Status
from .transitions import write_event, write_system_events

logger = logging.getLogger(__name__)

#: What erasing the contact details writes on the report (``updated_at`` and the stamp besides).
ERASED = dict.fromkeys(CONTACT_DETAIL_FIELDS, "")


def months_before(moment: datetime.datetime, months: int) -> datetime.datetime:
    """The same wall-clock moment ``months`` calendar months earlier; a day the earlier month lacks
    (e.g. the 31st) becomes that month's last day."""
    month_index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@transaction.atomic
def erase_reporter_contacts(*, now: datetime.datetime | None = None, months: int | None = None) -> int:
    """Remove the reporter's name, e-mail and phone from reports closed or rejected more than
    ``months`` (default ``settings.CONTACT_RETENTION_MONTHS``) months ago, and stamp
    ``contact_erased_at``; the e-mail task rows about them go too. A report that held any of them gets
    an ``erase_contact`` event (by "system") naming the fields erased. Idempotent: reports already erased
    are left alone. Returns how many reports were erased."""
    now = now or timezone.now()
    months = settings.CONTACT_RETENTION_MONTHS if months is None else months
    cutoff = months_before(timezone.localtime(now), months)
    due = Deviation.objects.filter(
        status__in=FINAL_STATES, closed_at__lt=cutoff, contact_erased_at__isnull=True
    )
    # Locked: the rows the events name are the rows the UPDATE erases.
    held = list(due.select_for_update().values_list("pk", *CONTACT_DETAIL_FIELDS))
    count = due.update(**ERASED, contact_erased_at=now, updated_at=now)
    write_system_events(
        {"deviation_id": pk, "actor_label": "system", "created_at": now, **_erasure_event(pk, values)}
        for pk, *values in held
        if any(values)
    )
    delete_tasks_about(Deviation.objects.filter(contact_erased_at=now).values("pk"))
    logger.info("erased reporter contact details from %d closed reports (retention %d months)", count, months)
    return count


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
        **_erasure_event(deviation.pk, [getattr(deviation, name) for name in CONTACT_DETAIL_FIELDS]),
    )
    logger.info("deviation %s: reporter contact details erased on request", deviation.reference)
    return event


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


def purge_unconfirmed(*, now=None) -> int:
    """Delete reports never confirmed within ``settings.UNCONFIRMED_RETENTION_DAYS``, and the e-mail task
    rows about them; returns how many reports."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.UNCONFIRMED_RETENTION_DAYS)
    with transaction.atomic():
        purged = Deviation.objects.filter(status=Status.UNCONFIRMED, created_at__lt=cutoff)
        delete_tasks_about(purged.values("pk"))
        _total, per_model = purged.delete()
    return per_model.get(Deviation._meta.label, 0)
