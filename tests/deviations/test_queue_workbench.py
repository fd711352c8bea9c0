"""The queue as a working tool: open reports by default, the response columns and their keyset sorts,
choices limited to what the user can see, Swedish empty labels, saved filters, actions on selected rows
and exports. Through the views: who may, who may not, bad input, query counts."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from deviations import queues, selectors
from deviations.dates import stockholm_today
from deviations.models import Deviation, DeviationEvent, SavedFilter
from deviations.services import responses
from deviations.workflow import OPEN_STATES, Status
from tests import factories
from tests.deviations.triage_world import QUEUE_BUDGET, build_world, fast_passwords  # noqa: F401

pytestmark = pytest.mark.django_db

QUEUE = reverse("deviations:queue")


@pytest.fixture
def w(db):
    return build_world()


def refs(response) -> list[str]:
    assert response.status_code == 200
    return [d.reference for d in response.context["page"]]


def x_report(w, **fields):
    return factories.DeviationFactory(council=w.council_x, municipality=w.muni_x, **fields)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- Default view, columns, choices -------------------------------------------------------------------


def _page_plan(client, url: str, index: str) -> tuple:
    """The response at ``url`` and the plan of its page statement when the deviation table has only ``index``
    and the plain one on the creation time (and its unique ones). On a test table of a few rows
    PostgreSQL would rather read any index and sort (which one differs between versions), so the others
    are dropped in the test's transaction (rolled back with it) and sequential and bitmap scans are
    off: the plan names ``index`` only if PostgreSQL proves the page's filter implies its condition."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    [page] = [
        q["sql"]
        for q in queries.captured_queries
        if "ORDER BY" in q["sql"]
        and "LIMIT" in q["sql"]
        and q["sql"].startswith('SELECT "deviations_deviation"."id"')
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'deviations_deviation' "
            "AND indexname NOT IN (%s, 'deviation_created_idx') "
            "AND indexdef NOT LIKE 'CREATE UNIQUE%%'",
            [index],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("ANALYZE deviations_deviation")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {page}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return response, plan


def test_the_finished_reports_view_reads_the_newest_finished_reports_by_their_own_index(client, w):
    """ "Avslutade och avvisade" (closed and rejected) pages through the finished reports newest first by
    deviation_final_created_idx: PostgreSQL proves the view's filter implies the index's condition, so
    the page never steps over the newer open reports (at 1M with 20,000 newer open ones: 10.6 -> 0.14
    ms)."""
    for status in (Status.CLOSED, Status.REJECTED, Status.TRIAGE):
        x_report(w, status=status)
    client.force_login(w.regional)
    views = {label: query for label, query, _current in client.get(QUEUE).context["views"]}
    url = f"{QUEUE}?{views['Avslutade och avvisade']}"
    response, plan = _page_plan(client, url, "deviation_final_created_idx")
    assert {d.status for d in response.context["page"]} == {Status.CLOSED, Status.REJECTED}
    assert "deviation_final_created_idx" in plan, plan


def test_the_default_view_reads_the_open_reports_by_their_own_index(client, w):
    """The queue's default list, the open reports, pages by deviation_open_created_idx: a page deep in
    it never steps over the finished reports between the older open ones (a page 200,000 reports down
    at 1M: 2,625 rows read and 0.9 ms, against its 26 rows and 0.18 ms)."""
    for status in (Status.CLOSED, Status.REJECTED, Status.TRIAGE, Status.ESCALATED):
        x_report(w, status=status)
    client.force_login(w.regional)
    response, plan = _page_plan(client, QUEUE, "deviation_open_created_idx")
    assert {d.status for d in response.context["page"]} <= OPEN_STATES
    assert len(response.context["page"]) >= 2
    assert "deviation_open_created_idx" in plan, plan


def test_queue_lists_open_reports_by_default_and_closed_ones_one_click_away(client, w):
    closed = x_report(w, status=Status.CLOSED)
    rejected = x_report(w, status=Status.REJECTED)
    client.force_login(w.coord_x)
    response = client.get(QUEUE)
    assert refs(response) == [w.dev_x.reference]
    views = {label: query for label, query, _current in response.context["views"]}
    closed_view = client.get(f"{QUEUE}?{views['Avslutade och avvisade']}")
    assert sorted(refs(closed_view)) == sorted([closed.reference, rejected.reference])
    assert sorted(refs(client.get(f"{QUEUE}?{views['Alla']}"))) == sorted(
        [w.dev_x.reference, closed.reference, rejected.reference]
    )
    # The closed count is shown (and links) while the list shows open reports; "Listade" counts the list.
    rows = {row["value"]: row for row in response.context["status_rows"]}
    assert rows[Status.CLOSED]["count"] == 1 and not rows[Status.CLOSED]["listed"]
    assert response.context["total_listed"] == 1


