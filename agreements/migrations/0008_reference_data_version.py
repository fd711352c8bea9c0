"""The version of the reference data (agreements.models.reference_data_version): a one-row table (no
model), a sequence, and a statement-level trigger on each reference table that sets the version to the
sequence's next value in the transaction of the change. Additive: a new table and triggers on small
tables."""

from django.db import migrations

# Frozen here (a migration must not follow later edits of agreements.models.VERSIONED_TABLES).
TABLES = (
    "agreements_agreement",
    "agreements_commitment",
    "agreements_deviationcategory",
    "agreements_deviationcategory_agreements",
    "agreements_emaildomain",
    "agreements_organization",
    "councils_council",
    "councils_council_districts",
    "councils_council_municipalities",
    "councils_district",
    "councils_municipality",
    "councils_region",
)

FUNCTION = """
CREATE TABLE agreements_referencedataversion (
    id smallint PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL
);
CREATE SEQUENCE agreements_reference_data_version_seq;
CREATE FUNCTION agreements_bump_reference_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO agreements_referencedataversion (id, version)
    VALUES (1, nextval('agreements_reference_data_version_seq'))
    ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END
$$;
INSERT INTO agreements_referencedataversion (id, version)
VALUES (1, nextval('agreements_reference_data_version_seq'));
"""

DROP_FUNCTION = """
DROP FUNCTION agreements_bump_reference_data_version();
DROP SEQUENCE agreements_reference_data_version_seq;
DROP TABLE agreements_referencedataversion;
"""


def trigger(table: str) -> str:
    return (
        f"CREATE TRIGGER {table}_reference_data_version "
        f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION agreements_bump_reference_data_version();"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0007_followup_texts_personal_data_validators"),
        ("councils", "0005_meeting_texts_personal_data_validators"),
    ]

    operations = [
        migrations.RunSQL(FUNCTION, DROP_FUNCTION),
        *(
            migrations.RunSQL(trigger(table), f"DROP TRIGGER {table}_reference_data_version ON {table};")
            for table in TABLES
        ),
    ]
