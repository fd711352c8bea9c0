"""The follow-up's summary counts a pair's reports in two measures, added up when read: those with a
first action (``pair_response``, as before) and those without one (``pair_no_response``, new). The
``pair`` rows (every report of a pair, beside ``pair_response`` under the same key) go. Few reports wait
for a first action, so most pairs now have one row where they had two (2.9M fewer rows of 14.4M at 1M
reports).

Only rows change, and exactly: a pair's ``pair_no_response`` is its ``pair`` less its ``pair_response``,
in the summary (one row per key) and in the pending changes (each change row on its own, so what is
pending adds up as before). Back again: ``pair`` is the two added up."""

from django.db import migrations

FORWARD = [
    """
    INSERT INTO deviations_followupsummary
        (agreement_pk, basis, municipality_pk, council_pk, months, month, measure, key, n, seconds)
    SELECT p.agreement_pk, p.basis, p.municipality_pk, p.council_pk, p.months, p.month, 'pair_no_response',
           p.key, p.n - coalesce(r.n, 0), 0
    FROM deviations_followupsummary p
    LEFT JOIN deviations_followupsummary r
        ON r.measure = 'pair_response'
        AND (r.agreement_pk, r.basis, r.municipality_pk, r.council_pk, r.months, r.month, r.key)
          = (p.agreement_pk, p.basis, p.municipality_pk, p.council_pk, p.months, p.month, p.key)
    WHERE p.measure = 'pair' AND p.n <> coalesce(r.n, 0)
    """,
    "DELETE FROM deviations_followupsummary WHERE measure = 'pair'",
    """
    INSERT INTO deviations_followuppending
        (agreement_pk, basis, month, council_pk, municipality_pk, measure, key, n, seconds)
    SELECT agreement_pk, basis, month, council_pk, municipality_pk, 'pair_no_response', key,
           CASE measure WHEN 'pair' THEN n ELSE -n END, 0
    FROM deviations_followuppending WHERE measure IN ('pair', 'pair_response')
    """,
    "DELETE FROM deviations_followuppending WHERE measure = 'pair'",
]

BACKWARD = [
    """
    INSERT INTO deviations_followupsummary
        (agreement_pk, basis, municipality_pk, council_pk, months, month, measure, key, n, seconds)
    SELECT agreement_pk, basis, municipality_pk, council_pk, months, month, 'pair', key, sum(n), 0
    FROM deviations_followupsummary WHERE measure IN ('pair_response', 'pair_no_response')
    GROUP BY agreement_pk, basis, municipality_pk, council_pk, months, month, key
    HAVING sum(n) <> 0
    """,
    "DELETE FROM deviations_followupsummary WHERE measure = 'pair_no_response'",
    """
    INSERT INTO deviations_followuppending
        (agreement_pk, basis, month, council_pk, municipality_pk, measure, key, n, seconds)
    SELECT agreement_pk, basis, month, council_pk, municipality_pk, 'pair', key, n, 0
    FROM deviations_followuppending WHERE measure IN ('pair_response', 'pair_no_response')
    """,
    "DELETE FROM deviations_followuppending WHERE measure = 'pair_no_response'",
]


class Migration(migrations.Migration):
    dependencies = [
        ("deviations", "0030_drop_through_table_duplicate_indexes"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
