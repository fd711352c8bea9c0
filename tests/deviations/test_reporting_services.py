"""Services of the reporter journey: submit, confirm, routing, reference numbers, e-mails, purge."""

import datetime
import itertools
import uuid
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from agreements.models import EmailDomain
from config.errors import Conflict, Invalid
from councils.models import Council
from deviations import reference
from deviations.models import Deviation, DeviationEvent, ReferenceCounter
from deviations.services import reporting, routing
from deviations.workflow import Status
from tests import factories
from tests.concurrency import run_at_once
from tests.deviations.reporting_world import build_world, service_data

pytestmark = pytest.mark.django_db


NUMBERS = itertools.count(1)


@pytest.fixture
def w(db):
    return build_world()


def submit(w, *, key=None, reporter=None, **overrides):
    """A new report each call (its own text: the same content again within the window is the same
    report) unless ``description`` is given."""
    overrides.setdefault("description", f"Utskrivning utan information, rapport {next(NUMBERS)}.")
    return reporting.submit_deviation(
        data=service_data(w, **overrides), idempotency_key=key or uuid.uuid4(), reporter=reporter
    )


def test_anonymous_submission_is_stored_unconfirmed_without_events_or_reference(
    w, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        deviation, created = submit(w)
    assert created
    assert deviation.status == Status.UNCONFIRMED
    assert deviation.reference.startswith(routing.UNCONFIRMED_REFERENCE_PREFIX)
    assert deviation.council is None
    assert deviation.submitted_at is None
    assert not deviation.events.exists()
    assert list(deviation.counterpart_organizations.all()) == [w.counterpart]
    # Only the confirmation link is sent, to the reporter; the council hears nothing yet.
    assert [m.to for m in mail.outbox] == [["rapportor@nacka.se"]]
    assert "/rapportera/bekrafta/" in mail.outbox[0].body


def test_same_idempotency_key_gives_one_report(w, django_capture_on_commit_callbacks):
    key = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        first, created_first = submit(w, key=key)
        second, created_second = submit(w, key=key, description="Ändrad text vid nytt klick.")
    assert (created_first, created_second) == (True, False)
    assert first.pk == second.pk
    assert Deviation.objects.count() == 1
    assert len(mail.outbox) == 1


def test_confirmation_routes_numbers_and_notifies(w, django_capture_on_commit_callbacks):
    deviation, _ = submit(w)
    with django_capture_on_commit_callbacks(execute=True):
        deviation = reporting.confirm_deviation(deviation=deviation, actor_label="Rapportören")
    assert deviation.status == Status.SUBMITTED
    assert deviation.reference == f"SB-{timezone.localdate().year}-00001"
    assert deviation.council == w.nacka_council
    assert deviation.submitted_at is not None
    event = deviation.events.get()
    assert (event.action, event.from_status, event.to_status) == ("confirm", "unconfirmed", "submitted")
    assert event.actor is None and event.actor_label == "Rapportören"
    recipients = sorted(address for message in mail.outbox for address in message.to)
    # The council's coordinator (not the plain member) and the reporter's receipt.
    assert recipients == ["rapportor@nacka.se", "samordnare@nacka.se"]
    receipt = next(m for m in mail.outbox if m.to == ["rapportor@nacka.se"])
    assert deviation.reference in receipt.subject
    assert "/status/" in receipt.body


def test_e_mails_carry_no_report_text(w, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deviation, _ = submit(w, description="Unik beskrivning XYZ", consequence="Unik konsekvens QWE")
        reporting.confirm_deviation(deviation=deviation)
    assert len(mail.outbox) == 3
    for message in mail.outbox:
        for secret in ("Unik beskrivning", "XYZ", "Unik konsekvens", "QWE", "Rapportör Exempel"):
            assert secret not in message.subject + message.body


def test_confirming_twice_is_refused(w):
    deviation, _ = submit(w)
    reporting.confirm_deviation(deviation=deviation)
    with pytest.raises(Conflict):
        reporting.confirm_deviation(deviation=deviation)
    assert DeviationEvent.objects.filter(deviation=deviation).count() == 1


def test_signed_in_reporter_is_confirmed_in_the_same_transaction(w, django_capture_on_commit_callbacks):
    # An account holder's address need not be at a domain registered for anonymous reporting, only at
    # one of their own organisation (registered here).
    factories.EmailDomainFactory(organization=w.own, domain="example.org")
    user = factories.UserFactory(email="anna@example.org", organization=w.own)
    with django_capture_on_commit_callbacks(execute=True):
        deviation, created = submit(w, reporter=user, reporter_email="anna@example.org")
    assert created and deviation.status == Status.SUBMITTED
    assert deviation.reporter == user
    assert deviation.reference.startswith("SB-")
    assert deviation.events.get().actor == user
    assert sorted(a for m in mail.outbox for a in m.to) == ["anna@example.org", "samordnare@nacka.se"]


@pytest.mark.parametrize(
    ("place", "expected"),
    [
        ("nacka", "nacka_council"),
        ("spanga", "vasterort_council"),
        ("skarholmen", "regional_council"),
        ("vaxholm", "regional_council"),
    ],
)
def test_routing_on_confirmation(w, place, expected):
    where = {
        "nacka": {"municipality": w.nacka},
        "spanga": {"municipality": w.stockholm, "district": w.spanga},
        "skarholmen": {"municipality": w.stockholm, "district": w.skarholmen},
        "vaxholm": {"municipality": w.vaxholm},
    }[place]
    deviation, _ = submit(w, **where)
    deviation = reporting.confirm_deviation(deviation=deviation)
    assert deviation.council == getattr(w, expected)


def test_district_council_wins_over_a_council_for_the_whole_municipality(w):
    factories.CouncilFactory(name="Hela Stockholm", municipalities=[w.stockholm])
    deviation, _ = submit(w, municipality=w.stockholm, district=w.spanga)
    assert reporting.confirm_deviation(deviation=deviation).council == w.vasterort_council


def test_inactive_local_council_is_skipped(w):
    w.nacka_council.active = False
    w.nacka_council.save()
    deviation, _ = submit(w)
    assert reporting.confirm_deviation(deviation=deviation).council == w.regional_council


def test_lowest_id_wins_among_councils_covering_the_same_place(w):
    later = factories.CouncilFactory(name="Ännu ett samråd för Nacka", municipalities=[w.nacka])
    assert routing.council_for_place(municipality_id=w.nacka.pk) == w.nacka_council
    w.nacka_council.active = False
    w.nacka_council.save()
    assert routing.council_for_place(municipality_id=w.nacka.pk) == later


def test_routing_follows_a_change_to_what_a_council_covers_at_once(w):
    """The routes are kept in the process (deviations.reference) while the reference data's version stays
    the same; adding or removing a district or municipality of a council gives a new version."""
    assert routing.council_for_place(municipality_id=w.nacka.pk) == w.nacka_council
    assert routing.council_for_place(municipality_id=w.stockholm.pk, district_id=w.spanga.pk) == (
        w.vasterort_council
    )
    w.vasterort_council.districts.remove(w.spanga)
    assert routing.council_for_place(municipality_id=w.stockholm.pk, district_id=w.spanga.pk) == (
        w.regional_council
    )
    new = factories.CouncilFactory(name="Nytt samråd")
    new.districts.add(w.spanga)
    assert routing.council_for_place(municipality_id=w.stockholm.pk, district_id=w.spanga.pk) == new
    w.nacka_council.municipalities.remove(w.nacka)
    assert routing.council_for_place(municipality_id=w.nacka.pk) == w.regional_council


def test_no_council_at_all_routes_nowhere(w):
    Council.objects.update(active=False)
    assert routing.council_for_place(municipality_id=w.nacka.pk, district_id=w.spanga.pk) is None


def test_a_reference_number_is_never_handed_out_outside_a_transaction(w):
    # In autocommit the number would be committed at once, and lost if the report is then not saved.
    with pytest.raises(TransactionManagementError), mock.patch.object(connection, "in_atomic_block", False):
        routing.next_reference(year=2026)
    assert not ReferenceCounter.objects.exists()


def test_the_rules_look_up_category_agreements_and_districts_once_for_form_and_service(
    w, django_assert_num_queries
):
    data = service_data(w, municipality=w.nacka)
    with django_assert_num_queries(3):  # the category's agreements, Nacka's districts, the e-mail domain
        assert reporting.report_errors(data) == {}
    with django_assert_num_queries(1):  # the e-mail domain (only without an account)
        assert reporting.report_errors(data) == {}


def test_reference_numbers_follow_confirmation_order_without_gaps(w):
    first, _ = submit(w)
    second, _ = submit(w)
    submit(w)  # never confirmed: takes no number
    year = timezone.localdate().year
    assert reporting.confirm_deviation(deviation=second).reference == f"SB-{year}-00001"
    assert reporting.confirm_deviation(deviation=first).reference == f"SB-{year}-00002"


@pytest.mark.parametrize("field", reporting.TEXT_FIELDS)
def test_personal_identity_number_refuses_and_stores_nothing(w, field):
    with pytest.raises(Invalid) as excinfo:
        submit(w, **{field: "Gäller 19121212-1212 som skrevs ut."})
    assert list(excinfo.value.errors) == [field]
    assert "1212" not in str(excinfo.value)
    assert Deviation.objects.count() == 0
    assert len(mail.outbox) == 0


def test_unregistered_domain_is_refused_case_insensitively(w):
    EmailDomain.objects.bulk_create([EmailDomain(organization=w.own, domain="Huddinge.SE")])
    assert submit(w, reporter_email="a@HUDDINGE.se")[1]
    with pytest.raises(Invalid) as excinfo:
        submit(w, reporter_email="a@gmail.com")
    assert "reporter_email" in excinfo.value.errors
    with pytest.raises(Invalid):  # the domain of an inactive organisation
        submit(w, reporter_email="a@nedlagd.se")
    with pytest.raises(Invalid):  # a subdomain is another domain
        submit(w, reporter_email="a@evil.nacka.se.example.com")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"occurred_on": "tomorrow"}, "occurred_on"),
        ({"agreement": "old"}, "agreement"),
        ({"commitment": "old_commitment"}, "commitment"),
        ({"category": "old_category"}, "category"),
        ({"municipality": "stockholm"}, "district"),
        ({"district": "spanga"}, "district"),
        ({"counterpart_organizations": "own"}, "counterpart_organizations"),
        ({"counterpart_organizations": "none"}, "counterpart_organizations"),
        ({"counterpart_organizations": "inactive_list"}, "counterpart_organizations"),
        ({"reporting_organization": "inactive"}, "reporting_organization"),
    ],
)
def test_report_rules(w, overrides, field):
    values = {
        "tomorrow": timezone.localdate() + datetime.timedelta(days=1),
        "old": w.old,
        "old_commitment": w.old_commitment,
        "old_category": w.old_category,
        "stockholm": w.stockholm,
        "spanga": w.spanga,
        "own": [w.own],
        "none": [],
        "inactive": w.inactive,
        "inactive_list": [w.counterpart, w.inactive],
    }
    data = service_data(w, **{k: values[v] for k, v in overrides.items()})
    assert field in reporting.report_errors(data)


