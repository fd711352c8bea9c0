"""The product's tables carry no index another one makes redundant: every index costs each write (a
filing writes a report, its events and its requests) and the bulk load's rebuild."""

import pytest
from django.apps import apps
from django.db import connection

APPS = ("deviations", "agreements", "councils", "followup", "pages", "identity", "api")


def plain_btree_indexes(*, unique: bool = True) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """{table: [(index, key columns)]} of the btree indexes without a condition, an expression or
    INCLUDE columns (which another index starting with the same columns can stand in for). A column with
    an operator class other than its type's default (the ``varchar_pattern_ops`` of Django's ``_like``
    indexes) is named with it. ``unique`` false: without the unique ones (which also enforce something)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, c.relname,
                   array_agg(a.attname || CASE WHEN opc.opcdefault THEN '' ELSE ' ' || opc.opcname END
                             ORDER BY k.ord)
            FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_am am ON am.oid = c.relam AND am.amname = 'btree'
            CROSS JOIN LATERAL unnest(i.indkey::int2[], i.indclass::oid[])
                WITH ORDINALITY AS k(attnum, opclass, ord)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            JOIN pg_opclass opc ON opc.oid = k.opclass
            WHERE i.indpred IS NULL AND i.indexprs IS NULL AND i.indnkeyatts = i.indnatts
              AND t.relnamespace = 'public'::regnamespace AND (%s OR NOT i.indisunique)
            GROUP BY t.relname, c.relname
            """,
            [unique],
        )
        indexes: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for table, index, columns in cursor.fetchall():
            indexes.setdefault(table, []).append((index, tuple(columns)))
    return indexes


def own_tables() -> set[str]:
    """The tables of the product's own models, and the through tables Django makes for the reports'
    ManyToManyFields (which grow with the reports; those of the reference data hold a few rows, those of
    the user model are ``django.contrib.auth``'s)."""
    return {
        model._meta.db_table
        for config in apps.get_app_configs()
        if config.label in APPS
        for model in config.get_models(include_auto_created=True)
        if model._meta.managed and (not model._meta.auto_created or config.label == "deviations")
    }


@pytest.mark.django_db
def test_no_index_is_the_leading_columns_of_another():
    """A non-unique index whose columns another index starts with (or has, all of them) is redundant."""
    indexes, candidates = plain_btree_indexes(), plain_btree_indexes(unique=False)
    redundant = []
    for table in sorted(own_tables()):
        for name, columns in candidates.get(table, []):
            for other, other_columns in indexes[table]:
                if other != name and other_columns[: len(columns)] == columns:
                    redundant.append(f"{table}.{name} {columns} is the start of {other} {other_columns}")
    assert redundant == [], "\n".join(redundant)


@pytest.mark.django_db
def test_the_reports_events_and_an_organisations_requests_are_still_found_by_an_index():
    """What the two dropped foreign-key indexes served (migration deviations/0029)."""
    indexes = plain_btree_indexes()
    assert ("event_deviation_created_idx", ("deviation_id", "created_at")) in indexes[
        "deviations_deviationevent"
    ]
    assert ("responsereq_org_idx", ("organization_id", "answered_at")) in indexes[
        "deviations_responserequest"
    ]
