"""``manage.py db_worker``: django-tasks-db's worker, which also, from background threads while it runs,

- hands back tasks a crashed worker left RUNNING (``deviations.tasks.requeue_stale_tasks``): once at
  start, then every ``STALE_CHECK_INTERVAL`` seconds; and, as it stops, the tasks it claimed and did not
  start (``deviations.tasks.hand_back_claimed``: a SIGTERM between the claim and the start);
- adds the follow-up summary's pending changes to it (``deviations.summary.fold``) every
  ``FOLLOWUP_FOLD_INTERVAL`` seconds (setting). With several workers each tries; one folds at a time.

It replaces the library's command of the same name (Django lets an app listed before another in
``INSTALLED_APPS`` override its commands), so every way the worker is started (``dev.py run``, docker
compose, a systemd unit) gets the recovery. Options are the library's.
"""

import logging
import os
import threading

from django.conf import settings
from django.db import connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from deviations import summary
from deviations.tasks import hand_back_claimed, requeue_stale_tasks

logger = logging.getLogger(__name__)

#: Seconds between two looks for stale tasks while the worker runs.
STALE_CHECK_INTERVAL = 60


def every(interval: float, job, what: str, stop: threading.Event) -> None:
    """Run ``job`` every ``interval`` seconds until ``stop`` is set."""
    while not stop.wait(interval):
        try:
            job()
        except Exception:  # the database may be away for a moment; the next round tries again
            logger.exception("%s failed", what)
        finally:
            connections.close_all()  # this thread's own connections


def _start(interval: float, job, what: str) -> None:
    threading.Thread(
        target=every, args=(interval, job, what, threading.Event()), name=what, daemon=True
    ).start()


class Command(db_worker.Command):
    help = (
        "Run the database background worker. Tasks left running by a stopped worker are queued again "
        "(at start, then every minute); the follow-up summary's pending changes are added to it every "
        "few seconds."
    )

    def handle(self, **options):
        # With --reload the command runs twice: in the watching parent and in the child that works.
        if not options["reload"] or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
            requeue_stale_tasks()
            if not options["batch"]:
                _start(STALE_CHECK_INTERVAL, requeue_stale_tasks, "requeue-stale")
                _start(settings.FOLLOWUP_FOLD_INTERVAL, summary.fold, "fold-followup-summary")
        try:
            super().handle(**options)
        finally:
            try:
                hand_back_claimed(options["worker_id"])
            except Exception:  # the database may be away (why the worker was stopped): the stale check
                logger.exception("handing back claimed tasks failed")
        if options["batch"]:  # run until the queue is empty: leave nothing pending either
            summary.fold()
