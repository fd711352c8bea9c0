"""The table of the rate-limit cache (``CACHES["ratelimit"]``, ``dbcache://ratelimit_cache`` by
default): what ``manage.py createcachetable`` would create, made by ``migrate`` so no deploy can forget
it. Unused (and harmless) when RATELIMIT_CACHE_URL names another cache."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("deviations", "0009_event_records_what_changed"),
    ]

    operations = [
        migrations.RunSQL(
            sql=[
                'CREATE TABLE IF NOT EXISTS "ratelimit_cache" ('
                '"cache_key" varchar(255) NOT NULL PRIMARY KEY, "value" text NOT NULL, '
                '"expires" timestamp with time zone NOT NULL)',
                'CREATE INDEX IF NOT EXISTS "ratelimit_cache_expires" ON "ratelimit_cache" ("expires")',
            ],
            reverse_sql='DROP TABLE IF EXISTS "ratelimit_cache"',
        ),
    ]
