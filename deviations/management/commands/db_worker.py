"""``manage.py db_worker``: django-tasks-db's worker, which also hands back tasks a crashed worker left
RUNNING (``deviations.tasks.requeue_stale_tasks``): once at start, then every
``STALE_CHECK_INTERVAL`` seconds from a background thread while it runs.

It replaces the library's command of the same name (Django lets an app listed before another in
``INSTALLED_APPS`` override its commands), so every way the worker is started (``dev.py run``, docker
compose, a systemd unit) gets the recovery. Options are the library's.
"""

import logging
import os
import threading

from django.db import connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from deviations.tasks import requeue_stale_tasks

logger = logging.getLogger(__name__)

#: Seconds between two looks for stale tasks while the worker runs.
STALE_CHECK_INTERVAL = 60


def _keep_requeueing(stop: threading.Event) -> None:
    while not stop.wait(STALE_CHECK_INTERVAL):
        try:
            requeue_stale_tasks()
        except Exception:  # the database may be away for a moment; the next round tries again
            logger.exception("looking for stale tasks failed")
        finally:
            connections.close_all()  # this thread's own connections


class Command(db_worker.Command):
    help = (
        "Run the database background worker. Tasks left running by a stopped worker are queued again "
        "(at start, then every minute)."
    )

    def handle(self, **options):
        # With --reload the command runs twice: in the watching parent and in the child that works.
        if not options["reload"] or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
            requeue_stale_tasks()
            if not options["batch"]:
                threading.Thread(
                    target=_keep_requeueing, args=(threading.Event(),), name="requeue-stale", daemon=True
                ).start()
        super().handle(**options)
