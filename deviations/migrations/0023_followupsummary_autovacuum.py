"""Autovacuum for the follow-up summary by the number of changed rows, not by a fifth of the table.

Every filing and handling step updates the summary rows of its month, quarter and year (144–252 rows),
always the same few thousand rows of the current periods. Their unique index includes the counts, so no
update is a HOT update and each leaves a dead row version. PostgreSQL's default (vacuum at 20 % of the
table dead) waits for ~2.9 M dead versions at 1M reports (14.4 M rows), i.e. practically never; meanwhile
the follow-up's index-only scans of the current year visit the heap and step over the dead versions, and
filing's UPSERT does too (at 1M after ~2,600 filings: 340,000 dead versions, the follow-up 41 → 56 ms of
server CPU per page, filing's PostgreSQL share 7 → 9 ms). A vacuum after 1 % of the table or 10,000
rows, whichever is more, keeps that bounded; it only visits the pages changed since the last one. Its
index cleanup is always on: the changed rows sit on ~1 % of the pages, under the 2 % below which
PostgreSQL skips removing their index entries (seen at 1M: 339,434 dead entries left on 2,323 pages).
Storage parameters, so a RunSQL (no model option sets them). Where autovacuum is off (this machine's CI
server), VACUUM the table yourself."""

from django.db import migrations

TABLE = "deviations_followupsummary"
SETTINGS = (
    "autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 10000, vacuum_index_cleanup = on"
)


class Migration(migrations.Migration):
    dependencies = [("deviations", "0022_duplicate_lookup_index")]

    operations = [
        migrations.RunSQL(
            f"ALTER TABLE {TABLE} SET ({SETTINGS})",
            f"ALTER TABLE {TABLE} RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, "
            "vacuum_index_cleanup)",
        )
    ]