def test_escalated_queue_counts_count_what_it_lists(client, w):
    for status in (
        Status.ESCALATED,
        Status.ESCALATED,
        Status.REGIONAL_ANALYSIS,
        Status.TRIAGE,
        Status.CLOSED,
    ):
        x_report(w, status=status)
    client.force_login(w.regional)
    response = client.get(reverse("deviations:escalated"))
    listed = refs(response)
    assert len(listed) == 3
    counts = {row["value"]: row["count"] for row in response.context["status_rows"]}
    assert counts == {Status.ESCALATED: 2, Status.REGIONAL_ANALYSIS: 1}
    assert response.context["total_listed"] == len(listed)
    # Its status filter offers only the regional states.
    choices = [value for value, _ in response.context["filter"].form.fields["status"].choices]
    assert choices == [Status.ESCALATED, Status.REGIONAL_ANALYSIS]


def test_council_column_and_filter_only_for_someone_with_several_councils(client, w):
    client.force_login(w.coord_x)
    response = client.get(QUEUE)
    assert not response.context["show_council"]
    assert "council" not in response.context["filter"].form.fields
    assert '<th scope="col">Samråd</th>' not in response.content.decode()
    factories.CouncilMembershipFactory(council=w.council_y, user=w.coord_x)
    response = client.get(QUEUE)
    assert response.context["show_council"]
    assert '<th scope="col">Samråd</th>' in response.content.decode()
    offered = set(response.context["filter"].form.fields["council"].queryset)
    assert offered == {w.council_x, w.council_y}
    client.force_login(w.regional)
    assert client.get(QUEUE).context["show_council"]


def test_filter_offers_only_the_users_municipalities(client, w):
    other = factories.MunicipalityFactory(name="Annanstans")
    stockholm = factories.MunicipalityFactory(name="Stockholm")
    district = factories.DistrictFactory(municipality=stockholm, name="Spånga-Tensta")
    w.council_x.districts.add(district)
    client.force_login(w.coord_x)
    offered = set(client.get(QUEUE).context["filter"].form.fields["municipality"].queryset)
    assert offered == {w.muni_x, stockholm}
    assert other not in offered
    # A choice outside the user's area is refused (a form error), not silently widened.
    response = client.get(QUEUE, {"municipality": w.muni_y.pk})
    assert response.context["filter"].form.errors
    assert refs(response) == []
    client.force_login(w.regional)
    assert other in set(client.get(QUEUE).context["filter"].form.fields["municipality"].queryset)


def test_a_council_outside_the_users_is_refused_not_widened(client, w):
    factories.CouncilMembershipFactory(council=w.council_y, user=w.coord_x)
    z_report = factories.DeviationFactory(council=w.council_z)
    client.force_login(w.coord_x)
    for tampered in (w.council_z.pk, w.regional_council.pk, 999999, "x"):
        response = client.get(QUEUE, {"council": tampered})
        assert "council" in response.context["filter"].form.errors, tampered
        assert refs(response) == []
    assert z_report.reference not in refs(client.get(QUEUE))
    assert refs(client.get(QUEUE, {"council": w.council_y.pk})) == [w.dev_y.reference]


def test_my_councils_filter_for_a_regional_coordinator_in_a_local_council(client, w):
    client.force_login(w.regional)
    assert "my_councils" not in client.get(QUEUE).context["filter"].form.fields
    factories.CouncilMembershipFactory(council=w.council_x, user=w.regional)
    assert sorted(refs(client.get(QUEUE))) == sorted([w.dev_x.reference, w.dev_y.reference])
    assert refs(client.get(QUEUE, {"my_councils": "on"})) == [w.dev_x.reference]
    client.force_login(w.coord_x)
    assert "my_councils" not in client.get(QUEUE).context["filter"].form.fields


def test_column_headings_follow_the_language_of_the_request(client, w):
    client.force_login(w.coord_x)
    assert ">Inträffade</a>" in client.get(QUEUE).content.decode()
    with translation.override("en"):
        english = client.get(reverse("deviations:queue")).content.decode()
    for heading in ("Reference", "Occurred", "Created", "Response due", "Response received"):
        assert f">{heading}</a>" in english
    assert "Inträffade" not in english and "Yttrande senast" not in english
    assert ">Inträffade</a>" in client.get(QUEUE).content.decode()


def test_filter_form_is_compact_common_filters_first_the_rest_folded(client, w):
    client.force_login(w.regional)
    html = client.get(QUEUE).content.decode()
    form = html[html.index('<form method="get"') :].split("</form>", 1)[0]
    visible, folded = form.split("<details", 1)
    for name in ("q", "assigned", "response", "agreement"):
        assert f'name="{name}"' in visible
    for name in ("status", "category", "council", "municipality", "organization", "occurred_after"):
        assert f'name="{name}"' in folded
    assert '<details class="mb-2">' in form  # closed while no folded filter is used
    opened = client.get(QUEUE, {"council": w.council_x.pk}).content.decode()
    assert '<details class="mb-2" open>' in opened


