"""Delete reports whose e-mail address was never confirmed. Safe to run daily (e.g. from cron)."""

import logging

from django.conf import settings
from django.core.management.base import BaseCommand

from deviations.services.retention import purge_unconfirmed

logger = logging.getLogger("deviations.retention")


class Command(BaseCommand):
    help = "Delete unconfirmed reports older than UNCONFIRMED_RETENTION_DAYS (logs only the count)."

    def handle(self, *args, **options):
        count = purge_unconfirmed()
        logger.info(
            "purged %d unconfirmed reports older than %d days", count, settings.UNCONFIRMED_RETENTION_DAYS
        )
        self.stdout.write(f"{count}")