def test_old_agreement_is_fine_for_an_old_occurrence(w):
    data = service_data(w, agreement=w.old, category=w.old_category, occurred_on=datetime.date(2019, 6, 1))
    assert reporting.report_errors(data) == {}


def test_counterparts_may_include_own_organisation_with_another(w):
    assert reporting.report_errors(service_data(w, counterpart_organizations=[w.own, w.counterpart])) == {}


def test_purge_deletes_only_old_unconfirmed_reports(w, caplog):
    old, _ = submit(w)
    recent, _ = submit(w)
    confirmed_old, _ = submit(w)
    reporting.confirm_deviation(deviation=confirmed_old)
    eight_days_ago = timezone.now() - datetime.timedelta(days=8)
    Deviation.objects.filter(pk__in=[old.pk, confirmed_old.pk]).update(created_at=eight_days_ago)
    with caplog.at_level("INFO", logger="deviations.retention"):
        call_command("purge_unconfirmed")
    assert set(Deviation.objects.values_list("pk", flat=True)) == {recent.pk, confirmed_old.pk}
    assert "purged 1 unconfirmed" in caplog.text
    assert "nacka.se" not in caplog.text
    call_command("purge_unconfirmed")  # running again is harmless
    assert Deviation.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_double_submit_by_a_signed_in_reporter_takes_one_reference_number(db):
    """Signed in, the report is numbered before it is inserted: the requests that lose the race on the
    key give their number back (rollback), so the year's numbers stay gap-free."""
    w = build_world()
    reporter = factories.UserFactory(email="anna@nacka.se", organization=w.own)
    key = uuid.uuid4()
    results = run_at_once(
        lambda: reporting.submit_deviation(data=service_data(w), idempotency_key=key, reporter=reporter),
        threads=4,
    )
    deviation = Deviation.objects.get()
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert {d.pk for d, _ in results} == {deviation.pk}
    year = timezone.localdate().year
    assert deviation.reference == f"SB-{year}-00001"
    assert ReferenceCounter.objects.get(year=year).last == 1
    assert DeviationEvent.objects.filter(deviation=deviation).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_double_submit_creates_one_report(db):
    """Two requests with the same key at the same moment (a double click): one report, both get it."""
    w = build_world()
    key = uuid.uuid4()
    results = run_at_once(
        lambda: reporting.submit_deviation(data=service_data(w), idempotency_key=key), threads=4
    )
    assert Deviation.objects.count() == 1
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert {deviation.pk for deviation, _ in results} == {Deviation.objects.get().pk}