def test_no_untranslated_empty_labels_on_the_queue(client, w):
    client.force_login(w.regional)
    for url in (QUEUE, reverse("deviations:escalated")):
        html = client.get(url).content.decode()
        assert "---------" not in html and "Select an option" not in html
        assert '<option value="" selected>Alla</option>' in html


def test_no_untranslated_empty_labels_in_forms_and_admin(client, w, superuser):
    issue = factories.SystemicIssueFactory(created_by=w.regional)
    w.dev_x.status = Status.TRIAGE
    w.dev_x.save()
    pages = [
        (w.coord_x, reverse("deviations:detail", args=[w.dev_x.reference])),
        (w.coord_x, reverse("deviations:transition", args=[w.dev_x.reference, "reroute"])),
        (w.coord_x, reverse("deviations:transition", args=[w.dev_x.reference, "reject"])),
        (w.regional, reverse("deviations:systemic_detail", args=[issue.pk])),
        (w.regional, reverse("deviations:systemic_create")),
        (None, reverse("deviations:report_form")),
    ]
    for model in admin.site._registry:
        meta = model._meta
        pages.append((superuser, reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")))
        pages.append((superuser, reverse(f"admin:{meta.app_label}_{meta.model_name}_add")))
    for user, url in pages:
        client.logout()
        if user is not None:
            client.force_login(user)
        response = client.get(url)
        if response.status_code == 403:  # view-only admin models have no add page
            continue
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "---------" not in html, url
        assert "Select an option" not in html, url


# --- Response columns: sorting with keyset pagination ------------------------------------------------


@pytest.fixture
def with_responses(w):
    """35 reports of council X: 12 with an open request (due dates, some equal), 8 answered, the rest
    without any; plus dev_x."""
    today = stockholm_today()
    due, answered = [], []
    for i in range(12):
        deviation = x_report(w, status=Status.AWAITING_RESPONSE)
        factories.ResponseRequestFactory(deviation=deviation, due_on=today + datetime.timedelta(days=i // 2))
        due.append(deviation)
    for _ in range(8):
        deviation = x_report(w, status=Status.TRIAGE)
        request = factories.ResponseRequestFactory(deviation=deviation)
        responses.record_response(
            response_request=request, answered_by_name="X", what_happened="Y", actions=""
        )
        answered.append(deviation)
    for _ in range(15):
        x_report(w)
    return due, answered


def walk(client, sort) -> list[str]:
    """Every row of the queue in ``sort`` order, page by page forwards; then back again from the end."""
    response = client.get(QUEUE, {"sort": sort, "size": 25})
    forward = refs(response)
    pages = [forward]
    while response.context["page"].next_cursor:
        response = client.get(
            QUEUE, {"sort": sort, "size": 25, "after": response.context["page"].next_cursor}
        )
        pages.append(refs(response))
    backward = [refs(response)]
    while response.context["page"].previous_cursor:
        response = client.get(
            QUEUE, {"sort": sort, "size": 25, "before": response.context["page"].previous_cursor}
        )
        backward.insert(0, refs(response))
    every = [ref for page in pages for ref in page]
    assert [ref for page in backward for ref in page] == every
    return every


@pytest.mark.parametrize(
    ("sort", "field"),
    [
        ("response_due", "response_due_on"),
        ("-response_due", "response_due_on"),
        ("response_received", "response_received_at"),
        ("-response_received", "response_received_at"),
    ],
)
def test_response_columns_sort_with_keyset_pages_rows_without_last(client, w, with_responses, sort, field):
    client.force_login(w.coord_x)
    every = walk(client, sort)
    reports = {d.reference: d for d in Deviation.objects.filter(reference__in=every)}
    assert len(every) == len(set(every)) == 36
    with_value = [r for r in every if getattr(reports[r], field) is not None]
    assert every[: len(with_value)] == with_value  # rows without a value come last, whichever direction
    values = [getattr(reports[r], field) for r in with_value]
    assert values == sorted(values, reverse=sort.startswith("-"))
    # The rest newest first, as the default queue (and its indexes).
    rest = [(reports[r].created_at, reports[r].pk) for r in every[len(with_value) :]]
    assert rest == sorted(rest, reverse=True)


def test_response_columns_are_shown(client, w, with_responses):
    due, answered = with_responses
    client.force_login(w.coord_x)
    html = client.get(QUEUE, {"sort": "response_due"}).content.decode()
    due[0].refresh_from_db()
    assert due[0].response_due_on.isoformat() in html
    assert 'aria-sort="ascending"' in html


def test_a_tampered_cursor_of_a_nullable_sort_falls_back_to_the_first_page(client, w, with_responses):
    client.force_login(w.coord_x)
    first = refs(client.get(QUEUE, {"sort": "response_due"}))
    assert refs(client.get(QUEUE, {"sort": "response_due", "after": "forged"})) == first


def test_response_summaries_follow_the_requests(w):
    """Every service that changes a request keeps the report's summary (what the queue sorts on)."""
    today = stockholm_today()
    w.dev_x.status = Status.TRIAGE
    w.dev_x.save()
    other = factories.RegionOrganizationFactory(contact_email="b@example.se")
    first, second = responses.request_response(
        deviation=w.dev_x,
        organizations=[w.org_psych, other],
        actor=w.coord_x,
        due_on=today + datetime.timedelta(days=10),
    )
    w.dev_x.refresh_from_db()
    assert (w.dev_x.response_due_on, w.dev_x.response_received_at) == (first.due_on, None)
    responses.record_response(response_request=first, answered_by_name="A", what_happened="B", actions="")
    w.dev_x.refresh_from_db()
    assert w.dev_x.response_due_on == second.due_on and w.dev_x.response_received_at is not None
    responses.cancel_response_request(response_request=second, actor=w.coord_x)
    w.dev_x.refresh_from_db()
    assert w.dev_x.response_due_on is None and w.dev_x.response_received_at is not None
    assert responses.sync_response_summaries() == 1  # recomputing changes nothing but rewrites the row


def test_overdue_flag_and_filter_use_the_summary(client, w):
    late = x_report(w, status=Status.AWAITING_RESPONSE)
    factories.ResponseRequestFactory(deviation=late, due_on=stockholm_today() - datetime.timedelta(days=1))
    client.force_login(w.coord_x)
    response = client.get(QUEUE, {"overdue": "on"})
    assert refs(response) == [late.reference]
    assert [d.response_overdue for d in response.context["page"]] == [True]


def test_sort_by_response_due_uses_the_partial_index(w):
    """EXPLAIN of the first segment (reports with an open request) walks deviation_response_due_idx. On a
    test database's few rows (and whatever statistics earlier tests left) only the index's fit to the
    query is provable: sequential scans and sorts are priced out, so the plan walks the index only if its
    columns and condition match the query's order and filter."""
    queryset = selectors.queue_queryset(
        Deviation.objects.filter(response_due_on__isnull=False), today=stockholm_today()
    ).order_by("response_due_on", "pk")[:26]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        plan = queryset.explain()
    assert "deviation_response_due_idx" in plan


# --- Saved filters -------------------------------------------------------------------------------------


def save(client, **data):
    return client.post(
        reverse("deviations:save_filter"),
        {"queue": "queue", "name": "Nya", "query": "status=submitted&after=abc", **data},
    )


def test_save_a_filter_for_oneself(client, w):
    client.force_login(w.coord_x)
    response = save(client)
    assert response.status_code == 302
    saved = SavedFilter.objects.get()
    assert (saved.owner, saved.council, saved.query) == (w.coord_x, None, "status=submitted")
    assert response["Location"] == f"{QUEUE}?status=submitted"
    assert [s for s, _ in client.get(QUEUE).context["saved_filters"]] == [saved]
    # Only for the owner.
    client.force_login(w.member_x)
    assert client.get(QUEUE).context["saved_filters"] == []
    # Saving under the same name replaces it.
    client.force_login(w.coord_x)
    save(client, query="assigned=me")
    assert SavedFilter.objects.get().query == "assigned=me"


def test_a_shared_filter_is_seen_by_the_councils_members_only(client, w):
    client.force_login(w.member_x)
    save(client, council=w.council_x.pk)
    saved = SavedFilter.objects.get()
    client.force_login(w.coord_x)
    assert [s for s, _ in client.get(QUEUE).context["saved_filters"]] == [saved]
    client.force_login(w.coord_y)
    assert client.get(QUEUE).context["saved_filters"] == []
    assert client.post(reverse("deviations:delete_filter", args=[saved.pk])).status_code == 404
    client.force_login(w.regional)
    assert client.post(reverse("deviations:delete_filter", args=[saved.pk])).status_code == 404
    assert SavedFilter.objects.exists()


def test_who_may_delete_a_shared_filter(client, w):
    saved = factories.SavedFilterFactory(owner=w.coord_x, council=w.council_x)
    url = reverse("deviations:delete_filter", args=[saved.pk])
    # A member of the council sees it but may not delete someone else's.
    client.force_login(w.member_x)
    assert client.get(QUEUE).context["saved_filters"] == [(saved, False)]
    assert client.post(url).status_code == 404
    assert SavedFilter.objects.filter(pk=saved.pk).exists()
    # The council's coordinators may (and the owner).
    other_coordinator = factories.UserFactory()
    factories.CouncilMembershipFactory(council=w.council_x, user=other_coordinator)
    client.force_login(other_coordinator)
    assert client.post(url, {"next": QUEUE}).status_code == 302
    assert not SavedFilter.objects.filter(pk=saved.pk).exists()


def test_saving_a_filter_refuses_bad_input(client, w):
    client.force_login(w.coord_x)
    response = save(client, name="  ")
    assert "Ge filtret ett namn." in messages_of(response)
    response = save(client, council=w.council_y.pk)  # not one of the user's councils
    assert response.status_code == 302 and messages_of(response)
    response = save(client, queue="escalated")  # not the regional level
    assert response.status_code == 404
    assert not SavedFilter.objects.exists()
    client.force_login(w.reporter_a)
    assert save(client).status_code == 404


def test_tampered_saved_filter_ids_are_not_found(client, w):
    colleagues = factories.SavedFilterFactory(owner=w.member_x)  # same council, not shared
    other_councils = factories.SavedFilterFactory(owner=w.coord_y, council=w.council_y)
    client.force_login(w.coord_x)
    assert client.get(QUEUE).context["saved_filters"] == []
    for pk in (colleagues.pk, other_councils.pk, other_councils.pk + 1000):
        assert client.post(reverse("deviations:delete_filter", args=[pk])).status_code == 404
    assert SavedFilter.objects.count() == 2


@pytest.mark.parametrize("council", ["x", "999999", "council_z"])
def test_sharing_with_a_made_up_council_is_refused(client, w, council):
    client.force_login(w.coord_x)
    value = w.council_z.pk if council == "council_z" else council
    response = save(client, council=value)
    assert response.status_code == 302 and messages_of(response)
    assert not SavedFilter.objects.exists()


def test_a_shared_filter_goes_with_the_membership(client, w):
    factories.CouncilMembershipFactory(council=w.council_y, user=w.coord_x)
    saved = factories.SavedFilterFactory(owner=w.coord_y, council=w.council_y)
    client.force_login(w.coord_x)
    assert [s for s, _ in client.get(QUEUE).context["saved_filters"]] == [saved]
    w.coord_x.memberships.filter(council=w.council_y).delete()
    assert client.get(QUEUE).context["saved_filters"] == []
    assert client.post(reverse("deviations:delete_filter", args=[saved.pk])).status_code == 404
    assert SavedFilter.objects.filter(pk=saved.pk).exists()


def test_a_saved_filters_name_and_query_are_escaped(client, w):
    client.force_login(w.coord_x)
    save(client, name="<script>alert(1)</script>", query='status=submitted&q="><script>x</script>')
    saved = SavedFilter.objects.get()
    assert saved.query == "status=submitted&q=%22%3E%3Cscript%3Ex%3C%2Fscript%3E"
    html = client.get(QUEUE).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '"><script>x' not in html


# --- Actions on selected rows ---------------------------------------------------------------------


def bulk(client, references, **data):
    return client.post(
        reverse("deviations:bulk_action"),
        {"queue": "queue", "reports": references, "next": f"{QUEUE}?status=submitted", **data},
    )


def test_bulk_assign_through_the_service_one_event_per_report(client, w):
    reports = [w.dev_x, x_report(w), x_report(w, status=Status.TRIAGE)]
    client.force_login(w.coord_x)
    response = bulk(client, [d.reference for d in reports], action="assign", assignee=w.member_x.pk)
    assert response.status_code == 302 and response["Location"] == f"{QUEUE}?status=submitted"
    for deviation in reports:
        deviation.refresh_from_db()
        assert deviation.assigned_to == w.member_x
        assert list(deviation.events.values_list("kind", flat=True)) == [DeviationEvent.Kind.ASSIGNMENT]


def test_bulk_reports_partial_failures_per_row(client, w):
    submitted, triaged = x_report(w), x_report(w, status=Status.TRIAGE)
    client.force_login(w.coord_x)
    response = bulk(
        client,
        [submitted.reference, triaged.reference, w.dev_y.reference, "SB-1999-99999"],
        action="start_triage",
    )
    notes = messages_of(response)
    assert any(submitted.reference in n and "1 rapport är klar" in n for n in notes)
    assert any(n.startswith(f"{triaged.reference}: ") and "går inte att utföra" in n for n in notes)
    # Another council's report and a made-up one: the same answer, nothing about the other council.
    assert f"{w.dev_y.reference}: Rapporten finns inte i din kö." in notes
    assert "SB-1999-99999: Rapporten finns inte i din kö." in notes
    submitted.refresh_from_db()
    triaged.refresh_from_db()
    w.dev_y.refresh_from_db()
    assert (submitted.status, triaged.status, w.dev_y.status) == (
        Status.TRIAGE,
        Status.TRIAGE,
        Status.SUBMITTED,
    )
    assert not triaged.events.exists() and not w.dev_y.events.exists()


def test_bulk_assign_to_someone_outside_a_reports_council_fails_for_that_row(client, w):
    factories.CouncilMembershipFactory(council=w.council_y, user=w.coord_x)
    client.force_login(w.coord_x)
    response = bulk(client, [w.dev_x.reference, w.dev_y.reference], action="assign", assignee=w.member_x.pk)
    w.dev_x.refresh_from_db()
    w.dev_y.refresh_from_db()
    assert w.dev_x.assigned_to == w.member_x and w.dev_y.assigned_to is None
    assert any(n.startswith(f"{w.dev_y.reference}: ") for n in messages_of(response))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "assign"}, "Välj vem rapporterna ska tilldelas."),
        ({"action": "close", "assignee": ""}, None),
        ({"action": "start_triage", "reports": []}, "Markera minst en rapport."),
        ({"action": "start_triage", "reports": [f"SB-2026-{i:05d}" for i in range(101)]}, "högst 100"),
    ],
)
def test_bulk_refuses_bad_input_and_changes_nothing(client, w, data, message):
    client.force_login(w.coord_x)
    references = data.pop("reports", [w.dev_x.reference])
    response = bulk(client, references, **data)
    assert response.status_code == 302
    notes = messages_of(response)
    assert notes and (message is None or any(message in n for n in notes))
    assert not DeviationEvent.objects.exists()


