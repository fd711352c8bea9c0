"""E-mail delivery as in production: tasks in the database, the worker (``db_worker``) and a real SMTP
server on 127.0.0.1 (aiosmtpd) that fails on purpose: a 4xx reply, a 5xx reply, a server that hangs
past the timeout, and a worker killed in the middle of a delivery."""

import asyncio
import datetime
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.db import connection, transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from deviations import notifications, tasks
from deviations.services import reporting
from deviations.services.contacts import correct_contact_details, erase_contact_details
from deviations.services.retention import erase_reporter_contacts, purge_unconfirmed
from deviations.workflow import Status
from tests import factories
from tests.deviations.reporting_world import build_world, service_data

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


class Handler:
    """Accepts mail, or fails the next ``fail`` deliveries with ``reply``, or first waits ``hang``
    seconds (and then refuses: a client that gave up must not get the mail delivered behind its back)."""

    def __init__(self):
        self.messages: list = []
        self.fail = 0
        self.reply = "451 4.3.0 Mailbox busy <rapportor@nacka.se>, try again later"
        self.hang = 0.0

    async def handle_DATA(self, server, session, envelope):
        if self.hang:
            await asyncio.sleep(self.hang)
            return "451 4.4.2 Too slow"
        if self.fail:
            self.fail -= 1
            return self.reply
        self.messages.append(envelope)
        return "250 2.0.0 Accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """A real SMTP server on 127.0.0.1; the app mails it through Django's SMTP backend, with the
    database task backend and a one-second timeout."""
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": controller.hostname, "port": controller.port, "timeout": 1},
        }
    }
    handler.port = controller.port
    yield handler
    controller.stop()


def run_worker():
    """The worker as deployed (the project's ``db_worker``), until the queue has nothing ready."""
    call_command("db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0)


def delivered(handler) -> list[str]:
    """The messages the server accepted, decoded: "To: …", "Subject: …" and the body."""
    messages = [email.message_from_bytes(e.content, policy=email.policy.default) for e in handler.messages]
    return [f"To: {m['To']}\nSubject: {m['Subject']}\n\n{m.get_content()}" for m in messages]


def worker_database_url() -> str:
    """This test's database, for a worker in another process."""
    db = connection.settings_dict
    user = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    if db["HOST"].startswith("/"):  # a Unix socket directory (the embedded server)
        return f"postgres://{user}@/{db['NAME']}?host={db['HOST']}"
    return f"postgres://{user}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def rows():
    return list(DBTaskResult.objects.order_by("enqueued_at"))


@pytest.fixture
def w():
    return build_world()


def file_anonymously(w, **overrides):
    deviation, _ = reporting.submit_deviation(
        data=service_data(w, **overrides), idempotency_key=uuid.uuid4(), reporter=None
    )
    return deviation


def queue(template: str, deviation, **kwargs):
    with transaction.atomic():
        notifications.queue_email(template=template, deviation=deviation, **kwargs)


def test_a_queued_mail_holds_references_only(smtp, w):
    deviation = file_anonymously(w)
    (row,) = rows()
    assert row.args_kwargs == {
        "args": [],
        "kwargs": {
            "template": "confirm_report",
            "deviation_id": deviation.pk,
            "response_request_id": None,
            "object_id": None,
            "skip_user_ids": [],
            "language": "sv",
        },
    }
    stored = str(row.args_kwargs)
    assert "@" not in stored and "http" not in stored and "nacka" not in stored.lower()
    run_worker()
    (message,) = delivered(smtp)
    assert "To: rapportor@nacka.se" in message
    assert "/rapportera/bekrafta/" in message
    (row,) = rows()
    assert row.status == TaskResultStatus.SUCCESSFUL and row.return_value == 1
    assert "@" not in str(row.args_kwargs) + str(row.return_value)


def test_the_mail_is_composed_when_sent_and_plain_text_is_not_html_escaped(smtp, w, settings):
    w.category.name = 'Vård & omsorg "utan" <samordning>'
    w.category.save()
    settings.SITE_URL = "https://samverkan.example.se/in?tenant=a&lang=sv"
    deviation = file_anonymously(w)
    run_worker()
    (message,) = delivered(smtp)
    assert 'Vård & omsorg "utan" <samordning>' in message
    assert "https://samverkan.example.se/in?tenant=a&lang=sv/rapportera/bekrafta/" in message
    assert "&amp;" not in message and "&quot;" not in message and "&lt;" not in message
    # Rendered from the database at send time: a report erased meanwhile is not mailed.
    queue("feedback", deviation)
    deviation.reporter_email = ""
    deviation.save()
    run_worker()
    assert len(delivered(smtp)) == 1
    assert rows()[-1].return_value == 0


def test_a_transient_smtp_failure_is_retried_later_and_then_delivered(smtp, w):
    smtp.fail = 1
    file_anonymously(w)
    before = timezone.now()
    run_worker()
    assert delivered(smtp) == []
    failed, retry = rows()
    assert failed.status == TaskResultStatus.FAILED
    assert failed.exception_class_path == "deviations.tasks.MailDeferred"
    assert "SMTPDataError 451" in failed.traceback
    # The server's text (which names the recipient) is not kept.
    assert "@" not in failed.traceback and "nacka" not in failed.traceback
    assert retry.status == TaskResultStatus.READY
    assert retry.args_kwargs["kwargs"] == {**failed.args_kwargs["kwargs"], "attempt": 2}
    assert before + tasks.RETRY_DELAYS[0] <= retry.run_after <= timezone.now() + tasks.RETRY_DELAYS[0]
    # Not before its time.
    run_worker()
    assert delivered(smtp) == []
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    run_worker()
    (message,) = delivered(smtp)
    assert "To: rapportor@nacka.se" in message
    retry.refresh_from_db()
    assert retry.status == TaskResultStatus.SUCCESSFUL


def test_the_backoff_grows_and_the_mail_is_given_up_after_the_last_attempt(smtp, w):
    smtp.fail = 99
    file_anonymously(w)
    for attempt, delay in enumerate(tasks.RETRY_DELAYS, start=1):
        before = timezone.now()
        run_worker()
        retry = rows()[-1]
        assert retry.args_kwargs["kwargs"]["attempt"] == attempt + 1
        assert before + delay <= retry.run_after <= timezone.now() + delay
        DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    run_worker()
    last = rows()[-1]
    assert last.status == TaskResultStatus.FAILED
    assert last.exception_class_path == "deviations.tasks.MailNotSent"
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.READY).exists()
    assert len(rows()) == len(tasks.RETRY_DELAYS) + 1
    assert delivered(smtp) == []


def test_a_permanent_refusal_is_not_retried(smtp, w):
    smtp.fail, smtp.reply = 1, "550 5.1.1 <rapportor@nacka.se>: no such user"
    file_anonymously(w)
    run_worker()
    (row,) = rows()
    assert row.status == TaskResultStatus.FAILED
    assert row.exception_class_path == "deviations.tasks.MailNotSent"
    assert "SMTPDataError 550" in row.traceback and "@" not in row.traceback


def test_a_hanging_server_times_out_and_the_mail_is_retried(smtp, w):
    smtp.hang = 5.0
    file_anonymously(w)
    started = time.monotonic()
    run_worker()
    assert time.monotonic() - started < 4  # the one-second timeout, not the server's five seconds
    failed, retry = rows()
    assert failed.exception_class_path == "deviations.tasks.MailDeferred"
    assert "Timeout" in failed.traceback or "SMTPServerDisconnected" in failed.traceback
    assert retry.status == TaskResultStatus.READY
    smtp.hang = 0
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    run_worker()
    assert len(delivered(smtp)) == 1


# --- A change's mails about one report in one row (notifications.mails_together) ---------------------


def file_signed_in(w, email="anna@nacka.se"):
    reporter = factories.UserFactory(email=email, organization=w.own)
    deviation, _ = reporting.submit_deviation(
        data=service_data(w), idempotency_key=uuid.uuid4(), reporter=reporter
    )
    return deviation


def recipients(handler) -> list[str]:
    return sorted(message.split("\n", 1)[0] for message in delivered(handler))


def test_a_signed_in_filing_queues_both_its_mails_in_one_row_and_both_are_delivered(smtp, w):
    deviation = file_signed_in(w)
    (row,) = rows()
    assert row.task_path == "deviations.tasks.send_emails"
    kwargs = row.args_kwargs["kwargs"]
    assert kwargs["deviation_id"] == deviation.pk
    assert [mail["template"] for mail in kwargs["mails"]] == ["new_report", "receipt"]
    assert "@" not in str(kwargs) and "nacka" not in str(kwargs).lower()
    run_worker()
    assert recipients(smtp) == ["To: rapportor@nacka.se", "To: samordnare@nacka.se"]
    (row,) = rows()
    assert row.status == TaskResultStatus.SUCCESSFUL and row.return_value == 2


def test_a_mail_of_the_row_that_fails_for_now_is_retried_alone(smtp, w):
    smtp.fail = 1  # the first mail of the row: the council's new-report mail
    deviation = file_signed_in(w)
    run_worker()
    assert recipients(smtp) == ["To: rapportor@nacka.se"]  # the receipt went all the same
    row, retry = rows()
    assert row.status == TaskResultStatus.SUCCESSFUL and row.return_value == 1
    assert retry.task_path == "deviations.tasks.send_email"
    new_report = row.args_kwargs["kwargs"]["mails"][0]
    assert retry.args_kwargs["kwargs"] == {**new_report, "deviation_id": deviation.pk, "attempt": 2}
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    run_worker()
    assert recipients(smtp) == ["To: rapportor@nacka.se", "To: samordnare@nacka.se"]  # each once
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.READY).exists()


