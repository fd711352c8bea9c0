"""Where a page's server CPU goes: one scenario's request, in-process, under cProfile.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_bench python -m bench.profile queue-first
    python -m bench.profile detail --requests 200 --top 40 --sort tottime

Runs the request of a ``bench.run`` scenario (the same URLs and, for filing, the same form filler as
``bench/locustfile.py``) through Django's test client with the production settings of the load run
(``bench.settings``, DEBUG off, cached templates), signed in as the bench user. After ``--warmup``
requests it profiles ``--requests`` more and prints:

- the Python time per request, split into time spent waiting for PostgreSQL (every statement timed by
  a ``connection.execute_wrapper``) and the rest (Django, templates, forms, our code);
- the statements per request, the slowest statement shapes by total time (timed in the run without the
  profiler: under it, the Python between sending a statement and reading its result is profiled too,
  which made a 0.5 ms lookup look like 6 ms);
- the top functions by ``--sort`` (cumulative or tottime) from cProfile, timed by this process's CPU
  (``--clock cpu``, the default: where the CPU goes) or by the wall clock (``--clock wall``).

The client skips the WSGI server and the network, so its totals are a little lower than ``bench.run``'s
CPU per request; the split is what it is for. No data is written except by the filing scenario
(reports filed by the bench user, like ``bench.run``'s).
"""

import argparse
import cProfile
import io
import os
import pstats
import re
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GET_SCENARIOS = ("queue-first", "queue-filtered", "queue-deep", "detail", "followup", "filing-form")
SCENARIOS = (*GET_SCENARIOS, "filing")


class StatementTimer:
    """A ``connection.execute_wrapper`` that sums the wall time of every statement, by shape."""

    def __init__(self):
        self.seconds = 0.0
        self.count = 0
        self.by_shape: dict[str, list[float]] = defaultdict(list)

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - start
            self.seconds += elapsed
            self.count += 1
            self.by_shape[re.sub(r"\s+", " ", sql)[:160]].append(elapsed)


def setup():
    sys.path.insert(0, str(ROOT))
    from bench.run import setup_in_process

    setup_in_process(ALLOWED_HOSTS="testserver,127.0.0.1")


