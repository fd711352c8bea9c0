"""Daily: remind counterpart organisations before the response deadline and mark overdue requests.

Idempotent: each reminder and each overdue mark happens once per request, however often it runs."""

from django.core.management.base import BaseCommand

from deviations.services.responses import send_response_reminders


class Command(BaseCommand):
    help = "Remind counterpart organisations of requested responses and mark overdue ones (run daily)."

    def handle(self, *args, **options):
        result = send_response_reminders()
        self.stdout.write(f"reminded={result['reminded']} overdue={result['overdue']}")
