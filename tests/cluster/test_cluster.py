"""The deployment shape of the README's "Several nodes", proven with the real components on 127.0.0.1
(bench/cluster.py): PostgreSQL primary and streaming replica, PgBouncer in transaction mode, two
gunicorn nodes behind HAProxy, two task workers and an SMTP server.

Not part of the ordinary suite (marker ``cluster``); .ci/run runs it as a step of its own:
``.venv/bin/python -m pytest -m cluster tests/cluster``. The tests share one cluster and run in order.
"""

import collections
import io
import json
import signal
import threading
import time
import uuid

import openpyxl
import pytest

from bench.cluster import Browser, Cluster, wait_for

pytestmark = pytest.mark.cluster

FORM = "/rapportera/formular/"
SENT = "/rapportera/skickad/"
PASSWORD = "samverkan-demo-2026"
COORDINATOR = "regional"  # seed_demo's regional coordinator
FILING_SECONDS = 16
CLIENTS = 6


@pytest.fixture(scope="module")
def cluster(request):
    # A SIGTERM (CI's time limit) unwinds like Ctrl-C, so the cluster is still stopped.
    def terminate(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    with Cluster(log=lambda line: print(line, flush=True)) as running:
        try:
            yield running
        finally:
            signal.signal(signal.SIGTERM, previous)
            if request.session.testsfailed:
                for name in running.processes:
                    print(f"--- {name}.log\n{running.tail(name)}")


@pytest.fixture(scope="module")
def report_fields(cluster) -> dict:
    """A valid combination of choices for the report form, from the seeded reference data."""
    script = """
import datetime, json
from agreements.models import Agreement, EmailDomain, Organization
from councils.models import Municipality
today = datetime.date.today()
agreement = next(a for a in Agreement.objects.filter(active=True) if a.is_valid_on(today))
category = agreement.categories.filter(active=True).first()
domain = EmailDomain.objects.filter(organization__active=True).select_related("organization").first()
counterpart = Organization.objects.filter(active=True).exclude(pk=domain.organization_id).first()
municipality = next(m for m in Municipality.objects.all() if not m.districts.exists())
print(json.dumps({
    "agreement": agreement.pk, "category": category.pk, "municipality": municipality.pk,
    "reporting_organization": domain.organization_id, "counterpart_organizations": counterpart.pk,
    "domain": domain.domain.lower(),
}))
"""
    return json.loads(cluster.manage("shell", "-c", script).strip().splitlines()[-1])


def report_data(fields: dict, *, key: str, email: str, token: str) -> dict:
    return {
        "csrfmiddlewaretoken": token,
        "idempotency_key": key,
        "concerns_child": "no",
        "occurred_on": time.strftime("%Y-%m-%d", time.localtime(time.time() - 2 * 86400)),
        "agreement": fields["agreement"],
        "commitment": "",
        "category": fields["category"],
        "municipality": fields["municipality"],
        "district": "",
        "reporting_organization": fields["reporting_organization"],
        "counterpart_organizations": fields["counterpart_organizations"],
        "description": "Klustertest: ingen kallelse till samordnad individuell plan trots begäran.",
        "consequence": "Planeringen försenades en vecka.",
        "actions_taken": "",
        "suggested_improvement": "",
        "sip_involved": "yes",
        "discharge_involved": "no",
        "reporter_name": "Klustertestare",
        "reporter_email": email,
        "reporter_phone": "",
    }


class Filer:
    """A reporter filing reports one after another through the balancer, each retried with the same
    idempotency key until it is acknowledged (the redirect to the "sent" page)."""

    def __init__(self, cluster, fields, number: int, *, attempts: int = 40):
        self.browser = Browser(cluster.ports["haproxy"], timeout=20)
        self.fields = fields
        self.number = number
        self.attempts = attempts
        self.token = None
        self.acknowledged: list[dict] = []
        self.given_up: list[str] = []
        self.failures: collections.Counter = collections.Counter()

    def file_one(self, serial: int) -> bool:
        key = str(uuid.uuid4())
        email = f"kluster-{self.number}-{serial}@{self.fields['domain']}"
        for attempt in range(self.attempts):
            try:
                if self.token is None:
                    self.token = self.browser.csrf_token(FORM)
                status, headers, _ = self.browser.post(
                    FORM, report_data(self.fields, key=key, email=email, token=self.token)
                )
            except Exception as exc:  # connection refused or reset, a 502/503 page
                status, headers = type(exc).__name__, {}
            if status == 302 and headers.get("location", "").endswith(SENT):
                self.acknowledged.append({"key": key, "email": email, "first_try": attempt == 0})
                return True
            self.failures[status] += 1
            if status == 403:
                self.token = None
            time.sleep(0.1)
        self.given_up.append(key)
        return False

    def run_until(self, deadline: float):
        serial = 0
        while time.monotonic() < deadline:
            self.file_one(serial)
            serial += 1


def test_filing_survives_a_killed_web_node_and_a_stopped_worker(cluster, report_fields):
    assert cluster.backends_up() == set(cluster.node_names)
    filers = [Filer(cluster, report_fields, number) for number in range(CLIENTS)]
    deadline = time.monotonic() + FILING_SECONDS
    threads = [threading.Thread(target=f.run_until, args=(deadline,)) for f in filers]
    for thread in threads:
        thread.start()
    time.sleep(3)
    cluster.kill("node1", signal.SIGKILL)  # mid-request: its clients see errors and retry
    time.sleep(2)
    cluster.kill("worker1", signal.SIGTERM)  # finishes the mail it is sending, then stops
    time.sleep(3)
    cluster.start_node("node1")
    cluster.start_worker("worker1")  # as its supervisor would
    for thread in threads:
        thread.join(timeout=FILING_SECONDS + 120)
    acknowledged = [report for f in filers for report in f.acknowledged]
    failures = sum((f.failures for f in filers), collections.Counter())
    print(f"filed {len(acknowledged)} reports acknowledged; failed attempts retried: {dict(failures)}")
    assert not [key for f in filers for key in f.given_up]
    assert len(acknowledged) > 50
    wait_for(lambda: cluster.backends_up() == set(cluster.node_names), timeout=20, what="node1 back up")

    # Every acknowledged report exists exactly once, on the primary and on the replica.
    keys = [report["key"] for report in acknowledged]
    count_sql = (
        "SELECT idempotency_key::text, count(*) FROM deviations_deviation "
        "WHERE idempotency_key = ANY(%s::uuid[]) GROUP BY 1"
    )
    on_primary = dict(cluster.sql("primary", count_sql, [keys]))
    assert on_primary == dict.fromkeys(keys, 1)
    wait_for(cluster.replica_caught_up, timeout=30, what="the replica to replay the filing")
    assert dict(cluster.sql("replica", count_sql, [keys])) == on_primary

    # Every queued mail is sent exactly once (the remaining worker takes the stopped one's share).
    def queue_drained():
        return not cluster.sql(
            "primary", "SELECT 1 FROM django_tasks_database_dbtaskresult WHERE status IN ('READY', 'RUNNING')"
        )

    def statuses():
        return dict(
            cluster.sql(
                "primary", "SELECT status, count(*) FROM django_tasks_database_dbtaskresult GROUP BY 1"
            )
        )

    try:
        wait_for(queue_drained, timeout=90, what="the workers to send every mail")
    finally:
        print(f"tasks: {statuses()}")
    statuses = statuses()
    assert set(statuses) == {"SUCCESSFUL"}, statuses
    sent = cluster.mail.count_by_recipient()
    # Tasks hold references only (deviations.notifications): the address of each confirmation mail is
    # the report's, looked up as the worker did.
    queued = {}
    for (address,) in cluster.sql(
        "primary",
        "SELECT lower(d.reporter_email) FROM django_tasks_database_dbtaskresult t "
        "JOIN deviations_deviation d ON d.id = (t.args_kwargs->'kwargs'->>'deviation_id')::bigint "
        "WHERE t.args_kwargs->'kwargs'->>'template' = 'confirm_report'",
    ):
        queued[address] = queued.get(address, 0) + 1
    assert sent == queued
    # One confirmation mail per acknowledged report, also for a report whose first attempt went
    # unanswered (its node killed) and whose retry found it filed: the mail is queued in the report's
    # own transaction (deviations.notifications), so a stored report never lacks it.
    missing = [r for r in acknowledged if sent.get(r["email"].lower(), 0) != 1]
    assert missing == []
    retried = sum(not r["first_try"] for r in acknowledged)
    print(f"{sum(sent.values())} mails sent once each; {retried} reports acknowledged on a retry")

    # The follow-up summary: the workers (one of them stopped and started again meanwhile) folded every
    # filing's pending rows into it, each once: it equals a recount from the reports.
    from deviations import summary

    def folded():
        return not cluster.sql("primary", "SELECT 1 FROM deviations_followuppending LIMIT 1")

    wait_for(folded, timeout=30, what="the workers to fold the follow-up summary")
    recounted = {
        tuple(row[:8]): tuple(row[8:])
        for row in cluster.sql("primary", *summary.recount_statement())
        if tuple(row[8:]) != (0, 0)
    }
    stored = {
        tuple(row[:8]): tuple(row[8:])
        for row in cluster.sql(
            "primary",
            f"SELECT {summary.CONFLICT}, n, seconds FROM deviations_followupsummary "
            "WHERE n <> 0 OR seconds <> 0",
        )
    }
    assert stored == recounted


def signed_in(cluster) -> Browser:
    browser = Browser(cluster.ports["haproxy"])
    browser.sign_in(COORDINATOR, PASSWORD)
    return browser


def wait_out_the_pin(browser: Browser):
    """Signing in wrote the session: the browser reads from the primary for the pin (lag bound 2 s +
    health answer 1 s in the cluster's settings)."""
    assert "sb_primary" in browser.cookies
    time.sleep(3.2)
    browser.cookies.pop("sb_primary", None)


def replica_transactions(cluster) -> int:
    return cluster.sql(
        "replica", "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
    )[0][0]


FOLLOWUP = "/uppfoljning/"
EXPORT = "/uppfoljning/export/rapporter.csv"


def test_followup_and_export_are_read_from_the_replica(cluster):
    browser = signed_in(cluster)
    status, headers, _ = browser.get(FOLLOWUP)
    assert status == 200 and headers["x-database-alias"] == "default"  # just signed in: pinned
    wait_out_the_pin(browser)
    before = replica_transactions(cluster)
    status, headers, body = browser.get(FOLLOWUP)
    assert status == 200 and headers["x-database-alias"] == "replica"
    status, headers, body = browser.get(EXPORT)
    assert status == 200 and headers["x-database-alias"] == "replica"
    assert body.decode().count("\n") >= 2
    # The replica's own statistics saw the reads (pg_stat_database is reported with a delay).
    wait_for(lambda: replica_transactions(cluster) > before, timeout=5, what="replica statistics")
    # The queue is not a replica page.
    assert browser.get("/arenden/")[1]["x-database-alias"] == "default"
    # Its XLSX export reads the primary through PgBouncer in transaction mode, where Django's own
    # server-side cursors are off: the export's cursor lives in a transaction of its own.
    status, headers, body = browser.get("/arenden/export/xlsx/?status=closed&status=rejected")
    assert status == 200 and headers["x-database-alias"] == "default"
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    assert sheet.cell(row=1, column=1).value == "Referensnummer" and sheet.max_row >= 2


def test_settings_hold_through_pgbouncer(cluster):
    assert cluster.sql("pgbouncer", "SHOW jit") == [("off",)]
    assert cluster.sql("pgbouncer", "SHOW plan_cache_mode") == [("force_custom_plan",)]


def test_a_lagging_replica_is_left_for_the_primary_until_it_catches_up(cluster):
    browser = signed_in(cluster)
    wait_out_the_pin(browser)
    cluster.sql("replica", "SELECT pg_wal_replay_pause()")
    try:
        # Something to replay: the primary moves on, the replica does not.
        cluster.sql("primary", "CREATE TABLE IF NOT EXISTS cluster_lag (at timestamptz)")
        cluster.sql("primary", "INSERT INTO cluster_lag VALUES (now())")
        wait_for(
            lambda: browser.get(FOLLOWUP)[1]["x-database-alias"] == "default",
            timeout=15,
            interval=0.5,
            what="the follow-up to leave the lagging replica",
        )
    finally:
        cluster.sql("replica", "SELECT pg_wal_replay_resume()")
    wait_for(
        lambda: browser.get(FOLLOWUP)[1]["x-database-alias"] == "replica",
        timeout=15,
        interval=0.5,
        what="the follow-up to return to the replica",
    )


def measure(scenario, states: list, *, seconds: float) -> float:
    """Requests per second through the balancer, one thread per state (a signed-in browser, a
    reporter), started together after their setup."""
    done = [0] * len(states)
    failed = [0] * len(states)
    barrier = threading.Barrier(len(states) + 1)

    def client(index):
        barrier.wait()
        while time.monotonic() < deadline:
            if scenario.once(states[index]):
                done[index] += 1
            else:
                failed[index] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(states))]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    deadline = started + seconds
    barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    # Nothing should fail; a loaded shared machine may make a health check late now and then.
    assert sum(failed) <= 0.02 * sum(done), (sum(failed), sum(done))
    return sum(done) / elapsed


