"""Store the planner settings on the database (config/db.py), where PgBouncer cannot drop them.

Best effort: a role that does not own the database cannot ALTER it; the migration then says so and the
settings are applied by a DBA with ``manage.py configure_database --print``."""

from django.db import migrations


def apply(apps, schema_editor):
    from config.db import apply_database_settings

    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_has_role(datdba, 'USAGE') FROM pg_database WHERE datname = current_database()")
        (may_alter,) = cursor.fetchone()
    if may_alter:
        apply_database_settings(connection=connection)
    else:
        print("\n  Not the database owner: run `manage.py configure_database --print` as one (README).")


class Migration(migrations.Migration):
    dependencies = [("deviations", "0005_followup_covering_indexes")]

    operations = [migrations.RunPython(apply, migrations.RunPython.noop, elidable=False)]
