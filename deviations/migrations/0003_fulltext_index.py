"""A GIN index for the queue's free-text search (Swedish configuration), on the description only.

Replaced by the search document of 0007 (deviations/search.py), which drops it."""

from django.db import migrations

INDEX = "deviation_description_fts_idx"


class Migration(migrations.Migration):
    dependencies = [("deviations", "0002_accesslog")]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON deviations_deviation "
            "USING gin (to_tsvector('swedish'::regconfig, COALESCE(description, '')))",
            f"DROP INDEX IF EXISTS {INDEX}",
            elidable=False,
        )
    ]