def test_bulk_assignee_must_be_offered(client, w):
    client.force_login(w.coord_x)
    bulk(client, [w.dev_x.reference], action="assign", assignee=w.coord_y.pk)
    w.dev_x.refresh_from_db()
    assert w.dev_x.assigned_to is None


@pytest.mark.parametrize("username", ["reporter_a", "responder", "coord_y"])
def test_bulk_by_someone_without_the_report_changes_nothing(client, w, username):
    client.force_login(getattr(w, username))
    response = bulk(client, [w.dev_x.reference], action="start_triage")
    assert response.status_code in (302, 404)
    w.dev_x.refresh_from_db()
    assert w.dev_x.status == Status.SUBMITTED


def test_bulk_on_a_queue_that_is_not_mine_or_unknown_is_not_found(client, w):
    client.force_login(w.coord_x)
    for queue in ("escalated", "okand", ""):
        assert bulk(client, [w.dev_x.reference], action="start_triage", queue=queue).status_code == 404
    w.dev_x.refresh_from_db()
    assert w.dev_x.status == Status.SUBMITTED


def test_bulk_never_sends_the_user_to_another_site(client, w):
    client.force_login(w.coord_x)
    response = bulk(client, [w.dev_x.reference], action="start_triage", next="https://evil.example/")
    assert response.status_code == 302 and response["Location"] == QUEUE
    w.dev_x.refresh_from_db()
    assert w.dev_x.status == Status.TRIAGE


