"""Systemic issues: who may manage them, linking reports, decided actions, resolving with feedback."""

import datetime
from unittest import mock

import pytest
from django.urls import reverse

from config.errors import Conflict, Invalid, NotAllowed
from deviations.dates import stockholm_today
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


def test_resolving_closes_open_reports_and_never_tells_an_open_one_it_is_resolved(
    w, issue, mailoutbox, django_capture_on_commit_callbacks
):
    w.dev_x.status = Status.REGIONAL_ANALYSIS
    w.dev_x.save()
    w.dev_y.status = Status.ESCALATED  # the state machine does not close from here: it stays open
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
    assert (result.closed, result.informed) == (1, 1)
    assert [ref for ref, _why in result.still_open] == [w.dev_y.reference]
    assert "Eskalerad" in result.still_open[0][1]
    issue.refresh_from_db()
    assert issue.state == SystemicIssue.State.RESOLVED and issue.resolved_at
    w.dev_x.refresh_from_db()
    w.dev_y.refresh_from_db()
    assert (w.dev_x.status, w.dev_y.status) == (Status.CLOSED, Status.ESCALATED)
    assert not w.dev_y.events.filter(kind=DeviationEvent.Kind.FEEDBACK).exists()
    feedback = closed_one.events.get(kind=DeviationEvent.Kind.FEEDBACK)
    assert feedback.visibility == DeviationEvent.Visibility.REPORTER and feedback.text == "Rutinen är ändrad."
    assert sorted(m.to[0] for m in mailoutbox) == ["a@example.se", "c@example.se"]
    assert all("Rutinen är ändrad" not in m.body for m in mailoutbox)


def test_without_closing_open_reports_only_closed_ones_get_the_feedback(w, issue):
    w.dev_x.status = Status.TRIAGE
    w.dev_x.save()
    closed_one = factories.DeviationFactory(status=Status.REJECTED)
    for d in (w.dev_x, closed_one):
        systemic.link_to_systemic_issue(issue=issue, deviation=d, actor=w.regional)
    result = systemic.resolve_systemic_issue(issue=issue, actor=w.regional, outcome="Klar", feedback="Löst.")
    assert (result.closed, result.informed) == (0, 1)
    assert [ref for ref, _why in result.still_open] == [w.dev_x.reference]
    w.dev_x.refresh_from_db()
    assert w.dev_x.status == Status.TRIAGE and not w.dev_x.events.filter(kind=DeviationEvent.Kind.FEEDBACK)


def test_a_superuser_without_a_council_role_cannot_close_and_is_told_why(w, issue, superuser):
    w.dev_x.status = Status.TRIAGE
    w.dev_x.save()
    systemic.link_to_systemic_issue(issue=issue, deviation=w.dev_x, actor=w.regional)
    result = systemic.resolve_systemic_issue(
        issue=issue, actor=superuser, outcome="Klar", feedback="Löst.", close_open_reports=True
    )
    assert result.closed == 0 and result.still_open[0][0] == w.dev_x.reference
    assert "behörighet" in result.still_open[0][1]
    w.dev_x.refresh_from_db()
    assert w.dev_x.status == Status.TRIAGE and not w.dev_x.events.exclude(kind=DeviationEvent.Kind.LINKED)


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


# --- Linking from the report's page, moving between issues, warnings -----------------------------


def link_from_report(client, deviation, issue, **extra):
    return client.post(
        reverse("deviations:report_systemic_link", args=[deviation.reference]), {"issue": issue.pk, **extra}
    )


def test_link_a_report_from_its_own_page(client, w, issue):
    client.force_login(w.regional)
    detail = client.get(reverse("deviations:detail", args=[w.dev_x.reference])).content.decode()
    assert reverse("deviations:report_systemic_link", args=[w.dev_x.reference]) in detail
    response = link_from_report(client, w.dev_x, issue)
    assert response.status_code == 302
    assert response["Location"] == reverse("deviations:detail", args=[w.dev_x.reference])
    w.dev_x.refresh_from_db()
    assert w.dev_x.systemic_issue == issue
    assert w.dev_x.events.get().action == "link"


