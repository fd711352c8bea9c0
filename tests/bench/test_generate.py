"""The bench generator writes data the application's rules accept (runs on PostgreSQL only: COPY)."""

import re
import threading

import pytest
from django.db import connection
from django.db.models import Count, Max, Q

from agreements import reference_data
from agreements.models import Agreement, DeviationCategory
from bench import generate
from bench.reference import POPULATION
from councils.models import Council, District, Municipality
from deviations import summary
from deviations.models import (
    Deviation,
    DeviationEvent,
    FollowUpSummary,
    ReferenceCounter,
    ResponseRequest,
    SystemicIssue,
)
from deviations.workflow import OPEN_STATES, TRANSITIONS, Status


def test_generated_data_obeys_the_rules_of_the_application(transactional_db):
    """One generation (a few seconds), every check on it. Committed as the generator does (its summary's
    workers read on their own connections what it loaded)."""
    generate.main(
        [
            "--reports",
            "400",
            "--reset",
            "--no-vacuum",
            "--chunk",
            "150",
            "--seed",
            "7",
            "--workers",
            "2",
            "--producers",
            "2",
        ]
    )

    check_counts_and_a_tail_open()
    check_places_agreements_and_councils_are_the_products_reference_data()
    check_references_are_unique_per_year_and_counters_hold_the_highest_number()
    check_every_transition_event_follows_the_state_machine()
    check_timestamps_are_consistent()
    check_the_follow_up_summary_is_a_recount()
    check_events_left_out_of_the_copy_are_empty_and_the_schema_is_the_migrations()
    check_every_report_has_a_counterpart_and_sequences_continue_after_the_copy()  # adds a report


def generated(*, producers: int) -> list[tuple]:
    """Generate 400 reports in chunks of 150 (seed 7) with ``producers`` processes; what came out, but
    the timestamps (drawn back from the time of the run)."""
    generate.main(
        ["--reports", "400", "--reset", "--no-vacuum", "--no-summary", "--chunk", "150", "--seed", "7"]
        + ["--workers", "2", "--producers", str(producers)]
    )
    reports = Deviation.objects.order_by("id").prefetch_related("counterpart_organizations")
    return [
        (
            d.id,
            d.reference,
            d.status,
            d.agreement_id,
            d.category_id,
            d.council_id,
            d.reporting_organization_id,
            d.reporter_id,
            d.description,
            d.severity,
            str(d.idempotency_key),
            d.systemic_issue_id,
            d.duplicate_of_id,
            sorted(o.pk for o in d.counterpart_organizations.all()),
        )
        for d in reports
    ] + [
        tuple(
            DeviationEvent.objects.order_by("id").values_list(
                "id", "deviation_id", "kind", "action", "to_status"
            )
        ),
        tuple(ResponseRequest.objects.order_by("id").values_list("id", "deviation_id", "organization_id")),
    ]


def test_the_data_depend_on_the_seed_and_the_chunks_not_on_the_number_of_producers(transactional_db):
    """Each chunk draws from its own random generator and the chunks are COPYed in order: one process or
    two give the same reports, counterparts, events and requests, with the same ids."""
    alone = generated(producers=1)
    side_by_side = generated(producers=2)
    assert len(alone) == 402 and alone[-2]
    assert side_by_side == alone


def test_a_producer_that_fails_fails_the_load_and_leaves_nothing(transactional_db, monkeypatch):
    """A producer process that cannot do its work (here: it cannot reach the database for its COPY
    formatter) stops the load with its error; the load's transaction is rolled back and no process is left
    behind."""
    import multiprocessing

    import psycopg

    generated(producers=1)
    good = generate.producer_connection_params()
    monkeypatch.setattr(generate, "producer_connection_params", lambda: {**good, "port": 1})
    with pytest.raises(psycopg.OperationalError):
        generated(producers=2)
    assert Deviation.objects.count() == 400  # the earlier load, untouched
    assert not multiprocessing.active_children()


