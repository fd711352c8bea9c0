"""Store the product's PostgreSQL settings on the database (config/db.py says which and why).

    manage.py configure_database              # ALTER DATABASE <name> SET ... (needs the owner)
    manage.py configure_database --role app   # ALTER ROLE app IN DATABASE <name> SET ...
    manage.py configure_database --print      # only print the statements, for a DBA to run

The migration deviations/0006 does the same when the migrating role owns the database. The settings
hold for new sessions, also behind PgBouncer (they are not libpq startup options).
"""

from django.core.management.base import BaseCommand

from config.db import apply_database_settings, current_settings, settings_statements


class Command(BaseCommand):
    help = "Store the product's PostgreSQL planner settings with ALTER DATABASE/ROLE … SET."

    def add_arguments(self, parser):
        parser.add_argument("--role", help="Set them for this role in the database instead.")
        parser.add_argument("--print", action="store_true", help="Print the statements, run nothing.")

    def handle(self, *args, role=None, print=False, **options):
        if print:
            for statement in settings_statements(role=role):
                self.stdout.write(f"{statement};")
            return
        for statement in apply_database_settings(role=role):
            self.stdout.write(statement)
        self.stdout.write(f"This session's settings (new sessions get the stored ones): {current_settings()}")
