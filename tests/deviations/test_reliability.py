"""Nothing half-stored, nothing sent for a write that did not happen.

The "submission" here is the reporter's confirmation (``apply_transition(action="confirm")``): it updates
the report, writes an event and queues the e-mail to the council (the receipt that a report exists).
These tests use real transactions (``transaction=True``) so ``on_commit`` behaves as in production.
"""

from unittest import mock

import psycopg
import pytest
from django.core import mail
from django.db import DatabaseError, OperationalError, connection

from deviations import notifications
from deviations.models import Deviation, DeviationEvent
from deviations.services import transitions
from deviations.workflow import Status
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def unconfirmed():
    """An unconfirmed report whose confirmation routes it to a council with a coordinator to notify."""
    municipality = factories.MunicipalityFactory()
    council = factories.CouncilFactory(municipalities=[municipality])
    coordinator = factories.UserFactory(email="samordnare@example.se")
    factories.CouncilMembershipFactory(council=council, user=coordinator)
    reporter = factories.UserFactory()
    report = factories.DeviationFactory(
        status=Status.UNCONFIRMED, municipality=municipality, council=None, reporter=reporter
    )
    return report, reporter


def confirm(report, reporter):
    return transitions.apply_transition(deviation=report, action="confirm", actor=reporter)


def assert_nothing_happened(report):
    report = Deviation.objects.get(pk=report.pk)
    assert report.status == Status.UNCONFIRMED
    assert report.submitted_at is None
    assert report.council_id is None
    assert not DeviationEvent.objects.filter(deviation=report).exists()
    assert mail.outbox == []


def test_a_successful_confirmation_commits_everything_and_sends_after_commit(unconfirmed):
    report, reporter = unconfirmed
    confirm(report, reporter)
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED
    assert DeviationEvent.objects.filter(deviation=report, action="confirm").count() == 1
    assert [m.to for m in mail.outbox] == [["samordnare@example.se"]]


def test_failure_while_writing_the_event_leaves_no_status_change(unconfirmed):
    report, reporter = unconfirmed
    with (
        mock.patch.object(transitions, "write_event", side_effect=DatabaseError("disk full")),
        pytest.raises(DatabaseError),
    ):
        confirm(report, reporter)
    assert_nothing_happened(report)


def test_failure_after_the_email_is_queued_sends_nothing(unconfirmed):
    report, reporter = unconfirmed
    real = notifications.after_transition

    def queue_then_fail(**kwargs):
        real(**kwargs)
        raise RuntimeError("failure after the e-mail was queued")

    with (
        mock.patch.object(notifications, "after_transition", side_effect=queue_then_fail),
        pytest.raises(RuntimeError),
    ):
        confirm(report, reporter)
    assert_nothing_happened(report)


def test_a_lost_connection_inside_the_transaction_leaves_nothing(unconfirmed):
    """Simulated on any database: the driver raises OperationalError mid-transaction."""
    report, reporter = unconfirmed
    with (
        mock.patch.object(
            transitions, "write_event", side_effect=OperationalError("server closed the connection")
        ),
        pytest.raises(OperationalError),
    ):
        confirm(report, reporter)
    assert_nothing_happened(report)


# --- PostgreSQL: the server really terminates the connection during the submission ---------------


def terminate(pid: int) -> None:
    """From a second connection, make PostgreSQL kill backend ``pid`` (as an admin or a crash would)."""
    params = connection.settings_dict
    with psycopg.connect(
        dbname=params["NAME"],
        user=params["USER"] or None,
        password=params["PASSWORD"] or None,
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        autocommit=True,
    ) as admin:
        # pg_terminate_backend only sends the signal; wait until the backend is really gone.
        assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", [pid]).fetchone()[0] is True


@pytest.mark.parametrize("moment", ["before_event", "before_commit"])
def test_connection_terminated_during_submission_never_gives_a_receipt_without_a_report(
    db, unconfirmed, moment
):
    """Kill the server connection either in the middle of the writes or after everything (including
    the queued e-mail) but before COMMIT. Either the confirmation fails and nothing is stored or sent,
    or it succeeded and both the report and the e-mail exist: never an e-mail without the report."""
    report, reporter = unconfirmed
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]

    real_event, real_notify = transitions.write_event, notifications.after_transition

    def event(**kwargs):
        if moment == "before_event":
            terminate(pid)
        return real_event(**kwargs)

    def notify(**kwargs):
        real_notify(**kwargs)
        if moment == "before_commit":
            terminate(pid)

    error = None
    with (
        mock.patch.object(transitions, "write_event", side_effect=event),
        mock.patch.object(notifications, "after_transition", side_effect=notify),
    ):
        try:
            confirm(report, reporter)
        except OperationalError as exc:
            error = exc

    connection.close()  # the test's own connection died with the backend; the next query reconnects
    stored = Deviation.objects.get(pk=report.pk)
    if error is not None:
        assert_nothing_happened(report)
    else:
        assert stored.status == Status.SUBMITTED
        assert DeviationEvent.objects.filter(deviation=report).exists()
    # The invariant, whichever way it went.
    assert not mail.outbox or stored.status == Status.SUBMITTED
    # With the connection killed before COMMIT, it cannot have succeeded.
    assert error is not None
