"""The follow-up's summary: what the follow-up counts, per agreement, date basis, period and place.

One SQL statement (``ROWS_SQL``) says what every confirmed report contributes to the follow-up: one row
per *measure* and *key* (``("status", "closed")``, ``("pair_response", "12:40")``, ``("response",
"35")``...) with a count ``n`` and, for the per-pair means, a sum of ``seconds``, grouped by agreement,
date basis (``reported_on`` or ``occurred_on``), month, council and municipality (the *place rows*).
Another (``_stored_sql``) turns place rows into what is stored: each row for its place
(``municipality_pk`` > 0, ``council_pk`` the council that handles it or 0) and for the whole county
(``municipality_pk = council_pk = 0``), each for its month, its quarter and its calendar year
(``months`` = 1, 3 or 12 from ``month``, the first day of the span). ``ROWS_SQL`` serves every use, so
what a report contributes cannot drift apart:

- ``rebuild()`` (``manage.py rebuild_followup_summary``) fills ``FollowUpSummary`` from all reports: the
  place rows from ``ROWS_SQL``, then the spans and the county summed in bulk, in steps (the same rows as
  ``_stored_sql`` gives, which ``recount()`` uses and the tests compare); ``load()`` counts the same
  rows for a bulk load (``bench.generate``), on several connections at once;
- ``tracking()`` keeps it current: the services that change a report (``deviations.services``) wrap the
  change in it, and it records what the report contributes after the change minus what it contributed
  before as *pending* place rows (``FollowUpPending``), in one INSERT that no other writer waits for;
  the worker's ``fold()`` adds the pending rows to the summary every ``FOLLOWUP_FOLD_INTERVAL`` seconds
  (an UPSERT adding to the counts, many reports' changes to the same rows at once), and every reader
  reads both (``SOURCE``), so a change counts from its commit on;
- ``live_rows()`` gives the place rows straight from the reports for part of a month (a custom period).

The follow-up (``followup.selectors``) reads only these rows (with the pending ones): a year's page
reads the year's rows, a half-year two quarters, so what it reads depends on the number of places and
keys, not on the number of reports. The month rows serve the trend (``total`` and ``commitment`` month
by month) and the months of a custom period.

Measures (``key`` in brackets; durations are in tenths of a day, ``duration_bucket``):

================== ==========================================================================
total              every report ('')
status             its status [status]
sip, discharge     the yes/no/unknown answers [value]
category           [category id]; commitment [commitment id or '']; severity [grade or '']
response           submitted → first action [tenths of a day]
closure            submitted → closed, closed reports only [tenths of a day]
answer             response request sent → answered [tenths of a day]
systemic           linked systemic issue [issue id]
escalated          ever escalated ('');  local_only: resolved locally and never escalated ('')
open_due           open reports with an open response request [earliest due date]
pair_response      reporting → counterpart organisation [rep:cp], once per counterpart, of reports with a
                   first action: the seconds to it summed in ``seconds``
pair_no_response   the same, of reports without a first action: a pair's reports are the two added up
                   (few reports wait for a first action, so most pairs have one row where two were stored)
principal          principal pair [kind], once per report and kind
req_in_time        requests answered by their due date (Swedish date); req_late: after it ('')
req_open           unanswered requests [due date]
pair_req_in_time   ... per reporting → asked organisation [rep:org]; pair_req_late likewise;
pair_req_open      [rep:org:due date]; pair_answer [rep:org] with the seconds to the answer summed
factor             tagged contributing factor [factor id]
factor_group       main factor [main factor id], once per report
factor_tagged      reports with at least one contributing factor ('')
commitment_factor  commitment × main factor [commitment id or '':main factor id], once per report
commitment_severe  commitment [commitment id or ''] of reports graded serious or very serious
================== ==========================================================================
"""

import contextvars
import queue
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db import connection, connections, router, transaction

from config.db import GENERIC_PLAN_SETTINGS, plain_indexes, settings_for_block

from .models import Deviation, FollowUpPending, FollowUpSummary
from .workflow import OPEN_STATES, Status

BASES = ("reported_on", "occurred_on")
SEVERE = ("serious", "very_serious")
COUNTY = 0  # council_pk and municipality_pk of the county rows

#: Tenths of a day for a duration, exact to a tenth up to 10 days, to a day up to 100, to 10 days beyond.
#: Medians and 90th percentiles are shown in days with one decimal, so up to 10 days nothing is lost.
DURATION_BUCKET = """
    (CASE WHEN t < 100 THEN t WHEN t < 1000 THEN round(t / 10.0) * 10 ELSE round(t / 100.0) * 100 END)::bigint
"""


def _bucket(start: str, end: str) -> str:
    tenths = f"greatest(0, round(extract(epoch from ({end} - {start})) / 8640))"
    return f"(SELECT {DURATION_BUCKET} FROM (SELECT {tenths} AS t) AS bucket)::text"  # noqa: S608


def _seconds(start: str, end: str) -> str:
    return f"greatest(0, round(extract(epoch from ({end} - {start}))))::bigint"


#: A report's place: its agreement, the months of its two dates (NULL where that basis is not counted),
#: council and municipality. The bases are told apart only at the end: each report is read once.
_PLACE = "r.agreement_id, r.reported_month, r.occurred_month, r.council_pk, r.municipality_id"