@pytest.mark.parametrize("username", ["coord_x", "member_x", "reporter_a", "responder"])
def test_only_the_regional_level_links_from_the_report_page(client, w, issue, username):
    client.force_login(getattr(w, username))
    detail = client.get(reverse("deviations:detail", args=[w.dev_x.reference]))
    assert reverse("deviations:report_systemic_link", args=[w.dev_x.reference]) not in detail.content.decode()
    assert link_from_report(client, w.dev_x, issue).status_code == 404
    w.dev_x.refresh_from_db()
    assert w.dev_x.systemic_issue is None


def test_anonymous_cannot_link_from_the_report_page(client, w, issue):
    response = link_from_report(client, w.dev_x, issue, confirm="1")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    w.dev_x.refresh_from_db()
    assert w.dev_x.systemic_issue is None and not w.dev_x.events.exists()


def test_a_local_coordinator_cannot_confirm_a_move(client, w, issue):
    other = factories.SystemicIssueFactory(created_by=w.regional, agreements=[w.agreement])
    systemic.link_to_systemic_issue(issue=issue, deviation=w.dev_x, actor=w.regional)
    client.force_login(w.coord_x)
    assert link_from_report(client, w.dev_x, other, confirm="1").status_code == 404
    w.dev_x.refresh_from_db()
    assert w.dev_x.systemic_issue == issue
    assert not w.dev_x.events.filter(action="move").exists()


def test_an_unconfirmed_report_cannot_be_linked_from_its_page(client, w, issue):
    unconfirmed = factories.DeviationFactory(
        council=w.council_x, municipality=w.muni_x, agreement=w.agreement, status=Status.UNCONFIRMED
    )
    client.force_login(w.regional)
    assert link_from_report(client, unconfirmed, issue, confirm="1").status_code == 404
    unconfirmed.refresh_from_db()
    assert unconfirmed.systemic_issue is None


def test_a_resolved_issue_or_nonsense_is_not_offered(client, w, issue):
    resolved = factories.SystemicIssueFactory(created_by=w.regional, state=SystemicIssue.State.RESOLVED)
    client.force_login(w.regional)
    form = client.get(reverse("deviations:detail", args=[w.dev_x.reference])).context["systemic_form"]
    assert list(form.fields["issue"].queryset) == [issue]
    for value in (resolved.pk, "x", ""):
        response = client.post(
            reverse("deviations:report_systemic_link", args=[w.dev_x.reference]), {"issue": value}
        )
        assert response.status_code == 302
    w.dev_x.refresh_from_db()
    assert w.dev_x.systemic_issue is None


def test_the_report_page_offers_its_agreements_latest_open_issues_and_no_more(client, w, issue):
    """The list does not grow with the county's issues: the report's agreement's unresolved issues that
    changed last, at most ``ISSUE_CHOICES``, by title; an issue of another agreement, one without an
    agreement, a resolved one and the older ones are not offered."""
    from deviations.forms_triage import ISSUE_CHOICES

    other_agreement = factories.SystemicIssueFactory(
        created_by=w.regional, agreements=[factories.AgreementFactory()]
    )
    no_agreement = factories.SystemicIssueFactory(created_by=w.regional)
    factories.SystemicIssueFactory(
        created_by=w.regional, agreements=[w.agreement], state=SystemicIssue.State.RESOLVED
    )
    mine = factories.SystemicIssueFactory.create_batch(
        ISSUE_CHOICES + 1, created_by=w.regional, agreements=[w.agreement]
    )
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    for days, each in enumerate([issue, *mine]):  # ``issue`` changed first, then each in turn
        SystemicIssue.objects.filter(pk=each.pk).update(updated_at=start + datetime.timedelta(days=days))
    client.force_login(w.regional)
    response = client.get(reverse("deviations:detail", args=[w.dev_x.reference]))
    offered = list(response.context["systemic_form"].fields["issue"].queryset)
    latest = sorted(mine[1:], key=lambda each: (each.title, each.pk))
    assert offered == latest and len(offered) == ISSUE_CHOICES
    content = response.content.decode()
    for left_out in (issue, mine[0], other_agreement, no_agreement):
        assert f'value="{left_out.pk}"' not in content
    assert f'<a href="{reverse("deviations:systemic_list")}">' in content  # the way to any other issue