def test_a_mail_of_the_row_refused_for_good_does_not_keep_the_other_from_going(smtp, w):
    smtp.fail, smtp.reply = 1, "550 5.1.1 <samordnare@nacka.se>: no such user"
    file_signed_in(w)
    run_worker()
    assert recipients(smtp) == ["To: rapportor@nacka.se"]
    (row,) = rows()
    assert row.status == TaskResultStatus.FAILED
    assert row.exception_class_path == "deviations.tasks.MailNotSent"
    assert "new_report" in row.traceback and "550" in row.traceback and "@" not in row.traceback


def test_the_row_of_a_reports_mails_goes_with_the_report(smtp, w):
    kept, purged = file_signed_in(w), file_signed_in(w, email="bo@nacka.se")
    assert tasks.delete_tasks_about([purged.pk]) == 1
    (row,) = rows()
    assert row.args_kwargs["kwargs"]["deviation_id"] == kept.pk


def test_a_task_left_running_by_a_killed_worker_is_delivered_by_the_next(smtp, w, settings):
    smtp.hang = 60.0
    file_anonymously(w)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "ENV_FILE": os.devnull,
        "DEBUG": "True",
        "DATABASE_URL": worker_database_url(),
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
        "EMAIL_TIMEOUT": "120",
    }
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay", "--batch"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).exists():
            assert worker.poll() is None, worker.stderr.read().decode()
            assert time.monotonic() < deadline, "the worker never claimed the task"
            time.sleep(0.1)
        time.sleep(0.5)  # in the middle of the SMTP conversation
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait()
    (row,) = rows()
    assert row.status == TaskResultStatus.RUNNING and delivered(smtp) == []

    # A new worker leaves a task that may still be running alone...
    smtp.hang = 0
    run_worker()
    assert delivered(smtp) == []
    # ...and takes it over once it has been running for longer than the limit.
    settings.TASKS_STALE_AFTER_SECONDS = 60
    DBTaskResult.objects.filter(pk=row.pk).update(started_at=timezone.now() - datetime.timedelta(minutes=2))
    run_worker()
    assert len(delivered(smtp)) == 1
    row.refresh_from_db()
    assert row.status == TaskResultStatus.SUCCESSFUL
    assert len(row.worker_ids) == 2


