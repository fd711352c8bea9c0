"""Load run: the app under gunicorn on 127.0.0.1, locust headless per scenario, results to RESULTS.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_bench python -m bench.run
    python -m bench.run --scenarios queue-first,detail --duration 30 --users 8 --workers 4

Bounded: each scenario runs ``--duration`` seconds (plus a few seconds of start-up), then gunicorn is
stopped. Traffic goes to 127.0.0.1 only. Prints, per scenario: requests/s, median and p95 latency,
errors and SQL queries per request (``X-Query-Count``), and appends a dated section with the machine
to bench/RESULTS.md (``--no-record`` to skip).
"""

import argparse
import csv
import datetime
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from .cpu import Meter, tree_cpu, used

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "RESULTS.md"
HOST = "127.0.0.1"

# scenario name -> (locust user class, request names that make up the scenario)
SCENARIOS = {
    "queue-first": ("QueueFirst", ["queue: first page"]),
    "queue-filtered": ("QueueFiltered", ["queue: filtered page"]),
    "queue-deep": ("QueueDeep", ["queue: deep page"]),
    "detail": ("Detail", ["detail page"]),
    "filing": ("Filing", ["filing: submit", "filing: form"]),
    "export": ("Export", ["export: xlsx", "export: xlsx first byte"]),
    "followup": ("FollowUp", ["follow-up page"]),
}
# Timings of a request named above under another name (not requests of their own): the first byte of
# the export is the same request as its whole file.
SAME_REQUEST = {"export: xlsx first byte"}
BENCH_PASSWORD = "bench-losenord-inte-hemligt"


#: The app as the load run serves it: production settings (bench/settings.py, DEBUG off) on 127.0.0.1
#: over plain HTTP. Also what the in-process tools (bench.profile, bench.exports) run with.
SERVER_SETTINGS = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DEBUG": "False",
    "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
    "ALLOWED_HOSTS": HOST,
    "SECURE_SSL_REDIRECT": "False",
    "CONN_MAX_AGE": "600",
    "LOG_LEVEL": "WARNING",
}


def setup_in_process(**overrides: str) -> None:
    """``django.setup()`` with ``SERVER_SETTINGS`` (and ``overrides``) where the environment does not
    set them, for the tools that run requests in this process."""
    for name, value in {**SERVER_SETTINGS, "DATABASE_SERVER_SIDE_BINDING": "True", **overrides}.items():
        os.environ.setdefault(name, value)
    import django

    django.setup()


def server_environment(args) -> dict:
    env = dict(os.environ)
    env.update(SERVER_SETTINGS, BENCH_QUERY_COUNT="1", DATABASE_URL=args.database_url, PYTHONUNBUFFERED="1")
    # Prepared statements on persistent connections (config/settings.py); set to False to compare.
    env.setdefault("DATABASE_SERVER_SIDE_BINDING", "True")
    env.setdefault("BENCH_USERNAME", "bench")
    env.setdefault("BENCH_PASSWORD", BENCH_PASSWORD)
    return env


