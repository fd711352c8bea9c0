"""Count the follow-up's summary (its month, quarter and year rows) again from the reports
(deviations/summary.py).

The services keep the summary current; run this after loading reports by other means (a bulk import,
the bench generator, a restore) or to check it: ``--check`` compares without changing anything, in the
database (``summary.check``), and exits with status 1 if the stored rows differ from a recount.

Nobody waits for it but the worker's fold: writers (filing, handling) go on, their changes pending, and
readers (the follow-up) read the old rows until it commits; every change counts once before and after
(``summary.rebuild``). Then the table is vacuumed."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from deviations import summary
from deviations.models import FollowUpSummary


class Command(BaseCommand):
    help = "Rebuild the follow-up's summary from the reports (or --check it)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Compare the stored summary with a recount; change nothing."
        )

    def handle(self, *args, check=False, **options):
        started = time.monotonic()
        if check:
            read, differing = summary.check()
            if differing:
                raise CommandError(
                    f"The follow-up summary differs from a recount in {differing} rows; "
                    "run rebuild_followup_summary."
                )
            self.stdout.write(
                f"The follow-up summary equals a recount ({read} rows, {time.monotonic() - started:.1f} s)."
            )
            return
        rows = summary.rebuild()
        if connection.get_autocommit():
            # Outside the rebuild's transaction: mark the new rows all-visible, so that the follow-up's
            # index-only scans need not visit the table (autovacuum would, later).
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM (ANALYZE) {FollowUpSummary._meta.db_table}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Follow-up summary rebuilt: {rows} rows in {time.monotonic() - started:.1f} s."
            )
        )
