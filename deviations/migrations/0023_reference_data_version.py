"""The reference data's version (``deviations.reference``): one row, set to a new number from a sequence
by a statement-level trigger on every table of the lists a report is checked against, in the transaction
of the change."""

from django.db import migrations

SEQUENCE = "deviations_reference_version_seq"
TABLE = "deviations_reference_version"
FUNCTION = "deviations_new_reference_version"
TRACKED = (
    "agreements_agreement",
    "agreements_commitment",
    "agreements_deviationcategory",
    "agreements_deviationcategory_agreements",
    "councils_municipality",
    "councils_district",
    "agreements_organization",
    "agreements_emaildomain",
    "councils_region",
)

FORWARD = [
    f"CREATE SEQUENCE {SEQUENCE}",
    f"""CREATE TABLE {TABLE} (
        id smallint PRIMARY KEY CHECK (id = 1),
        version bigint NOT NULL
    )""",
    f"INSERT INTO {TABLE} (id, version) VALUES (1, nextval('{SEQUENCE}'))",
    f"""CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE {TABLE} SET version = nextval('{SEQUENCE}') WHERE id = 1;
        RETURN NULL;
    END
    $$""",
    *(
        f"CREATE TRIGGER reference_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
        for table in TRACKED
    ),
]
BACKWARD = [
    *(f"DROP TRIGGER reference_version ON {table}" for table in TRACKED),
    f"DROP FUNCTION {FUNCTION}()",
    f"DROP TABLE {TABLE}",
    f"DROP SEQUENCE {SEQUENCE}",
]


class Migration(migrations.Migration):
    dependencies = [
        ("deviations", "0022_duplicate_lookup_index"),
        ("agreements", "0007_followup_texts_personal_data_validators"),
        ("councils", "0005_meeting_texts_personal_data_validators"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
