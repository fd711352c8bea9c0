"""The follow-up's summary (deviations/summary.py): kept current by the services, equal to a
recount from the reports after every kind of change, rebuilt by a command."""

import datetime
import importlib
import time
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DataError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deviations import summary
from deviations.models import Deviation, FollowUpPending, FollowUpSummary
from deviations.services import factors, reporting, responses, systemic, transitions
from deviations.workflow import Status
from followup.selectors import DateBasis, Period, Scope, followup_statistics
from tests import factories
from tests.deviations import reporting_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    w = reporting_world.build_world()
    w.psyk.valid_from = datetime.date(2020, 1, 1)
    w.psyk.save()
    w.counterpart.contact_email = "yttrande@regionstockholm.se"
    w.counterpart.save()
    w.factor = factories.ContributingFactorFactory(name="Rutiner")
    w.sub = factories.ContributingFactorFactory(parent=w.factor, name="Rutinen följdes inte")
    w.reporter = factories.UserFactory(username="inloggad", organization=w.own, email="inloggad@nacka.se")
    return w


def assert_summary_is_a_recount():
    """What the follow-up reads equals a recount, with the changes pending and after the worker's fold."""
    recounted = summary.recount()
    assert summary.stored() == recounted
    assert summary.check() == (len(recounted), 0)
    summary.fold()
    assert not FollowUpPending.objects.exists()
    assert summary.stored() == recounted
    assert summary.check() == (len(recounted), 0)


def submit(w, reporter=None, **overrides):
    deviation, _created = reporting.submit_deviation(
        data=reporting_world.service_data(w, **overrides), idempotency_key=uuid.uuid4(), reporter=reporter
    )
    return deviation


def county_total(w) -> int:
    today = datetime.date.today()
    return followup_statistics(
        agreement=w.psyk,
        period=Period.year(today.year),
        scope=Scope(Scope.COUNTY),
        basis=DateBasis.REPORTED,
        masked=False,
        compare=False,
    ).total


def test_every_service_keeps_the_summary_equal_to_a_recount(w):
    coordinator, regional = w.nacka_coordinator, w.regional_coordinator
    # Filed anonymously: nothing counts until it is confirmed.
    anonymous = submit(w, severity="serious")
    assert not FollowUpSummary.objects.exists()
    reporting.confirm_deviation(deviation=anonymous)
    assert_summary_is_a_recount()
    assert county_total(w) == 1
    # Filed signed in: confirmed in the same transaction, counterparts included.
    signed_in = submit(w, reporter=w.reporter)
    assert_summary_is_a_recount()
    assert county_total(w) == 2

    for action in ("start_triage",):
        transitions.apply_transition(deviation=signed_in, action=action, actor=coordinator)
    assert_summary_is_a_recount()
    [request] = responses.request_response(
        deviation=signed_in, organizations=[w.counterpart], actor=coordinator
    )
    assert_summary_is_a_recount()
    responses.record_response(
        response_request=request, answered_by_name="Chef", what_happened="Ja", actions=""
    )
    assert_summary_is_a_recount()
    [second] = responses.request_response(
        deviation=signed_in, organizations=[w.counterpart], actor=coordinator
    )
    responses.cancel_response_request(response_request=second, actor=coordinator)
    assert_summary_is_a_recount()
    factors.set_contributing_factors(deviation=signed_in, factors=[w.sub, w.factor], actor=coordinator)
    assert_summary_is_a_recount()
    transitions.apply_transition(deviation=signed_in, action="escalate", actor=coordinator, text="System")
    issue = factories.SystemicIssueFactory(created_by=regional, agreements=[w.psyk])
    systemic.link_to_systemic_issue(issue=issue, deviation=signed_in, actor=regional)
    assert_summary_is_a_recount()
    transitions.apply_transition(deviation=signed_in, action="start_regional_analysis", actor=regional)
    transitions.apply_transition(deviation=signed_in, action="close", actor=regional, text="Klart")
    assert_summary_is_a_recount()
    transitions.apply_transition(deviation=signed_in, action="reopen", actor=coordinator, text="Skäl")
    systemic.unlink_from_systemic_issue(deviation=signed_in, actor=regional)
    factors.set_contributing_factors(deviation=signed_in, factors=[], actor=coordinator)
    assert_summary_is_a_recount()
    transitions.apply_transition(
        deviation=anonymous, action="reject", actor=coordinator, text="Nej", reject_reason="not_a_deviation"
    )
    assert_summary_is_a_recount()

    stats = followup_statistics(
        agreement=w.psyk,
        period=Period.year(datetime.date.today().year),
        scope=Scope(Scope.COUNCIL, council=w.nacka_council),
        basis=DateBasis.REPORTED,
        masked=False,
    )
    assert (stats.total, stats.summary["open"], stats.summary["rejected"], stats.summary["severe"]) == (
        2,
        1,
        1,
        1,
    )
    assert stats.handling["escalated"] == 1
    assert (stats.responses["in_time"], stats.responses["total"]) == (1, 1)  # the withdrawn one is left out