def prepare(env: dict) -> dict:
    """Migrations, static files, the bench user, sample references and the machine description."""
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection

    from agreements.models import Agreement
    from councils.models import Council, CouncilMembership, User
    from deviations.models import Deviation

    regional = Council.objects.filter(level=Council.Level.REGIONAL, active=True).order_by("pk").first()
    if regional is None:
        raise SystemExit("No regional council: run `python -m bench.generate` first.")
    # The bench user files reports too: a signed-in reporter's address must be at a domain of the
    # organisation they report from (filing_fields reports from this one).
    organization = bench_organization()
    user, created = User.objects.update_or_create(
        username=env["BENCH_USERNAME"],
        defaults={
            "first_name": "Bench",
            "last_name": "Samordnare",
            "email": bench_email(organization),
            "organization": organization,
        },
    )
    if created or not user.check_password(env["BENCH_PASSWORD"]):
        user.set_password(env["BENCH_PASSWORD"])
        user.save()
    CouncilMembership.objects.get_or_create(
        council=regional, user=user, defaults={"role": CouncilMembership.Role.COORDINATOR}
    )

    # One signed-in session per simulated user, so the run measures pages, not password hashing.
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    backends = settings.AUTHENTICATION_BACKENDS
    # The local password backend (a ModelBackend): the one a password sign-in records in the session.
    from django.contrib.auth.backends import ModelBackend
    from django.utils.module_loading import import_string

    backend = next(b for b in backends if issubclass(import_string(b), ModelBackend))
    sessions = []
    for _ in range(64):
        store = store_class()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = backend
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.save()
        sessions.append(store.session_key)

    OUT.mkdir(exist_ok=True)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT reference FROM deviations_deviation TABLESAMPLE SYSTEM (1) "
            "WHERE status <> 'unconfirmed' LIMIT 1000"
        )
        refs = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT version()")
        pg_version = cur.fetchone()[0].split(" on ")[0]
        counts = {}
        for table in (
            "deviations_deviation",
            "deviations_deviationevent",
            "deviations_responserequest",
            "deviations_systemicissue",
        ):
            cur.execute(f"SELECT count(*) FROM {table}")
            counts[table.removeprefix("deviations_")] = cur.fetchone()[0]
    (OUT / "references.txt").write_text("\n".join(refs))
    top = (
        Deviation.objects.values("agreement")
        .order_by()
        .annotate(n=django.db.models.Count("id"))
        .order_by("-n")
    ).first()
    agreement = Agreement.objects.get(pk=top["agreement"]) if top else Agreement.objects.first()
    # A deep queue page as a user reaches it: the keyset cursor ("after") of a report far down the
    # regional queue, signed with the server's key (one OFFSET scan here, none in the run).
    from deviations.selectors import _encode_cursor
    from deviations.workflow import Status

    queue = Deviation.objects.exclude(status=Status.UNCONFIRMED).order_by("-created_at", "-id")
    depth = deep_queue_position(queue.count())
    deep_row = queue.only("id", "created_at")[depth] if depth is not None else None
    filing = filing_fields()
    connection.close()
    return {
        "filing_fields": json.dumps(filing),
        "sessions": ",".join(sessions),
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "pg_version": pg_version,
        "counts": counts,
        "agreement": str(agreement.pk),
        "agreement_code": agreement.code,
        "year": str(datetime.date.today().year - 1),
        "queue_deep": urlencode({"after": _encode_cursor(deep_row, "created_at")}) if deep_row else "",
        "queue_deep_position": depth,
    }


#: How far down the queue the deep-page scenario starts: this many reports at most, and at most this
#: share of the queue (200,000 is the fifth of 1M that earlier runs measured; smaller databases keep the
#: same relative depth, larger ones the same absolute depth, the one a person paging would reach).
DEEP_QUEUE_ROWS = 200_000
DEEP_QUEUE_SHARE = 0.2


def deep_queue_position(queue_length: int) -> int | None:
    """The 0-based position in the queue of the deep page's first report, or None for an empty queue."""
    if queue_length <= 0:
        return None
    return min(DEEP_QUEUE_ROWS, int(queue_length * DEEP_QUEUE_SHARE), queue_length - 1)


def bench_organization():
    """The organisation the bench user works in and reports from: the first with an e-mail domain."""
    from agreements.models import Organization

    return Organization.objects.filter(active=True, email_domains__isnull=False).order_by("pk").first()


def bench_email(organization) -> str:
    domain = organization.email_domains.order_by("pk").first().domain if organization else "example.se"
    return f"bench.samordnare@{domain}"


