"""A GIN index for the queue's free-text search on PostgreSQL (Swedish configuration).

The expression matches what ``SearchVector("description", config="swedish")`` compiles to, so the
planner uses it. Other databases (SQLite in development) get nothing: they search with icontains."""

from django.db import migrations

INDEX = "deviation_description_fts_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON deviations_deviation "
        "USING gin (to_tsvector('swedish'::regconfig, COALESCE(description, '')))"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("deviations", "0002_accesslog")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