def test_an_edit_in_admin_moves_the_report_in_the_summary(w, admin_client):
    deviation = submit(w, reporter=w.reporter)
    other = factories.DeviationCategoryFactory(name="Annan kategori", agreements=[w.psyk])
    data = {
        "agreement": w.psyk.pk,
        "commitment": "",
        "category": other.pk,
        "occurred_on": deviation.occurred_on.isoformat(),
        "reported_on": deviation.reported_on.isoformat(),
        "municipality": w.nacka.pk,
        "district": "",
        "council": deviation.council_id,
        "reporting_organization": w.own.pk,
        "counterpart_organizations": [w.counterpart.pk, w.inactive.pk],
        "sip_involved": "no",
        "discharge_involved": "yes",
        "description": deviation.description,
        "consequence": deviation.consequence,
        "actions_taken": "",
        "suggested_improvement": "",
        "assigned_to": "",
        "systemic_issue": "",
        "duplicate_of": "",
    }
    for prefix in ("response_requests", "events"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    response = admin_client.post(f"/admin/deviations/deviation/{deviation.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Deviation.objects.get(pk=deviation.pk).category == other
    assert_summary_is_a_recount()
    # Its place and the county, for both date bases, in its month, quarter and year; the old category is
    # gone.
    assert FollowUpSummary.objects.filter(measure="category", key=str(other.pk), n=1).count() == 12
    assert (
        not FollowUpSummary.objects.filter(measure="category", key=str(w.category.pk)).exclude(n=0).exists()
    )


def test_a_failed_change_adds_nothing(w):
    deviation = submit(w, reporter=w.reporter)
    before = summary.stored()
    with pytest.raises(Exception, match="boom"), summary.tracking() as tracker:
        tracker.add(deviation)
        Deviation.objects.filter(pk=deviation.pk).update(status=Status.CLOSED)
        raise RuntimeError("boom")
    Deviation.objects.filter(pk=deviation.pk).update(status=Status.SUBMITTED)
    assert summary.stored() == before


def test_rebuild_command_counts_again_and_check_finds_drift(w, capsys):
    submit(w, reporter=w.reporter)
    submit(w, reporter=w.reporter, sip_involved="yes", description="En annan brist i samverkan.")
    call_command("rebuild_followup_summary", "--check")
    summary.fold()
    FollowUpSummary.objects.filter(measure="total").update(n=99)
    with pytest.raises(CommandError, match="differs from a recount"):
        call_command("rebuild_followup_summary", "--check")
    call_command("rebuild_followup_summary")
    assert "rebuilt" in capsys.readouterr().out
    assert_summary_is_a_recount()
    assert county_total(w) == 2


def test_check_counts_exactly_the_rows_that_differ_and_changes_nothing(w):
    """``summary.check`` compares in the database: a row differs when its key is on one side only or
    either sum differs; rows of zero sums are absent on both sides; pending changes count as read."""
    planner = "SELECT " + ", ".join(f"current_setting('{name}')" for name in summary.REBUILD_PLANNER)
    with connection.cursor() as cursor:
        cursor.execute(planner)
        settings_before = cursor.fetchone()
    submit(w, reporter=w.reporter, severity="serious")
    with_response = submit(w, reporter=w.reporter)
    transitions.apply_transition(deviation=with_response, action="start_triage", actor=w.nacka_coordinator)
    assert FollowUpPending.objects.exists()
    rows = len(summary.recount())
    assert summary.check() == (rows, 0)  # the pending rows folded in the read
    summary.fold()
    assert summary.check() == (rows, 0)
    before = summary.stored()

    totals = FollowUpSummary.objects.filter(measure="total")
    changed = totals.count()
    totals.update(n=99)
    others = FollowUpSummary.objects.exclude(measure="total").order_by("pk")
    timed, deleted = others[:2]
    others.filter(pk=timed.pk).update(seconds=timed.seconds + 1)  # the seconds alone
    deleted.delete()
    extra = {f: getattr(timed, f) for f in ("agreement_pk", "basis", "municipality_pk", "council_pk")}
    FollowUpSummary.objects.create(**extra, months=1, month=datetime.date(2021, 1, 1), measure="total", n=1)
    FollowUpSummary.objects.create(**extra, months=1, month=datetime.date(2021, 2, 1), measure="total", n=0)
    stored = summary.stored()

    assert summary.check() == (rows - 1 + 1, changed + 1 + 1 + 1)
    assert summary.stored() == stored  # nothing changed, nothing left behind, the caller's settings kept
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('pg_temp.summary_spans'), to_regclass('pg_temp.summary_part')")
        assert cursor.fetchone() == (None, None)
        cursor.execute(planner)
        assert cursor.fetchone() == settings_before
    call_command("rebuild_followup_summary")
    assert summary.stored() == before
    assert summary.check() == (rows, 0)


@pytest.mark.django_db(transaction=True)
def test_check_outside_a_transaction_reads_one_snapshot(w):
    """Outside a transaction the check is one REPEATABLE READ transaction of its own (the isolation set
    as its first statement) and commits nothing."""
    submit(w, reporter=w.reporter)
    summary.fold()
    rows = len(summary.recount())
    with CaptureQueriesContext(connection) as statements:
        assert summary.check() == (rows, 0)
    first = [query["sql"] for query in statements.captured_queries[:2]]
    assert first == ["BEGIN", "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"]  # its transaction's first
    assert connection.get_autocommit()
    call_command("rebuild_followup_summary", "--check")


def test_rebuild_stores_exactly_a_recount_whatever_the_table_held(w):
    """The rebuild sums the quarters, years and the county from the month place rows in steps of its
    own, not through ``_stored_sql``: it must store exactly what ``recount`` counts, for every measure,
    place and span, and nothing of what the table held before."""
    coordinator = w.nacka_coordinator
    with_factors = submit(w, reporter=w.reporter, severity="serious")
    transitions.apply_transition(deviation=with_factors, action="start_triage", actor=coordinator)
    [request] = responses.request_response(
        deviation=with_factors, organizations=[w.counterpart], actor=coordinator
    )
    responses.record_response(
        response_request=request, answered_by_name="Chef", what_happened="Ja", actions=""
    )
    responses.request_response(deviation=with_factors, organizations=[w.counterpart], actor=coordinator)
    factors.set_contributing_factors(deviation=with_factors, factors=[w.sub, w.factor], actor=coordinator)
    transitions.apply_transition(deviation=with_factors, action="escalate", actor=coordinator, text="System")
    submit(w, reporter=w.reporter, municipality=w.stockholm, district=w.spanga, sip_involved="yes")
    for number, reported_on in enumerate((datetime.date(2024, 12, 31), datetime.date(2025, 4, 2))):
        factories.DeviationFactory(
            reference=f"SB-{reported_on.year}-8{number:04d}",
            agreement=w.psyk,
            category=w.category,
            municipality=w.nacka,
            council=None,  # no council handles it: its place rows have council_pk 0
            reporting_organization=w.own,
            counterparts=[w.counterpart],
            reported_on=reported_on,
            occurred_on=reported_on - datetime.timedelta(days=70),
        )
    # Drift and a row no report contributes to; the rebuild replaces them.
    summary.fold()
    FollowUpSummary.objects.filter(measure="total").update(n=99)
    FollowUpSummary.objects.create(
        agreement_pk=w.psyk.pk,
        basis="reported_on",
        month=datetime.date(2019, 1, 1),
        months=1,
        council_pk=0,
        municipality_pk=w.nacka.pk,
        measure="total",
        key="",
        n=5,
    )

    rows = summary.rebuild()

    assert rows == FollowUpSummary.objects.count()
    assert_summary_is_a_recount()
    stored = summary.stored()
    measures = {key[6] for key in stored}
    assert {
        "total",
        "status",
        "pair_response",
        "pair_no_response",
        "principal",
        "req_open",
        "req_in_time",
        "factor",
        "escalated",
    } <= measures
    assert {key[4] for key in stored} == {1, 3, 12}
    assert any(key[3] == summary.COUNTY and key[2] != summary.COUNTY for key in stored)  # council_pk 0


def _summary_indexes():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY 1",
            [FollowUpSummary._meta.db_table],
        )
        return cursor.fetchall()


def _reports_in_two_years(w):
    submit(w, reporter=w.reporter, severity="serious")
    submit(w, reporter=w.reporter, municipality=w.stockholm, district=w.spanga, sip_involved="yes")
    submit(w)  # unconfirmed: not counted
    factories.DeviationFactory(
        reference="SB-2025-80000",
        agreement=w.psyk,
        category=w.category,
        municipality=w.nacka,
        reporting_organization=w.own,
        counterparts=[w.counterpart],
        reported_on=datetime.date(2025, 1, 2),
        occurred_on=datetime.date(2024, 12, 20),  # another year by each basis: two parts count it
    )


def test_live_rows_count_a_report_by_the_date_of_the_basis_asked_for(w):
    """A custom period's part of a month is counted straight from the reports: by the basis asked for,
    each report in the month of that date only (a report that occurred in December and was reported in
    January is in December's rows by when it occurred and in January's by when it was reported)."""
    _reports_in_two_years(w)
    december, january = datetime.date(2024, 12, 1), datetime.date(2025, 1, 1)

    def totals(basis, start, end):
        rows = summary.live_rows(agreement_pk=w.psyk.pk, basis=basis, start=start, end=end)
        return {(key[1], key[2]): n for key, (n, _seconds) in rows.items() if key[5] == "total"}

    assert totals("occurred_on", december, datetime.date(2024, 12, 31)) == {("occurred_on", december): 1}
    assert totals("reported_on", december, datetime.date(2024, 12, 31)) == {}
    assert totals("reported_on", january, datetime.date(2025, 1, 31)) == {("reported_on", january): 1}
    assert totals("occurred_on", january, datetime.date(2025, 1, 31)) == {}
    with pytest.raises(ValueError, match="unknown date basis"):
        summary.live_rows(agreement_pk=w.psyk.pk, basis="created_at", start=january, end=january)


@pytest.mark.django_db(transaction=True)  # the workers' connections read what this one committed
@pytest.mark.parametrize("workers", [2, 3])
def test_a_bulk_load_counts_in_parallel_and_builds_the_index_again_from_the_rows(w, workers):
    """``bench.generate``'s way: each worker on its own connection counts parts into the emptied table
    without its unique index, which is then built from the rows: the same rows as a recount (the pending
    rows counted once), and the index is back (the follow-up's index-only reads and the fold's UPSERT
    need it)."""
    _reports_in_two_years(w)
    assert FollowUpPending.objects.exists()
    before = _summary_indexes()
    assert any(name == "followupsummary_unique_cell" for name, _definition in before)

    rows = summary.load(workers=workers)

    assert rows == FollowUpSummary.objects.count() > 0
    assert not FollowUpPending.objects.exists()
    assert _summary_indexes() == before
    assert_summary_is_a_recount()
    years = {
        key[5].year for key in summary.stored() if key[0] == w.psyk.pk and key[4] == 12 and key[6] == "total"
    }
    assert {2024, 2025} <= years
    submit(w, reporter=w.reporter)
    summary.fold()  # the UPSERT finds its unique index
    assert_summary_is_a_recount()


def test_a_bulk_load_with_one_worker_is_one_with_the_callers_transaction(w):
    _reports_in_two_years(w)
    before = _summary_indexes()
    rows = summary.load(workers=1)
    assert rows == FollowUpSummary.objects.count() > 0
    assert _summary_indexes() == before
    assert_summary_is_a_recount()
    with pytest.raises(RuntimeError, match="outside a transaction"):
        summary.load(workers=2)  # its workers could not see this transaction's rows
    assert_summary_is_a_recount()


@pytest.mark.django_db(transaction=True)
def test_a_bulk_load_that_fails_leaves_the_summary_empty_with_its_index(w, monkeypatch):
    """A part that fails on one connection (here: PostgreSQL refuses its statement) stops the load: the
    other workers' committed rows go, so the follow-up never reads a partial count, and the index is
    there for the rebuild that counts it again."""
    _reports_in_two_years(w)
    summary.rebuild()
    before = _summary_indexes()
    counted = summary.stored()
    real = summary._count_part

    def failing(cursor, part, *, into):
        if part["start"].year == 2024:
            cursor.execute("SELECT 1 / 0")
        return real(cursor, part, into=into)

    monkeypatch.setattr(summary, "_count_part", failing)
    with pytest.raises(DataError):
        summary.load(workers=2)

    assert not FollowUpSummary.objects.exists()
    assert _summary_indexes() == before
    monkeypatch.undo()
    summary.rebuild()
    assert summary.stored() == counted


def test_county_rows_are_the_sum_of_the_place_rows(w):
    submit(w, reporter=w.reporter)
    submit(w, reporter=w.reporter, municipality=w.stockholm, district=w.spanga)
    rows = summary.stored()
    # KEY: agreement, basis, municipality, council, months, month, measure, key
    county = {
        key[4:]: value for key, value in rows.items() if key[2] == summary.COUNTY and key[1] == "reported_on"
    }
    places: dict = {}
    for key, (n, seconds) in rows.items():
        if key[2] != summary.COUNTY and key[1] == "reported_on":
            was = places.get(key[4:], (0, 0))
            places[key[4:]] = (was[0] + n, was[1] + seconds)
    assert county == places
    month = timezone.localdate().replace(day=1)
    assert county[(1, month, "total", "")] == (2, 0)


def test_quarter_and_year_rows_are_the_sums_of_their_month_rows(w):
    """Counted in Python from the stored month rows, independently of the SQL that stores them: after a
    rebuild, and after the services have changed reports in several months."""
    for number, reported_on in enumerate(
        (
            datetime.date(2025, 2, 3),
            datetime.date(2025, 3, 30),
            datetime.date(2025, 5, 1),
            datetime.date(2025, 12, 31),
            datetime.date(2026, 1, 1),
        )
    ):
        factories.DeviationFactory(
            reference=f"SB-{reported_on.year}-9{number:04d}",
            agreement=w.psyk,
            category=w.category,
            municipality=w.nacka,
            council=w.nacka_council,
            reporting_organization=w.own,
            counterparts=[w.counterpart],
            reported_on=reported_on,
            occurred_on=reported_on - datetime.timedelta(days=40),
        )
    summary.rebuild()  # made by factories, past the services
    signed_in = submit(w, reporter=w.reporter)
    transitions.apply_transition(deviation=signed_in, action="start_triage", actor=w.nacka_coordinator)
    first = Deviation.objects.filter(reported_on=datetime.date(2025, 2, 3)).get()
    transitions.apply_transition(deviation=first, action="start_triage", actor=w.nacka_coordinator)
    assert_summary_is_a_recount()

    rows = summary.stored()
    rolled: dict = {}
    for (agreement, basis, municipality, council, months, month, measure, key), (n, seconds) in rows.items():
        if months != 1:
            continue
        quarter = month.replace(month=month.month - (month.month - 1) % 3)
        for span, first_day in ((3, quarter), (12, month.replace(month=1))):
            cell = (agreement, basis, municipality, council, span, first_day, measure, key)
            was = rolled.get(cell, (0, 0))
            rolled[cell] = (was[0] + n, was[1] + seconds)
    assert {cell: value for cell, value in rows.items() if cell[4] != 1} == {
        cell: value for cell, value in rolled.items() if value != (0, 0)
    }
    # Four months of 2025 in three quarters; reported and occurred dates both counted.
    county_2025 = (w.psyk.pk, "reported_on", summary.COUNTY, summary.COUNTY, 12, datetime.date(2025, 1, 1))
    assert rows[(*county_2025, "total", "")] == (4, 0)
    assert rows[(*county_2025[:4], 3, datetime.date(2025, 1, 1), "total", "")] == (2, 0)


def test_the_summary_is_vacuumed_by_the_rows_its_upkeep_changes_not_by_a_fifth_of_the_table():
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'deviations_followupsummary'")
        (options,) = cursor.fetchone()
    assert "autovacuum_vacuum_scale_factor=0.01" in options
    assert "autovacuum_vacuum_threshold=10000" in options
    assert "vacuum_index_cleanup=on" in options


def test_a_change_waits_in_the_pending_rows_counted_until_the_fold_adds_it(w):
    """A filing writes its place rows to the pending table, not to the summary; the follow-up counts it
    at once; the fold moves it into the summary (its place and the county, month, quarter and year) and
    the follow-up still counts it once."""
    submit(w, reporter=w.reporter)
    pending = FollowUpPending.objects.filter(measure="total")
    assert not FollowUpSummary.objects.exists()
    assert sorted(pending.values_list("basis", "n")) == [("occurred_on", 1), ("reported_on", 1)]
    assert county_total(w) == 1

    summary.fold()
    assert not FollowUpPending.objects.exists()
    assert FollowUpSummary.objects.filter(measure="total", n=1).count() == 12
    assert county_total(w) == 1

    submit(w, reporter=w.reporter, description="En andra brist i samverkan.")
    assert county_total(w) == 2  # one folded, one pending
    assert_summary_is_a_recount()


def test_a_change_and_its_undoing_leave_nothing_pending(w):
    """Only what changed is written: a transition's rows before and after that are equal cancel out."""
    deviation = submit(w, reporter=w.reporter)
    summary.fold()
    with summary.tracking() as tracker:
        tracker.add(deviation)
        Deviation.objects.filter(pk=deviation.pk).update(status=Status.TRIAGE)
        Deviation.objects.filter(pk=deviation.pk).update(status=Status.SUBMITTED)
    assert not FollowUpPending.objects.exists()


def test_the_fold_returns_how_many_rows_it_moved(w):
    submit(w, reporter=w.reporter)
    waiting = FollowUpPending.objects.count()
    assert waiting > 10
    assert summary.fold() == waiting
    assert summary.fold() == 0


@pytest.mark.django_db(transaction=True)
def test_one_fold_at_a_time_another_worker_skips_its_turn(w):
    """While one worker folds (holding the fold's lock), another's fold moves nothing and waits for
    nothing; the rows stay pending for the next turn."""
    import psycopg

    submit(w, reporter=w.reporter)
    waiting = FollowUpPending.objects.count()
    params = connection.get_connection_params()
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params, autocommit=False) as other:
        other.execute("SELECT pg_advisory_xact_lock(%s)", [summary.FOLD_LOCK])
        assert summary.fold() == 0
        assert FollowUpPending.objects.count() == waiting
        other.rollback()
    assert summary.fold() == waiting
    assert_summary_is_a_recount()


