from django.core.management.base import BaseCommand

from agreements.services import load_reference_data


class Command(BaseCommand):
    help = (
        "Load the reference data (Region Stockholm, the 26 municipalities, Stockholm city's districts, "
        "the four Storsthlm agreements with commitments, categories, the regional council and example "
        "local councils). Idempotent: only what is missing is created."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--update",
            action="store_true",
            help="Also reset existing rows to the reference values (overwrites edits made in admin).",
        )
        parser.add_argument(
            "--without-examples",
            action="store_true",
            help="Do not create the example local councils (for production).",
        )

    def handle(self, *args, update=False, without_examples=False, **options):
        created = load_reference_data(update=update, examples=not without_examples)
        if created:
            summary = ", ".join(f"{label}: {n}" for label, n in sorted(created.items()))
            self.stdout.write(self.style.SUCCESS(f"Reference data created ({summary})."))
        else:
            self.stdout.write("Reference data already complete; nothing created.")
