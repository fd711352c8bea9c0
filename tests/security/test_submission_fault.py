"""The database connection dies during a real submission through the reporting view (PostgreSQL).

A signed-in reporter's report is confirmed in the same transaction and the receipt e-mail is queued
with ``transaction.on_commit``. The server kills the connection (``pg_terminate_backend`` from a second
connection) either in the middle of the writes or after the receipt was queued but before COMMIT.
Whatever happens, the reporter either gets the Swedish error page and there is no report and no
receipt, or a report and a receipt: never a receipt (page or e-mail) without a report.
"""

from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from deviations.models import Deviation, DeviationEvent
from deviations.services import reporting, transitions
from tests import factories
from tests.deviations import reporting_world
from tests.deviations.test_reliability import terminate

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world():
    return reporting_world.build_world()


def signed_in_reporter(w) -> Client:
    user = factories.UserFactory(username="anna", email="anna@nacka.se", organization=w.own)
    client = Client(raise_request_exception=False)  # as in production: the 500 page, not a traceback
    client.force_login(user)
    return client


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def receipts():
    return [m for m in mail.outbox if "anna@nacka.se" in m.to]


def test_without_a_fault_the_reporter_gets_a_report_and_a_receipt(db, world):
    client = signed_in_reporter(world)
    response = client.post(
        reverse("deviations:report_form"), reporting_world.valid_post(world, reporter_email="anna@nacka.se")
    )
    assert response.status_code == 302
    deviation = Deviation.objects.get()
    assert deviation.reference in client.get(response["Location"]).text
    assert len(receipts()) == 1
    assert deviation.reference in receipts()[0].body


@pytest.mark.parametrize("moment", ["during_writes", "after_receipt_queued"])
def test_connection_killed_during_submission_never_gives_a_receipt_without_a_report(db, world, moment):
    client = signed_in_reporter(world)
    pid = backend_pid()
    real_event, real_queue_email = transitions.write_event, reporting.queue_email

    def event(**kwargs):
        if moment == "during_writes":
            terminate(pid)
        return real_event(**kwargs)

    def queue_email(**kwargs):
        real_queue_email(**kwargs)
        if moment == "after_receipt_queued" and kwargs["template"] == "receipt":
            terminate(pid)

    with (
        mock.patch.object(transitions, "write_event", side_effect=event),
        mock.patch.object(reporting, "queue_email", side_effect=queue_email),
    ):
        response = client.post(
            reverse("deviations:report_form"),
            reporting_world.valid_post(world, reporter_email="anna@nacka.se"),
        )

    connection.close()  # the test's connection died with the backend; the next query reconnects
    stored = Deviation.objects.count()
    if response.status_code == 500:
        text = response.content.decode()
        assert "Ett fel uppstod" in text  # the Swedish error page...
        assert "Traceback" not in text and "OperationalError" not in text  # ...that leaks nothing
        assert "SB-" not in text
        assert stored == 0
        assert not DeviationEvent.objects.exists()
        assert receipts() == []
    else:
        assert response.status_code == 302
        assert stored == 1 and len(receipts()) == 1
    # The invariant, whichever way it went: a receipt only for a stored report.
    assert not receipts() or stored == 1
    # The connection was killed before COMMIT, so the submission cannot have succeeded.
    assert response.status_code == 500
