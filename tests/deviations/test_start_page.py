"""The staff start page ("Att göra"): who gets it, what each tile counts, that each tile's link lists
exactly what it counts, empty states and the query budget."""

import datetime
import re

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from deviations import queues, selectors
from deviations.dates import stockholm_today
from deviations.services import responses
from deviations.workflow import Status
from tests import factories
from tests.deviations.triage_world import build_world, fast_passwords  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    w = build_world()
    today = stockholm_today()
    # Council X: new, triaged (assigned to coord_x), awaiting answers (one overdue, one due in 3 days, one
    # in 30), answered (read and unread by coord_x), closed (assigned to coord_x, must not count).
    x = {"council": w.council_x, "municipality": w.muni_x, "agreement": w.agreement, "category": w.category}
    w.new_x = w.dev_x
    w.new_x2 = factories.DeviationFactory(**x)
    w.mine_x = factories.DeviationFactory(status=Status.TRIAGE, assigned_to=w.coord_x, **x)
    w.closed_mine_x = factories.DeviationFactory(status=Status.CLOSED, assigned_to=w.coord_x, **x)
    w.overdue_x = factories.DeviationFactory(status=Status.AWAITING_RESPONSE, **x)
    factories.ResponseRequestFactory(deviation=w.overdue_x, due_on=today - datetime.timedelta(days=2))
    w.soon_x = factories.DeviationFactory(status=Status.AWAITING_RESPONSE, **x)
    factories.ResponseRequestFactory(deviation=w.soon_x, due_on=today + datetime.timedelta(days=3))
    w.later_x = factories.DeviationFactory(status=Status.AWAITING_RESPONSE, **x)
    factories.ResponseRequestFactory(deviation=w.later_x, due_on=today + datetime.timedelta(days=30))
    w.answered_x = factories.DeviationFactory(status=Status.TRIAGE, **x)
    w.answered_seen_x = factories.DeviationFactory(status=Status.TRIAGE, **x)
    for deviation in (w.answered_x, w.answered_seen_x):
        request = factories.ResponseRequestFactory(deviation=deviation)
        responses.record_response(
            response_request=request, answered_by_name="Enhetschef", what_happened="Missat.", actions=""
        )
    factories.AccessLogFactory(user=w.coord_x, deviation=w.answered_seen_x, at=timezone.now())
    # Council Y: nothing of it may show for council X.
    factories.DeviationFactory(council=w.council_y, municipality=w.muni_y, assigned_to=w.coord_y)
    # Regional level: escalated (waiting), under analysis (not waiting), an overdue and a done action.
    w.escalated = factories.DeviationFactory(
        status=Status.ESCALATED, council=w.council_y, municipality=w.muni_y
    )
    factories.DeviationFactory(status=Status.REGIONAL_ANALYSIS, council=w.council_y, municipality=w.muni_y)
    issue = factories.SystemicIssueFactory(created_by=w.regional)
    w.late_action = factories.SystemicActionFactory(issue=issue, due_on=today - datetime.timedelta(days=1))
    factories.SystemicActionFactory(issue=issue, due_on=today - datetime.timedelta(days=9), state="done")
    factories.SystemicActionFactory(issue=issue, due_on=today + datetime.timedelta(days=9))
    return w


def tiles_of(client, user) -> dict:
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return {tile.key: tile for tile in response.context.get("tiles") or []}


def listed(client, url) -> list[str]:
    """References the queue lists at ``url`` (every page of 100)."""
    separator = "&" if "?" in url else "?"
    response = client.get(f"{url}{separator}size=100")
    assert response.status_code == 200
    page = response.context["page"]
    assert page.next_cursor is None
    return sorted(d.reference for d in page)


def test_coordinator_lands_on_att_gora_with_their_councils_counts(client, w):
    tiles = tiles_of(client, w.coord_x)
    assert {key: tile.count for key, tile in tiles.items()} == {
        "new": 2,
        "answers": 1,  # answered_x; answered_seen_x was opened after the answer came
        "responses_due": 2,  # overdue and due in 3 days, not in 30
        "assigned": 1,  # open ones only
    }


@pytest.mark.parametrize("username", ["coord_x", "member_x", "regional"])
def test_every_tile_links_to_a_queue_listing_exactly_what_it_counts(client, w, username):
    user = getattr(w, username)
    tiles = tiles_of(client, user)
    assert tiles
    for tile in tiles.values():
        if tile.key == "actions":
            continue  # not reports: tested below
        assert len(listed(client, tile.url)) == tile.count, tile.key


