"""``manage.py find_identity_numbers``: texts stored before the detector knew a form are found, by where
they are, never by what they say; each table is read in one query whatever its size."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from agreements.models import Organization
from config.personal_data import PERSONNUMMER, SAMORDNINGSNUMMER, stored_identity_numbers
from deviations.management.commands.find_identity_numbers import report_reference
from deviations.models import Deviation, DeviationEvent, ResponseRequest, SavedFilter
from tests import factories

pytestmark = pytest.mark.django_db

#: Forms the detector learnt on 2026-12-04 (stored unflagged before): written past the guard here (by
#: ``update()`` or a factory), as a text stored before an upgrade is.
COLON = "Patienten har pnr 811218:9876."
COMMA = "Samordningsnummer 121272,1219 enligt journalen."


def run() -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("find_identity_numbers", stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def test_nothing_stored_holds_a_number():
    factories.DeviationEventFactory(text="Kontakt tagen 2026-03-14 kl. 10:30, 12 deltagare.")
    out, error = run()
    assert error is None
    assert out.strip() == "No stored text holds an identity number."


def test_texts_stored_before_the_detector_knew_their_form_are_listed_by_place_never_by_number():
    report = factories.DeviationFactory()
    Deviation.objects.filter(pk=report.pk).update(consequence=COLON)
    event = factories.DeviationEventFactory(deviation=report, text=COMMA)  # events are never updated
    request = factories.ResponseRequestFactory()
    ResponseRequest.objects.filter(pk=request.pk).update(answer_actions=COLON)
    organization = factories.OrganizationFactory()
    Organization.objects.filter(pk=organization.pk).update(name="Enhet 811218,9876")
    saved = factories.SavedFilterFactory()
    SavedFilter.objects.filter(pk=saved.pk).update(query="q=811218%3A9876")  # "811218:9876", encoded
    factories.DeviationEventFactory(deviation=report, text="Inget nummer här, bara 08-123 456 78.")
    contact = factories.DeviationFactory()  # not redactable: the contact details are erased instead
    Deviation.objects.filter(pk=contact.pk).update(reporter_phone="811218:9876")

    out, error = run()

    request.refresh_from_db()
    lines = sorted(line.split("\t") for line in out.splitlines())
    assert lines == sorted(
        [
            [
                "deviations.Deviation",
                str(report.pk),
                "consequence",
                PERSONNUMMER,
                report.reference,
                "redaction",
            ],
            [
                "deviations.DeviationEvent",
                str(event.pk),
                "text",
                SAMORDNINGSNUMMER,
                report.reference,
                "redaction",
            ],
            [
                "deviations.ResponseRequest",
                str(request.pk),
                "answer_actions",
                PERSONNUMMER,
                request.deviation.reference,
                "redaction",
            ],
            ["agreements.Organization", str(organization.pk), "name", PERSONNUMMER, "-", "record"],
            ["deviations.SavedFilter", str(saved.pk), "query", PERSONNUMMER, "-", "record"],
            [
                "deviations.Deviation",
                str(contact.pk),
                "reporter_phone",
                PERSONNUMMER,
                contact.reference,
                "erasure",
            ],
        ]
    )
    assert error is not None and error.returncode == 1
    assert str(error).startswith("6 stored texts hold an identity number (4 in 3 reports):")
    assert "those marked erasure by erasing the reporter's contact details" in str(error)
    for digits in ("811218", "9876", "121272", "1219"):
        assert digits not in out and digits not in str(error)


def test_one_text_is_counted_as_one():
    report = factories.DeviationFactory()
    Deviation.objects.filter(pk=report.pk).update(description=COLON)
    _out, error = run()
    assert str(error).startswith("1 stored text holds an identity number (1 in 1 report):")


def test_each_table_is_read_in_one_query_whatever_its_size():
    def queries(count):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            findings = list(stored_identity_numbers(models=[DeviationEvent], label=report_reference))
        assert len(findings) == count
        return len(captured)

    report = factories.DeviationFactory()
    factories.DeviationEventFactory.create_batch(3, deviation=report, text=COLON)
    few = queries(3)
    factories.DeviationEventFactory.create_batch(30, deviation=report, text=COMMA)
    assert queries(33) == few


def test_models_without_guarded_texts_are_not_read():
    from deviations.models import FollowUpSummary

    assert list(stored_identity_numbers(models=[FollowUpSummary])) == []