def test_bulk_from_the_escalated_queue_changes_only_what_it_lists(client, w):
    escalated = factories.DeviationFactory(
        status=Status.ESCALATED, council=w.council_y, municipality=w.muni_y
    )
    client.force_login(w.regional)
    response = bulk(
        client,
        [w.dev_x.reference, escalated.reference],
        action="assign",
        assignee=w.regional.pk,
        queue="escalated",
    )
    assert f"{w.dev_x.reference}: Rapporten finns inte i din kö." in messages_of(response)
    escalated.refresh_from_db()
    w.dev_x.refresh_from_db()
    assert escalated.assigned_to == w.regional
    assert w.dev_x.assigned_to is None and not w.dev_x.events.exists()


def test_bulk_query_count_grows_only_per_row(client, w):
    client.force_login(w.coord_x)
    first = [x_report(w) for _ in range(2)]
    with CaptureQueriesContext(connection) as two:
        bulk(client, [d.reference for d in first], action="start_triage")
    more = [x_report(w) for _ in range(4)]
    with CaptureQueriesContext(connection) as four:
        bulk(client, [d.reference for d in more], action="start_triage")
    per_row = (len(four) - len(two)) / 2
    assert per_row <= 12
    assert len(two) - 2 * per_row <= 12


def test_queue_page_offers_the_bulk_form_and_row_boxes(client, w):
    client.force_login(w.coord_x)
    html = client.get(QUEUE).content.decode()
    assert f'name="reports" value="{w.dev_x.reference}"' in html
    assert (
        f'<label class="visually-hidden" for="pick-{w.dev_x.pk}">Markera {w.dev_x.reference}</label>' in html
    )
    assert 'action="/arenden/markerade/"' in html