def request_maker(scenario: str, client):
    """A function doing one request of ``scenario`` and returning the response."""
    from bench import locustfile
    from deviations.models import Deviation

    config = locustfile.CONFIG
    if scenario == "queue-first":
        return lambda: client.get(config["queue_url"])
    if scenario == "queue-filtered":
        return lambda: client.get(f"{config['queue_url']}?{config['queue_filter']}")
    if scenario == "queue-deep":
        from urllib.parse import urlencode

        from deviations.selectors import _encode_cursor
        from deviations.workflow import Status

        rows = Deviation.objects.exclude(status=Status.UNCONFIRMED).order_by("-created_at", "-id")
        deep = rows.only("id", "created_at")[max(min(200_000, rows.count() // 2), 0)]
        cursor = urlencode({"after": _encode_cursor(deep, "created_at")})
        return lambda: client.get(f"{config['queue_url']}?{cursor}")
    if scenario == "detail":
        references = list(Deviation.objects.order_by("?").values_list("reference", flat=True)[:500])
        numbers = iter(range(10**9))
        return lambda: client.get(config["detail_url"].format(reference=references[next(numbers) % 500]))
    if scenario == "followup":
        return lambda: client.get(locustfile.followup_url())
    if scenario == "filing-form":
        return lambda: client.get(config["filing_url"])
    if scenario == "filing":
        page = client.get(config["filing_url"])
        form = locustfile.main_form(page.content.decode())
        from bench.run import filing_fields

        data = locustfile.fill_form(form, filing_fields())
        action = form["action"] or config["filing_url"]

        def post():
            import uuid
            from urllib.parse import urlencode

            texts = locustfile.TEXTS
            unique = {k: [f"{v[0]} ({uuid.uuid4().hex[:8]})"] for k, v in data.items() if k in texts}
            # Form-encoded, as a browser posts this form (and locust does): the test client's default,
            # multipart, costs the server more to parse.
            body = urlencode({**data, **unique, "idempotency_key": [str(uuid.uuid4())]}, doseq=True)
            response = client.post(action, body, content_type="application/x-www-form-urlencoded")
            if response.status_code not in (302, 303):
                sys.exit(f"filing not accepted (HTTP {response.status_code}); is the bench user a reporter?")
            return response

        return post
    raise SystemExit(f"unknown scenario {scenario!r}; one of {', '.join(SCENARIOS)}")


class BackendCPU:
    """The CPU seconds (user + system) of this connection's PostgreSQL backend process, read from
    ``/proc`` when the server runs on this machine (else ``None``): unlike the wall time of the
    statements, it does not grow with other load on the machine."""

    def __init__(self):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")

    def seconds(self) -> float | None:
        try:
            fields = self.stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def timed_statements():
    from django.db import connection

    timer = StatementTimer()
    with connection.execute_wrapper(timer):
        yield timer


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="cumulative", choices=("cumulative", "tottime"))
    parser.add_argument("--statements", type=int, default=8, help="slowest statement shapes to show")
    parser.add_argument(
        "--clock",
        default="cpu",
        choices=("cpu", "wall"),
        help="what cProfile times: this process's CPU (where the CPU goes; waiting for PostgreSQL is not "
        "counted) or the wall clock (waiting included)",
    )
    parser.add_argument(
        "--dump", metavar="FILE", help="also write the profile to FILE (pstats), e.g. to compare two runs"
    )
    args = parser.parse_args(argv)

    # The scenarios' module imports locust; without gevent's patching of the standard library, which
    # would be profiled too.
    os.environ["LOCUST_SKIP_MONKEY_PATCH"] = "1"
    setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.filter(username=os.environ.get("BENCH_USERNAME", "bench")).first()
    if user is None:
        raise SystemExit("No bench user: run `python -m bench.run` once (it creates it).")
    client = Client()
    client.force_login(user)
    # What earlier filings left pending, as a running worker would have folded it (none runs here: a
    # filing's own profile leaves its changes pending, which the worker folds in a production setting).
    from deviations import summary

    summary.fold()
    do = request_maker(args.scenario, client)
    for _ in range(args.warmup):
        response = do()
        if response.status_code not in (200, 302, 303):
            raise SystemExit(f"{args.scenario}: HTTP {response.status_code}")

    # First without the profiler (its overhead grows with the number of calls, not with their cost).
    backend = BackendCPU()
    with timed_statements() as plain:
        cpu_start, backend_start = time.process_time(), backend.seconds()
        for _ in range(args.requests):
            do()
        plain_cpu = time.process_time() - cpu_start
        backend_cpu = None if backend_start is None else backend.seconds() - backend_start
    profiler = cProfile.Profile(time.process_time if args.clock == "cpu" else time.perf_counter)
    with timed_statements() as timer:
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        profiler.enable()
        for _ in range(args.requests):
            do()
        profiler.disable()
        cpu, wall = time.process_time() - cpu_start, time.perf_counter() - wall_start

    n = args.requests
    print(f"== {args.scenario}: {n} requests after {args.warmup} warm-up")
    print(
        f"without the profiler: this process's CPU {plain_cpu * 1000 / n:.1f} ms/request, "
        f"waiting for PostgreSQL {plain.seconds * 1000 / n:.1f} ms/request"
    )
    if backend_cpu is not None:
        print(
            f"without the profiler: PostgreSQL backend CPU {backend_cpu * 1000 / n:.1f} ms/request "
            "(this connection's backend process; parallel workers not included)"
        )
    print(f"{plain.count / n:.1f} statements/request")
    print("\nslowest statement shapes, without the profiler (total wall ms per request, calls per request):")
    shapes = sorted(plain.by_shape.items(), key=lambda item: -sum(item[1]))[: args.statements]
    for sql, times in shapes:
        print(f"  {sum(times) / n * 1000:7.2f} ms  {len(times) / n:4.1f}x  {sql}")
    print("\nwith the profiler (its overhead included):")
    per = 1000 / n
    print(f"wall {wall * per:.1f} ms/request, of which waiting for PostgreSQL {timer.seconds * per:.1f} ms")
    print(f"this process's CPU {cpu / n * 1000:.1f} ms/request")
    if args.dump:
        profiler.dump_stats(args.dump)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