def filing_fields() -> dict:
    """A valid combination of the report form's related choices (agreement in force, one of its
    commitments and categories, a municipality without districts, two different active organisations);
    the locust filler fills the texts, dates and radios."""
    from agreements.models import Agreement, Commitment, DeviationCategory, Organization
    from councils.models import Municipality

    today = datetime.date.today()
    occurred = today - datetime.timedelta(days=2)
    for agreement in Agreement.objects.filter(active=True).order_by("pk"):
        if not Agreement.objects.valid_on(occurred).filter(pk=agreement.pk).exists():
            continue
        category = DeviationCategory.objects.filter(active=True, agreements=agreement).order_by("pk").first()
        if category is None:
            continue
        commitment = Commitment.objects.filter(active=True, agreement=agreement).order_by("pk").first()
        break
    else:
        raise SystemExit("No agreement in force with a category: load the reference data first.")
    municipality = Municipality.objects.filter(districts__isnull=True).order_by("pk").first()
    own = bench_organization()
    counterpart = Organization.objects.filter(active=True).exclude(pk=own.pk).order_by("pk").first()
    return {
        "concerns_child": "no",
        "occurred_on": occurred.isoformat(),
        "agreement": str(agreement.pk),
        "commitment": str(commitment.pk) if commitment else "",
        "category": str(category.pk),
        "municipality": str(municipality.pk),
        "district": "",
        "reporting_organization": str(own.pk),
        "counterpart_organizations": [str(counterpart.pk)],
        "reporter_name": "Bench Rapportör",
        "reporter_email": bench_email(own),
        "reporter_phone": "08-123 456 78",
    }


def start_gunicorn(env: dict, args) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"{HOST}:{args.port}",
        "--workers",
        str(args.workers),
        "-c",
        "config/gunicorn.py",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{args.port}/konto/logga-in/", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    stop(server)
    raise SystemExit("gunicorn did not answer within 60 s")


#: The worker's FOLLOWUP_FOLD_INTERVAL in the load run (the default).
FOLD_INTERVAL = 2.0


def start_folder(env: dict) -> subprocess.Popen:
    """The worker as deployed, on a queue no task is sent to: it only folds the follow-up summary's
    pending changes every few seconds (``deviations.summary.fold``), as a production worker does (its
    PostgreSQL backend is one of the bench database's, so that work counts with the scenario that
    caused it). The queued e-mails stay queued, as before."""
    cmd = [
        sys.executable,
        str(ROOT / "manage.py"),
        "db_worker",
        "--queue-name",
        "bench-fold-only",
        "--no-reload",
        "--no-startup-delay",
        "--interval",
        "5",
    ]
    return subprocess.Popen(
        cmd, cwd=ROOT, env={**env, "FOLLOWUP_FOLD_INTERVAL": str(FOLD_INTERVAL)}, start_new_session=True
    )


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


PROBES = {
    "queue-first": ("BENCH_QUEUE_URL", "/arenden/"),
    "queue-filtered": ("BENCH_QUEUE_URL", "/arenden/"),
    "queue-deep": ("BENCH_QUEUE_URL", "/arenden/"),
    "followup": ("BENCH_FOLLOWUP_URL", "/uppfoljning/"),
    "export": ("BENCH_FOLLOWUP_URL", "/uppfoljning/"),
    "filing": ("BENCH_FILING_URL", "/rapportera/formular/"),
}