#: What every confirmed report contributes (module docstring). A report's counterparts are read as an
#: array, by one index probe per report, for both the pairs and the principal pairs: joined instead, the
#: planner hashed the whole counterpart table for each part of a rebuild when it overestimated the part.

ROWS_SQL = f"""
WITH r AS (
    SELECT d.id, d.agreement_id, d.status, d.category_id, d.commitment_id, d.severity,
           d.sip_involved, d.discharge_involved, d.systemic_issue_id, d.reporting_organization_id,
           d.submitted_at, d.first_response_at, d.closed_at, d.municipality_id,
           coalesce(d.council_id, 0) AS council_pk,
           CASE WHEN {{reported}} THEN date_trunc('month', d.reported_on)::date END AS reported_month,
           CASE WHEN {{occurred}} THEN date_trunc('month', d.occurred_on)::date END AS occurred_month,
           EXISTS (SELECT 1 FROM deviations_deviationevent e WHERE e.deviation_id = d.id
                   AND e.kind = 'transition' AND e.action = 'escalate') AS escalated,
           EXISTS (SELECT 1 FROM deviations_deviationevent e WHERE e.deviation_id = d.id
                   AND e.kind = 'transition' AND e.action = 'resolve_locally') AS resolved_locally,
           EXISTS (SELECT 1 FROM deviations_deviation_contributing_factors t
                   WHERE t.deviation_id = d.id) AS tagged,
           ARRAY(SELECT c.organization_id FROM deviations_deviation_counterpart_organizations c
                 WHERE c.deviation_id = d.id) AS counterparts
    FROM deviations_deviation d
    WHERE d.status <> '{Status.UNCONFIRMED}' AND ({{where}})
),
q AS (
    SELECT q.*, CASE WHEN q.answered_at IS NULL THEN 'open'
                     WHEN (q.answered_at AT TIME ZONE %(tz)s)::date <= q.due_on THEN 'in_time'
                     ELSE 'late' END AS outcome
    FROM deviations_responserequest q
    WHERE q.cancelled_at IS NULL AND q.deviation_id IN (SELECT id FROM r)
),
open_due AS (
    SELECT deviation_id, min(due_on) AS due FROM q WHERE outcome = 'open' GROUP BY deviation_id
),
f AS (
    SELECT DISTINCT t.deviation_id, coalesce(cf.parent_id, cf.id) AS main_id
    FROM deviations_deviation_contributing_factors t
    JOIN agreements_contributingfactor cf ON cf.id = t.contributingfactor_id
    WHERE t.deviation_id IN (SELECT id FROM r)
),
m AS (
    SELECT {_PLACE}, v.measure, v.key, 0::bigint AS seconds
    FROM r LEFT JOIN open_due od ON od.deviation_id = r.id
    CROSS JOIN LATERAL (VALUES
        ('total', ''),
        ('status', r.status),
        ('sip', r.sip_involved),
        ('discharge', r.discharge_involved),
        ('category', r.category_id::text),
        ('commitment', coalesce(r.commitment_id::text, '')),
        ('severity', r.severity),
        ('response', CASE WHEN r.first_response_at IS NOT NULL AND r.submitted_at IS NOT NULL
                          THEN {_bucket("r.submitted_at", "r.first_response_at")} END),
        ('closure', CASE WHEN r.status = '{Status.CLOSED}' AND r.closed_at IS NOT NULL
                              AND r.submitted_at IS NOT NULL
                         THEN {_bucket("r.submitted_at", "r.closed_at")} END),
        ('systemic', r.systemic_issue_id::text),
        ('escalated', CASE WHEN r.escalated THEN '' END),
        ('local_only', CASE WHEN r.resolved_locally AND NOT r.escalated THEN '' END),
        ('factor_tagged', CASE WHEN r.tagged THEN '' END),
        ('commitment_severe', CASE WHEN r.severity IN ('{SEVERE[0]}', '{SEVERE[1]}')
                                   THEN coalesce(r.commitment_id::text, '') END),
        ('open_due', CASE WHEN r.status = ANY(%(open_states)s) THEN od.due::text END)
    ) AS v(measure, key)
    WHERE v.key IS NOT NULL
  UNION ALL
    SELECT {_PLACE}, v.measure, r.reporting_organization_id || ':' || c.organization_id, v.seconds
    FROM r CROSS JOIN LATERAL unnest(r.counterparts) AS c(organization_id)
    CROSS JOIN LATERAL (SELECT r.first_response_at IS NOT NULL AND r.submitted_at IS NOT NULL AS answered)
        AS a
    CROSS JOIN LATERAL (VALUES
        ('pair_no_response', 0::bigint, NOT a.answered),
        ('pair_response', {_seconds("r.submitted_at", "r.first_response_at")}, a.answered)
    ) AS v(measure, seconds, counted)
    WHERE v.counted
  UNION ALL
    SELECT agreement_id, reported_month, occurred_month, council_pk, municipality_id, 'principal', kind,
           0::bigint
    FROM (
        SELECT DISTINCT r.id, {_PLACE},
               CASE WHEN ro.principal_municipality_id IS NOT NULL AND co.principal_region_id IS NOT NULL
                        THEN 'municipality_region'
                    WHEN ro.principal_region_id IS NOT NULL AND co.principal_municipality_id IS NOT NULL
                        THEN 'region_municipality'
                    WHEN ro.principal_municipality_id IS NOT NULL
                         AND co.principal_municipality_id IS NOT NULL
                        THEN 'municipality_municipality'
                    ELSE 'region_region' END AS kind
        FROM r CROSS JOIN LATERAL unnest(r.counterparts) AS c(organization_id)
        JOIN agreements_organization ro ON ro.id = r.reporting_organization_id
        JOIN agreements_organization co ON co.id = c.organization_id
    ) AS p
  UNION ALL
    SELECT {_PLACE}, v.measure, v.key, v.seconds
    FROM r JOIN q ON q.deviation_id = r.id
    CROSS JOIN LATERAL (VALUES
        ('req_' || q.outcome, CASE WHEN q.outcome = 'open' THEN q.due_on::text ELSE '' END, 0::bigint),
        ('pair_req_' || q.outcome, r.reporting_organization_id || ':' || q.organization_id
            || CASE WHEN q.outcome = 'open' THEN ':' || q.due_on::text ELSE '' END, 0::bigint),
        ('answer', CASE WHEN q.answered_at IS NOT NULL
                        THEN {_bucket("q.requested_at", "q.answered_at")} END, 0::bigint),
        ('pair_answer', CASE WHEN q.answered_at IS NOT NULL
                             THEN r.reporting_organization_id || ':' || q.organization_id END,
         {_seconds("q.requested_at", "coalesce(q.answered_at, q.requested_at)")})
    ) AS v(measure, key, seconds)
    WHERE v.key IS NOT NULL
  UNION ALL
    SELECT {_PLACE}, 'factor', t.contributingfactor_id::text, 0::bigint
    FROM r JOIN deviations_deviation_contributing_factors t ON t.deviation_id = r.id
  UNION ALL
    SELECT {_PLACE}, v.measure, v.key, 0::bigint
    FROM r JOIN f ON f.deviation_id = r.id
    CROSS JOIN LATERAL (VALUES
        ('factor_group', f.main_id::text),
        ('commitment_factor', coalesce(r.commitment_id::text, '') || ':' || f.main_id)
    ) AS v(measure, key)
),
g AS (
    SELECT agreement_id, reported_month, occurred_month, council_pk, municipality_id, measure, key,
           count(*) AS n, sum(seconds) AS seconds
    FROM m
    GROUP BY agreement_id, reported_month, occurred_month, council_pk, municipality_id, measure, key
)
SELECT g.agreement_id, b.basis, b.month, g.council_pk, g.municipality_id, g.measure, g.key,
       sum(g.n)::bigint AS n, sum(g.seconds)::bigint AS seconds
FROM g CROSS JOIN LATERAL (VALUES ('reported_on', g.reported_month), ('occurred_on', g.occurred_month))
    AS b(basis, month)
WHERE b.month IS NOT NULL
GROUP BY g.agreement_id, b.basis, b.month, g.council_pk, g.municipality_id, g.measure, g.key
"""  # noqa: S608 (constant fragments; the values are parameters)


