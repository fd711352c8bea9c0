"""Delete the expired rate-limit counters (hashed addresses). Safe to run daily (e.g. from cron)."""

from django.core.management.base import BaseCommand

from config.ratelimits import prune_expired


class Command(BaseCommand):
    help = "Delete expired counters from the rate-limit cache's table (prints only the count)."

    def handle(self, *args, **options):
        self.stdout.write(f"{prune_expired()}")