def probe(name: str, env: dict, args, info: dict) -> str:
    """'' if the scenario's page exists, else why not (404: the view is not on this branch)."""
    import urllib.error
    import urllib.request

    if name not in PROBES:
        return ""
    variable, default = PROBES[name]
    path = env.get(variable, default).split("?")[0].split("{")[0]
    cookie = f"{info['session_cookie']}={info['sessions'].split(',')[0]}"
    request = urllib.request.Request(f"http://{HOST}:{args.port}{path}", headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(request, timeout=60):  # noqa: S310
            return ""
    except urllib.error.HTTPError as error:
        return f"{path} answers {error.code}" if error.code == 404 else ""
    except TimeoutError:
        # Workers still busy with the previous scenario's slow requests: the page exists; measure.
        return ""


def wait_until_quiet(meter, args) -> float:
    """Wait until no request of the previous scenario is still being served: no statement of the
    bench database running and gunicorn's processes idle (under 5 % of a core over half a second),
    for at most ``--settle`` seconds. Returns the seconds waited."""
    started = time.monotonic()
    previous = tree_cpu(meter.server_pid) or 0.0
    while time.monotonic() - started < args.settle:
        time.sleep(0.5)
        current = tree_cpu(meter.server_pid) or 0.0
        busy, previous = current - previous, current
        if busy < 0.025 and meter.bench_backends_active() == 0:
            return time.monotonic() - started
    print(f"   still busy after {args.settle} s (--settle); measuring anyway", flush=True)
    return time.monotonic() - started


def read_query_counts(stats_file: Path) -> dict:
    """The query counts the locustfile wrote: one file, or one per worker with ``--processes``."""
    merged = {"query_counts": {}, "not_available": {}}
    for path in (stats_file, *sorted(stats_file.parent.glob(f"{stats_file.name}.*"))):
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        for request_name, counts in data["query_counts"].items():
            merged["query_counts"].setdefault(request_name, []).extend(counts)
        merged["not_available"].update(data["not_available"])
    return merged


def run_scenario(name: str, env: dict, args, info: dict, meter: Meter) -> dict:
    user_class, request_names = SCENARIOS[name]
    missing = probe(name, env, args, info)
    if name == "queue-deep" and not info["queue_deep"] and "BENCH_QUEUE_DEEP" not in os.environ:
        missing = "no confirmed reports in the queue"
    if missing:
        print(f"== {name}: not available ({missing})", flush=True)
        return {"scenario": name, "requests": [], "not_available": missing}
    prefix = OUT / f"locust-{name}"
    stats_file = OUT / f"locust-{name}-queries.json"
    for old in (stats_file, *OUT.glob(f"{stats_file.name}.*")):
        old.unlink(missing_ok=True)
    locust_env = dict(env)
    locust_env.update(
        BENCH_STATS_FILE=str(stats_file),
        BENCH_REFERENCES_FILE=str(OUT / "references.txt"),
    )
    locust_env.setdefault("BENCH_SESSIONS", info["sessions"])
    locust_env.setdefault("BENCH_SESSION_COOKIE_NAME", info["session_cookie"])
    locust_env.setdefault("BENCH_AGREEMENT", info["agreement"])
    locust_env.setdefault("BENCH_YEAR", info["year"])
    locust_env.setdefault("BENCH_QUEUE_DEEP", info["queue_deep"])
    locust_env.setdefault("BENCH_FILING_FIELDS", info["filing_fields"])
    # The reports' XLSX export of the same agreement-year as the follow-up scenario (without it every
    # simulated user would first load the follow-up page to find the link).
    selection = urlencode(
        {
            "agreement": locust_env["BENCH_AGREEMENT"],
            "period_type": "year",
            "year": locust_env["BENCH_YEAR"],
            "scope": "county",
            "basis": "reported_on",
        }
    )
    locust_env.setdefault("BENCH_EXPORT_URL", f"/uppfoljning/export/rapporter.xlsx?{selection}")
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.users),
        "--run-time",
        f"{args.duration}s",
        # Users finish the request they are in (an export can take half a minute under load), so
        # every request the server works on is counted and none runs on into the next scenario.
        "--stop-timeout",
        str(args.stop_timeout),
        "--host",
        f"http://{HOST}:{args.port}",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
        *(["--processes", str(args.locust_processes)] if args.locust_processes > 1 else []),
        user_class,
    ]
    print(f"== {name}: {args.users} users, {args.duration} s", flush=True)
    wait_until_quiet(meter, args)  # the probe's request
    cpu_before = meter.snapshot()
    started = time.monotonic()
    subprocess.run(cmd, cwd=ROOT, env=locust_env, timeout=args.duration + args.stop_timeout + 90, check=False)
    wall = time.monotonic() - started
    # Requests the server still serves after locust stopped (a client gave up) belong to this scenario.
    settled = wait_until_quiet(meter, args)
    cpu_after = meter.snapshot()
    cpu = used(cpu_before, cpu_after, meter.bench_database)
    if settled > 1:
        print(f"   the server was busy {settled:.0f} s after the load stopped", flush=True)
    if cpu["postgres"] is not None:
        print(
            f"   CPU: gunicorn {cpu['gunicorn']:.1f} s, PostgreSQL {cpu['postgres']:.1f} s for the bench "
            f"database ({cpu['excluded']:.1f} s of other databases' and background processes left out), "
            f"locust {cpu['locust']:.1f} s",
            flush=True,
        )
    if cpu["other_databases"]:
        busy = ", ".join(f"{db} {s:.1f} s" for db, s in sorted(cpu["other_databases"].items()))
        print(
            f"   WARNING: other databases on the same PostgreSQL were active meanwhile (statement time: "
            f"{busy}; 0.0 s: transactions or autovacuum only): "
            "the PostgreSQL CPU of this scenario is an upper bound",
            flush=True,
        )
    queries = read_query_counts(stats_file)
    rows = {}
    stats_csv = Path(f"{prefix}_stats.csv")
    if stats_csv.exists():
        with stats_csv.open() as fh:
            rows = {r["Name"]: r for r in csv.DictReader(fh)}
    result = {"scenario": name, "requests": [], "cpu": cpu, "wall": wall}
    if any(n in queries["not_available"] for n in request_names):
        result["not_available"] = "; ".join(queries["not_available"].values())
    for request_name in request_names:
        row = rows.get(request_name)
        if row is None:
            continue
        counts = queries["query_counts"].get(request_name, [])
        result["requests"].append(
            {
                "name": request_name,
                "count": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "median_ms": float(row["Median Response Time"] or 0),
                "p95_ms": float(row["95%"] or 0) if row["95%"] not in ("N/A", "") else 0.0,
                "queries": (min(counts), max(counts)) if counts else None,
            }
        )
    if not result["requests"] and "not_available" not in result:
        result["not_available"] = "no requests recorded"
    return result


