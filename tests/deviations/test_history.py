"""Every change on the report's record: what each event holds besides the new status, the timeline that
reads it, and the transitions only their own service may apply."""

import re

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from config.errors import Conflict, Invalid
from deviations.models import Deviation, DeviationEvent
from deviations.services import assignment, responses, systemic
from deviations.services.transitions import apply_transition, transition_held
from deviations.workflow import RejectReason, Status
from tests import factories
from tests.deviations.triage_world import build_world, fast_passwords  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    world = build_world()
    world.dev_x.status = Status.TRIAGE
    world.dev_x.save()
    return world


def transitions_of(deviation):
    return list(deviation.events.filter(kind=DeviationEvent.Kind.TRANSITION).order_by("id"))


def detail_html(client, user, deviation) -> str:
    client.force_login(user)
    response = client.get(reverse("deviations:detail", args=[deviation.reference]))
    assert response.status_code == 200
    return response.content.decode()


# --- Transitions that need their own service -------------------------------------------------------


def test_apply_transition_refuses_request_response_without_a_request(w):
    with pytest.raises(Invalid):
        apply_transition(deviation=w.dev_x, action="request_response", actor=w.coord_x, text="Psykiatri")
    w.dev_x.refresh_from_db()
    assert w.dev_x.status == Status.TRIAGE
    assert not w.dev_x.events.exists()


def test_no_transition_leaves_a_report_awaiting_a_response_nobody_was_asked_for(w):
    """Even the lower-level ``transition_held`` (for services holding the report) refuses it."""
    with pytest.raises(Conflict), transaction.atomic():
        deviation = Deviation.objects.select_for_update().get(pk=w.dev_x.pk)
        transition_held(deviation=deviation, action="request_response", actor=w.coord_x)
    w.dev_x.refresh_from_db()
    assert w.dev_x.status == Status.TRIAGE
    assert not w.dev_x.events.exists()


def test_request_response_refused_by_state_leaves_no_request_behind(w):
    w.dev_x.status = Status.SUBMITTED
    w.dev_x.save()
    with pytest.raises(Conflict):
        responses.request_response(deviation=w.dev_x, organizations=[w.org_psych], actor=w.coord_x)
    assert not w.dev_x.response_requests.exists()
    assert not w.dev_x.events.exists()


def test_withdrawing_the_last_open_request_returns_the_report_to_triage(w):
    other = factories.RegionOrganizationFactory(name="Psykiatri Norr")
    first, second = responses.request_response(
        deviation=w.dev_x, organizations=[w.org_psych, other], actor=w.coord_x
    )
    responses.cancel_response_request(response_request=first, actor=w.coord_x)
    w.dev_x.refresh_from_db()
    assert w.dev_x.status == Status.AWAITING_RESPONSE  # the other organisation is still asked

    responses.cancel_response_request(response_request=second, actor=w.coord_x)
    w.dev_x.refresh_from_db()
    assert w.dev_x.status == Status.TRIAGE
    last = transitions_of(w.dev_x)[-1]
    assert (last.action, last.from_status, last.to_status, last.actor) == (
        "resume_triage",
        Status.AWAITING_RESPONSE,
        Status.TRIAGE,
        w.coord_x,
    )


# --- What the events record ------------------------------------------------------------------------


def test_confirmation_records_the_council_the_report_was_routed_to(db):
    from deviations.services.reporting import confirm_deviation

    w = build_world()
    deviation = factories.DeviationFactory(
        status=Status.UNCONFIRMED, council=None, municipality=w.muni_x, reporter=w.reporter_a
    )
    confirm_deviation(deviation=deviation, actor=w.reporter_a)
    (event,) = transitions_of(deviation)
    assert (event.from_council, event.to_council) == (None, w.council_x)