def test_due_within_7_days_means_up_to_and_including_the_seventh_day(client, w):
    today = stockholm_today()
    x = {"council": w.council_x, "municipality": w.muni_x, "status": Status.AWAITING_RESPONSE}
    seventh, eighth = factories.DeviationFactory(**x), factories.DeviationFactory(**x)
    factories.ResponseRequestFactory(deviation=seventh, due_on=today + datetime.timedelta(days=7))
    factories.ResponseRequestFactory(deviation=eighth, due_on=today + datetime.timedelta(days=8))
    tile = tiles_of(client, w.coord_x)["responses_due"]
    assert tile.count == 3
    assert listed(client, tile.url) == sorted([w.overdue_x.reference, w.soon_x.reference, seventh.reference])


def test_regional_coordinator_gets_escalated_and_overdue_actions(client, w):
    tiles = tiles_of(client, w.regional)
    assert "new" not in tiles  # no local council
    assert tiles["escalated"].count == 1
    assert listed(client, tiles["escalated"].url) == [w.escalated.reference]
    assert tiles["actions"].count == 1
    response = client.get(tiles["actions"].url)
    assert response.status_code == 200
    assert sum(issue.overdue_actions for issue in response.context["issues"]) == 1


def test_regional_coordinator_in_a_local_council_gets_that_councils_new_reports(client, w):
    factories.CouncilMembershipFactory(council=w.council_x, user=w.regional)
    tiles = tiles_of(client, w.regional)
    assert tiles["new"].count == 2
    assert listed(client, tiles["new"].url) == sorted([w.new_x.reference, w.new_x2.reference])


def test_opening_a_report_marks_its_answer_read(client, w):
    assert tiles_of(client, w.coord_x)["answers"].count == 1
    client.get(reverse("deviations:detail", args=[w.answered_x.reference]))
    assert tiles_of(client, w.coord_x)["answers"].count == 0


@pytest.mark.parametrize("who", ["anonymous", "reporter_a", "responder", "inactive_council"])
def test_others_get_the_public_start_page(client, w, who):
    if who == "inactive_council":
        membership = factories.CouncilMembershipFactory(council__active=False)
        client.force_login(membership.user)
    elif who != "anonymous":
        client.force_login(getattr(w, who))
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "tiles" not in response.context
    assert "Att göra" not in response.content.decode()


def test_empty_states(client, w):
    council = factories.CouncilFactory(name="Tomt samråd")
    user = factories.UserFactory()
    factories.CouncilMembershipFactory(council=council, user=user)
    client.force_login(user)
    content = client.get(reverse("home")).content.decode()
    assert "Inget väntar på dig just nu." in content
    assert "Inga nya rapporter." in content and "Inga rapporter tilldelade dig." in content


def test_counts_are_bounded_and_say_so(client, w, monkeypatch):
    monkeypatch.setattr(selectors, "STATUS_COUNT_LIMIT", 1)
    tiles = tiles_of(client, w.coord_x)
    assert (tiles["new"].count, tiles["new"].capped) == (1, True)
    assert "fler än 1" in client.get(reverse("home")).content.decode()


def _start_page_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("home")).status_code == 200
    return len(queries)


@pytest.mark.parametrize("username", ["coord_x", "regional"])
def test_start_page_query_count_is_small_and_does_not_grow(client, w, username):
    client.force_login(getattr(w, username))
    client.get(reverse("home"))  # a fresh session is saved once
    before = _start_page_queries(client)
    # Session, user, memberships (menu, scope and tiles), and every count in one statement.
    assert before == 4
    for _ in range(5):
        factories.DeviationFactory(council=w.council_x, municipality=w.muni_x, assigned_to=w.coord_x)
        factories.ResponseRequestFactory(
            deviation=factories.DeviationFactory(council=w.council_x, municipality=w.muni_x),
            due_on=stockholm_today(),
        )
    assert _start_page_queries(client) == before


def test_tile_links_are_the_queues_own_filters(client, w):
    """No tile needs a parameter the queue's filter form does not have."""
    tiles = tiles_of(client, w.regional)
    form_fields = set(
        queues.queue_filterset(w.regional, queues.MAIN, QueryDict(), today=stockholm_today()).filters
    )
    for tile in tiles.values():
        if tile.key == "actions":
            continue
        names = set(re.findall(r"[?&]([a-z_]+)=", tile.url))
        assert names <= form_fields, (tile.key, names)
