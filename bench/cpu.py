"""CPU accounting of a load run (``bench/run.py``): the CPU seconds the web server, PostgreSQL and the
load generator used during a scenario, read from Linux's /proc, and whether anything else ran on the
same PostgreSQL server meanwhile.

- **A process tree, exited processes included.** ``tree_cpu(pid)`` is the process's own user + system
  time plus ``cutime``/``cstime`` (the CPU of its children that have exited and been reaped: the
  kernel adds it to the parent when it waits for them) plus the same, recursively, for its live
  children. The difference between two readings is therefore all the CPU the tree used in between,
  including processes that started and ended in between: PostgreSQL's parallel workers (forked by the
  postmaster for one query, gone before any sampling could see them), a backend whose connection
  closed, a gunicorn worker that was replaced.
- **PostgreSQL is the postmaster's tree** of the server the bench database lives on (the parent of a
  backend of the bench connection), never other PostgreSQL servers on the machine (the embedded
  servers of test runs). It includes the server's background processes (WAL writer, checkpointer,
  autovacuum), which the bench's writes cause. It cannot tell one database's exited backends from
  another's, so ``DatabaseActivity`` compares ``pg_stat_database`` before and after: statement time
  (``active_time``) and transactions in *other* databases of the same server during the scenario
  make the PostgreSQL figure an upper bound, and the run says so.
- **Web server**: gunicorn's master and its workers (the master's tree).
- **Load generator**: the children of this process that have ended (``RUSAGE_CHILDREN``): the locust
  run (with its worker processes) or wrk, read after it exited.

Linux only; when the PostgreSQL server is not on this machine (no /proc entry for its backend) its CPU
is reported as unknown rather than as zero.
"""

import os
import resource
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state, ppid, ...), or None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def children_by_parent() -> dict[int, list[int]]:
    """Every live process's children, from one pass over /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def own_cpu(fields: list[str]) -> float:
    """utime + stime (fields 14 and 15 of /proc/<pid>/stat), in seconds."""
    return (int(fields[11]) + int(fields[12])) / TICKS


def tree_cpu(pid: int, children: dict[int, list[int]] | None = None) -> float | None:
    """CPU seconds used so far by ``pid``, its exited (reaped) descendants and its live descendants;
    None if ``pid`` does not exist. Live children are read before the parent, so a child that exits
    in between is counted twice rather than not at all (a tree at rest has no such child)."""
    children = children_by_parent() if children is None else children
    total = 0.0
    for child in children.get(pid, []):
        total += tree_cpu(child, children) or 0.0
    fields = _stat(pid)
    if fields is None:
        return None
    # utime stime cutime cstime
    return total + sum(int(value) for value in fields[11:15]) / TICKS


def process_cpu(pid: int) -> float:
    """CPU seconds of one process (without its children); 0 if it is gone."""
    fields = _stat(pid)
    return own_cpu(fields) if fields is not None else 0.0


def parent_pid(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[1]) if fields is not None else None


def finished_children_cpu() -> float:
    """CPU seconds of this process's children that have exited (the load generator after its run)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class DatabaseActivity:
    """Per database of the server: seconds spent executing statements and transactions, cumulative."""

    active_seconds: dict[str, float] = field(default_factory=dict)
    transactions: dict[str, int] = field(default_factory=dict)

    @classmethod
    def read(cls, cursor) -> "DatabaseActivity":
        # pg_stat_database.active_time exists from PostgreSQL 14 (the product's minimum).
        cursor.execute(
            "SELECT datname, coalesce(active_time, 0) / 1000.0, xact_commit + xact_rollback "
            "FROM pg_stat_database WHERE datname IS NOT NULL"
        )
        rows = cursor.fetchall()
        return cls({r[0]: float(r[1]) for r in rows}, {r[0]: int(r[2]) for r in rows})

    def others_since(self, before: "DatabaseActivity", bench_database: str) -> dict[str, float]:
        """Statement seconds that databases other than the bench's ran between ``before`` and this
        reading (only those that ran any)."""
        others = {}
        for name, seconds in self.active_seconds.items():
            if name == bench_database:
                continue
            spent = seconds - before.active_seconds.get(name, 0.0)
            ran = self.transactions.get(name, 0) - before.transactions.get(name, 0)
            # The monitor's own two statements per reading land in the bench database, not here; a
            # transaction elsewhere with no measurable statement time still counts as activity.
            if spent > 0.001 or ran > 0:
                others[name] = max(spent, 0.0)
        return others


