"""The Swedish calendar: response deadlines, overdue marks and the queue's "today" follow Stockholm's
date whatever ``TIME_ZONE`` says."""

import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def stockholm_today(now: datetime.datetime | None = None) -> datetime.date:
    return timezone.localtime(now or timezone.now(), STOCKHOLM).date()
