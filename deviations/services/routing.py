"""Where a report goes (its council) and the number it gets."""

from django.db import connection, transaction

from councils.models import Council

from .. import reference
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

    From the reference data the process keeps while its version stays the same (``deviations.reference``:
    councils and what they cover are versioned tables): one statement reading the version, instead of a
    query over the councils on every filing. The council returned is shared by the process's requests:
    assign it, never change it."""
    routes = reference.current().routes
    local = routes.by_district.get(district_id) or routes.by_municipality.get(municipality_id)
    return local or routes.regional