def test_the_rebuild_counts_what_was_pending_once(w):
    """The rebuild stores its count minus the pending changes it includes; they stay pending, and the
    fold adds them back: counted once before the fold and after it."""
    submit(w, reporter=w.reporter)
    pending = FollowUpPending.objects.count()
    assert pending
    summary.rebuild()
    assert FollowUpPending.objects.count() == pending
    assert county_total(w) == 1
    assert_summary_is_a_recount()  # folds
    assert county_total(w) == 1


@pytest.mark.django_db(transaction=True)  # the rebuild's own transaction; a reporter's and a worker's
def test_a_rebuild_lets_reporters_file_and_counts_every_change_once(w, monkeypatch):
    """Outside a transaction the rebuild makes no writer wait: while it counts, a report is filed on
    another connection at once, and a fold that starts then waits for the rebuild's commit. Afterwards
    every report counts once: the one folded before, the one pending at the rebuild's snapshot and the
    one filed during it."""
    import threading

    submit(w, reporter=w.reporter)
    summary.fold()
    submit(w, reporter=w.reporter, description="En andra brist i samverkan.")  # pending at the snapshot
    count_into_spans = summary._count_into_spans
    during, moved = [], []

    def on_thread(work):
        def run():
            try:
                work()
            finally:
                connection.close()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    def count_then_file_and_fold(cursor):
        count_into_spans(cursor)  # every part counted: the report filed now is not in the count
        filing = on_thread(lambda: submit(w, reporter=w.reporter, description="En tredje brist."))
        filing.join(timeout=30)
        assert not filing.is_alive(), "the filing waited for the rebuild"
        during.append(on_thread(lambda: moved.append(summary.fold())))
        for _ in range(300):  # the fold waits for the summary's lock
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass",
                [FollowUpSummary._meta.db_table],
            )
            if cursor.fetchone()[0]:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the fold did not wait for the rebuild")

    monkeypatch.setattr(summary, "_count_into_spans", count_then_file_and_fold)
    summary.rebuild()
    monkeypatch.undo()
    during[0].join(timeout=30)

    assert moved and moved[0] > 0  # after the rebuild's commit, both reports' pending rows
    assert Deviation.objects.count() == 3
    assert county_total(w) == 3
    assert_summary_is_a_recount()


