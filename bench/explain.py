"""EXPLAIN ANALYZE the queries the queue, detail and follow-up pages need, on the generated data.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_bench python -m bench.explain [--plans]

Each query runs three times (the first warms the cache); the best execution time is printed with
the plan's top nodes (``--plans``: the whole plan). The SQL is the shape the Django ORM produces for
the pages described in issues #4/#5 (a regional coordinator's scope is "everything but unconfirmed").
``--with-recommended`` creates the recommended indexes (bench/RESULTS.md) first, in a transaction
that is rolled back at the end, so the database is left as it was.
"""

import argparse
import os
import sys

# Indexes recommended in bench/RESULTS.md, to measure them without a migration.
RECOMMENDED = [
    "CREATE INDEX bench_dev_open_created ON deviations_deviation (created_at DESC, id DESC) "
    "WHERE status IN ('submitted','triage','awaiting_response','resolved_locally','escalated',"
    "'regional_analysis')",
    "CREATE INDEX bench_dev_council_created ON deviations_deviation (council_id, created_at DESC, id DESC)",
    # (The covering agreement-period index and the full-text index recommended earlier are in the
    # migrations now: deviations 0005 and 0003.)
]

LIST_COLUMNS = (
    "d.id, d.reference, d.status, d.created_at, d.reported_on, d.occurred_on, a.short_name, c.name, "
    "co.name, m.name, o.name, d.assigned_to_id"
)
LIST_FROM = (
    "deviations_deviation d JOIN agreements_agreement a ON a.id = d.agreement_id "
    "JOIN agreements_deviationcategory c ON c.id = d.category_id "
    "LEFT JOIN councils_council co ON co.id = d.council_id "
    "JOIN councils_municipality m ON m.id = d.municipality_id "
    "JOIN agreements_organization o ON o.id = d.reporting_organization_id"
)
OPEN = "('submitted','triage','awaiting_response','resolved_locally','escalated','regional_analysis')"