def test_the_bulk_form_offers_the_active_members_of_the_users_active_councils_and_accepts_them(client, w):
    from django.core.cache import cache

    cache.clear()
    offered = factories.UserFactory(first_name="Anna", last_name="Ahl")
    factories.CouncilMembershipFactory(council=w.council_x, user=offered)
    nameless = factories.UserFactory(first_name="", last_name="", username="utan.namn")
    factories.CouncilMembershipFactory(council=w.council_x, user=nameless)
    inactive = factories.UserFactory(first_name="Inaktiv", last_name="Person", is_active=False)
    factories.CouncilMembershipFactory(council=w.council_x, user=inactive)
    closed_council = factories.CouncilFactory(active=False)
    factories.CouncilMembershipFactory(council=closed_council, user=w.coord_x)
    in_closed = factories.UserFactory(first_name="Stängt", last_name="Samråd")
    factories.CouncilMembershipFactory(council=closed_council, user=in_closed)
    client.force_login(w.coord_x)

    form = client.get(QUEUE).context["bulk_form"]

    field = form.fields["assignee"]
    queryset = list(field.queryset)
    assert [(str(value), label) for value, label in field.choices] == [
        (str(u.pk), u.get_full_name() or u.username) for u in queryset
    ]
    offered_ids = {u.pk for u in queryset}
    assert {offered.pk, nameless.pk, w.coord_x.pk} <= offered_ids
    assert not offered_ids & {inactive.pk, in_closed.pk, w.coord_y.pk}
    assert "utan.namn" in [label for _value, label in field.choices]
    # What the page offers, the action accepts.
    response = bulk(client, [w.dev_x.reference], action="assign", assignee=offered.pk)
    assert response.status_code == 302
    w.dev_x.refresh_from_db()
    assert w.dev_x.assigned_to_id == offered.pk