def test_reroute_records_both_councils_and_the_assignee_it_removed(
    client, w, mailoutbox, django_capture_on_commit_callbacks
):
    assignment.assign_deviation(deviation=w.dev_x, assignee=w.member_x, actor=w.coord_x)
    with django_capture_on_commit_callbacks(execute=True):
        apply_transition(
            deviation=w.dev_x,
            action="reroute",
            actor=w.coord_x,
            text="Händelsen inträffade i Ystad län.",
            target_council=w.council_y,
        )
    event = transitions_of(w.dev_x)[-1]
    assert (event.action, event.from_status, event.to_status) == ("reroute", Status.TRIAGE, Status.SUBMITTED)
    assert (event.from_council, event.to_council) == (w.council_x, w.council_y)
    assert (event.from_assignee, event.to_assignee) == (w.member_x, None)
    assert event.text == "Händelsen inträffade i Ystad län."

    # The receiving council is told where the report came from, who moved it and where the reason is;
    # the mail itself carries no written text.
    (mail,) = mailoutbox
    assert mail.to == ["coord_y@example.se"]
    assert w.dev_x.reference in mail.subject
    assert "Samråd X" in mail.body and w.coord_x.get_full_name() in mail.body
    assert "händelselogg" in mail.body
    assert "Ystad län." not in mail.body

    html = detail_html(client, w.coord_y, w.dev_x)
    assert re.search(r"Samråd X\s*<span aria-hidden=\"true\">→</span>", html)
    assert "Händelsen inträffade i Ystad län." in html


def test_assignment_records_old_and_new_assignee(client, w):
    assignment.assign_deviation(deviation=w.dev_x, assignee=w.coord_x, actor=w.coord_x)
    assignment.assign_deviation(deviation=w.dev_x, assignee=w.member_x, actor=w.coord_x)
    assignment.assign_deviation(deviation=w.dev_x, assignee=None, actor=w.coord_x)
    events = w.dev_x.events.filter(kind=DeviationEvent.Kind.ASSIGNMENT).order_by("id")
    assert [(e.action, e.from_assignee, e.to_assignee) for e in events] == [
        ("assign", None, w.coord_x),
        ("assign", w.coord_x, w.member_x),
        ("unassign", w.member_x, None),
    ]
    html = detail_html(client, w.coord_x, w.dev_x)
    assert w.member_x.get_full_name() in html

    # The reporter follows the report but does not see who handles it.
    html = detail_html(client, w.reporter_a, w.dev_x)
    assert w.member_x.get_full_name() not in html


def test_rejection_reason_and_duplicate_stay_in_the_history_after_a_reopen(client, w):
    apply_transition(
        deviation=w.dev_x,
        action="reject",
        actor=w.coord_x,
        text="Samma händelse som den andra rapporten.",
        reject_reason=RejectReason.DUPLICATE,
        duplicate_of=w.dev_y,
    )
    apply_transition(deviation=w.dev_x, action="reopen", actor=w.coord_x, text="Inte samma händelse.")
    w.dev_x.refresh_from_db()
    assert (w.dev_x.reject_reason, w.dev_x.duplicate_of) == ("", None)

    reject, reopen = transitions_of(w.dev_x)
    assert reject.details == {"reject_reason": "duplicate", "duplicate_of": w.dev_y.reference}
    assert reopen.details == {
        "cleared_reject_reason": "duplicate",
        "cleared_duplicate_of": w.dev_y.reference,
    }
    html = detail_html(client, w.coord_x, w.dev_x)
    assert str(RejectReason.DUPLICATE.label) in html
    assert w.dev_y.reference in html


@pytest.mark.parametrize(
    ("reason", "duplicate"),
    [
        ("", False),
        ("nonsense", False),
        (RejectReason.DUPLICATE, False),
        (RejectReason.NOT_A_DEVIATION, True),
    ],
    ids=["no reason", "unknown reason", "duplicate without the other report", "other report, not duplicate"],
)
def test_rejection_needs_a_known_reason_and_a_duplicate_only_for_duplicates(w, reason, duplicate):
    with pytest.raises(Invalid):
        apply_transition(
            deviation=w.dev_x,
            action="reject",
            actor=w.coord_x,
            text="Skäl",
            reject_reason=reason,
            duplicate_of=w.dev_y if duplicate else None,
        )
    w.dev_x.refresh_from_db()
    assert w.dev_x.status == Status.TRIAGE
    assert not w.dev_x.events.exists()


