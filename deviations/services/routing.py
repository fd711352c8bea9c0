"""Where a report goes (its council) and the number it gets."""

from django.db import connection, transaction

from councils.models import Council

from ..models import ReferenceCounter

#: Unconfirmed reports carry a provisional reference; the real number is handed out on confirmation.
UNCONFIRMED_REFERENCE_PREFIX = "U-"


def next_reference(*, year: int) -> str:
    """Hand out the next ``SB-<year>-<nnnnn>`` number in one statement (the year's row is created or
    incremented). Must run inside a transaction: the counter row stays locked until commit, so
    concurrent submissions get distinct, gap-free numbers; keep it the last statement before the
    report is saved, as it serialises the submissions of the year until their commit."""
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError("next_reference() must run inside a transaction.")
    quote, meta = connection.ops.quote_name, ReferenceCounter._meta
    table, year_column, last = (
        quote(meta.db_table),
        quote(meta.get_field("year").column),
        quote(meta.get_field("last").column),
    )
    # Only quoted names from the model's metadata are formatted in; the year is a parameter.
    sql = (
        f"INSERT INTO {table} ({year_column}, {last}) VALUES (%s, 1) "  # noqa: S608
        f"ON CONFLICT ({year_column}) DO UPDATE SET {last} = {table}.{last} + 1 RETURNING {last}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [year])
        (number,) = cursor.fetchone()
    return f"SB-{year}-{number:05d}"


def council_for_place(*, municipality_id: int, district_id: int | None = None) -> Council | None:
    """The council a report from this place belongs to: the active local council covering the district
    (or, failing that, the whole municipality); otherwise the regional council. The lowest id wins
    within each of the three.

    One hand-written query: it runs on every filing, and the same query built by the ORM (``Case``,
    ``Exists``) costs several times more CPU to compile than to run."""
    councils = Council._meta.db_table
    by_district = Council.districts.through._meta.db_table
    by_municipality = Council.municipalities.through._meta.db_table
    sql = f"""
        SELECT * FROM (
            SELECT c.*, CASE
                WHEN c.level = %s AND c.id IN (SELECT council_id FROM {by_district} WHERE district_id = %s)
                    THEN 0
                WHEN c.level = %s AND c.id IN (
                    SELECT council_id FROM {by_municipality} WHERE municipality_id = %s
                ) THEN 1
                WHEN c.level = %s THEN 2
            END AS route_rank
            FROM {councils} c
            WHERE c.active
        ) ranked
        WHERE route_rank IS NOT NULL
        ORDER BY route_rank, id
        LIMIT 1
    """  # noqa: S608 - table names from the models' metadata; values are parameters
    local, regional = Council.Level.LOCAL, Council.Level.REGIONAL
    params = [local, district_id, local, municipality_id, regional]
    return next(iter(Council.objects.raw(sql, params)), None)