@dataclass
class Snapshot:
    gunicorn: float
    postgres: float | None
    generator: float
    monitor: float
    activity: DatabaseActivity | None
    #: The CPU so far of each live PostgreSQL process that is not the bench's (a backend or
    #: autovacuum worker of another database, a background process), by pid.
    not_bench: dict[int, float] = field(default_factory=dict)
    #: The other databases an autovacuum worker was working in at this moment.
    autovacuum_elsewhere: set[str] = field(default_factory=set)


class Meter:
    """Reads the CPU of the web server, the bench database's PostgreSQL server and the load generator,
    through one monitoring connection to the bench database (its own backend's CPU is subtracted)."""

    def __init__(self, server_pid: int, connection):
        self.server_pid = server_pid
        self.connection = connection
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid(), current_database()")
            self.monitor_pid, self.bench_database = cursor.fetchone()
        postmaster = parent_pid(self.monitor_pid)
        # Same machine, same PID namespace: the backend's parent is the postmaster.
        self.postmaster_pid = postmaster if postmaster and postmaster > 1 else None

    def snapshot(self) -> Snapshot:
        children = children_by_parent()
        with self.connection.cursor() as cursor:
            activity = DatabaseActivity.read(cursor)
            # Every process of the server but the bench database's backends and parallel workers
            # (and the postmaster itself): other databases' and the server's background processes.
            cursor.execute(
                "SELECT pid, coalesce(datname, ''), backend_type FROM pg_stat_activity "
                "WHERE datname IS DISTINCT FROM current_database() "
                "OR backend_type NOT IN ('client backend', 'parallel worker')"
            )
            others = cursor.fetchall()
        return Snapshot(
            gunicorn=tree_cpu(self.server_pid, children) or 0.0,
            postgres=tree_cpu(self.postmaster_pid, children) if self.postmaster_pid else None,
            generator=finished_children_cpu(),
            monitor=process_cpu(self.monitor_pid),
            activity=activity,
            not_bench={pid: tree_cpu(pid, children) or 0.0 for pid, _db, _kind in others},
            autovacuum_elsewhere={
                db for _pid, db, kind in others if kind == "autovacuum worker" and db != self.bench_database
            },
        )

    def bench_backends_active(self) -> int:
        """Statements of the bench database running now (parallel workers included), the monitor's
        own query excepted."""
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state IS DISTINCT FROM 'idle'"
                " AND backend_type IN ('client backend', 'parallel worker')"
            )
            return cursor.fetchone()[0]


def used(before: Snapshot, after: Snapshot, bench_database: str) -> dict:
    """CPU seconds per kind between two snapshots. PostgreSQL: the postmaster's tree minus what its
    live processes that are not the bench's used meanwhile (``excluded``) and minus the monitor;
    what exited processes used stays in, so ``other_databases`` (statement seconds elsewhere, or
    autovacuum seen working elsewhere) says when that part may hold another database's work."""
    postgres = excluded = None
    if before.postgres is not None and after.postgres is not None:
        # A process that started after the first reading used all its CPU in between.
        excluded = sum(cpu - before.not_bench.get(pid, 0.0) for pid, cpu in after.not_bench.items())
        total = after.postgres - before.postgres - (after.monitor - before.monitor)
        postgres = max(0.0, total - excluded)
    others = (
        after.activity.others_since(before.activity, bench_database)
        if before.activity and after.activity
        else {}
    )
    for database in before.autovacuum_elsewhere | after.autovacuum_elsewhere:
        others.setdefault(database, 0.0)
    return {
        "gunicorn": after.gunicorn - before.gunicorn,
        "postgres": postgres,
        "excluded": excluded,
        "locust": after.generator - before.generator,
        "other_databases": others,
    }