def rows_sql(where: str, *, reported: str = "true", occurred: str = "true") -> str:
    """``ROWS_SQL`` for the reports matching ``where`` (SQL on ``d``, the report), counted on the date
    basis ``reported_on`` where ``reported`` holds for the report and on ``occurred_on`` where ``occurred``
    does (``where`` implies one of them)."""
    return ROWS_SQL.replace("{where}", where).replace("{reported}", reported).replace("{occurred}", occurred)


#: How many months a stored row covers from ``month``: the month, its quarter, its calendar year.
SPANS = (1, 3, 12)

#: The stored rows' key, in the order of their columns in every statement here (``CONFLICT``).
KEY = ("agreement_pk", "basis", "municipality_pk", "council_pk", "months", "month", "measure", "key")
CONFLICT = ", ".join(KEY)
#: The same columns in the order of the table's unique index (``followupsummary_unique_cell``), by which
#: rows are written so that the index grows at its right edge and the rows a follow-up reads lie together.
INDEX_ORDER = next(
    tuple(constraint.fields)
    for constraint in FollowUpSummary._meta.constraints
    if constraint.name == "followupsummary_unique_cell"
)
_IN_INDEX_ORDER = ", ".join(INDEX_ORDER)
_TEXT_KEY = {"basis", "measure", "key"}

#: Place rows, in the column order ``ROWS_SQL`` gives them (``before`` rows are passed back so).
_PLACE_TYPES = ("bigint", "text", "date", "bigint", "bigint", "text", "text", "bigint", "bigint")


def _expanded_sql(source: str) -> str:
    """The stored rows (``KEY``, ``n``, ``seconds``) of the place rows ``source`` (a query giving
    ``ROWS_SQL``'s columns), not summed: each place row for its place and the county, for its month,
    quarter and year."""
    return f"""
    SELECT p.agreement_id AS agreement_pk, p.basis, l.municipality_pk, l.council_pk, s.months,
           CASE s.months WHEN 1 THEN p.month
                         WHEN 3 THEN date_trunc('quarter', p.month::timestamp)::date
                         ELSE date_trunc('year', p.month::timestamp)::date END AS month,
           p.measure, p.key, p.n, p.seconds
    FROM ({source}) AS p
    CROSS JOIN LATERAL (VALUES (p.municipality_id, p.council_pk), ({COUNTY}, {COUNTY}))
        AS l(municipality_pk, council_pk)
    CROSS JOIN (VALUES {", ".join(f"({months}::smallint)" for months in SPANS)}) AS s(months)
    """  # noqa: S608 (constant fragments)


