"""Query budgets (issue #8): pages must not make more SQL queries as the data grows."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from deviations.models import Deviation
from deviations.workflow import Status
from tests import factories
from tests.deviations.reporting_world import build_world, valid_post

# Session, user, the viewer's memberships (once for scope, roles and menu), the report with the
# relations every report has and the district and handler most have (one join of eight tables), its
# counterparts, the access-log row, whether the viewer's organisation is asked for a response, events,
# response requests, duplicates, similar reports (one bounded statement), the digest of the assignable
# handlers (members of the report's council: never all users, never all reports), the
# contributing-factor taxonomy with the report's own factors marked, the digest of the systemic issues
# not yet resolved (regional level: the form that links the report to one; the digests key the lists'
# cached HTML, whose rows are read only when it is made afresh); and one small query for each rare
# relation that is set: duplicate of, systemic issue (the reporter's account is not read). The page's
# prepared statements keep their plans (config.db.KEY_LOOKUP_PLANNER_SETTINGS, one statement setting
# it), so the join is planned once per connection.
DETAIL_BUDGET = 16


def _detail_queries(client, deviation) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/rapporter/{deviation.reference}/")
    assert response.status_code == 200
    # The page's savepoint exists only inside the test's own transaction (in production it is the
    # request's transaction, BEGIN/COMMIT, which are not counted either).
    return sum(1 for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT")))


def test_detail_page_query_count_does_not_grow_with_events_or_counterparts(client, regional_coordinator):
    client.force_login(regional_coordinator)
    small = factories.DeviationFactory()
    factories.DeviationEventFactory(deviation=small)
    large = factories.DeviationFactory(counterparts=[factories.RegionOrganizationFactory() for _ in range(4)])
    for _ in range(25):
        factories.DeviationEventFactory(deviation=large, actor=factories.UserFactory())
    _detail_queries(client, small)  # warm caches (content types, sessions)

    assert _detail_queries(client, small) == _detail_queries(client, large) <= DETAIL_BUDGET - 2
    # Every optional relation set: one small query for each rare one, still a fixed number.
    large.district = factories.DistrictFactory(municipality=large.municipality)
    large.reporter = factories.UserFactory()
    large.assigned_to = factories.UserFactory()
    large.duplicate_of = small
    large.systemic_issue = factories.SystemicIssueFactory()
    large.save()
    # The two lists whose HTML is cached by a digest of their rows (assignable handlers, systemic
    # issues) are read once more when their HTML is made afresh, here for the newly selected values.
    assert _detail_queries(client, large) == DETAIL_BUDGET + 2
    assert _detail_queries(client, large) == DETAIL_BUDGET


# --- Filing (issue #8: ≥ 250 reports/s) ---------------------------------------------------------------

# A signed-in reporter's POST of the report form, all of it (a transaction=True test: commit and the
# e-mail tasks run as in production): session, user, the reference data's version (the chosen agreement,
# commitment, category, place and organisations are found in the lists the process keeps while that
# version stays the same: deviations.reference); BEGIN, the idempotency key, the same content from the
# same reporter lately (a resubmit after going back), the plan cache mode of the rest of the transaction
# (its statements find rows by key and keep their generic plans: config.db.GENERIC_PLAN_SETTINGS), the
# reference number, the report, its event, its counterparts, what it adds to the follow-up summary
# (pending rows: one INSERT, already under the generic plan it needs: deviations/summary.py), the
# council's coordinators who chose the daily digest (their digest rows are written with the hand-off),
# one e-mail task holding both mails (receipt, new report: references only, the worker looks
# up the recipients; written in the report's transaction: notifications.mails_together), COMMIT.
# Routing reads no version again: it uses the reference data the form checked the report against
# (deviations.reference.pinned). Nothing is written to the session (the signed-in reporter's receipt is
# found by its reference: deviations.views.reporting.report_receipt).
# Nothing grows with the reference data or the number of reports.
FILING_POST_BUDGET = 15
# After any change to the reference data, the first filing (or form) of each process reads the lists again:
# agreements, commitments, categories and their agreements, municipalities and their districts, districts,
# organisations with their regions, and their e-mail domains; the active councils and the districts and
# municipalities the local ones cover (routing: deviations.services.routing.council_for_place).
REFERENCE_RELOAD = 12
# The form: session, user, the reference data's version (the lists of choices are those the process
# keeps while it stays the same: deviations.reference), the menu.
FILING_FORM_BUDGET = 4


def _grow_reference_data(w):
    """More of every table the form lists, and reports: the budgets must not move."""
    for i in range(5):
        agreement = factories.AgreementFactory(code=f"EXTRA{i}", valid_from=w.psyk.valid_from)
        factories.CommitmentFactory(agreement=agreement)
        factories.DeviationCategoryFactory(agreements=[agreement, w.psyk])
        municipality = factories.MunicipalityFactory()
        factories.DistrictFactory(municipality=municipality)
        factories.OrganizationFactory(principal_municipality=municipality)
        factories.RegionOrganizationFactory(principal_region=w.region)
    for i in range(3):
        # A year of their own: the reports filed through the form are numbered SB-2026-00001 onwards.
        factories.DeviationFactory(reference=f"SB-1999-{i + 1:05d}")


def _filing_statements(client, w, *, key, **overrides) -> list[str]:
    # Each its own text: the same content again would be the first report, not a new one.
    data = valid_post(
        w,
        idempotency_key=str(key),
        reporter_email="anna@nacka.se",
        description=f"Utskrivning {key}.",
        **overrides,
    )
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/rapportera/formular/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return [q["sql"] for q in queries]


def _filing_queries(client, w, *, key, **overrides) -> int:
    return len(_filing_statements(client, w, key=key, **overrides))


@pytest.mark.django_db(transaction=True)
def test_filing_query_count_is_constant(client, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    w = build_world()
    reporter = factories.UserFactory(email="anna@nacka.se", organization=w.own)
    client.force_login(reporter)
    _filing_queries(client, w, key=uuid.uuid4())  # warm caches (content types, sessions)
    before = _filing_queries(client, w, key=uuid.uuid4())
    _grow_reference_data(w)
    assert _filing_queries(client, w, key=uuid.uuid4()) == FILING_POST_BUDGET + REFERENCE_RELOAD
    after = _filing_queries(client, w, key=uuid.uuid4())
    # With a district, the district is looked up instead of asking whether the municipality has any.
    in_a_district = _filing_queries(
        client, w, key=uuid.uuid4(), municipality=w.stockholm.pk, district=w.spanga.pk
    )
    assert before == after == in_a_district == FILING_POST_BUDGET
    assert Deviation.objects.filter(reporter=reporter, status=Status.SUBMITTED).count() == 5
    # A receipt and a new-report e-mail per report, in one task row.
    mails = [mail for task in DBTaskResult.objects.all() for mail in task.args_kwargs["kwargs"]["mails"]]
    assert sorted(mail["template"] for mail in mails) == sorted(["new_report", "receipt"] * 5)
    assert DBTaskResult.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_a_filing_lets_its_prepared_statements_keep_their_plans_in_its_transaction_only(client):
    """config.db.GENERIC_PLAN_SETTINGS: set once (SET LOCAL) after the same-content lookup (planned for
    its values) and before the report is numbered and saved; the summary's pending rows, which need
    that setting, run under it without setting and restoring it again; once the report is committed
    the connection plans as the database says again."""
    w = build_world()
    client.force_login(factories.UserFactory(email="anna@nacka.se", organization=w.own))
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        (default,) = cursor.fetchone()
    statements = _filing_statements(client, w, key=uuid.uuid4())
    settings = [i for i, sql in enumerate(statements) if "set_config" in sql]
    same_content = next(i for i, sql in enumerate(statements) if "MD5(" in sql)
    numbered = next(i for i, sql in enumerate(statements) if "referencecounter" in sql)
    pending = next(i for i, sql in enumerate(statements) if "followuppending" in sql)
    assert len(settings) == 1 and same_content < settings[0] < numbered < pending
    assert "plan_cache_mode" in statements[settings[0]] and "'force_generic_plan'" in statements[settings[0]]
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone() == (default,)
    assert default == "force_custom_plan"


def test_filing_form_query_count_is_constant(client, db):
    w = build_world()
    client.force_login(factories.UserFactory(organization=w.own))
    client.get("/rapportera/formular/")  # warm caches
    with CaptureQueriesContext(connection) as before:
        assert client.get("/rapportera/formular/").status_code == 200
    _grow_reference_data(w)
    with CaptureQueriesContext(connection) as reloaded:
        assert client.get("/rapportera/formular/").status_code == 200
    with CaptureQueriesContext(connection) as after:
        assert client.get("/rapportera/formular/").status_code == 200
    assert len(before) == len(after) == FILING_FORM_BUDGET
    assert len(reloaded) == FILING_FORM_BUDGET + REFERENCE_RELOAD


def test_the_report_page_lets_its_prepared_statements_keep_their_plans(client, regional_coordinator):
    """config.db.KEY_LOOKUP_PLANNER_SETTINGS, set for the page's transaction only (SET LOCAL)."""
    client.force_login(regional_coordinator)
    deviation = factories.DeviationFactory()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/rapporter/{deviation.reference}/").status_code == 200
    settings = [q["sql"] for q in queries if "set_config" in q["sql"]]
    assert len(settings) == 1 and "plan_cache_mode" in settings[0] and "auto" in settings[0]
