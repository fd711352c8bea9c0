"""Daily: remove reporter contact details from reports closed longer ago than the retention period."""

import logging

from django.core.management.base import BaseCommand, CommandError

from deviations import services

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Tar bort rapportörens namn, e-post och telefon från rapporter som avslutades eller avvisades för "
        "mer än CONTACT_RETENTION_MONTHS månader sedan. Säker att köra dagligen."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--months",
            type=int,
            default=None,
            help="Lagringstid i månader (standard: inställningen CONTACT_RETENTION_MONTHS).",
        )

    def handle(self, *args, months=None, **options):
        if months is not None and months < 0:
            raise CommandError("--months måste vara 0 eller större.")
        count = services.erase_reporter_contacts(months=months)
        # Counts only: never which reports or whose details.
        self.stdout.write(f"erased={count}")
