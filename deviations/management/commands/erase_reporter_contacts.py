"""Daily: remove reporter contact details from reports closed longer ago than the retention period."""

import logging

from django.core.management.base import BaseCommand, CommandError

from deviations.services import retention

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Remove the reporter's name, e-mail and phone from reports closed or rejected more than "
        "CONTACT_RETENTION_MONTHS months ago. Safe to run daily."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--months",
            type=int,
            default=None,
            help="Retention in months (default: the CONTACT_RETENTION_MONTHS setting).",
        )

    def handle(self, *args, months=None, **options):
        if months is not None and months < 0:
            raise CommandError("--months must be zero or more.")
        count = retention.erase_reporter_contacts(months=months)
        # Counts only: never which reports or whose details.
        self.stdout.write(f"erased={count}")