def test_an_issue_the_report_page_does_not_offer_can_still_be_linked_with_a_warning(client, w):
    other = factories.SystemicIssueFactory(created_by=w.regional, agreements=[factories.AgreementFactory()])
    client.force_login(w.regional)
    response = link_from_report(client, w.dev_x, other)
    assert response.status_code == 200 and "Bekräfta kopplingen" in response.content.decode()
    assert link_from_report(client, w.dev_x, other, confirm="1").status_code == 302
    w.dev_x.refresh_from_db()
    assert w.dev_x.systemic_issue == other


def test_the_offered_issues_digest_follows_its_agreements_issues_only(w, issue):
    from deviations.forms_triage import LinkToIssueForm

    def digest():
        return LinkToIssueForm(agreement_pk=w.agreement.pk).fields["issue"].choices_digest()

    before = digest()
    factories.SystemicIssueFactory(created_by=w.regional, agreements=[factories.AgreementFactory()])
    assert digest() == before
    factories.SystemicIssueFactory(created_by=w.regional, agreements=[w.agreement], title="Ny fråga")
    assert digest() != before
    changed = digest()
    SystemicIssue.objects.filter(pk=issue.pk).update(title="Nytt namn")
    assert digest() != changed


def test_moving_a_report_to_another_issue_asks_first_and_is_recorded(client, w, issue):
    other = factories.SystemicIssueFactory(
        created_by=w.regional, title="Annan fråga", agreements=[w.agreement]
    )
    systemic.link_to_systemic_issue(issue=issue, deviation=w.dev_x, actor=w.regional)
    client.force_login(w.regional)
    response = link_from_report(client, w.dev_x, other)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Bekräfta kopplingen" in content and issue.title in content and "flyttas därifrån" in content
    w.dev_x.refresh_from_db()
    assert w.dev_x.systemic_issue == issue  # nothing moved yet
    response = link_from_report(client, w.dev_x, other, confirm="1")
    assert response.status_code == 302
    w.dev_x.refresh_from_db()
    assert w.dev_x.systemic_issue == other
    move = w.dev_x.events.get(action="move")
    assert move.kind == DeviationEvent.Kind.LINKED
    assert move.details == {
        "from_issue": {"id": issue.pk, "title": issue.title},
        "to_issue": {"id": other.pk, "title": "Annan fråga"},
    }


def test_the_move_shows_in_the_reports_history_for_handlers_only(client, w, issue):
    other = factories.SystemicIssueFactory(
        created_by=w.regional, title="Annan fråga", agreements=[w.agreement]
    )
    systemic.link_to_systemic_issue(issue=issue, deviation=w.dev_x, actor=w.regional)
    client.force_login(w.regional)
    link_from_report(client, w.dev_x, other, confirm="1")
    arrow = '<span aria-hidden="true">→</span><span class="visually-hidden">till</span>'
    moved = f"{issue.title} {arrow} Annan fråga"
    assert moved in client.get(reverse("deviations:detail", args=[w.dev_x.reference])).content.decode()
    assert w.dev_x.events.get(action="move").visibility == DeviationEvent.Visibility.INTERNAL
    client.force_login(w.reporter_a)
    reporter_view = client.get(reverse("deviations:detail", args=[w.dev_x.reference]))
    assert reporter_view.status_code == 200 and moved not in reporter_view.content.decode()


def test_a_move_to_an_issue_of_another_agreement_shows_both_warnings_and_a_way_back(client, w, issue):
    other = factories.SystemicIssueFactory(
        created_by=w.regional, agreements=[factories.AgreementFactory(code="SPEL", name="Spel om pengar")]
    )
    systemic.link_to_systemic_issue(issue=issue, deviation=w.dev_x, actor=w.regional)
    client.force_login(w.regional)
    response = link_from_report(client, w.dev_x, other)
    assert response.status_code == 200
    warnings = response.context["warnings"]
    assert len(warnings) == 2
    assert "flyttas därifrån" in warnings[0] and "hör inte till systemfrågans" in warnings[1]
    assert f'href="{reverse("deviations:detail", args=[w.dev_x.reference])}"' in response.content.decode()
    w.dev_x.refresh_from_db()
    assert w.dev_x.systemic_issue == issue


