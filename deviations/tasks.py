"""Background tasks (Django's tasks framework; the database-backed worker, django-tasks-db, runs them).

E-mail tasks hold references only: the message kind, the report (and response request) ids and the
language. The mail is composed when it is sent (``notifications.message_for``), so the task table
never holds an address, a body or a signed link. What the library leaves to us:

- **Retries**: a transient SMTP failure (a 4xx reply, a refused, dropped or timed-out connection) is
  tried again later, after each of ``RETRY_DELAYS`` (the task queues its next attempt with
  ``run_after``); a permanent failure (5xx) or the last attempt fails the task. Failures are recorded
  as the SMTP code only: a server's reply text can echo the recipient's address.
- **Stale claims**: a task a crashed worker left RUNNING is handed back to the queue after
  ``TASKS_STALE_AFTER_SECONDS`` (``requeue_stale_tasks``, run by the ``db_worker`` command at start
  and every minute).
- **Pruning**: finished rows are deleted by the library's ``prune_db_task_results`` (daily, README);
  the rows about a report go with it when it is purged (``delete_tasks_about``).
"""

import datetime
import logging
import smtplib

from django.conf import settings
from django.tasks import TaskResultStatus, task
from django.utils import timezone

logger = logging.getLogger(__name__)

#: How long to wait before attempts 2, 3, …: six attempts over about five and a half hours. A
#: confirmation link is made when the mail is sent, so a late one is still valid for its full time.
RETRY_DELAYS = (
    datetime.timedelta(minutes=1),
    datetime.timedelta(minutes=5),
    datetime.timedelta(minutes=15),
    datetime.timedelta(hours=1),
    datetime.timedelta(hours=4),
)


class MailDeferred(Exception):
    """The SMTP server failed transiently; the next attempt is queued."""


class MailNotSent(Exception):
    """The SMTP server refused the mail for good, or the last attempt failed."""