def _stored_sql(source: str) -> str:
    """``_expanded_sql`` summed, so each key occurs once (an UPSERT may touch a row only once), in the
    order of the unique index."""
    return f"""
    SELECT {CONFLICT}, sum(n)::bigint AS n, sum(seconds)::bigint AS seconds
    FROM ({_expanded_sql(source)}) AS e
    GROUP BY {CONFLICT}
    ORDER BY {_IN_INDEX_ORDER}
    """  # noqa: S608 (constant fragments)


_PENDING_TABLE = FollowUpPending._meta.db_table
#: The pending place rows in ``ROWS_SQL``'s columns.
_PENDING_PLACE = (
    "agreement_pk AS agreement_id, basis, month, council_pk, municipality_pk AS municipality_id, measure, key"
)
_PENDING_AS_PLACE_ROWS = f"{_PENDING_PLACE}, n, seconds"

#: What the follow-up reads (``FROM {SOURCE} WHERE …``, summing ``n`` and ``seconds`` by what it needs):
#: the stored rows and the changes not yet folded into them, as rows of the same shape. One statement
#: reads both in one snapshot, and ``fold`` moves rows from one to the other in one transaction, so a
#: reader counts every change exactly once. Conditions on the columns reach both parts, so the stored rows
#: keep their index-only scans; PostgreSQL pushes them into a UNION ALL only where both parts' columns
#: have the same types (hence ``months`` as smallint: with an integer the follow-up read the agreement's
#: whole index range, 10 → 450 ms of PostgreSQL per page).
SOURCE = (
    f"(SELECT {CONFLICT}, n, seconds FROM {FollowUpSummary._meta.db_table} "  # noqa: S608
    f"UNION ALL {_expanded_sql(f'SELECT {_PENDING_AS_PLACE_ROWS} FROM {_PENDING_TABLE}')}) AS summary"  # noqa: S608
)


def _params(params: dict) -> dict:
    return {"tz": settings.TIME_ZONE, "open_states": sorted(OPEN_STATES), **params}


def source_for(*, agreement_pk: int, basis: str, using=None) -> str:
    """What a follow-up of ``agreement_pk`` and ``basis`` reads (``FROM …``): ``SOURCE`` while changes for
    them are pending, else the summary alone (planning and scanning the empty pending part cost a
    follow-up page 2.5–3.5 ms of PostgreSQL at 1M). Nothing is counted twice or lost: a change committed
    after this look is either still pending (not read, as if the page had been read a moment earlier) or
    already folded into the summary (read there, once)."""
    with (using or reading_connection()).cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {_PENDING_TABLE} WHERE agreement_pk = %s AND basis = %s)",  # noqa: S608
            [agreement_pk, basis],
        )
        pending = cursor.fetchone()[0]
    return SOURCE if pending else FollowUpSummary._meta.db_table


def reading_connection():
    """The connection the follow-up reads its statistics on: the replica inside a view that may read
    from it (``config.db_routing.use_replica``: usable, not pinned to the primary, outside a transaction
    on the primary), else the primary; what the router gives an ORM read of the summary."""
    return connections[router.db_for_read(FollowUpSummary)]


def _rows(sql: str, params: dict, *, by_key: bool = False, using=None) -> dict:
    """``{key: (n, seconds)}`` at the place level from ``sql`` (``rows_sql``); ``by_key``: it names a few
    reports by id (a generic plan: ``config.db.GENERIC_PLAN_SETTINGS``);
    ``using``: the connection (the primary's by default: the services' reads before a change)."""
    with (
        (using or connection).cursor() as cursor,
        settings_for_block(cursor, GENERIC_PLAN_SETTINGS) if by_key else nullcontext(),
    ):
        cursor.execute(sql, _params(params))
        rows = cursor.fetchall()
    return {tuple(row[:7]): (row[7], row[8]) for row in rows}


def rows_for_reports(ids) -> dict:
    """What the reports ``ids`` contribute now, place level."""
    ids = [pk for pk in ids if pk is not None]
    if not ids:
        return {}
    return _rows(rows_sql("d.id = ANY(%(ids)s)"), {"ids": ids}, by_key=True)


def _dated(basis: str) -> str:
    """The report's ``basis`` date lies in ``start``..``end`` (``end`` excluded): a range of the covering
    index (``agreement``, ``reported_on``/``occurred_on``) with the agreement."""
    return f"(d.{basis} >= %(start)s AND d.{basis} < %(end)s)"


#: What one part of the rebuild counts: an agreement's reports either of whose dates lies in one calendar
#: year, each on the bases whose date lies in it (the stored rows of a part are all its own: agreement and
#: year hold every month, quarter and year row it adds to, for both bases). A report is read once for
#: both bases where both dates lie in the year, as most do.
_PART_SQL = rows_sql(
    f"d.agreement_id = %(agreement)s AND ({_dated('reported_on')} OR {_dated('occurred_on')})",
    reported=_dated("reported_on"),
    occurred=_dated("occurred_on"),
)