def test_a_stopping_worker_hands_back_what_it_claimed_and_did_not_start(smtp, w):
    """django-tasks-db's worker exits at once on SIGTERM when it runs no task, also right after it has
    claimed one (committed RUNNING) and before it starts it. As the project's db_worker stops, the tasks
    its id last claimed go back to the queue; another worker's stay RUNNING."""
    file_anonymously(w)
    for _copy in range(2):  # three rows of the same mail (one per worker case below)
        row = rows()[0]
        row.id, row._state.adding = uuid.uuid4(), True
        row.save()
    mine, taken_over, others = rows()
    for row, ids in ((mine, ["w1"]), (taken_over, ["w1", "w2"]), (others, ["w2"])):
        row.claim(ids[-1])
        DBTaskResult.objects.filter(pk=row.pk).update(worker_ids=ids)

    assert tasks.hand_back_claimed("w1") == 1
    statuses = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert statuses == {
        mine.pk: TaskResultStatus.READY,
        taken_over.pk: TaskResultStatus.RUNNING,
        others.pk: TaskResultStatus.RUNNING,
    }
    DBTaskResult.objects.filter(pk=mine.pk).update(status=TaskResultStatus.RUNNING)

    # The command does it as it stops: here a batch worker of id w1, which runs nothing RUNNING.
    call_command(
        "db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0, worker_id="w1"
    )
    # Handed back as it stopped (after its last look at the queue): ready for the next worker.
    assert DBTaskResult.objects.get(pk=mine.pk).status == TaskResultStatus.READY
    assert DBTaskResult.objects.get(pk=others.pk).status == TaskResultStatus.RUNNING
    run_worker()
    assert DBTaskResult.objects.get(pk=mine.pk).status == TaskResultStatus.SUCCESSFUL
    assert len(delivered(smtp)) == 1


