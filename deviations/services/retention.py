"""What is kept, and for how long: reporters' contact details (erased at their retention; earlier on
request, ``services.contacts``) and reports never confirmed."""

import calendar
import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import Deviation
from ..tasks import delete_tasks_about
from ..workflow import FINAL_STATES, Status
from .contacts import erase_held, locked_details

logger = logging.getLogger(__name__)


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
    count = erase_held(due, locked_details(due), now=now)
    delete_tasks_about(Deviation.objects.filter(contact_erased_at=now).values("pk"))
    logger.info("erased reporter contact details from %d closed reports (retention %d months)", count, months)
    return count


def purge_unconfirmed(*, now=None) -> int:
    """Delete reports never confirmed within ``settings.UNCONFIRMED_RETENTION_DAYS``, and the e-mail task
    rows about them; returns how many reports."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.UNCONFIRMED_RETENTION_DAYS)
    with transaction.atomic():
        purged = Deviation.objects.filter(status=Status.UNCONFIRMED, created_at__lt=cutoff)
        delete_tasks_about(purged.values("pk"))
        _total, per_model = purged.delete()
    return per_model.get(Deviation._meta.label, 0)