def machine(info: dict, args) -> str:
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kb = int(next(line.split()[1] for line in meminfo if line.startswith("MemTotal")))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    load = os.getloadavg()
    counts = ", ".join(f"{k} {v:,}" for k, v in info["counts"].items())
    position = info.get("queue_deep_position")
    deep = "none (empty queue)" if position is None else f"the report {position + 1:,} rows down the queue"
    return (
        f"- Machine: {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
        f"{mem_kb / 1024 / 1024:.1f} GiB RAM, {platform.system()} {platform.release()}; "
        f"load average at start {info['load_start']}, at end {load[0]:.1f}\n"
        f"- {info['pg_version']} on the same machine; rows: {counts}\n"
        f"- gunicorn {args.workers} sync workers, DEBUG=False, and a worker folding the follow-up summary "
        f"every {FOLD_INTERVAL} s; locust {args.users} users per scenario, "
        f"{args.duration} s each, on the same machine; commit {commit.stdout.strip() or '?'}\n"
        f"- Deep queue page: {deep}\n"
    )


def report(results: list[dict]) -> str:
    """The results table. CPU per request: the CPU time the server (gunicorn + PostgreSQL) and the load
    generator (locust) used during the scenario divided by its requests (all its request names), so a
    latency can be read against what the machine can do: with N users and no think time on C cores,
    a CPU-bound server answers in about N x (server + locust CPU) / C. The generator's share of one
    core says whether it could have been the bottleneck (locust runs one process unless
    ``--locust-processes``)."""
    lines = [
        "| scenario | request | requests/s | median ms | p95 ms | errors | SQL queries/request "
        "| server CPU ms/request (gunicorn + PostgreSQL) | locust CPU ms/request (% of a core) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    notes = []
    for r in results:
        if "not_available" in r and not any(x["count"] - x["failures"] for x in r["requests"]):
            lines.append(f"| {r['scenario']} | not available ({r['not_available']}) | | | | | | | |")
            continue
        total = sum(x["count"] for x in r["requests"] if x["name"] not in SAME_REQUEST) or 1
        cpu = r.get("cpu", {})
        app = cpu.get("gunicorn", 0) * 1000 / total
        db = cpu.get("postgres")
        marker = ""
        if cpu.get("other_databases"):
            marker = f" †{len(notes) + 1}"
            busy = ", ".join(f"`{d}` {s:.1f} s" for d, s in sorted(cpu["other_databases"].items()))
            notes.append(
                f"{marker.strip()} Other databases on the same PostgreSQL server were active during "
                f"{r['scenario']} ({busy} of statement time; 0.0 s: transactions or autovacuum only): "
                "its PostgreSQL CPU is an upper bound."
            )
        if db is None:
            server_cpu = f"? ({app:.1f} + ?: PostgreSQL not on this machine)"
        else:
            db = db * 1000 / total
            server_cpu = f"{app + db:.1f} ({app:.1f} + {db:.1f}){marker}"
        generator = cpu.get("locust", 0)
        share = f" ({generator / r['wall'] * 100:.0f} %)" if r.get("wall") else ""
        locust_cpu = f"{generator * 1000 / total:.1f}{share}"
        for x in r["requests"]:
            q = x["queries"]
            queries = "–" if q is None else (str(q[0]) if q[0] == q[1] else f"{q[0]}–{q[1]}")
            lines.append(
                f"| {r['scenario']} | {x['name']} | {x['rps']:.1f} | {x['median_ms']:.0f} | "
                f"{x['p95_ms']:.0f} | {x['failures']} of {x['count']} | {queries} | {server_cpu} "
                f"| {locust_cpu} |"
            )
    return "\n".join(lines) + "\n" + "".join(f"\n{note}\n" for note in notes)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help=f"comma-separated: {', '.join(SCENARIOS)}"
    )
    parser.add_argument("--duration", type=int, default=30, help="seconds per scenario")
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--workers", type=int, default=min(4, max(2, os.cpu_count() or 2)))
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--locust-processes",
        type=int,
        default=1,
        help="locust processes generating the load (locust's --processes); 1 is enough while the "
        "table's last column shows locust well under one core",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sb_bench"),
    )
    parser.add_argument(
        "--stop-timeout",
        type=int,
        default=120,
        help="seconds the simulated users get to finish the request they are in when a scenario ends",
    )
    parser.add_argument(
        "--settle",
        type=int,
        default=180,
        help="at most this many seconds to wait for the server to finish earlier requests before and "
        "after each scenario",
    )
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args(argv)
    names = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")

    env = server_environment(args)
    load_start = f"{os.getloadavg()[0]:.1f}"
    info = prepare(env)
    info["load_start"] = load_start
    server = start_gunicorn(env, args)
    folder = start_folder(env)
    results = []
    import psycopg

    try:
        with psycopg.connect(args.database_url, autocommit=True) as monitor:
            meter = Meter(server.pid, monitor)
            if meter.postmaster_pid is None:
                print("PostgreSQL is not on this machine: its CPU is not measured", flush=True)
            for name in names:
                results.append(run_scenario(name, env, args, info, meter))
    finally:
        stop(server)
        stop(folder)
    table = report(results)
    print()
    print(table)
    if not args.no_record:
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
        section = f"\n## Load run {stamp}\n\n{machine(info, args)}\n{table}"
        with RESULTS.open("a") as fh:
            fh.write(section)
        print(f"Appended to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