def test_purge_and_erasure_delete_the_task_rows_about_the_reports(smtp, w, settings):
    old = timezone.now() - datetime.timedelta(days=settings.UNCONFIRMED_RETENTION_DAYS + 1)
    unconfirmed = file_anonymously(w)
    type(unconfirmed).objects.filter(pk=unconfirmed.pk).update(created_at=old)
    long_ago = timezone.now() - datetime.timedelta(days=800)
    closed = factories.DeviationFactory(
        status=Status.CLOSED,
        created_at=long_ago - datetime.timedelta(days=30),
        occurred_on=(long_ago - datetime.timedelta(days=40)).date(),
        reported_on=(long_ago - datetime.timedelta(days=30)).date(),
        closed_at=long_ago,
    )
    queue("feedback", closed)
    kept = factories.DeviationFactory()
    queue("new_report", kept)
    run_worker()
    assert len(rows()) == 3
    assert purge_unconfirmed() == 1
    assert erase_reporter_contacts() == 1
    (row,) = rows()
    assert row.args_kwargs["kwargs"]["deviation_id"] == kept.pk


def test_a_receipt_queued_before_the_contact_details_were_erased_goes_nowhere(smtp, w):
    """Erased on request while the receipt waits in the queue: the worker finds no address and sends
    nothing to the reporter; the council's mail about the same report still goes."""
    deviation = file_anonymously(w)
    run_worker()  # the confirmation link
    with transaction.atomic():
        reporting.confirm_deviation(deviation=deviation)  # queues the receipt and the council's mail
    with transaction.atomic():
        erase_contact_details(deviation=deviation, actor=w.nacka_coordinator, reason="Begäran om radering.")
    smtp.messages.clear()
    run_worker()
    recipients = [message.split("\n", 1)[0] for message in delivered(smtp)]
    assert recipients and "To: rapportor@nacka.se" not in recipients
    assert "To: samordnare@nacka.se" in recipients
    receipt = next(r for r in rows() if r.args_kwargs["kwargs"]["template"] == "receipt")
    assert (receipt.status, receipt.return_value) == (TaskResultStatus.SUCCESSFUL, 0)