def test_a_superuser_without_a_council_gets_the_queue_with_no_one_to_assign_to(client, w, superuser):
    client.force_login(superuser)
    response = client.get(QUEUE)
    assert response.status_code == 200
    assert list(response.context["bulk_form"].fields["assignee"].choices) == []
    assert w.dev_x.reference in refs(response)


def test_the_bulk_and_save_filter_forms_render_from_cache_and_show_a_change_at_once(client, w):
    """Their visible fields are cached by content: a renamed colleague or a new council shows on the
    next page, and the hidden current filter (the user's own search text) is never cached."""
    from django.core.cache import cache

    cache.clear()
    client.force_login(w.coord_x)
    # Names the factories' random ones never are (the signed-in user's own name is in the menu: Faker
    # once named them "Kerstin Berg").
    colleague = factories.UserFactory(first_name="Kerstin", last_name="Berg-Provsson")
    factories.CouncilMembershipFactory(council=w.council_x, user=colleague)
    assert "Kerstin Berg-Provsson" in client.get(QUEUE).content.decode()
    colleague.last_name = "Ek-Provsson"
    colleague.save()
    html = client.get(f"{QUEUE}?q=utskrivning").content.decode()
    assert "Kerstin Ek-Provsson" in html and "Kerstin Berg-Provsson" not in html
    assert 'name="query" value="q=utskrivning' in html  # rendered for this request, outside the cache
    cached = "".join(str(value) for value in cache._cache.values())  # locmem: what is stored
    assert "utskrivning" not in cached


# --- Exports ---------------------------------------------------------------------------------------


def export(client, fmt, **params):
    query = QueryDict(mutable=True)
    for key, value in params.items():
        query.setlist(key, value if isinstance(value, list) else [value])
    return client.get(f"{reverse('deviations:queue_export', args=[fmt])}?{query.urlencode()}")


def test_csv_export_streams_the_current_filter_in_its_order(client, w):
    triaged = x_report(w, status=Status.TRIAGE, assigned_to=w.member_x)
    x_report(w, status=Status.CLOSED)
    client.force_login(w.coord_x)
    response = export(client, "csv", sort="reference")
    assert response.streaming
    assert response["Content-Disposition"].startswith('attachment; filename="arenden-')
    rows = list(
        csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")), delimiter=";")
    )
    assert rows[0][:2] == ["Referensnummer", "Status"]
    assert [r[0] for r in rows[1:]] == sorted([w.dev_x.reference, triaged.reference])  # open ones only
    handler = rows[1:][[r[0] for r in rows[1:]].index(triaged.reference)][8]
    assert handler == w.member_x.get_full_name()
    assert rows[1][1] in {"Inkommen", "Under bedömning"}
    # Another council's report is never in it.
    assert w.dev_y.reference not in str(rows)
    only_triage = export(client, "csv", status="triage")
    text = b"".join(only_triage.streaming_content).decode("utf-8-sig")
    assert triaged.reference in text and w.dev_x.reference not in text