def test_moving_from_the_issue_page_asks_too(client, w, issue):
    other = factories.SystemicIssueFactory(created_by=w.regional, agreements=[w.agreement])
    systemic.link_to_systemic_issue(issue=issue, deviation=w.dev_x, actor=w.regional)
    client.force_login(w.regional)
    url = reverse("deviations:systemic_link", args=[other.pk])
    response = client.post(url, {"reference": w.dev_x.reference})
    assert response.status_code == 200 and "Koppla ändå" in response.content.decode()
    assert 'name="reference" value="' + w.dev_x.reference + '"' in response.content.decode()
    client.post(url, {"reference": w.dev_x.reference, "confirm": "1"})
    w.dev_x.refresh_from_db()
    assert w.dev_x.systemic_issue == other


def test_the_service_never_moves_a_report_silently(w, issue):
    other = factories.SystemicIssueFactory(created_by=w.regional)
    systemic.link_to_systemic_issue(issue=issue, deviation=w.dev_x, actor=w.regional)
    with pytest.raises(Conflict):
        systemic.link_to_systemic_issue(issue=other, deviation=w.dev_x, actor=w.regional)


def test_a_report_of_another_agreement_is_linked_only_after_a_warning(client, w, issue):
    other_agreement = factories.AgreementFactory(code="SPEL", name="Spel om pengar")
    deviation = factories.DeviationFactory(
        council=w.council_x, municipality=w.muni_x, agreement=other_agreement
    )
    client.force_login(w.regional)
    response = link_from_report(client, deviation, issue)
    assert response.status_code == 200
    assert "hör inte till systemfrågans" in response.content.decode()
    deviation.refresh_from_db()
    assert deviation.systemic_issue is None
    link_from_report(client, deviation, issue, confirm="1")
    deviation.refresh_from_db()
    assert deviation.systemic_issue == issue


# --- Actions: due dates ----------------------------------------------------------------------------


def test_a_due_date_in_the_past_is_refused_on_entry(client, w, issue):
    client.force_login(w.regional)
    yesterday = stockholm_today() - datetime.timedelta(days=1)
    response = client.post(
        reverse("deviations:systemic_action_add", args=[issue.pk]),
        {"description": "Rutin", "owner": w.org_psych.pk, "due_on": yesterday.isoformat()},
    )
    assert response.status_code == 200
    assert "Datumet kan inte ligga i det förflutna." in response.content.decode()
    assert not issue.actions.exists()
    with pytest.raises(Invalid):
        systemic.add_systemic_action(
            issue=issue, actor=w.regional, description="Rutin", owner=w.org_psych, due_on=yesterday
        )


def test_overdue_actions_are_flagged(client, w, issue):
    today = stockholm_today()
    late = factories.SystemicActionFactory(issue=issue, due_on=today - datetime.timedelta(days=3))
    factories.SystemicActionFactory(issue=issue, due_on=today - datetime.timedelta(days=3), state="done")
    factories.SystemicActionFactory(issue=issue, due_on=today + datetime.timedelta(days=3))
    client.force_login(w.regional)
    response = client.get(reverse("deviations:systemic_detail", args=[issue.pk]))
    assert [a.pk for a in response.context["actions"] if a.overdue] == [late.pk]
    assert response.content.decode().count("Försenad</span>") == 1
    listing = client.get(reverse("deviations:systemic_list"), {"atgarder": "forsenade"})
    assert [(i.pk, i.overdue_actions) for i in listing.context["issues"]] == [(issue.pk, 1)]
    factories.SystemicIssueFactory(created_by=w.regional)
    assert len(client.get(reverse("deviations:systemic_list")).context["issues"]) == 2


def test_resolving_lists_the_reports_that_stay_open_with_the_reason(client, w, issue):
    w.dev_x.status = Status.ESCALATED
    w.dev_x.save()
    systemic.link_to_systemic_issue(issue=issue, deviation=w.dev_x, actor=w.regional)
    client.force_login(w.regional)
    response = client.post(
        reverse("deviations:systemic_resolve", args=[issue.pk]),
        {"outcome": "Ny rutin", "feedback": "Rutinen är ändrad.", "close_open_reports": "on"},
        follow=True,
    )
    content = response.content.decode()
    assert "0 rapporter avslutades, 0 fick återkoppling" in content
    assert f"{w.dev_x.reference} är fortfarande öppen och fick ingen återkoppling" in content