def test_a_corrected_address_gets_a_new_status_link_and_the_old_one_stops_working(smtp, w, client):
    """The receipt went to a mistyped address (someone else's mailbox): once the coordinator corrects
    it, the new address gets a link of its own and the one in the stranger's mailbox shows nothing."""
    deviation = file_anonymously(w)
    with transaction.atomic():
        deviation = reporting.confirm_deviation(deviation=deviation)
    run_worker()
    (receipt,) = [m for m in delivered(smtp) if m.startswith("To: rapportor@nacka.se\nSubject: Kvitto")]
    old_link = next(line for line in receipt.splitlines() if "/status/" in line)
    assert client.get(old_link).status_code == 200
    smtp.messages.clear()

    with transaction.atomic():
        correct_contact_details(
            deviation=deviation,
            actor=w.nacka_coordinator,
            reason="Felskriven adress i rapporten.",
            reporter_email="ratt.adress@nacka.se",
        )
    run_worker()

    (mail,) = delivered(smtp)
    assert mail.startswith(
        f"To: ratt.adress@nacka.se\nSubject: Ny länk till din rapport {deviation.reference}"
    )
    new_link = next(line for line in mail.splitlines() if "/status/" in line)
    assert new_link != old_link
    assert client.get(new_link).status_code == 200
    response = client.get(old_link)
    assert response.status_code == 404
    assert deviation.reference not in response.text


def test_the_daily_prune_deletes_finished_rows(smtp, w):
    file_anonymously(w)
    smtp.fail = 1
    file_anonymously(w, reporter_email="annan@nacka.se")
    run_worker()
    assert {r.status for r in rows()} == {
        TaskResultStatus.SUCCESSFUL,
        TaskResultStatus.FAILED,
        TaskResultStatus.READY,
    }
    DBTaskResult.objects.exclude(status=TaskResultStatus.READY).update(
        finished_at=timezone.now() - datetime.timedelta(days=8)
    )
    # As in the README's daily jobs.
    call_command("prune_db_task_results", queue_name="*", min_age_days=7, verbosity=0)
    (row,) = rows()
    assert row.status == TaskResultStatus.READY


def test_a_running_worker_looks_for_stale_tasks_every_interval(smtp, w, settings):
    """Not only at start: the worker's background thread hands stale tasks back while it runs."""
    import threading

    from deviations.management.commands import db_worker

    file_anonymously(w)
    DBTaskResult.objects.update(
        status=TaskResultStatus.RUNNING, started_at=timezone.now() - datetime.timedelta(hours=1)
    )
    settings.TASKS_STALE_AFTER_SECONDS = 60
    stop = threading.Event()
    thread = threading.Thread(
        target=db_worker.every, args=(0.05, db_worker.requeue_stale_tasks, "requeue-stale", stop), daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).exists():
            assert time.monotonic() < deadline, "the thread never requeued the task"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join()
    (row,) = rows()
    assert row.status == TaskResultStatus.READY and row.started_at is None


def test_the_upgrade_deletes_task_rows_that_hold_mail_bodies(smtp, w):
    """Rows queued before mails became references (subject, body, addresses) are deleted by migration
    0009; reference rows and other tasks stay."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("deviations.migrations.0011_delete_email_tasks_with_bodies")
    common = {
        "task_path": "deviations.tasks.send_email",
        "backend_name": "default",
        "run_after": timezone.now(),
    }
    DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {"subject": "Kvitto", "body": "länk", "to": ["a@nacka.se"]}},
        **common,
    )
    deviation = file_anonymously(w)
    migration.delete_tasks_with_bodies(apps, None)
    (row,) = rows()
    assert row.args_kwargs["kwargs"]["deviation_id"] == deviation.pk
