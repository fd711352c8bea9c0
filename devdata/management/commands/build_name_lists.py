from django.core.management.base import BaseCommand

from devdata.names import write_name_lists


class Command(BaseCommand):
    help = (
        "Development only: write deviations/data/given_names.txt and surnames.txt (the name warning's "
        "lists) from the Swedish name statistics that Faker carries (devdata/names.py)."
    )

    def handle(self, *args, **options):
        for path in write_name_lists():
            self.stdout.write(f"Wrote {path}")