def test_today_is_a_valid_due_date_and_the_date_field_says_so(client, w, issue):
    today = stockholm_today()
    client.force_login(w.regional)
    page = client.get(reverse("deviations:systemic_detail", args=[issue.pk])).content.decode()
    assert f'min="{today.isoformat()}"' in page
    response = client.post(
        reverse("deviations:systemic_action_add", args=[issue.pk]),
        {"description": "Rutin", "owner": w.org_psych.pk, "due_on": today.isoformat()},
    )
    assert response.status_code == 302
    action = issue.actions.get()
    assert action.due_on == today and not action.is_overdue(today)


def test_an_action_due_today_is_not_flagged(client, w, issue):
    factories.SystemicActionFactory(issue=issue, due_on=stockholm_today())
    client.force_login(w.regional)
    response = client.get(reverse("deviations:systemic_detail", args=[issue.pk]))
    assert not any(a.overdue for a in response.context["actions"])
    assert "Försenad</span>" not in response.content.decode()
    listing = client.get(reverse("deviations:systemic_list"), {"atgarder": "forsenade"})
    assert list(listing.context["issues"]) == []


def resolve_with_feedback(client, issue, **extra):
    return client.post(
        reverse("deviations:systemic_resolve", args=[issue.pk]),
        {"outcome": "Ny rutin", "feedback": "Rutinen är ändrad.", **extra},
        follow=True,
    )


def test_resolving_from_the_issue_page_closes_through_the_state_machine_and_tells_only_the_closed(
    client, w, issue, mailoutbox, django_capture_on_commit_callbacks
):
    closable, stuck = w.dev_x, w.dev_y
    closable.status = Status.REGIONAL_ANALYSIS
    closable.save()
    stuck.status = Status.ESCALATED  # the state machine does not close from here
    stuck.save()
    already_closed = factories.DeviationFactory(status=Status.CLOSED, reporter_email="c@example.se")
    for deviation in (closable, stuck, already_closed):
        systemic.link_to_systemic_issue(issue=issue, deviation=deviation, actor=w.regional)
    client.force_login(w.regional)
    with django_capture_on_commit_callbacks(execute=True):
        response = resolve_with_feedback(client, issue, close_open_reports="on")
    content = response.content.decode()
    assert "Systemfrågan är löst. 1 rapport avslutades, 1 fick återkoppling." in content
    assert f"{stuck.reference} är fortfarande öppen och fick ingen återkoppling" in content
    assert closable.reference + " är fortfarande öppen" not in content
    # Closed by the state machine's own transition, with the feedback for the reporter.
    closable.refresh_from_db()
    assert closable.status == Status.CLOSED
    close = closable.events.get(kind=DeviationEvent.Kind.TRANSITION)
    assert (close.action, close.to_status, close.text) == ("close", Status.CLOSED, "Rutinen är ändrad.")
    assert close.visibility == DeviationEvent.Visibility.REPORTER
    # The one that stays open: unchanged, no feedback, no mail; its reporter reads nothing about it.
    stuck.refresh_from_db()
    assert stuck.status == Status.ESCALATED
    assert list(stuck.events.values_list("kind", flat=True)) == [DeviationEvent.Kind.LINKED]
    assert sorted(m.to[0] for m in mailoutbox) == ["a@example.se", "c@example.se"]
    client.force_login(w.reporter_b)
    own_page = client.get(reverse("deviations:detail", args=[stuck.reference]))
    assert own_page.status_code == 200 and "Rutinen är ändrad." not in own_page.content.decode()
    client.force_login(w.reporter_a)
    own_page = client.get(reverse("deviations:detail", args=[closable.reference]))
    assert "Rutinen är ändrad." in own_page.content.decode()


