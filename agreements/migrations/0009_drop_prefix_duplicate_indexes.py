"""Drops the foreign-key indexes that another index starts with, as deviations/0029 does (which says
why, and why not with AlterField alone)."""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = [
    ("agreements_commitment_agreement_id_0fd443d1", "agreements_commitment", "agreement_id"),
    ("agreements_contributingfactor_parent_id_865affb2", "agreements_contributingfactor", "parent_id"),
    ("agreements_followupanalysis_agreement_id_80adacb6", "agreements_followupanalysis", "agreement_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0008_reference_data_version"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="commitment",
                    name="agreement",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="commitments",
                        to="agreements.agreement",
                        verbose_name="överenskommelse",
                    ),
                ),
                migrations.AlterField(
                    model_name="contributingfactor",
                    name="parent",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        help_text=(
                            "Lämna tomt för en huvudfaktor. En underfaktor hör till en huvudfaktor (två nivåer)."
                        ),
                        limit_choices_to={"parent__isnull": True},
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="children",
                        to="agreements.contributingfactor",
                        verbose_name="huvudfaktor",
                    ),
                ),
                migrations.AlterField(
                    model_name="followupanalysis",
                    name="agreement",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="analyses",
                        to="agreements.agreement",
                        verbose_name="överenskommelse",
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