# --- The rules run once per request: the form hands the service what the service's own check found ---


def test_a_checked_report_is_filed_without_checking_the_rules_again(w):
    data = service_data(w)
    errors, checked = reporting.check_report(data)
    assert (errors, checked is not None) == ({}, True)
    with mock.patch.object(reporting, "report_errors", wraps=reporting.report_errors) as rules:
        deviation, created = reporting.submit_deviation(data=checked, idempotency_key=uuid.uuid4())
    assert created and rules.call_count == 0
    assert deviation.description == data["description"]
    assert list(deviation.counterpart_organizations.all()) == [w.counterpart]


def test_a_report_breaking_a_rule_gets_no_checked_report(w):
    errors, checked = reporting.check_report(service_data(w, counterpart_organizations=[w.own]))
    assert "counterpart_organizations" in errors
    assert checked is None


def test_data_missing_a_field_gets_no_checked_report(w):
    # The form leaves out of its cleaned data a field it refused; the rules skip missing fields.
    data = service_data(w)
    del data["category"]
    assert reporting.check_report(data) == ({}, None)


def test_only_the_check_makes_a_checked_report(w):
    with pytest.raises(TypeError):
        reporting.CheckedReport(data=service_data(w), reporter_id=None, today=timezone.localdate(), seal=None)