def test_resolving_without_closing_lists_the_open_reports_and_leaves_them_alone(client, w, issue):
    w.dev_x.status = Status.TRIAGE
    w.dev_x.save()
    systemic.link_to_systemic_issue(issue=issue, deviation=w.dev_x, actor=w.regional)
    client.force_login(w.regional)
    content = resolve_with_feedback(client, issue).content.decode()
    assert f"{w.dev_x.reference} är fortfarande öppen och fick ingen återkoppling" in content
    assert "Öppna rapporter skulle inte avslutas." in content
    w.dev_x.refresh_from_db()
    assert w.dev_x.status == Status.TRIAGE
    assert not w.dev_x.events.exclude(kind=DeviationEvent.Kind.LINKED).exists()


@pytest.mark.parametrize("username", ["coord_x", "member_x", "reporter_a", "responder"])
def test_only_the_regional_level_resolves_or_adds_actions(client, w, issue, username):
    w.dev_x.status = Status.TRIAGE
    w.dev_x.save()
    systemic.link_to_systemic_issue(issue=issue, deviation=w.dev_x, actor=w.regional)
    client.force_login(getattr(w, username))
    response = client.post(
        reverse("deviations:systemic_resolve", args=[issue.pk]),
        {"outcome": "Ny rutin", "feedback": "Löst.", "close_open_reports": "on"},
    )
    assert response.status_code == 404
    response = client.post(
        reverse("deviations:systemic_action_add", args=[issue.pk]),
        {"description": "Rutin", "owner": w.org_psych.pk, "due_on": stockholm_today().isoformat()},
    )
    assert response.status_code == 404
    issue.refresh_from_db()
    w.dev_x.refresh_from_db()
    assert issue.state != SystemicIssue.State.RESOLVED and not issue.actions.exists()
    assert w.dev_x.status == Status.TRIAGE


# --- The list of systemic issues: pages of SYSTEMIC_PAGE_SIZE, newest first -------------------------


def test_the_issue_list_is_paged_newest_first_with_its_filter_kept(client, w, issue, monkeypatch):
    from deviations import selectors

    monkeypatch.setattr(selectors, "SYSTEMIC_PAGE_SIZE", 2)
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    issues = [issue, *factories.SystemicIssueFactory.create_batch(4, created_by=w.regional)]
    same_time = start + datetime.timedelta(days=2)
    for days, each in enumerate(issues):  # two created at the same moment: the id decides
        created = same_time if days in (2, 3) else start + datetime.timedelta(days=days)
        SystemicIssue.objects.filter(pk=each.pk).update(created_at=created)
    newest_first = [issues[4].pk, issues[3].pk, issues[2].pk, issues[1].pk, issues[0].pk]
    client.force_login(w.regional)
    url = reverse("deviations:systemic_list")

    def page(**params):
        response = client.get(url, params)
        return [i.pk for i in response.context["issues"]], response.context["page"]

    seen, first = page(state="open")
    assert seen == newest_first[:2] and first.previous_cursor is None
    # The link carries the filter and that response's own cursor (a signed cursor holds its signing time).
    response = client.get(url, {"state": "open"})
    content = response.content.decode()
    assert f"?state=open&amp;after={response.context['page'].next_cursor}" in content.replace("%3A", ":")
    middle, second = page(state="open", after=first.next_cursor)
    assert middle == newest_first[2:4]
    last, third = page(state="open", after=second.next_cursor)
    assert last == newest_first[4:] and third.next_cursor is None
    assert page(state="open", before=third.previous_cursor)[0] == newest_first[2:4]
    assert page(state="open", before=second.previous_cursor)[0] == newest_first[:2]
    # A tampered cursor is the first page.
    assert page(after=first.next_cursor + "x")[0] == newest_first[:2]


def test_the_issue_list_costs_the_same_whatever_the_number_of_issues_and_reports(
    client, w, issue, django_assert_num_queries
):
    client.force_login(w.regional)
    url = reverse("deviations:systemic_list")
    client.get(url)
    systemic.link_to_systemic_issue(issue=issue, deviation=w.dev_x, actor=w.regional)
    with django_assert_num_queries(5) as few:  # session, user, memberships, the page, its agreements
        assert client.get(url).context["issues"].object_list[0].report_count == 1
    factories.SystemicIssueFactory.create_batch(60, created_by=w.regional, agreements=[w.agreement])
    with django_assert_num_queries(len(few)):
        listed = client.get(url).context["issues"]
    assert len(listed) == 50 and listed.next_cursor