def live_rows(*, agreement_pk: int, basis: str, start, end) -> dict:
    """The rows of the reports of one agreement whose ``basis`` date lies in ``start``..``end``, straight
    from the reports (place level): for the part of a month a custom period covers."""
    if basis not in BASES:
        raise ValueError(f"unknown date basis {basis!r}")
    reported, occurred = ("true", "false") if basis == "reported_on" else ("false", "true")
    sql = rows_sql(
        f"d.agreement_id = %(agreement)s AND {_dated(basis)}", reported=reported, occurred=occurred
    )
    params = {"agreement": agreement_pk, "start": start, "end": end + timedelta(days=1)}
    return _rows(sql, params, using=reading_connection())


def _apply(ids: list[int], before: dict) -> None:
    """Record what the reports ``ids`` contribute now minus ``before`` (their place rows before the
    change) as pending place rows, in one statement: an INSERT of a few dozen rows, which no other
    writer waits for (``fold`` adds them to the summary later)."""
    columns = [[] for _type in _PLACE_TYPES]
    for key, (n, seconds) in before.items():
        for column, value in zip(columns, (*key, -n, -seconds), strict=True):
            column.append(value)
    unnest = ", ".join(f"%(b{i})s::{type_}[]" for i, type_ in enumerate(_PLACE_TYPES))
    after = rows_sql("d.id = ANY(%(ids)s)")
    place = "agreement_id, basis, month, council_pk, municipality_id, measure, key"
    sql = (
        f"INSERT INTO {_PENDING_TABLE} "  # noqa: S608 (constant fragments; the values are parameters)
        "(agreement_pk, basis, month, council_pk, municipality_pk, measure, key, n, seconds) "
        f"SELECT {place}, sum(n), sum(seconds) FROM ("
        f"SELECT * FROM ({after}) AS after UNION ALL SELECT * FROM unnest({unnest})"
        f") AS change GROUP BY {place} HAVING sum(n) <> 0 OR sum(seconds) <> 0"
    )
    params = _params({"ids": ids, **{f"b{i}": column for i, column in enumerate(columns)}})
    with connection.cursor() as cursor, settings_for_block(cursor, GENERIC_PLAN_SETTINGS):
        cursor.execute(sql, params)


#: ``pg_try_advisory_xact_lock`` key of ``fold``: one fold at a time (any other worker skips its turn).
FOLD_LOCK = 0x5B_F01D


@transaction.atomic
def fold() -> int:
    """Move the pending changes into the summary, in one transaction (readers see them in one place or
    the other, never both or neither). Returns how many pending rows were moved; 0 when another fold is
    running. The summary's rows are updated in the order of its unique index, so a fold never deadlocks
    with ``rebuild`` (which locks the summary alone, or the pending table first as this does); during a
    rebuild it waits for its commit."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [FOLD_LOCK])
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute(
            f"WITH moved AS (DELETE FROM {_PENDING_TABLE} RETURNING {_PENDING_AS_PLACE_ROWS}), "  # noqa: S608
            "counted AS (SELECT count(*) AS rows FROM moved), "
            f"added AS ({_adding('SELECT * FROM moved')}) "
            "SELECT rows FROM counted"
        )
        return cursor.fetchone()[0]


def _adding(place_rows: str) -> str:
    """An UPSERT adding the stored rows of the place rows ``place_rows`` (``_stored_sql``) to the
    summary's, in the order of its unique index."""
    return (
        f"INSERT INTO {FollowUpSummary._meta.db_table} AS s ({CONFLICT}, n, seconds) "  # noqa: S608
        f"SELECT * FROM ({_stored_sql(place_rows)}) AS x WHERE x.n <> 0 OR x.seconds <> 0 "
        f"ORDER BY {_IN_INDEX_ORDER} ON CONFLICT ({CONFLICT}) "
        "DO UPDATE SET n = s.n + EXCLUDED.n, seconds = s.seconds + EXCLUDED.seconds"
    )


# --- Keeping it current -------------------------------------------------------------------------------


@dataclass
class Tracker:
    """Reports whose contribution is taken before a change; ``apply`` adds after minus before."""

    before: dict = field(default_factory=dict)  # pk -> rows
    new: list = field(default_factory=list)  # reports not saved yet when added

    def add(self, deviation, *, locked: bool = False) -> None:
        """Call before changing ``deviation`` (a report, saved or not yet). Its row is locked first
        unless the caller holds the lock (``locked``), so that no other change slips in between what it
        contributed before and after."""
        if deviation.pk is None:
            if not any(obj is deviation for obj in self.new):
                self.new.append(deviation)
        elif deviation.pk not in self.before:
            if not locked:
                list(Deviation.objects.select_for_update(of=("self",)).filter(pk=deviation.pk).values("pk"))
            # An unconfirmed report contributes nothing (the caller holds it, so its status is current).
            unconfirmed = deviation.status == Status.UNCONFIRMED
            self.before[deviation.pk] = {} if unconfirmed else rows_for_reports([deviation.pk])

    def apply(self) -> None:
        new = {obj.pk for obj in self.new if obj.pk is not None and obj.status != Status.UNCONFIRMED}
        if not self.before and not new:
            return
        before: dict = {}
        for rows in self.before.values():
            for key, (n, seconds) in rows.items():
                was = before.get(key, (0, 0))
                before[key] = (was[0] + n, was[1] + seconds)
        _apply(sorted(set(self.before) | new), before)