def check_events_left_out_of_the_copy_are_empty_and_the_schema_is_the_migrations():
    """``EVENT_DEFAULTS``: PostgreSQL filled what the COPY left out, and the default set for the load is
    gone (an event written by the services must still say what its details are)."""
    events = DeviationEvent.objects.all()
    assert (
        events.count()
        == events.filter(
            details={},
            from_council__isnull=True,
            to_council__isnull=True,
            from_assignee__isnull=True,
            to_assignee__isnull=True,
        ).count()
        > 0
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_default FROM information_schema.columns "
            "WHERE table_name = %s AND column_name = %s",
            [DeviationEvent._meta.db_table, "details"],
        )
        assert cursor.fetchone() == (None,)


def check_the_follow_up_summary_is_a_recount():
    assert FollowUpSummary.objects.exists()
    assert summary.stored() == summary.recount()


def check_counts_and_a_tail_open():
    assert Deviation.objects.count() == 400
    statuses = set(Deviation.objects.values_list("status", flat=True))
    assert Status.CLOSED in statuses
    assert (
        Deviation.objects.filter(status=Status.CLOSED).count()
        > Deviation.objects.filter(status__in=OPEN_STATES).count()
    )
    assert SystemicIssue.objects.exists()
    assert ResponseRequest.objects.exists()


def check_places_agreements_and_councils_are_the_products_reference_data():
    councils = {reference_data.REGIONAL_COUNCIL} | {c["name"] for c in reference_data.EXAMPLE_COUNCILS}
    assert set(Council.objects.values_list("name", flat=True)) == councils
    assert set(District.objects.values_list("name", flat=True)) == set(reference_data.STOCKHOLM_DISTRICTS)
    assert dict(Municipality.objects.values_list("code", "name")) == reference_data.MUNICIPALITIES
    reports = Deviation.objects.exclude(status=Status.UNCONFIRMED)
    assert set(reports.values_list("council__name", flat=True)) <= councils
    used_districts = set(reports.filter(district__isnull=False).values_list("district__name", flat=True))
    assert used_districts and used_districts <= set(reference_data.STOCKHOLM_DISTRICTS)
    assert set(Agreement.objects.values_list("code", flat=True)) == set(reference_data.ALL_AGREEMENTS)
    categories = {c["name"] for c in reference_data.CATEGORIES}
    assert set(DeviationCategory.objects.values_list("name", flat=True)) == categories


def check_references_are_unique_per_year_and_counters_hold_the_highest_number():
    refs = list(Deviation.objects.values_list("reference", "reported_on"))
    assert all(re.fullmatch(r"SB-(\d{4})-\d{5,}", ref) for ref, _ in refs)
    assert all(int(ref[3:7]) == reported_on.year for ref, reported_on in refs)
    for counter in ReferenceCounter.objects.all():
        numbers = [int(ref.rsplit("-", 1)[1]) for ref, _ in refs if ref[3:7] == str(counter.year)]
        assert counter.last == max(numbers) == len(numbers)


def check_every_transition_event_follows_the_state_machine():
    for deviation in Deviation.objects.prefetch_related("events"):
        status = Status.UNCONFIRMED
        for event in deviation.events.all():
            if event.kind != DeviationEvent.Kind.TRANSITION:
                continue
            transition = TRANSITIONS[event.action]
            assert status in transition.source, (deviation.reference, event.action, status)
            assert event.from_status == status
            status = event.to_status
        assert status == deviation.status, deviation.reference


def check_timestamps_are_consistent():
    assert not Deviation.objects.filter(occurred_on__gt=models_f("reported_on")).exists()
    assert not Deviation.objects.filter(submitted_at__lt=models_f("created_at")).exists()
    assert not Deviation.objects.filter(first_response_at__lt=models_f("submitted_at")).exists()
    final = Q(status__in=[Status.CLOSED, Status.REJECTED])
    assert not Deviation.objects.filter(final, closed_at__isnull=True).exists()
    assert not Deviation.objects.filter(~final, closed_at__isnull=False).exists()
    assert not Deviation.objects.exclude(status=Status.UNCONFIRMED).filter(council__isnull=True).exists()


