"""The load harness's own arithmetic: how deep the deep queue page is at any size, and the CPU
accounting (exited processes counted, other databases flagged, the table marks what is not exact)."""

import os
import subprocess
import sys

import pytest
from django.db import connection

from bench import cpu
from bench.run import deep_queue_position, report


@pytest.mark.parametrize(
    ("queue_length", "position"),
    [(0, None), (1, 0), (4, 0), (1_000, 200), (20_000, 4_000), (1_000_000, 200_000), (10_000_000, 200_000)],
)
def test_the_deep_page_is_a_fifth_of_the_queue_and_at_most_200000_rows_down(queue_length, position):
    assert deep_queue_position(queue_length) == position


def test_a_child_that_has_exited_is_counted_in_its_parents_tree():
    before = cpu.tree_cpu(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "sum(i * i for i in range(5_000_000))"])
    _pid, _status, usage = os.wait4(child.pid, 0)
    child.returncode = 0
    after = cpu.tree_cpu(os.getpid())
    # /proc counts in clock ticks, each of utime, stime, cutime and cstime rounded down.
    rounding = 4 / cpu.TICKS
    assert after - before >= usage.ru_utime + usage.ru_stime - rounding


def test_a_process_that_does_not_exist_has_no_tree():
    assert cpu.tree_cpu(2**22 + 12345, children={}) is None


def test_other_databases_that_ran_statements_are_named_the_bench_database_is_not():
    before = cpu.DatabaseActivity({"sb": 10.0, "other": 5.0, "idle": 1.0}, {"sb": 100, "other": 7, "idle": 3})
    after = cpu.DatabaseActivity(
        {"sb": 50.0, "other": 7.5, "idle": 1.0, "new": 0.0}, {"sb": 900, "other": 9, "idle": 3, "new": 1}
    )
    assert after.others_since(before, "sb") == {"other": 2.5, "new": 0.0}


@pytest.mark.django_db
def test_the_meter_finds_the_postmaster_of_the_test_database_and_reads_its_tree():
    connection.ensure_connection()
    meter = cpu.Meter(os.getpid(), connection.connection)
    assert meter.bench_database == connection.settings_dict["NAME"]
    assert meter.postmaster_pid is not None
    before = meter.snapshot()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM generate_series(1, 200000)")
    after = meter.snapshot()
    spent = cpu.used(before, after, meter.bench_database)
    assert spent["postgres"] is not None and spent["postgres"] >= 0
    assert meter.bench_backends_active() == 0


def scenario(cpu_used: dict) -> dict:
    request = {
        "name": "queue: first page",
        "count": 100,
        "failures": 0,
        "rps": 10.0,
        "median_ms": 50,
        "p95_ms": 80,
        "queries": (14, 14),
    }
    return {"scenario": "queue-first", "requests": [request], "cpu": cpu_used, "wall": 10.0}


def test_the_table_gives_cpu_per_request_and_the_generators_share_of_a_core():
    table = report([scenario({"gunicorn": 2.0, "postgres": 0.5, "locust": 0.2, "other_databases": {}})])
    assert "| 25.0 (20.0 + 5.0) | 2.0 (2 %) |" in table
    assert "†" not in table


def test_the_table_marks_postgresql_cpu_shared_with_other_databases_as_an_upper_bound():
    used = {"gunicorn": 2.0, "postgres": 0.5, "locust": 0.2, "other_databases": {"sb_other": 3.25}}
    table = report([scenario(used)])
    assert "25.0 (20.0 + 5.0) †1" in table
    assert "†1 Other databases" in table and "`sb_other` 3.2 s" in table and "upper bound" in table


def test_the_table_says_when_postgresql_is_not_measured():
    table = report([scenario({"gunicorn": 2.0, "postgres": None, "locust": 0.2, "other_databases": {}})])
    assert "PostgreSQL not on this machine" in table


def test_postgresql_cpu_leaves_out_live_processes_of_other_databases_and_keeps_exited_ones():
    # The postmaster's tree grew by 10 s: 3 s by a live backend of another database (seen in both
    # readings), 1 s by the checkpointer that started in between, the rest by the bench's backends
    # and by parallel workers that have exited. The monitor used 0.5 s.
    before = cpu.Snapshot(
        gunicorn=1.0, postgres=100.0, generator=0.0, monitor=2.0, activity=None, not_bench={41: 7.0}
    )
    after = cpu.Snapshot(
        gunicorn=4.0,
        postgres=110.0,
        generator=0.5,
        monitor=2.5,
        activity=None,
        not_bench={41: 10.0, 42: 1.0},
        autovacuum_elsewhere={"sb_other"},
    )
    spent = cpu.used(before, after, "sb")
    assert spent["postgres"] == pytest.approx(5.5)
    assert spent["excluded"] == pytest.approx(4.0)
    assert spent["gunicorn"] == pytest.approx(3.0)
    assert spent["other_databases"] == {"sb_other": 0.0}