def test_systemic_issue_link_move_and_unlink_name_the_issues(client, w):
    first = factories.SystemicIssueFactory(title="Utskrivning utan information", created_by=w.regional)
    second = factories.SystemicIssueFactory(title="SIP kallas inte", created_by=w.regional)
    systemic.link_to_systemic_issue(issue=first, deviation=w.dev_x, actor=w.regional)
    systemic.link_to_systemic_issue(issue=second, deviation=w.dev_x, actor=w.regional, move=True)
    systemic.unlink_from_systemic_issue(deviation=w.dev_x, actor=w.regional)
    events = w.dev_x.events.filter(kind=DeviationEvent.Kind.LINKED).order_by("id")
    ref = {"id": first.pk, "title": first.title}
    ref2 = {"id": second.pk, "title": second.title}
    assert [(e.action, e.details) for e in events] == [
        ("link", {"to_issue": ref}),
        ("move", {"from_issue": ref, "to_issue": ref2}),
        ("unlink", {"from_issue": ref2}),
    ]
    html = detail_html(client, w.coord_x, w.dev_x)
    assert "Flyttad till en annan systemfråga" in html
    assert "Utskrivning utan information" in html and "SIP kallas inte" in html


# --- The timeline ----------------------------------------------------------------------------------


def test_timeline_says_who_when_what_from_to_and_the_comment(client, w):
    apply_transition(deviation=w.dev_x, action="escalate", actor=w.coord_x, text="Återkommer i hela länet.")
    event = transitions_of(w.dev_x)[-1]
    html = detail_html(client, w.regional, w.dev_x)
    timeline = html[html.index('id="events-title"') :]
    local = timezone.localtime(event.created_at)
    assert f'<time datetime="{local.isoformat()}">{local:%Y-%m-%d %H:%M}</time>' in timeline  # when
    assert "Eskalera till regionalt samråd" in timeline  # what
    assert w.coord_x.get_full_name() in timeline  # who
    assert re.search(
        r"Under bedömning\s*<span aria-hidden=\"true\">→</span><span class=\"visually-hidden\">till</span>\s*"
        r"Eskalerad",
        timeline,
    )
    assert "Återkommer i hela länet." in timeline
    assert "Intern – visas inte för rapportören" in timeline


def test_timeline_in_english(client, w):
    apply_transition(deviation=w.dev_x, action="escalate", actor=w.coord_x, text="Återkommer.")
    client.force_login(w.coord_x)
    html = client.get("/en" + reverse("deviations:detail", args=[w.dev_x.reference])).content.decode()
    assert "Escalate to the regional council" in html
    assert '<span class="visually-hidden">to</span>' in html


def test_reporter_sees_status_changes_but_not_who_made_them_or_internal_comments(client, w):
    apply_transition(deviation=w.dev_x, action="escalate", actor=w.coord_x, text="Intern motivering.")
    html = detail_html(client, w.reporter_a, w.dev_x)
    timeline = html[html.index('id="events-title"') :]
    assert "Eskalerad" in timeline
    assert "Intern motivering." not in timeline
    assert w.coord_x.get_full_name() not in timeline


def test_detail_page_queries_do_not_grow_with_the_history(client, w, django_assert_max_num_queries):
    factories.CouncilMembershipFactory(council=w.council_z, user=w.coord_x)
    client.force_login(w.coord_x)
    url = reverse("deviations:detail", args=[w.dev_x.reference])
    assignment.assign_deviation(deviation=w.dev_x, assignee=w.member_x, actor=w.coord_x)
    apply_transition(
        deviation=w.dev_x, action="reroute", actor=w.coord_x, text="Fel", target_council=w.council_z
    )
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(5):
        assignment.assign_deviation(deviation=w.dev_x, assignee=w.coord_x, actor=w.coord_x)
        assignment.assign_deviation(deviation=w.dev_x, assignee=None, actor=w.coord_x)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)
