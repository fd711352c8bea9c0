"""Daily: one e-mail per user who chose the daily digest, with the hand-offs kept for them.

Idempotent: each kept notification is sent once, however often it runs."""

from django.core.management.base import BaseCommand

from deviations.services.digests import send_digests


class Command(BaseCommand):
    help = "Send the daily digest of notifications to users who chose it (run once a day)."

    def handle(self, *args, **options):
        result = send_digests()
        self.stdout.write(
            f"users={result['users']} notifications={result['notifications']} pruned={result['pruned']}"
        )
