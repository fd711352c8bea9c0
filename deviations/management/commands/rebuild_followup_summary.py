"""Count the follow-up's summary (its month, quarter and year rows) again from the reports
(deviations/summary.py).

The services keep the summary current; run this after loading reports by other means (a bulk import,
the bench generator, a restore) or to check it: ``--check`` compares without changing anything and
exits with status 1 if the stored rows differ from a recount."""

import time

from django.core.management.base import BaseCommand, CommandError

from deviations import summary


class Command(BaseCommand):
    help = "Rebuild the follow-up's summary from the reports (or --check it)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Compare the stored summary with a recount; change nothing."
        )

    def handle(self, *args, check=False, **options):
        started = time.monotonic()
        if check:
            stored, recounted = summary.stored(), summary.recount()
            differing = {
                key for key in stored.keys() | recounted.keys() if stored.get(key) != recounted.get(key)
            }
            if differing:
                raise CommandError(
                    f"The follow-up summary differs from a recount in {len(differing)} rows; "
                    "run rebuild_followup_summary."
                )
            self.stdout.write(f"The follow-up summary equals a recount ({len(stored)} rows).")
            return
        rows = summary.rebuild()
        self.stdout.write(
            self.style.SUCCESS(
                f"Follow-up summary rebuilt: {rows} rows in {time.monotonic() - started:.1f} s."
            )
        )
