"""Reporter contact details are erased N months after a report is closed; counts only are logged."""

import datetime
import json
import logging
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from deviations.models import Deviation, DeviationEvent
from deviations.services.retention import erase_reporter_contacts, months_before
from deviations.workflow import Status
from tests import factories

pytestmark = pytest.mark.django_db

CONTACT = {
    "reporter_name": "Anna Andersson",
    "reporter_email": "anna@example.se",
    "reporter_phone": "070-1234567",
}


def closed_report(*, days_ago: int, status=Status.CLOSED, **kwargs):
    closed_at = timezone.now() - datetime.timedelta(days=days_ago)
    return factories.DeviationFactory(
        status=status,
        created_at=closed_at - datetime.timedelta(days=30),
        occurred_on=(closed_at - datetime.timedelta(days=40)).date(),
        reported_on=(closed_at - datetime.timedelta(days=30)).date(),
        closed_at=closed_at,
        **{**CONTACT, **kwargs},
    )


def erased(report) -> bool:
    report.refresh_from_db()
    return (
        report.reporter_name == report.reporter_email == report.reporter_phone == ""
        and report.contact_erased_at is not None
    )


def test_contacts_of_reports_closed_long_ago_are_erased(settings):
    settings.CONTACT_RETENTION_MONTHS = 12
    old_closed = closed_report(days_ago=400)
    old_rejected = closed_report(days_ago=400, status=Status.REJECTED)
    recent = closed_report(days_ago=300)
    open_old = factories.DeviationFactory(
        status=Status.TRIAGE,
        created_at=timezone.now() - datetime.timedelta(days=500),
        occurred_on=timezone.localdate() - datetime.timedelta(days=510),
        reported_on=timezone.localdate() - datetime.timedelta(days=500),
        **CONTACT,
    )
    assert erase_reporter_contacts() == 2
    assert erased(old_closed)
    assert erased(old_rejected)
    assert not erased(recent)
    assert not erased(open_old)
    recent.refresh_from_db()
    assert recent.reporter_email == "anna@example.se"


def test_time_travel_erases_a_report_once_its_time_has_come(settings):
    settings.CONTACT_RETENTION_MONTHS = 12
    report = closed_report(days_ago=1)
    assert erase_reporter_contacts() == 0
    assert erase_reporter_contacts(now=timezone.now() + datetime.timedelta(days=360)) == 0
    assert not erased(report)
    a_year_and_a_bit_later = timezone.now() + datetime.timedelta(days=370)
    assert erase_reporter_contacts(now=a_year_and_a_bit_later) == 1
    assert erased(report)
    report.refresh_from_db()
    assert report.contact_erased_at == a_year_and_a_bit_later


def test_running_twice_is_harmless(settings):
    settings.CONTACT_RETENTION_MONTHS = 12
    report = closed_report(days_ago=400)
    assert erase_reporter_contacts() == 1
    report.refresh_from_db()
    first_erased_at = report.contact_erased_at
    assert erase_reporter_contacts() == 0
    report.refresh_from_db()
    assert report.contact_erased_at == first_erased_at


def test_each_report_that_held_a_detail_gets_an_event_naming_the_fields_never_the_values(settings):
    settings.CONTACT_RETENTION_MONTHS = 12
    full = closed_report(days_ago=400)
    email_only = closed_report(days_ago=400, reporter_name="", reporter_phone="")
    nothing = closed_report(days_ago=400, reporter_name="", reporter_email="", reporter_phone="")
    assert erase_reporter_contacts() == 3
    events = DeviationEvent.objects.filter(action="erase_contact")
    assert {(e.deviation_id, e.kind, e.actor_id, e.actor_label, e.text) for e in events} == {
        (full.pk, DeviationEvent.Kind.REDACTION, None, "system", ""),
        (email_only.pk, DeviationEvent.Kind.REDACTION, None, "system", ""),
    }
    by_report = {e.deviation_id: e for e in events}
    assert [f["field"] for f in by_report[full.pk].details["fields"]] == list(CONTACT)
    assert by_report[email_only.pk].details == {
        "fields": [{"object": "deviation", "id": email_only.pk, "field": "reporter_email"}]
    }
    full.refresh_from_db()
    assert by_report[full.pk].created_at == full.contact_erased_at
    assert not any(value in json.dumps(e.details) for e in events for value in CONTACT.values())
    assert erased(nothing)
    assert erase_reporter_contacts() == 0
    assert events.count() == 2


def test_the_events_are_written_in_one_statement_however_many_reports(settings, django_assert_num_queries):
    settings.CONTACT_RETENTION_MONTHS = 12
    closed_report(days_ago=400)
    with django_assert_num_queries(6) as one:
        erase_reporter_contacts()
    for _ in range(5):
        closed_report(days_ago=400)
    with django_assert_num_queries(6) as five:
        assert erase_reporter_contacts() == 5
    assert sum("INSERT" in q["sql"] for q in five.captured_queries) == 1
    assert len(one.captured_queries) == len(five.captured_queries)


def test_retention_setting_is_respected(settings):
    report = closed_report(days_ago=100)
    settings.CONTACT_RETENTION_MONTHS = 6
    assert erase_reporter_contacts() == 0
    settings.CONTACT_RETENTION_MONTHS = 3
    assert erase_reporter_contacts() == 1
    assert erased(report)


def test_the_rest_of_the_report_and_the_reporter_account_stay(settings):
    settings.CONTACT_RETENTION_MONTHS = 12
    reporter = factories.UserFactory()
    report = closed_report(days_ago=400, reporter=reporter)
    erase_reporter_contacts()
    report.refresh_from_db()
    assert report.reporter == reporter
    assert report.description
    assert report.status == Status.CLOSED


def test_command_reports_and_logs_counts_only(settings, caplog):
    settings.CONTACT_RETENTION_MONTHS = 12
    closed_report(days_ago=400, reference="SB-2025-00001")
    caplog.set_level(logging.INFO)
    out = StringIO()
    call_command("erase_reporter_contacts", stdout=out)
    assert out.getvalue().strip() == "erased=1"
    text = out.getvalue() + caplog.text
    for value in (*CONTACT.values(), "SB-2025-00001"):
        assert value not in text
    assert "1 closed reports" in caplog.text
    call_command("erase_reporter_contacts", stdout=(out := StringIO()))
    assert out.getvalue().strip() == "erased=0"
    assert Deviation.objects.filter(contact_erased_at__isnull=False).count() == 1


def test_command_takes_a_months_override(settings):
    settings.CONTACT_RETENTION_MONTHS = 12
    report = closed_report(days_ago=100)
    call_command("erase_reporter_contacts", "--months", "3", stdout=StringIO())
    assert erased(report)


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime.datetime(2026, 3, 31, 12), 1, datetime.datetime(2026, 2, 28, 12)),
        (datetime.datetime(2026, 1, 15, 8), 12, datetime.datetime(2025, 1, 15, 8)),
        (datetime.datetime(2024, 2, 29), 12, datetime.datetime(2023, 2, 28)),
        (datetime.datetime(2026, 5, 10), 0, datetime.datetime(2026, 5, 10)),
        (datetime.datetime(2026, 1, 10), 13, datetime.datetime(2024, 12, 10)),
    ],
)
def test_months_before(moment, months, expected):
    assert months_before(moment, months) == expected