def smtp_failure(exc: Exception) -> tuple[bool, str] | None:
    """``(transient, description)`` for an SMTP or connection failure, ``None`` for anything else. The
    description names the error class and SMTP code, never the server's text."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _text in exc.recipients.values()})
        return all(400 <= code < 500 for code in codes), f"{type(exc).__name__} {codes}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return not 500 <= exc.smtp_code < 600, f"{type(exc).__name__} {exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
        return True, type(exc).__name__
    if isinstance(exc, smtplib.SMTPException):
        return False, type(exc).__name__
    return None


@task()
def send_email(
    *,
    template: str,
    deviation_id: int | None = None,
    response_request_id: int | None = None,
    object_id: int | None = None,
    skip_user_ids: list[int] | None = None,
    language: str = "sv",
    attempt: int = 1,
) -> int:
    """Compose and send one queued mail (``notifications.MESSAGES[template]``); returns how many were
    sent (0 when there is nobody to tell any more). ``object_id``: the systemic action or the user a
    mail that is not about a report is about; ``skip_user_ids``: users who get it in their digest."""
    from .notifications import message_for

    reference = {
        "template": template,
        "deviation_id": deviation_id,
        "response_request_id": response_request_id,
        "object_id": object_id,
        "skip_user_ids": skip_user_ids,
        "language": language,
    }
    message = message_for(**reference)
    if message is None:
        return 0
    return deliver(
        message,
        task=send_email,
        reference=reference,
        attempt=attempt,
        what=f"{template} mail about {deviation_id or object_id}",
    )


@task()
def send_emails(*, deviation_id: int, mails: list[dict]) -> int:
    """Several mails about the report ``deviation_id`` queued by one change in one row
    (``notifications.mails_together``: a filing's receipt and new-report mail). Each is sent as
    ``send_email`` sends it, in order, every one tried whatever happened to the others; one that fails
    transiently is queued again on its own (``send_email``, attempt 2: a retry never repeats the mails
    that went). Returns how many were sent; raises ``MailNotSent`` when one was refused for good, and an
    unexpected error after trying the rest."""
    sent, refused, errors = 0, [], []
    for reference in mails:
        try:
            sent += send_email.call(deviation_id=deviation_id, **reference)
        except MailDeferred:
            continue
        except MailNotSent as exc:
            refused.append(f"{reference['template']}: {exc}")
        except Exception as exc:  # noqa: BLE001 - the other mails still go; raised below
            errors.append(exc)
    if errors:
        raise errors[0]
    if refused:
        raise MailNotSent("; ".join(refused))
    return sent


def deliver(message, *, task, reference: dict, attempt: int, what: str) -> int:
    """Send ``message`` (attempt ``attempt`` of the mail ``task`` was queued for with ``reference``).
    A transient SMTP failure queues ``task`` again with the same reference after the next of
    ``RETRY_DELAYS`` and raises ``MailDeferred``; a permanent one, or the last attempt, raises
    ``MailNotSent``. Other errors propagate."""
    try:
        return message.send()
    except Exception as exc:
        failure = smtp_failure(exc)
        if failure is None:
            raise
        transient, description = failure
    where = f"{what}, attempt {attempt}"
    if not transient or attempt > len(RETRY_DELAYS) or not task.get_backend().supports_defer:
        logger.error("%s failed: %s; not sent", where, description)
        raise MailNotSent(f"{description} (attempt {attempt})")
    run_after = timezone.now() + RETRY_DELAYS[attempt - 1]
    task.using(run_after=run_after).enqueue(**reference, attempt=attempt + 1)
    logger.warning("%s failed: %s; next attempt at %s", where, description, run_after.isoformat())
    raise MailDeferred(f"{description} (attempt {attempt}; next at {run_after.isoformat()})")


def requeue_stale_tasks(*, now: datetime.datetime | None = None) -> int:
    """Hand tasks left RUNNING by a worker that died (killed, out of memory, the machine restarted)
    back to the queue: any task RUNNING for longer than ``TASKS_STALE_AFTER_SECONDS``. Returns how many.

    Time is the only sign of a dead worker the library keeps, so the limit must exceed the longest
    task (an e-mail takes a few SMTP round trips of at most ``EMAIL_TIMEOUT`` each). A task that was
    in fact still running is then run twice: delivery is at least once."""
    from django_tasks_db.models import DBTaskResult

    cutoff = (now or timezone.now()) - datetime.timedelta(seconds=settings.TASKS_STALE_AFTER_SECONDS)
    return _requeue(DBTaskResult.objects.filter(started_at__lt=cutoff), "left running by a stopped worker")


def _requeue(tasks, why: str) -> int:
    """Put the RUNNING ones of ``tasks`` back in the queue (READY), logging how many and ``why``."""
    count = tasks.running().update(status=TaskResultStatus.READY, started_at=None)
    if count:
        logger.warning("requeued %d task(s) %s", count, why)
    return count


def hand_back_claimed(worker_id: str) -> int:
    """Hand back to the queue the tasks the worker ``worker_id`` claimed and is not running, as it stops
    (``db_worker``). django-tasks-db's worker exits at once on SIGTERM when it is not running a task, and
    that includes the moment after it has claimed one (committed RUNNING) and before it starts it: the
    task would wait ``TASKS_STALE_AFTER_SECONDS`` for ``requeue_stale_tasks`` (seen in the cluster test,
    a worker stopped mid-filing). A worker id is unique to one running worker (the library's rule), and
    a stopping worker runs nothing, so its RUNNING tasks are such tasks. Returns how many."""
    from django_tasks_db.models import DBTaskResult

    # The last of its claims (JSON array index -1: PostgreSQL's ``worker_ids -> -1``).
    return _requeue(
        DBTaskResult.objects.filter(**{"worker_ids__-1": worker_id}),
        "claimed but not started by a stopping worker",
    )


def delete_tasks_about(deviation_ids) -> int:
    """Delete every e-mail task row, queued or finished, about the reports ``deviation_ids`` (a list or a
    ``values("pk")`` queryset; ``send_email``'s and ``send_emails``' rows); returns how many."""
    from django.db.models import BigIntegerField
    from django.db.models.fields.json import KT
    from django.db.models.functions import Cast
    from django_tasks_db.models import DBTaskResult

    deleted, _per_model = (
        DBTaskResult.objects.filter(task_path__in=[send_email.module_path, send_emails.module_path])
        .alias(deviation_id=Cast(KT("args_kwargs__kwargs__deviation_id"), BigIntegerField()))
        .filter(deviation_id__in=deviation_ids)
        .delete()
    )
    return deleted
