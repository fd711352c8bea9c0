"""The through tables Django makes for the reports' ManyToManyFields (counterpart organisations,
contributing factors; a systemic issue's agreements) lose their index on the first column: the unique
index of the pair starts with the same column and serves every lookup by it (counterparts: 11M rows at 10M
reports, one index entry fewer for each counterpart a filing writes). See 0029.

Django decides the indexes of the tables it makes and keeps no state of them: only the database changes,
by the names Django gave the indexes. Should the field change later, Django finds a field's indexes by
introspection, so a missing one is no error."""

from django.db import migrations

INDEXES = [
    (
        "deviations_deviation_count_deviation_id_689dc11a",
        "deviations_deviation_counterpart_organizations",
        "deviation_id",
    ),
    (
        "deviations_deviation_contributing_factors_deviation_id_f7906e75",
        "deviations_deviation_contributing_factors",
        "deviation_id",
    ),
    (
        "deviations_systemicissue_agreements_systemicissue_id_0a1e07d7",
        "deviations_systemicissue_agreements",
        "systemicissue_id",
    ),
]


class Migration(migrations.Migration):
    dependencies = [("deviations", "0029_drop_prefix_duplicate_indexes")]

    operations = [
        migrations.RunSQL(
            sql=f"DROP INDEX IF EXISTS {name}",
            reverse_sql=f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column})",
        )
        for name, table, column in INDEXES
    ]