def check_every_report_has_a_counterpart_and_sequences_continue_after_the_copy():
    assert not Deviation.objects.annotate(n=Count("counterpart_organizations")).filter(n=0).exists()
    highest = Deviation.objects.aggregate(m=Max("id"))["m"]
    new = Deviation.objects.create(
        reference="SB-1999-00001",
        status=Status.SUBMITTED,
        agreement_id=Deviation.objects.values_list("agreement_id", flat=True).first(),
        category_id=Deviation.objects.values_list("category_id", flat=True).first(),
        municipality_id=Deviation.objects.values_list("municipality_id", flat=True).first(),
        reporting_organization_id=Deviation.objects.values_list(
            "reporting_organization_id", flat=True
        ).first(),
        occurred_on="2020-01-01",
        reported_on="2020-01-02",
        description="x",
        consequence="y",
    )
    assert new.pk > highest


@pytest.mark.parametrize("status", sorted(generate.WAYS))
def test_every_way_to_a_status_is_a_valid_path_of_the_state_machine(status):
    generate.check_workflow()
    for via, _weight in generate.WAYS[status]:
        current = Status.UNCONFIRMED
        path = generate.workflow_path(status, via)
        for action, to_status in path:
            assert current in TRANSITIONS[action].source, (status, via, action, current)
            assert to_status == TRANSITIONS[action].target
            current = to_status
        assert current == status
        taken = [action for action, _ in path]
        assert [action for action in taken if action in via] == list(via)


def test_the_ways_are_the_shortest_the_table_allows():
    assert generate.workflow_path("closed") == [
        ("confirm", "submitted"),
        ("start_triage", "triage"),
        ("close", "closed"),
    ]
    assert [a for a, _ in generate.workflow_path("closed", ("start_regional_analysis",))] == [
        "confirm",
        "start_triage",
        "escalate",
        "start_regional_analysis",
        "close",
    ]
    assert generate.workflow_path("rejected") == [("confirm", "submitted"), ("reject", "rejected")]


def test_an_impossible_way_is_refused():
    with pytest.raises(ValueError, match="No way from submitted to"):
        generate.workflow_path("unconfirmed", ("confirm",))


@pytest.mark.django_db
def test_the_foreign_key_check_finds_every_reference_that_points_nowhere():
    """The load skips FK triggers; the check after it is what stands between a bug and broken data."""
    from django.db import connection

    from tests import factories

    event = factories.DeviationEventFactory(actor=factories.UserFactory())
    tables = ["deviations_deviationevent", "deviations_deviation"]
    with connection.cursor() as cursor:
        generate.check_foreign_keys(tables=tables)  # all resolve: nothing said
        cursor.execute("SET LOCAL session_replication_role = replica")  # as the load does
        for column, message in (
            ("actor_id", "1 rows of deviations_deviationevent.actor_id point nowhere in councils_user."),
            (
                "deviation_id",
                "1 rows of deviations_deviationevent.deviation_id point nowhere in deviations_deviation.",
            ),
        ):
            cursor.execute("SAVEPOINT dangling")
            cursor.execute(
                f"UPDATE deviations_deviationevent SET {column} = 987654321 WHERE id = %s", [event.pk]
            )
            with pytest.raises(SystemExit, match=re.escape(message)):
                generate.check_foreign_keys(tables=tables)
            cursor.execute("ROLLBACK TO SAVEPOINT dangling")
        generate.check_foreign_keys(tables=tables)


