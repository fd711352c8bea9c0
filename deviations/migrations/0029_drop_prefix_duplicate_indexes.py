"""Foreign keys lose the index Django gives a ForeignKey where another index starts with the same column
and serves every lookup (tests/deviations/test_schema_indexes.py): a second index only cost writes (the
events and requests a filing writes, the access log every report page writes) and load time.

Django's own AlterField would drop and re-add the foreign-key constraints, and re-adding one validates it
over the whole table under a lock that stops writes (minutes over the events of 10M reports): the state
changes, and in the database only the indexes go, by the names Django gave them."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

INDEXES = [
    ("deviations_accesslog_deviation_id_dfb988a3", "deviations_accesslog", "deviation_id"),
    ("deviations_accesslog_user_id_61223095", "deviations_accesslog", "user_id"),
    ("deviations_deviationevent_deviation_id_da5fa46f", "deviations_deviationevent", "deviation_id"),
    ("deviations_responserequest_organization_id_a6d59951", "deviations_responserequest", "organization_id"),
    ("deviations_savedfilter_owner_id_7068b377", "deviations_savedfilter", "owner_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0009_drop_prefix_duplicate_indexes"),
        ("deviations", "0028_open_created_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="accesslog",
                    name="deviation",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="access_logs",
                        to="deviations.deviation",
                        verbose_name="rapport",
                    ),
                ),
                migrations.AlterField(
                    model_name="accesslog",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="användare",
                    ),
                ),
                migrations.AlterField(
                    model_name="deviationevent",
                    name="deviation",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="deviations.deviation",
                        verbose_name="rapport",
                    ),
                ),
                migrations.AlterField(
                    model_name="responserequest",
                    name="organization",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="response_requests",
                        to="agreements.organization",
                        verbose_name="organisation",
                    ),
                ),
                migrations.AlterField(
                    model_name="savedfilter",
                    name="owner",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="saved_filters",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="ägare",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")',
                )
                for name, table, column in INDEXES
            ],
        ),
    ]