_current: contextvars.ContextVar[Tracker | None] = contextvars.ContextVar("followup_summary", default=None)


@contextmanager
def tracking():
    """Keep the summary current across a change to reports::

        with summary.tracking() as tracker:
            tracker.add(deviation)   # before changing it
            ...change it...

    On leaving without an error the difference is added, in the caller's transaction. Nested uses (a
    service calling another) share the outermost tracker, which applies once at its end."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    tracker = Tracker()
    token = _current.set(tracker)
    try:
        yield tracker
    finally:
        _current.reset(token)
    tracker.apply()


# --- Rebuilding ---------------------------------------------------------------------------------------


#: Memory for the rebuild's aggregations (its own transaction only): each GROUP BY is hashed in memory up to
#: this much per hash table (times ``hash_mem_multiplier``); one agreement-year's rows fit in it.
REBUILD_WORK_MEM = "256MB"

#: The place rows' columns (``ROWS_SQL``'s) as the stored rows' key columns, for a span of ``months``.
_AS_STORED = (
    "agreement_id AS agreement_pk, basis, municipality_id AS municipality_pk, council_pk, "
    "{months}::smallint AS months, month, measure, key, n, seconds"
)


def _rollup(source: str, *, months: int, place: bool) -> str:
    """The rows of the span ``months`` (3 or 12) summed from the stored rows ``source`` of a shorter
    span, for each place (``place``) or for the county; or (``months`` = 1, ``place`` false) the county
    month rows from the place month rows."""
    start = {
        1: "month",
        3: "date_trunc('quarter', month::timestamp)::date",
        12: "date_trunc('year', month::timestamp)::date",
    }[months]
    columns = "municipality_pk, council_pk" if place else f"{COUNTY}, {COUNTY}"
    group = "agreement_pk, basis, municipality_pk, council_pk" if place else "agreement_pk, basis"
    return (
        f"SELECT agreement_pk, basis, {columns}, {months}::smallint, {start}, measure, key, "  # noqa: S608
        f"sum(n)::bigint, sum(seconds)::bigint FROM {source} GROUP BY {group}, {start}, measure, key"
    )


#: The rebuild's planner settings, for its own transactions: hash the GROUP BYs (sorting the measures by
#: their text keys cost most of the time) in memory; find a part's counterparts, requests and events by an
#: index probe per report rather than hashing each whole table once per part (which the default cost of a
#: random read chose at 1M: 3.4 -> 2.4 s for an agreement-year, and it grows with the tables, not the part).
REBUILD_PLANNER = {"work_mem": REBUILD_WORK_MEM, "enable_sort": "off", "random_page_cost": "1.1"}


def _set_local(cursor, settings_: dict) -> None:
    cursor.execute(
        "SELECT " + ", ".join(f"set_config('{name}', %s, true)" for name in settings_),
        list(settings_.values()),
    )


def _temporary_table(cursor, name: str) -> None:
    """A temporary table of the stored rows' columns (``CONFLICT``, ``n``, ``seconds``), dropped at the
    commit."""
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {name} ON COMMIT DROP AS "  # noqa: S608
        f"SELECT {CONFLICT}, n, seconds FROM {FollowUpSummary._meta.db_table} WITH NO DATA"
    )


def _parts(cursor) -> list[dict]:
    """The parameters of ``_PART_SQL`` for every agreement and calendar year from the agreement's first
    report to its last: from its earliest ``occurred_on`` to its latest ``reported_on`` (a report cannot
    be reported before it occurred; each bound read from an index's end: no scan of the reports)."""
    agreements = Deviation._meta.get_field("agreement").related_model._meta.db_table
    table = Deviation._meta.db_table
    cursor.execute(
        f"SELECT a.id, (SELECT min(occurred_on) FROM {table} WHERE agreement_id = a.id), "  # noqa: S608
        f"(SELECT max(reported_on) FROM {table} WHERE agreement_id = a.id) FROM {agreements} a ORDER BY a.id"
    )
    return [
        {"agreement": agreement, "start": date(year, 1, 1), "end": date(year + 1, 1, 1)}
        for agreement, first, last in cursor.fetchall()
        if first is not None
        for year in range(first.year, last.year + 1)
    ]


def _count_part(cursor, part: dict, *, into: str) -> int:
    """Add one part's stored rows to the table ``into``: its place month rows from ``ROWS_SQL``, the county
    month rows from those, then the quarters from the months and the years from the quarters, each for the
    places and the county (a GROUP BY over the part's rows, not the reports'). Needs ``summary_part``
    (``_temporary_table``). Returns the number of rows added."""
    cursor.execute("TRUNCATE summary_part")
    cursor.execute(
        f"INSERT INTO summary_part SELECT {_AS_STORED.format(months=1)} FROM ({_PART_SQL}) AS p",  # noqa: S608
        _params(part),
    )
    for months, place in ((1, False), (3, True), (3, False), (12, True), (12, False)):
        shorter = {1: 1, 3: 1, 12: 3}[months]
        which = f"months = {shorter}"
        if months > 1:
            which += f" AND municipality_pk {'<>' if place else '='} {COUNTY}"
        source = f"(SELECT * FROM summary_part WHERE {which}) AS s"  # noqa: S608
        cursor.execute(f"INSERT INTO summary_part {_rollup(source, months=months, place=place)}")
    cursor.execute(
        f"INSERT INTO {into} ({CONFLICT}, n, seconds) SELECT {CONFLICT}, n, seconds FROM summary_part"  # noqa: S608
    )
    return cursor.rowcount


@contextmanager
def _rebuild_planner(cursor):
    """``REBUILD_PLANNER`` for the statements of the block, in the caller's transaction; the settings
    before it are restored after it (a failure rolls the transaction back, and them with it)."""
    cursor.execute("SELECT " + ", ".join(f"current_setting('{name}')" for name in REBUILD_PLANNER))
    saved = dict(zip(REBUILD_PLANNER, cursor.fetchone(), strict=True))
    _set_local(cursor, REBUILD_PLANNER)
    yield
    _set_local(cursor, saved)


@contextmanager
def _own_snapshot():
    """``(cursor, own)`` in a transaction: outside a caller's transaction (``own``) one of its own at
    REPEATABLE READ, whose first query or data change takes the snapshot that all its statements read;
    inside one, the caller's."""
    own = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if own:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield cursor, own


def _count_into_spans(cursor) -> None:
    """Count every part (``_parts``) from the reports into the temporary table ``summary_spans``, dropped
    at the commit (run it in ``_rebuild_planner``)."""
    for name in ("summary_part", "summary_spans"):
        _temporary_table(cursor, name)
    for part in _parts(cursor):
        _count_part(cursor, part, into="summary_spans")


def rebuild() -> int:
    """Empty the summary and count everything again from the reports, in the database, in one transaction.
    Returns the number of rows counted.

    The same rows as ``_stored_sql`` over ``ROWS_SQL`` (``recount``), computed in parts: per agreement
    and calendar year, both date bases (``_parts``), the place rows of every month (``ROWS_SQL``), then the
    county and each longer span summed from the rows of the span before it. A part's GROUP BYs fit in
    memory, so the work grows with the reports (one statement over every report spilled 29 GB to disk at
    10M and took 52 minutes). (A bulk load, which nobody reads before it is done, counts faster with
    ``load``.)

    Nobody waits for it but ``fold``: readers read the old rows until it commits, and writers go on
    filing and handling reports, whose changes stay pending. Outside a transaction it is one REPEATABLE
    READ transaction: it counts the reports as they were at its snapshot, and the pending changes its
    snapshot sees are in that count already, so it stores the count minus them. Those pending rows stay,
    with the ones written after the snapshot, and the next fold adds them back: what the follow-up reads
    (the summary plus every pending change) is the count plus the changes after it, exact at every
    moment. Its first statement locks the summary against ``fold`` (``EXCLUSIVE``: readers pass) before
    the snapshot is taken, so no fold changes the rows it replaces; a fold that is running finishes
    first, one that starts waits for the commit.

    Inside a caller's transaction (READ COMMITTED: a snapshot per statement) the pending table is locked
    too, and writers wait for it."""
    table = FollowUpSummary._meta.db_table
    with _own_snapshot() as (cursor, own):
        if own:
            cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")  # takes no snapshot
        else:
            cursor.execute(f"LOCK TABLE {_PENDING_TABLE}, {table} IN EXCLUSIVE MODE")  # fold's order
        with _rebuild_planner(cursor):
            _count_into_spans(cursor)
        # DELETE, not TRUNCATE: TRUNCATE's ACCESS EXCLUSIVE lock would make every follow-up page wait for
        # the INSERT below (minutes at 1M reports); deleted rows stay visible to readers until the
        # commit. The command VACUUMs the table afterwards. In the order of the unique index (byte order,
        # which is the index's order for these ASCII keys under C and C.UTF-8 collations and near it under
        # others; the order only saves work), so that the index grows at its right edge and the rows a
        # follow-up reads lie together.
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608
        order = ", ".join(
            f'{column} COLLATE "C"' if column in _TEXT_KEY else column for column in INDEX_ORDER
        )
        cursor.execute(
            f"INSERT INTO {table} ({CONFLICT}, n, seconds) "  # noqa: S608
            f"SELECT {CONFLICT}, n, seconds FROM summary_spans ORDER BY {order}"
        )
        rows = cursor.rowcount
        # Minus the pending changes the count includes (a fold's UPSERT, negated).
        negated = f"SELECT {_PENDING_PLACE}, -n AS n, -seconds AS seconds FROM {_PENDING_TABLE}"  # noqa: S608
        cursor.execute(_adding(negated))
        cursor.execute(f"ANALYZE {table}")  # VACUUM (outside the transaction) sets the visibility map
    return rows


def load(*, workers: int = 1) -> int:
    """Count the summary from the reports for a bulk load (``bench.generate``), which nobody reads or
    writes before it is done; ``workers`` connections count the parts side by side (PostgreSQL runs an
    INSERT ... SELECT on one core). Returns the number of rows. The same rows as ``rebuild``, faster and
    not in one transaction:

    1. the summary and the pending rows are emptied, and the table's indexes that back no constraint
       (the unique index of every read) dropped, and that is committed;
    2. each worker, in a thread with its own connection and transaction, takes the next part
       (``_parts``), writes its rows into the table as they come, and commits when none are left;
    3. the indexes are built from the rows, in one sort each (at 1M reports: 95 s of the 186 that writing
       the rows in the index's order cost was that sort; the index build sorts them in 34 s).

    With more than one worker, call it outside a transaction; if a worker fails, the summary is left
    empty (with its indexes) and the error raised: count it again with ``rebuild``. One worker counts on
    this thread's connection, and inside the caller's transaction it is all one with it."""
    if workers > 1 and connection.in_atomic_block:
        raise RuntimeError("summary.load() with workers commits as it goes: call it outside a transaction.")
    table = FollowUpSummary._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {_PENDING_TABLE}, {table}")
        indexes = plain_indexes(cursor, [table])
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
        parts = queue.SimpleQueue()
        for part in _parts(cursor):
            parts.put(part)
    try:
        if workers > 1:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="summary") as pool:
                counting = [pool.submit(_count_parts, parts, table, close=True) for _ in range(workers)]
                rows = sum(done.result() for done in counting)
        else:
            rows = _count_parts(parts, table, close=False)
    except BaseException:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table}")
        raise
    finally:
        with transaction.atomic(), connection.cursor() as cursor:
            for _name, definition in indexes:  # with the caller's maintenance_work_mem
                cursor.execute(definition)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
    return rows