@pytest.mark.django_db(transaction=True)  # the worker closes its connection between tasks
def test_a_worker_run_folds_what_is_pending(w, settings):
    """``manage.py db_worker --batch`` (run until the queue is empty) leaves nothing pending."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    submit(w, reporter=w.reporter)
    assert FollowUpPending.objects.exists()
    call_command("db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0)
    assert not FollowUpPending.objects.exists()
    assert_summary_is_a_recount()


@pytest.mark.django_db(transaction=True)
def test_a_running_worker_folds_every_interval(w):
    """Not only at the end of a batch: the worker's background thread folds while it runs."""
    import threading
    import time

    from deviations.management.commands import db_worker

    submit(w, reporter=w.reporter)
    stop = threading.Event()
    thread = threading.Thread(target=db_worker.every, args=(0.05, summary.fold, "fold", stop), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while FollowUpPending.objects.exists():
            assert time.monotonic() < deadline, "the thread never folded"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join()
    assert FollowUpSummary.objects.filter(measure="total", n=1).count() == 12


def test_the_follow_up_reads_the_pending_rows_only_while_there_are_any(w):
    """One look for pending changes; with none the statistics read the summary alone (its statements do
    not plan and scan the pending part); with some, every statement reads both."""
    from django.test.utils import CaptureQueriesContext

    def statements_reading_pending():
        with CaptureQueriesContext(connection) as queries:
            county_total(w)
        return [q["sql"] for q in queries.captured_queries if "deviations_followuppending" in q["sql"]]

    submit(w, reporter=w.reporter)
    summary.fold()
    [look] = statements_reading_pending()
    assert look.startswith("SELECT EXISTS")
    submit(w, reporter=w.reporter, description="En andra brist i samverkan.")
    assert len(statements_reading_pending()) > 1
    assert county_total(w) == 2


def test_the_migration_to_pairs_without_a_first_action_converts_stored_and_pending_rows_exactly(w):
    """Migration 0031 replaced the ``pair`` rows (every report of a pair) by ``pair_no_response`` (those
    without a first action): back and forth, in the summary and in the pending changes, nothing is lost."""
    migration = importlib.import_module("deviations.migrations.0031_followup_pair_no_response")
    coordinator = w.nacka_coordinator
    answered = submit(w, reporter=w.reporter)
    transitions.apply_transition(deviation=answered, action="start_triage", actor=coordinator)
    waiting = submit(w, reporter=w.reporter, description="En andra brist i samverkan.")
    summary.fold()  # stored: one report of the pair with a first action, one without
    # Pending: the other's first action (from one measure to the other), a third report waiting.
    transitions.apply_transition(deviation=waiting, action="start_triage", actor=coordinator)
    submit(w, reporter=w.reporter, description="En tredje brist i samverkan.")
    assert FollowUpPending.objects.filter(measure="pair_response", n=1).exists()
    assert FollowUpPending.objects.filter(measure="pair_no_response", n=-1).exists()
    recounted = summary.recount()

    def run(statements):
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    run(migration.BACKWARD)  # the rows as they were stored before
    assert not FollowUpSummary.objects.filter(measure="pair_no_response").exists()
    assert not FollowUpPending.objects.filter(measure="pair_no_response").exists()
    pair = f"{w.own.pk}:{w.counterpart.pk}"
    county_year = {
        key[6]: n
        for key, (n, _seconds) in summary.stored().items()
        if key[1] == "reported_on" and key[2:5] == (summary.COUNTY, summary.COUNTY, 12) and key[7] == pair
    }
    assert county_year == {"pair": 3, "pair_response": 2}

    run(migration.FORWARD)
    assert not FollowUpSummary.objects.filter(measure="pair").exists()
    assert not FollowUpPending.objects.filter(measure="pair").exists()
    assert_summary_is_a_recount()
    assert summary.recount() == recounted


def test_the_unique_index_has_its_fixed_width_columns_first(db):
    """Every column after a variable-width one is found by walking the index entry from its start, at
    every comparison of a build or a lookup; so ``basis`` and the texts come after the numbers and dates.
    The rows are written in the index's order (``INDEX_ORDER``, read from the model's constraint)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.attname, a.attlen FROM pg_index i
            CROSS JOIN LATERAL unnest(i.indkey[:i.indnkeyatts - 1]) WITH ORDINALITY AS k(attnum, place)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indexrelid = 'followupsummary_unique_cell'::regclass ORDER BY k.place
            """
        )
        columns = cursor.fetchall()
    assert tuple(name for name, _width in columns) == summary.INDEX_ORDER
    widths = [width for _name, width in columns]
    assert -1 in widths
    assert all(width == -1 for width in widths[widths.index(-1) :])  # -1: variable width
