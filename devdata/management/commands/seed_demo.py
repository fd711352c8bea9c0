import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from agreements.services import load_reference_data
from deviations.models import Deviation


class Command(BaseCommand):
    help = (
        "Development only: create demo organisations, one account per role (passwords printed) and "
        "realistic reports spread over the last two years. Refuses to run when DEBUG is off."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=3000, help="Number of reports (default 3000).")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if any report exists (used by dev.py run)."
        )
        parser.add_argument("--seed", type=int, default=None, help="Random seed, for repeatable data.")

    def handle(self, *args, count, if_empty, seed, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates accounts with known passwords and fake reports; it only runs with "
                "DEBUG=True (development). Refusing to run."
            )
        if count < 0:
            raise CommandError("--count must be zero or more.")
        if if_empty and Deviation.objects.exists():
            self.stdout.write("Reports already exist; no demo data added (--if-empty).")
            return
        # Idempotent: creates only missing reference rows (e.g. on a fresh database).
        created = load_reference_data()
        if created:
            self.stdout.write(f"Reference data created ({sum(created.values())} rows).")

        # factory-boy is a dev dependency: import only when actually seeding.
        from devdata import demo

        started = time.monotonic()
        organizations = demo.ensure_organizations()
        users = demo.ensure_users(organizations)
        created = demo.create_reports(count=count, organizations=organizations, users=users, seed=seed)
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data: {len(organizations)} organisations, {len(users)} accounts, "
                f"{created} reports ({elapsed:.1f} s)."
            )
        )
        self.stdout.write(f"\nDemo accounts (development only), password for all: {demo.DEMO_PASSWORD}")
        width = max(len(u.username) for u in users)
        for user in users:
            self.stdout.write(f"  {user.username.ljust(width)}  {user.role}")
        self.stdout.write("")