def schema_of(tables):
    """Every index of ``tables`` (its definition up to a predicate's text: PostgreSQL prints a predicate
    made from its own printout in an equal form of its own, e.g. ``ARRAY[...]::text[]`` as an array of
    casts) and every constraint (definition)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = ANY(%s::regclass[])", [tables]
        )
        indexes = {
            definition.split(" WHERE ")[0] + (" WHERE" if " WHERE " in definition else "")
            for (definition,) in cursor.fetchall()
        }
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = ANY(%s::regclass[])",
            [tables],
        )
        return indexes, set(cursor.fetchall())


def pending_table_exists():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [generate.PENDING_BUILDS])
        return cursor.fetchone()[0]


def test_indexes_dropped_for_a_load_are_built_again_even_after_a_run_that_stopped(transactional_db):
    """The drop and the list of what to build commit together: a run stopped after its load (the builds
    run after the commit) leaves the list, the next run builds what it lists, although the tables no
    longer show those indexes; a constraint comes back a constraint."""
    from django.db import connection, transaction

    tables = generate.BULK_TABLES
    before = schema_of(tables)
    with transaction.atomic(), connection.cursor() as cursor:
        builds = generate.builds_for_load(cursor, tables)
        generate.drop_for_load(cursor, builds)
    assert "deviations_deviation_idempotency_key_key" in {b.name for b in builds if b.constraint is not None}
    dropped = schema_of(tables)
    assert len(dropped[0]) == len(before[0]) - len(builds)
    assert pending_table_exists()

    # The next run: the tables show none of them, the list all of them.
    with transaction.atomic(), connection.cursor() as cursor:
        assert generate.builds_for_load(cursor, tables) == builds
        # Part of the builds done before that run stopped too: the constraint's index alone (it looks plain).
        cursor.execute(next(b.index for b in builds if b.constraint is not None))
    with transaction.atomic(), connection.cursor() as cursor:
        assert generate.builds_for_load(cursor, tables) == builds
        generate.drop_for_load(cursor, builds)

    generate.build_pending(workers=2)
    assert schema_of(tables) == before
    assert not pending_table_exists()


def test_jobs_side_by_side_stop_at_the_first_failure(transactional_db):
    from django.db import connection

    ran = []
    # The jobs after the failing one may run only once it has failed: else the other connection could
    # run all of them while the failing one's connection is still being opened (seen once in CI).
    may_run = threading.Event()
    may_run.set()  # the first batch has no failing job to wait for

    def job(n):
        def run(cursor):
            assert may_run.wait(timeout=30)
            cursor.execute("SELECT %s", [n])
            ran.append(cursor.fetchone()[0])

        return run

    def failing(cursor):
        try:
            cursor.execute("SELECT 1 / 0")
        finally:
            may_run.set()

    generate.side_by_side([job(n) for n in range(5)], workers=2)
    assert sorted(ran) == list(range(5))
    ran.clear()
    may_run.clear()
    with pytest.raises(Exception, match="division by zero"):
        generate.side_by_side([failing] + [job(n) for n in range(50)], workers=2)
    assert len(ran) < 50  # the other connection stopped too
    with pytest.raises(Exception, match="division by zero"):
        generate.side_by_side([job(1), failing, job(2)], workers=1)
    assert connection.cursor()  # this thread's connection still usable


def test_every_municipality_of_the_reference_data_has_a_population():
    assert set(POPULATION) == set(reference_data.MUNICIPALITIES)


def models_f(name):
    from django.db.models import F

    return F(name)


def test_reference_numbers_start_again_each_year_and_a_year_without_reports_has_no_counter():
    """A report's number is its place among the year's reports (``year_first_indexes``), whichever
    process builds its chunk; ``ReferenceCounter`` gets each year's count, and no row for an empty year."""
    import datetime as dt

    def at(*when):
        return int(dt.datetime(*when, tzinfo=dt.UTC).timestamp())

    times = [at(2020, 5, 1, 9), at(2020, 12, 31, 16), at(2022, 1, 1, 6), at(2022, 3, 1, 8), at(2022, 3, 2, 8)]
    assert generate.year_first_indexes(times) == {2020: 0, 2021: 2, 2022: 2}
    assert generate.reference_counters(times) == {2020: 2, 2022: 3}
    assert generate.reference_counters([]) == {}