class QueuePages:
    def __init__(self, cluster):
        self.cluster = cluster

    def setup(self):
        return signed_in(self.cluster)

    def once(self, browser):
        return browser.get("/arenden/")[0] == 200


class Filing:
    def __init__(self, cluster, fields):
        self.cluster = cluster
        self.fields = fields
        self.numbers = iter(range(100, 10_000))

    def setup(self):
        return Filer(self.cluster, self.fields, next(self.numbers), attempts=1)

    def once(self, filer):
        return filer.file_one(len(filer.acknowledged))


def test_throughput_of_one_node_and_of_two(cluster, report_fields):
    """Printed, not asserted: on this 2-core machine every process shares the same cores."""
    scenarios = {"filing": Filing(cluster, report_fields), "queue": QueuePages(cluster)}
    results = {}
    for name, scenario in scenarios.items():
        states = [scenario.setup() for _ in range(CLIENTS)]
        measure(scenario, states, seconds=1)  # warm up both nodes
        cluster.haproxy_command("disable server nodes/node2")
        try:
            one = measure(scenario, states, seconds=6)
        finally:
            cluster.haproxy_command("enable server nodes/node2")
        two = measure(scenario, states, seconds=6)
        results[name] = (one, two)
        print(f"{name}: one node {one:.1f}/s, two nodes {two:.1f}/s, ratio {two / one:.2f}")
    assert all(one > 0 and two > 0 for one, two in results.values())


def test_reads_fall_back_to_the_primary_when_the_replica_is_stopped(cluster):
    browser = signed_in(cluster)
    wait_out_the_pin(browser)
    assert browser.get(FOLLOWUP)[1]["x-database-alias"] == "replica"
    cluster.stop_postgres("replica")
    for _ in range(4):  # every worker process of both nodes finds out on its own
        status, headers, _ = browser.get(FOLLOWUP)
        assert status == 200 and headers["x-database-alias"] == "default"
        status, headers, body = browser.get(EXPORT)
        assert status == 200 and headers["x-database-alias"] == "default"
        assert body.decode().count("\n") >= 2
