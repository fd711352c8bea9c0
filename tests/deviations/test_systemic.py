"""Systemic issues: who may manage them, linking reports, decided actions, resolving with feedback."""

import datetime
from unittest import mock

import pytest
from django.urls import reverse

from config.errors import Conflict, Invalid, NotAllowed
from deviations.models import DeviationEvent, SystemicIssue
from deviations.services import systemic
from deviations.workflow import Status
from tests import factories
from tests.deviations.triage_world import build_world, fast_passwords  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    return build_world()


@pytest.fixture
def issue(w):
    return factories.SystemicIssueFactory(created_by=w.regional, agreements=[w.agreement])


@pytest.mark.parametrize("username", ["coord_x", "member_x", "reporter_a", "responder"])
def test_systemic_pages_are_404_for_everyone_but_regional_coordinators(client, w, issue, username):
    client.force_login(getattr(w, username))
    for url in (
        reverse("deviations:systemic_list"),
        reverse("deviations:systemic_create"),
        reverse("deviations:systemic_detail", args=[issue.pk]),
        reverse("deviations:systemic_edit", args=[issue.pk]),
    ):
        assert client.get(url).status_code == 404
    response = client.post(
        reverse("deviations:systemic_link", args=[issue.pk]), {"reference": w.dev_x.reference}
    )
    assert response.status_code == 404
    w.dev_x.refresh_from_db()
    assert w.dev_x.systemic_issue is None


def test_regional_coordinator_creates_and_edits_an_issue(client, w):
    client.force_login(w.regional)
    response = client.post(
        reverse("deviations:systemic_create"),
        {
            "title": "Utskrivning utan information",
            "description": "Återkommer",
            "agreements": [w.agreement.pk],
            "state": "open",
        },
    )
    assert response.status_code == 302
    issue = SystemicIssue.objects.get()
    assert issue.created_by == w.regional and list(issue.agreements.all()) == [w.agreement]
    # Resolving needs an outcome.
    response = client.post(
        reverse("deviations:systemic_edit", args=[issue.pk]),
        {
            "title": issue.title,
            "description": "x",
            "agreements": [w.agreement.pk],
            "state": "resolved",
            "outcome": "",
        },
    )
    assert response.status_code == 200 and "Beskriv resultatet" in response.content.decode()
    assert client.get(reverse("deviations:systemic_list")).status_code == 200
    assert client.get(reverse("deviations:systemic_detail", args=[issue.pk])).status_code == 200


def test_link_and_unlink_by_reference_write_events(client, w, issue):
    client.force_login(w.regional)
    response = client.post(
        reverse("deviations:systemic_link", args=[issue.pk]), {"reference": w.dev_y.reference}
    )
    assert response.status_code == 302
    w.dev_y.refresh_from_db()
    assert w.dev_y.systemic_issue == issue
    content = client.get(reverse("deviations:detail", args=[w.dev_y.reference])).content.decode()
    assert issue.title in content
    response = client.post(
        reverse("deviations:systemic_link", args=[issue.pk]), {"reference": "SB-1999-99999"}
    )
    assert response.status_code == 200 and "ingen rapport" in response.content.decode()
    client.post(reverse("deviations:systemic_unlink", args=[issue.pk, w.dev_y.reference]))
    w.dev_y.refresh_from_db()
    assert w.dev_y.systemic_issue is None
    assert list(w.dev_y.events.values_list("kind", "action")) == [
        (DeviationEvent.Kind.LINKED, "link"),
        (DeviationEvent.Kind.LINKED, "unlink"),
    ]


def test_decided_actions(client, w, issue):
    client.force_login(w.regional)
    due = datetime.date(2027, 1, 31)
    response = client.post(
        reverse("deviations:systemic_action_add", args=[issue.pk]),
        {"description": "Gemensam rutin", "owner": w.org_psych.pk, "due_on": due.isoformat()},
    )
    assert response.status_code == 302
    action = issue.actions.get()
    assert (action.owner, action.due_on) == (w.org_psych, due)
    client.post(reverse("deviations:systemic_action_state", args=[issue.pk, action.pk]), {"state": "done"})
    action.refresh_from_db()
    assert action.state == "done" and action.done_on