def queries(p: dict) -> list[tuple[str, str]]:
    page = "ORDER BY d.created_at DESC, d.id DESC LIMIT 26"
    year = f"d.reported_on >= '{p['year']}-01-01' AND d.reported_on < '{p['year'] + 1}-01-01'"
    agr_year = f"d.agreement_id = {p['agreement']} AND {year}"
    return [
        (
            "queue: newest first, first page (regional scope)",
            f"SELECT {LIST_COLUMNS} FROM {LIST_FROM} WHERE d.status <> 'unconfirmed' {page}",
        ),
        (
            "queue: status = triage, first page",
            f"SELECT {LIST_COLUMNS} FROM {LIST_FROM} WHERE d.status = 'triage' {page}",
        ),
        (
            "queue: all open states (status IN ...), first page",
            f"SELECT {LIST_COLUMNS} FROM {LIST_FROM} WHERE d.status IN {OPEN} {page}",
        ),
        (
            "queue: one council + status = triage, first page",
            f"SELECT {LIST_COLUMNS} FROM {LIST_FROM} WHERE d.council_id = {p['council']} "
            f"AND d.status = 'triage' {page}",
        ),
        (
            "queue: one council, every status but unconfirmed (local queue), first page",
            f"SELECT {LIST_COLUMNS} FROM {LIST_FROM} WHERE d.council_id = {p['council']} "
            f"AND d.status <> 'unconfirmed' {page}",
        ),
        (
            "queue: one council, open states, first page",
            f"SELECT {LIST_COLUMNS} FROM {LIST_FROM} WHERE d.council_id = {p['council']} "
            f"AND d.status IN {OPEN} {page}",
        ),
        (
            "queue: agreement + reported in year, first page",
            f"SELECT {LIST_COLUMNS} FROM {LIST_FROM} WHERE {agr_year} {page}",
        ),
        (
            "queue: category (rare) + reported in year, first page",
            f"SELECT {LIST_COLUMNS} FROM {LIST_FROM} WHERE d.category_id = {p['rare_category']} AND {year} {page}",  # noqa: E501
        ),
        (
            "queue: deep page by OFFSET 900000",
            f"SELECT {LIST_COLUMNS} FROM {LIST_FROM} WHERE d.status <> 'unconfirmed' "
            "ORDER BY d.created_at DESC, d.id DESC LIMIT 26 OFFSET 900000",
        ),
        (
            "queue: deep page by keyset (created_at, id) < (..) near the end",
            f"SELECT {LIST_COLUMNS} FROM {LIST_FROM} WHERE d.status <> 'unconfirmed' "
            f"AND (d.created_at, d.id) < ('{p['deep_created']}', {p['deep_id']}) {page}",
        ),
        (
            "queue: keyset deep page, status = closed",
            f"SELECT {LIST_COLUMNS} FROM {LIST_FROM} WHERE d.status = 'closed' "
            f"AND (d.created_at, d.id) < ('{p['deep_created']}', {p['deep_id']}) {page}",
        ),
        (
            "queue: open states, keyset deep page (older than two years)",
            f"SELECT {LIST_COLUMNS} FROM {LIST_FROM} WHERE d.status IN {OPEN} "
            f"AND (d.created_at, d.id) < (now() - interval '2 years', 0) {page}",
        ),
        (
            "queue: smallest council, every status but unconfirmed, keyset deep page",
            f"SELECT {LIST_COLUMNS} FROM {LIST_FROM} WHERE d.council_id = {p['small_council']} "
            f"AND d.status <> 'unconfirmed' AND (d.created_at, d.id) < ('{p['deep_created']}', {p['deep_id']}) "  # noqa: E501
            f"{page}",
        ),
        (
            "queue: agreement + reported in year + implied created_at bound, first page",
            f"SELECT {LIST_COLUMNS} FROM {LIST_FROM} WHERE {agr_year} "
            f"AND d.created_at < ('{p['year'] + 1}-01-01'::date + 1)::timestamp AT TIME ZONE 'Europe/Stockholm' "  # noqa: E501
            f"{page}",
        ),
        (
            "queue: assigned to one handler, open states",
            f"SELECT {LIST_COLUMNS} FROM {LIST_FROM} WHERE d.assigned_to_id = {p['handler']} "
            f"AND d.status IN {OPEN} {page}",
        ),
        (
            "queue: overdue (open response request past due), first page",
            f"SELECT {LIST_COLUMNS} FROM {LIST_FROM} WHERE d.status = 'awaiting_response' AND EXISTS "
            "(SELECT 1 FROM deviations_responserequest r WHERE r.deviation_id = d.id AND r.answered_at IS NULL "  # noqa: E501
            f"AND r.cancelled_at IS NULL AND r.due_on < CURRENT_DATE) {page}",
        ),
        (
            "counts: per status, whole table",
            "SELECT status, count(*) FROM deviations_deviation GROUP BY status",
        ),
        (
            "counts: per status, one council",
            f"SELECT status, count(*) FROM deviations_deviation WHERE council_id = {p['council']} GROUP BY status",  # noqa: E501
        ),
        (
            "counts: exact COUNT(*) of the regional queue (paginator total)",
            "SELECT count(*) FROM deviations_deviation WHERE status <> 'unconfirmed'",
        ),
        (
            "counts: per status, open states only",
            f"SELECT status, count(*) FROM deviations_deviation WHERE status IN {OPEN} GROUP BY status",
        ),
        (
            "counts: per status, open states only, one council",
            f"SELECT status, count(*) FROM deviations_deviation WHERE council_id = {p['council']} "
            f"AND status IN {OPEN} GROUP BY status",
        ),
        (
            "counts: capped count (up to 1001) of the regional queue",
            "SELECT count(*) FROM (SELECT 1 FROM deviations_deviation WHERE status <> 'unconfirmed' LIMIT 1001) s",  # noqa: E501
        ),
        (
            "counts: exact COUNT(*) of open reports",
            f"SELECT count(*) FROM deviations_deviation WHERE status IN {OPEN}",
        ),
        (
            "detail: report by reference",
            f"SELECT {LIST_COLUMNS} FROM {LIST_FROM} WHERE d.reference = '{p['reference']}'",
        ),
        (
            "detail: events of one report",
            f"SELECT * FROM deviations_deviationevent WHERE deviation_id = {p['deep_id']} ORDER BY created_at, id",  # noqa: E501
        ),
        (
            "detail: response requests of one report",
            f"SELECT * FROM deviations_responserequest WHERE deviation_id = {p['deep_id']} ORDER BY requested_at DESC",  # noqa: E501
        ),
        (
            "detail: counterparts of one report",
            "SELECT o.* FROM agreements_organization o JOIN deviations_deviation_counterpart_organizations x "
            f"ON x.organization_id = o.id WHERE x.deviation_id = {p['deep_id']}",
        ),
        (
            "follow-up: count by month, one agreement-year (reported)",
            f"SELECT date_trunc('month', d.reported_on) AS month, count(*) FROM deviations_deviation d "
            f"WHERE {agr_year} AND d.status <> 'unconfirmed' GROUP BY 1 ORDER BY 1",
        ),
        (
            "follow-up: count by month, one agreement-year (occurred)",
            f"SELECT date_trunc('month', d.occurred_on) AS month, count(*) FROM deviations_deviation d "
            f"WHERE d.agreement_id = {p['agreement']} AND d.occurred_on >= '{p['year']}-01-01' "
            f"AND d.occurred_on < '{p['year'] + 1}-01-01' AND d.status <> 'unconfirmed' GROUP BY 1 ORDER BY 1",  # noqa: E501
        ),
        (
            "follow-up: count by category, one agreement-year",
            f"SELECT d.category_id, count(*) FROM deviations_deviation d WHERE {agr_year} "
            "AND d.status <> 'unconfirmed' GROUP BY 1 ORDER BY 2 DESC",
        ),
        (
            "follow-up: month, category, commitment, status in one pass (GROUPING SETS)",
            "SELECT date_trunc('month', d.reported_on), d.category_id, d.commitment_id, d.status, count(*) "
            f"FROM deviations_deviation d WHERE {agr_year} AND d.status <> 'unconfirmed' "
            "GROUP BY GROUPING SETS ((1), (2), (3), (4))",
        ),
        (
            "follow-up: organisation pairs, one agreement-year",
            "SELECT d.reporting_organization_id, x.organization_id, count(*) FROM deviations_deviation d "
            "JOIN deviations_deviation_counterpart_organizations x ON x.deviation_id = d.id "
            f"WHERE {agr_year} AND d.status <> 'unconfirmed' GROUP BY 1, 2 ORDER BY 3 DESC",
        ),
        (
            "follow-up: median and p90 days to first response and to closure, one agreement-year",
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d.first_response_at - "
            "d.submitted_at)), percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM "
            "d.first_response_at - d.submitted_at)), percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch "  # noqa: E501
            f"FROM d.closed_at - d.submitted_at)) FROM deviations_deviation d WHERE {agr_year} "
            "AND d.status <> 'unconfirmed'",
        ),
        (
            "follow-up: response requests answered in time, one agreement-year",
            "SELECT count(*) FILTER (WHERE r.answered_at::date <= r.due_on), count(*) FROM "
            "deviations_responserequest r JOIN deviations_deviation d ON d.id = r.deviation_id "
            f"WHERE {agr_year}",
        ),
        (
            "follow-up: export rows of one agreement-year (streamed, all rows)",
            f"SELECT {LIST_COLUMNS}, d.description FROM {LIST_FROM} WHERE {agr_year} "
            "AND d.status <> 'unconfirmed' ORDER BY d.reported_on, d.id",
        ),
        (
            "similar reports: Swedish full-text search (Django SearchVector expression)",
            "SELECT d.id FROM deviations_deviation d WHERE to_tsvector('swedish'::regconfig, COALESCE(d.description, '')) @@ "  # noqa: E501
            "plainto_tsquery('swedish', 'utskrivning socialtjänsten') AND d.agreement_id = "
            f"{p['agreement']} ORDER BY d.created_at DESC LIMIT 10",
        ),
    ]