def test_xlsx_export_writes_text_as_text(client, w):
    category = factories.DeviationCategoryFactory(name='=HYPERLINK("http://evil.example","klicka")')
    x_report(w, category=category, agreement=w.agreement)
    client.force_login(w.coord_x)
    response = export(client, "xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    cells = [c for row in sheet.iter_rows() for c in row if c.value == category.name]
    assert cells and all(c.data_type == "s" for c in cells)
    assert sheet.cell(row=1, column=1).value == "Referensnummer"


def test_escalated_export_is_for_the_regional_level(client, w):
    escalated = factories.DeviationFactory(
        status=Status.ESCALATED, council=w.council_y, municipality=w.muni_y
    )
    client.force_login(w.regional)
    response = client.get(reverse("deviations:escalated_export", args=["csv"]))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert escalated.reference in text and w.dev_x.reference not in text
    client.force_login(w.coord_x)
    assert client.get(reverse("deviations:escalated_export", args=["csv"])).status_code == 404


def exported_text(response, fmt) -> str:
    content = b"".join(response.streaming_content)
    if fmt == "csv":
        return content.decode("utf-8-sig")
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return "\n".join(";".join(str(c.value) for c in row) for row in sheet.iter_rows())


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_never_leaves_the_users_councils_whatever_the_filter(client, w, fmt):
    y_closed = factories.DeviationFactory(status=Status.CLOSED, council=w.council_y, municipality=w.muni_y)
    client.force_login(w.coord_x)
    every_status = queues.MAIN.statuses()
    for params in (
        {"status": every_status},
        {"status": every_status, "municipality": w.muni_y.pk},
        {"status": every_status, "council": w.council_y.pk},
        {"q": w.dev_y.reference},
    ):
        response = export(client, fmt, **params)
        assert response.status_code == 200
        text = exported_text(response, fmt)
        assert "Referensnummer" in text
        assert w.dev_y.reference not in text and y_closed.reference not in text, params
    assert w.dev_x.reference in exported_text(export(client, fmt, status=every_status), fmt)


@pytest.mark.parametrize("username", ["reporter_a", "responder", "member_x"])
def test_export_is_for_council_members(client, w, username):
    client.force_login(getattr(w, username))
    response = export(client, "csv")
    if username == "member_x":  # a member works the council's queue: the same rows as its coordinator
        assert w.dev_x.reference in exported_text(response, "csv")
    else:
        assert response.status_code == 404


def test_export_query_count_does_not_grow_with_rows(client, w):
    client.force_login(w.coord_x)
    client.get(QUEUE)  # a fresh session is saved once
    with CaptureQueriesContext(connection) as few:
        b"".join(export(client, "csv").streaming_content)
    for _ in range(30):
        x_report(w)
    with CaptureQueriesContext(connection) as many:
        b"".join(export(client, "csv").streaming_content)
    assert len(few) == len(many)


# --- Query counts ----------------------------------------------------------------------------------


def _queries(client, url, params=None) -> int:
    """Queries of a page whose filter form and reference names are cached (the usual case)."""
    client.get(url, params or {})
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    return len(queries)


def test_queue_query_count_does_not_grow_with_saved_filters_or_response_columns(client, w):
    client.force_login(w.coord_x)
    client.get(QUEUE)  # a fresh session is saved once
    params = {"sort": "-response_due", "size": 100}
    before = _queries(client, QUEUE, params)
    for i in range(6):
        factories.SavedFilterFactory(owner=w.coord_x, name=f"Egen {i}")
        factories.SavedFilterFactory(owner=w.member_x, council=w.council_x, name=f"Delad {i}")
        deviation = x_report(w, status=Status.AWAITING_RESPONSE, assigned_to=w.member_x)
        request = factories.ResponseRequestFactory(deviation=deviation)
        if i % 2:
            responses.record_response(
                response_request=request, answered_by_name="X", what_happened="Y", actions=""
            )
    response = client.get(QUEUE, params)
    assert len(response.context["saved_filters"]) == 12 and len(response.context["page"]) == 7
    # The budget of the default queue (triage_world), plus the second segment's page query: the rows
    # without a due date follow those with one.
    assert _queries(client, QUEUE, params) == before <= QUEUE_BUDGET + 1


def test_escalated_queue_query_count_does_not_grow_with_rows(client, w):
    client.force_login(w.regional)
    url = reverse("deviations:escalated")
    client.get(url)  # a fresh session is saved once
    x_report(w, status=Status.ESCALATED)
    before = _queries(client, url, {"size": 100})
    for status in (Status.ESCALATED, Status.REGIONAL_ANALYSIS) * 10:
        factories.DeviationFactory(
            status=status, council=w.council_y, municipality=w.muni_y, assigned_to=w.regional
        )
    assert len(client.get(url, {"size": 100}).context["page"]) == 21
    # As the council queue (triage_world).
    assert _queries(client, url, {"size": 100}) == before <= QUEUE_BUDGET
