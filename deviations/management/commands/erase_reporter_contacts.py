"""Daily: remove reporter contact details from reports closed longer ago than the retention period.

With ``--email`` and ``--reason``: an erasure request, now, from every report the person behind the
address filed (``services.contacts.erase_contacts_of_address``).
"""

import logging

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from config.errors import Invalid
from deviations.services import contacts, retention

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Remove the reporter's name, e-mail and phone from reports closed or rejected more than "
        "CONTACT_RETENTION_MONTHS months ago. Safe to run daily. With --email and --reason: from every "
        "report the person behind the address filed, now."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--months",
            type=int,
            default=None,
            help="Retention in months (default: the CONTACT_RETENTION_MONTHS setting).",
        )
        parser.add_argument(
            "--email", help="An erasure request: the reporter's address (reports in any state)."
        )
        parser.add_argument("--reason", help="Why (with --email; saved in each report's event log).")

    def handle(self, *args, months=None, email=None, reason=None, **options):
        if email is not None:
            self.stdout.write(f"erased={self.erase_on_request(email, reason, months)}")
            return
        if reason is not None:
            raise CommandError("--reason goes with --email.")
        if months is not None and months < 0:
            raise CommandError("--months must be zero or more.")
        count = retention.erase_reporter_contacts(months=months)
        # Counts only: never which reports or whose details.
        self.stdout.write(f"erased={count}")

    @staticmethod
    def erase_on_request(email: str, reason: str | None, months: int | None) -> int:
        if months is not None:
            raise CommandError("--months does not go with --email.")
        try:
            validate_email(email.strip())
        except ValidationError:
            raise CommandError("Not an e-mail address.") from None
        try:
            return contacts.erase_contacts_of_address(email=email, reason=reason or "")
        except Invalid as error:
            raise CommandError(error.message) from None