def parameters(cur) -> dict:
    def one(sql):
        cur.execute(sql)
        return cur.fetchone()

    agreement, _ = one(
        "SELECT agreement_id, count(*) FROM deviations_deviation GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
    )
    council, _ = one(
        "SELECT council_id, count(*) FROM deviations_deviation GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
    )
    small_council, _ = one(
        "SELECT council_id, count(*) FROM deviations_deviation WHERE council_id IS NOT NULL "
        "GROUP BY 1 ORDER BY 2 LIMIT 1"
    )
    rare_category, _ = one(
        "SELECT category_id, count(*) FROM deviations_deviation GROUP BY 1 ORDER BY 2 LIMIT 1"
    )
    handler, _ = one(
        "SELECT assigned_to_id, count(*) FROM deviations_deviation WHERE assigned_to_id IS NOT NULL "
        "GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
    )
    deep_created, deep_id = one(
        "SELECT created_at, id FROM deviations_deviation ORDER BY created_at, id OFFSET 50000 LIMIT 1"
    )
    (year,) = one("SELECT extract(year FROM max(reported_on))::int - 1 FROM deviations_deviation")
    (reference,) = one(f"SELECT reference FROM deviations_deviation WHERE id = {deep_id}")
    return {
        "agreement": agreement,
        "council": council,
        "small_council": small_council,
        "rare_category": rare_category,
        "handler": handler,
        "deep_created": deep_created.isoformat(),
        "deep_id": deep_id,
        "year": year,
        "reference": reference,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--plans", action="store_true", help="print whole plans")
    parser.add_argument(
        "--with-recommended", action="store_true", help="measure with the recommended indexes"
    )
    parser.add_argument("--only", default="", help="only queries whose name contains this text")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cur:
        if args.with_recommended:
            for sql in RECOMMENDED:
                cur.execute(sql)
            cur.execute("ANALYZE deviations_deviation")
        p = parameters(cur)
        print(f"parameters: {p}\n")
        for name, sql in queries(p):
            if args.only and args.only not in name:
                continue
            best, plan = None, []
            for _ in range(3):
                cur.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                plan = [r[0] for r in cur.fetchall()]
                ms = float(next(line for line in plan if line.startswith("Execution Time")).split()[2])
                best = ms if best is None else min(best, ms)
            print(f"{best:9.1f} ms  {name}")
            nodes = plan if args.plans else [line for line in plan if "->" in line or line == plan[0]][:6]
            for line in nodes:
                print(f"             {line.strip()[:150]}")
            print()
        transaction.set_rollback(True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
