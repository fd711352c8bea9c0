"""Drops the foreign-key indexes that another index starts with, as deviations/0029 does (which says
why, and why not with AlterField alone)."""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = [
    ("councils_councilmeeting_council_id_005a0518", "councils_councilmeeting", "council_id"),
    ("councils_councilmembership_council_id_c34ec0a0", "councils_councilmembership", "council_id"),
    ("councils_district_municipality_id_744a7150", "councils_district", "municipality_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("councils", "0005_meeting_texts_personal_data_validators"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="councilmeeting",
                    name="council",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="meetings",
                        to="councils.council",
                        verbose_name="samråd",
                    ),
                ),
                migrations.AlterField(
                    model_name="councilmembership",
                    name="council",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to="councils.council",
                        verbose_name="samråd",
                    ),
                ),
                migrations.AlterField(
                    model_name="district",
                    name="municipality",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="districts",
                        to="councils.municipality",
                        verbose_name="kommun",
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