def _count_parts(parts: queue.SimpleQueue, table: str, *, close: bool) -> int:
    """A worker of ``load``: count parts from ``parts`` into ``table`` until none are left, in one
    transaction on this thread's connection (``close``: closed afterwards, a thread's own). Returns the
    number of rows it wrote."""
    rows = 0
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            _set_local(cursor, REBUILD_PLANNER)
            _temporary_table(cursor, "summary_part")
            while True:
                try:
                    part = parts.get_nowait()
                except queue.Empty:
                    break
                rows += _count_part(cursor, part, into=table)
    except BaseException:
        while not parts.empty():  # the other workers stop after their part: the load has failed
            parts.get_nowait()
        raise
    finally:
        if close:
            connection.close()
    return rows


def check() -> tuple[int, int]:
    """Compare what the follow-up reads (``stored``) with a count from the reports (``recount``), in the
    database, changing nothing: ``(rows read, rows differing)``, where a row differs if its key is on one
    side only or its sums differ (rows of zero sums count as absent, as in ``stored`` and ``recount``).

    The recount is made in ``rebuild``'s parts into a temporary table and both sides are compared by a
    FULL JOIN on the key: the work grows with the reports like a rebuild, and nothing comes to Python
    (``stored()`` and ``recount()`` as dicts held 12 GB at 1M reports). Outside a transaction it runs in
    one REPEATABLE READ transaction, so both sides are read in the same snapshot while reports change."""
    with _own_snapshot() as (cursor, _own):
        key = " AND ".join(f"s.{column} = r.{column}" for column in KEY)
        with _rebuild_planner(cursor):  # the comparison hashes both sides in its work_mem
            _count_into_spans(cursor)
            cursor.execute(
                f"""
                SELECT count(s.n), count(*) FILTER (
                    WHERE s.n IS NULL OR r.n IS NULL OR (s.n, s.seconds) IS DISTINCT FROM (r.n, r.seconds)
                )
                FROM (
                    SELECT {CONFLICT}, sum(n) AS n, sum(seconds) AS seconds FROM {SOURCE}
                    GROUP BY {CONFLICT} HAVING sum(n) <> 0 OR sum(seconds) <> 0
                ) AS s
                FULL JOIN (
                    SELECT {CONFLICT}, n, seconds FROM summary_spans WHERE n <> 0 OR seconds <> 0
                ) AS r ON {key}
                """  # noqa: S608 (constant fragments)
            )
            read, differing = cursor.fetchone()
        cursor.execute("DROP TABLE summary_part, summary_spans")  # inside a caller's transaction: now
    return read, differing


def recount_statement() -> tuple[str, dict]:
    """The statement and parameters that count the stored rows (``KEY``, ``n``, ``seconds``) from the
    reports; for ``recount`` and for checks on another connection (the cluster test)."""
    return _stored_sql(rows_sql("true")), _params({})


def recount() -> dict:
    """What the table should hold now (non-zero rows), counted from the reports: ``{KEY: (n, seconds)}``."""
    with connection.cursor() as cursor:
        cursor.execute(*recount_statement())
        return {tuple(row[:8]): (row[8], row[9]) for row in cursor.fetchall() if (row[8], row[9]) != (0, 0)}


def stored() -> dict:
    """What the follow-up reads (the stored rows and the pending changes, non-zero sums), in
    ``recount``'s shape."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {CONFLICT}, sum(n), sum(seconds) FROM {SOURCE} GROUP BY {CONFLICT} "  # noqa: S608
            "HAVING sum(n) <> 0 OR sum(seconds) <> 0"
        )
        return {tuple(row[:8]): (row[8], row[9]) for row in cursor.fetchall()}