def test_what_was_checked_is_what_is_filed(w):
    data = service_data(w)
    _errors, checked = reporting.check_report(data)
    data["description"] = "Patienten 19121212-1212 skrevs ut."  # changed after the check
    data["counterpart_organizations"].append(w.own)
    deviation, _created = reporting.submit_deviation(data=checked, idempotency_key=uuid.uuid4())
    assert deviation.description == "Utskrivning utan information till socialtjänsten."
    assert list(deviation.counterpart_organizations.all()) == [w.counterpart]


def test_a_checked_report_is_routed_by_the_reference_data_it_was_checked_against(w):
    """The form's check hands the filing its snapshot of the reference data (deviations.reference.pinned):
    the report is checked and routed by one version, and routing reads no version again. Without a
    snapshot (the service's own check) it is routed as the councils are now."""
    reporter = factories.UserFactory(email="anna@nacka.se", organization=w.own)
    snapshot = reference.current()
    _errors, checked = reporting.check_report(service_data(w), reporter=reporter, reference_data=snapshot)
    w.nacka_council.active = False  # committed after the form's check, before the filing
    w.nacka_council.save()
    deviation, _created = reporting.submit_deviation(
        data=checked, idempotency_key=uuid.uuid4(), reporter=reporter
    )
    assert deviation.council == w.nacka_council
    later, _created = submit(w, reporter=reporter)
    assert later.council == w.regional_council


def test_a_report_checked_for_someone_else_is_checked_again(w):
    # Checked without an account, filed for a signed-in reporter whose address is at another domain.
    _errors, checked = reporting.check_report(service_data(w))
    outsider = factories.UserFactory(email="someone@gmail.com")
    with pytest.raises(Invalid) as excinfo:
        reporting.submit_deviation(data=checked, idempotency_key=uuid.uuid4(), reporter=outsider)
    assert "reporting_organization" in excinfo.value.errors
    assert not Deviation.objects.exists()


def test_a_report_checked_on_another_day_is_checked_again(w):
    today = timezone.localdate()
    # Checked yesterday for an occurrence "today": on the day it is filed, the rules run again.
    _errors, checked = reporting.check_report(
        service_data(w, occurred_on=today), today=today - datetime.timedelta(days=1)
    )
    assert checked is None  # yesterday, today was in the future
    _errors, checked = reporting.check_report(service_data(w), today=today - datetime.timedelta(days=1))
    with mock.patch.object(reporting, "report_errors", wraps=reporting.report_errors) as rules:
        reporting.submit_deviation(data=checked, idempotency_key=uuid.uuid4())
    assert rules.call_count == 1


# --- Queued mails are written with the change they are about ------------------------------------------


def test_the_database_queue_writes_the_mails_in_the_filing_transaction(
    w, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    reporter = factories.UserFactory(email="anna@nacka.se", organization=w.own)
    with django_capture_on_commit_callbacks() as callbacks:
        submit(w, reporter=reporter)
    # Nothing left for after the commit: the receipt and the new-report mail are one row of the same
    # transaction as the report.
    assert callbacks == []
    (row,) = DBTaskResult.objects.all()
    assert row.task_path == "deviations.tasks.send_emails"
    templates = sorted(mail["template"] for mail in row.args_kwargs["kwargs"]["mails"])
    assert templates == ["new_report", "receipt"]


def test_a_filing_rolled_back_queues_no_mail(w, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    reporter = factories.UserFactory(email="anna@nacka.se", organization=w.own)
    with pytest.raises(RuntimeError), transaction.atomic():
        submit(w, reporter=reporter)
        assert DBTaskResult.objects.count() == 1
        raise RuntimeError("a later step failed")
    assert not DBTaskResult.objects.exists()
    assert not Deviation.objects.exists()


def test_other_task_backends_queue_mails_after_the_commit(w, django_capture_on_commit_callbacks):
    # The test suite's ImmediateBackend sends at once: that must wait for the commit.
    with django_capture_on_commit_callbacks() as callbacks:
        submit(w)
    assert len(callbacks) == 1
    assert mail.outbox == []
