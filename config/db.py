"""PostgreSQL settings the product relies on, applied where they survive a connection pooler.

libpq startup options (``-c jit=off`` in the connection string) are refused by PgBouncer, so the
settings every connection needs are stored on the database with ``ALTER DATABASE … SET`` (by the
migration ``deviations/0006`` when the migrating role may, and by ``manage.py configure_database``, which
can also set them on a role). They take effect for new sessions. Settings only some queries want are
set for one transaction with :func:`planner_settings` (``SET LOCAL``, which transaction pooling keeps).
"""

import contextlib
import contextvars
import logging

from django.db import DEFAULT_DB_ALIAS, connections, transaction

logger = logging.getLogger(__name__)

# For every connection (measured on sb_bench, bench/RESULTS.md):
# - jit off: the JIT compiler triggered on the follow-up aggregates over a year of reports and spent up
#   to a second compiling what runs in less; off, as usual for OLTP.
# - plan_cache_mode force_custom_plan: statements are prepared on persistent connections (settings:
#   DATABASE_SERVER_SIDE_BINDING); after five runs PostgreSQL would switch to a generic plan that knows
#   neither the filter values nor the period (a filtered queue page went from 30 to 270 ms).
DATABASE_SETTINGS = {"jit": "off", "plan_cache_mode": "force_custom_plan"}

# For a transaction whose statements each find rows by key, where a generic plan is the custom plan: its
# prepared statements may keep their plans instead of being planned on every execution. The report page
# (deviations.views.common.detail): its twelve-table join took 1.5 ms to plan and 0.1 ms to run; 10 -> 6
# ms of PostgreSQL per page at 1M (bench/RESULTS.md).
KEY_LOOKUP_PLANNER_SETTINGS = {"plan_cache_mode": "auto"}

# For statements whose plan does not depend on their values: prepared on a connection, each keeps its
# generic plan instead of being planned on every execution.
# - deviations.summary: what a few reports by key contribute to the follow-up (at 1M PostgreSQL took
#   1.2-1.6 ms to plan it and 0.2-0.3 ms to run it).
# - A filing (deviations.services.reporting.submit_deviation) after its same-content lookup (which stays
#   planned for its values): routing, the reference number, the INSERTs, the recipients, the summary's
#   pending rows, each by key. Under "auto" PostgreSQL chose the generic plan for each of them but the
#   summary's (which then needed a block of its own: two statements more per report); PostgreSQL
#   4.5-4.9 -> 4.0 ms per report at 1M with "auto" (bench/RESULTS.md).
GENERIC_PLAN_SETTINGS = {"plan_cache_mode": "force_generic_plan"}

#: The settings a ``planner_settings`` or ``settings_for_block`` block has set (``SET LOCAL``) on each
#: connection, by alias, while the block runs: a block inside it asking for the same values sends nothing.
_in_effect: contextvars.ContextVar[dict[str, dict[str, str]] | None] = contextvars.ContextVar(
    "planner_settings_in_effect", default=None
)


@contextlib.contextmanager
def _effective(alias: str, settings: dict[str, str]):
    """Record ``settings`` as in effect on ``alias`` for the block."""
    in_effect = _in_effect.get() or {}
    token = _in_effect.set({**in_effect, alias: {**in_effect.get(alias, {}), **settings}})
    try:
        yield
    finally:
        _in_effect.reset(token)


def _already_in_effect(alias: str, settings: dict[str, str]) -> bool:
    in_effect = (_in_effect.get() or {}).get(alias, {})
    return all(in_effect.get(name) == value for name, value in settings.items())


def _quoted(connection, name: str) -> str:
    return connection.ops.quote_name(name)


def settings_statements(*, connection=None, role: str | None = None) -> list[str]:
    """The ``ALTER DATABASE`` (or ``ALTER ROLE … IN DATABASE``) statements for DATABASE_SETTINGS."""
    connection = connection or connections[DEFAULT_DB_ALIAS]
    database = _quoted(connection, connection.settings_dict["NAME"])
    target = f"ROLE {_quoted(connection, role)} IN DATABASE {database}" if role else f"DATABASE {database}"
    # Names and values are this module's constants, never user input.
    return [f"ALTER {target} SET {name} = {value}" for name, value in DATABASE_SETTINGS.items()]


def apply_database_settings(*, connection=None, role: str | None = None) -> list[str]:
    """Store DATABASE_SETTINGS on the database (or a role in it), and use them in this session too
    (stored settings reach only new sessions); returns the statements run."""
    connection = connection or connections[DEFAULT_DB_ALIAS]
    statements = settings_statements(connection=connection, role=role)
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
        for name, value in DATABASE_SETTINGS.items():
            cursor.execute("SELECT set_config(%s, %s, false)", [name, value])
    return statements


def current_settings(*, connection=None) -> dict[str, str]:
    connection = connection or connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)",
            [[*DATABASE_SETTINGS, "enable_memoize"]],
        )
        return dict(cursor.fetchall())


@contextlib.contextmanager
def settings_for_block(cursor, settings: dict[str, str]):
    """Statements run on ``cursor`` in the block have ``settings`` (``SET LOCAL``, inside the caller's
    transaction), and the values before it are restored after it, so the rest of the transaction keeps
    the database's. One statement sets them and returns the old values; one restores them. Inside a
    block that has set the same values already (``planner_settings``), nothing is sent."""
    alias = cursor.db.alias
    if _already_in_effect(alias, settings):
        yield
        return
    names = list(settings)
    # The old values are read in a subquery that runs first (OFFSET 0 keeps it from being merged).
    cursor.execute(
        "SELECT was.*, "  # noqa: S608 (only placeholders: the names and values are parameters)
        + ", ".join("set_config(%s, %s, true)" for _name in names)
        + " FROM (SELECT "
        + ", ".join(f"current_setting(%s) AS s{i}" for i in range(len(names)))
        + " OFFSET 0) AS was",
        [value for name in names for value in (name, settings[name])] + names,
    )
    was = dict(zip(names, cursor.fetchone()[: len(names)], strict=True))
    with _effective(alias, settings):
        yield
    cursor.execute(
        "SELECT " + ", ".join("set_config(%s, %s, true)" for _name in names),
        [value for name in names for value in (name, was[name])],
    )


@contextlib.contextmanager
def planner_settings(settings: dict[str, str], *, using: str = DEFAULT_DB_ALIAS, savepoint: bool = False):
    """Run the block in a transaction whose planner settings are ``settings`` (``SET LOCAL``: they end
    with the transaction, so a pooled server connection is handed back unchanged). ``savepoint``: for a
    block that may raise (a view's 404) inside a caller's transaction, which must stay usable."""
    connection = connections[using]
    # No savepoint inside an outer transaction by default: SET LOCAL then lasts until that one ends,
    # which only widens the scope to the caller's own transaction.
    with transaction.atomic(using=using, savepoint=savepoint):
        if not _already_in_effect(using, settings):
            with connection.cursor() as cursor:
                for name, value in settings.items():
                    cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
        with _effective(using, settings):
            yield


def plain_indexes(cursor, tables: list[str]) -> list[tuple[str, str]]:
    """(name, definition) of the indexes of ``tables`` that back no constraint: what a bulk load may drop
    and build again afterwards from the loaded rows (one sort each instead of an insert per row)."""
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%s::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1
        """,
        [tables],
    )
    return cursor.fetchall()