def test_resolving_gives_feedback_to_all_linked_reporters(
    w, issue, mailoutbox, django_capture_on_commit_callbacks
):
    w.dev_x.status = Status.REGIONAL_ANALYSIS
    w.dev_x.save()
    w.dev_y.status = Status.ESCALATED  # may not be closed directly: gets a feedback event
    w.dev_y.save()
    closed_one = factories.DeviationFactory(status=Status.CLOSED, reporter_email="c@example.se")
    for d in (w.dev_x, w.dev_y, closed_one):
        systemic.link_to_systemic_issue(issue=issue, deviation=d, actor=w.regional)
    with django_capture_on_commit_callbacks(execute=True):
        result = systemic.resolve_systemic_issue(
            issue=issue,
            actor=w.regional,
            outcome="Ny länsgemensam rutin",
            feedback="Rutinen är ändrad.",
            close_open_reports=True,
        )
    assert result == {"closed": 1, "informed": 2}
    issue.refresh_from_db()
    assert issue.state == SystemicIssue.State.RESOLVED and issue.resolved_at
    w.dev_x.refresh_from_db()
    assert w.dev_x.status == Status.CLOSED
    feedback = w.dev_y.events.get(kind=DeviationEvent.Kind.FEEDBACK)
    assert feedback.visibility == DeviationEvent.Visibility.REPORTER and feedback.text == "Rutinen är ändrad."
    assert sorted(m.to[0] for m in mailoutbox) == ["a@example.se", "b@example.se", "c@example.se"]
    assert all("Rutinen är ändrad" not in m.body for m in mailoutbox)


def test_only_regional_coordinators_may_use_the_services(w, issue):
    with pytest.raises(NotAllowed):
        systemic.link_to_systemic_issue(issue=issue, deviation=w.dev_x, actor=w.coord_x)
    with pytest.raises(NotAllowed):
        systemic.resolve_systemic_issue(issue=issue, actor=w.coord_x, outcome="x")


@pytest.mark.parametrize(
    ("open_reports", "message"), [(1, "1 rapport avslutades"), (2, "2 rapporter avslutades")]
)
def test_resolving_says_how_many_reports_were_closed_in_the_right_number(
    client, w, issue, open_reports, message
):
    reports = [w.dev_x, factories.DeviationFactory(council=w.council_x, municipality=w.muni_x)][:open_reports]
    for deviation in reports:
        deviation.status = Status.REGIONAL_ANALYSIS
        deviation.save()
        systemic.link_to_systemic_issue(issue=issue, deviation=deviation, actor=w.regional)
    client.force_login(w.regional)
    response = client.post(
        reverse("deviations:systemic_resolve", args=[issue.pk]),
        {"outcome": "Ny rutin", "feedback": "Rutinen är ändrad.", "close_open_reports": "on"},
        follow=True,
    )
    assert message in response.content.decode()


# --- A refusal the view does not handle: config.middleware.ApplicationErrorMiddleware ---------------

MESSAGE = "Systemfrågan ändrades av någon annan."


def resolve(client, w, issue):
    client.force_login(w.regional)
    return client.post(reverse("deviations:systemic_resolve", args=[issue.pk]), {"outcome": "Rutinen ändrad"})


@pytest.mark.parametrize(
    ("error", "status", "heading"),
    [
        (NotAllowed, 404, "Sidan hittades inte"),
        (Invalid, 400, "Felaktig begäran"),
        (Conflict, 409, "Det gick inte att genomföra"),
    ],
)
def test_each_kind_of_refusal_gives_its_status_through_a_real_view(client, w, issue, error, status, heading):
    with mock.patch.object(systemic, "resolve_systemic_issue", side_effect=error(MESSAGE)):
        response = resolve(client, w, issue)
    assert response.status_code == status
    assert heading in response.content.decode()
    assert response.templates[0].name == f"{status}.html"


def test_a_conflict_page_shows_the_message_and_a_not_allowed_page_does_not(client, w, issue):
    with mock.patch.object(systemic, "resolve_systemic_issue", side_effect=Conflict(MESSAGE)):
        assert MESSAGE in resolve(client, w, issue).content.decode()
    with mock.patch.object(systemic, "resolve_systemic_issue", side_effect=NotAllowed(MESSAGE)):
        assert MESSAGE not in resolve(client, w, issue).content.decode()
