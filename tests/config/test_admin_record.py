"""The admin behind the state machine: what the workflow owns is read-only, admin actions go through the
services (events, notifications, who may), corrections are on the record, and URL lookups cannot probe
columns the admin does not show."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from deviations.models import Deviation, DeviationEvent, ResponseRequest, SystemicAction, SystemicIssue
from deviations.workflow import Status
from tests import factories
from tests.deviations.triage_world import build_world, fast_passwords  # noqa: F401

pytestmark = pytest.mark.django_db


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def w(db):
    world = build_world()
    world.dev_x.status = Status.TRIAGE
    world.dev_x.save()
    return world


def staff(user, *codenames):
    """``user`` made staff with the permissions named (``app.codename``)."""
    user.is_staff = True
    user.save()
    for name in codenames:
        app, codename = name.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    return type(user).objects.get(pk=user.pk)


def change_form_data(deviation, **changes):
    data = {
        "agreement": deviation.agreement_id,
        "commitment": "",
        "category": deviation.category_id,
        "occurred_on": deviation.occurred_on.isoformat(),
        "municipality": deviation.municipality_id,
        "district": "",
        "reporting_organization": deviation.reporting_organization_id,
        "sip_involved": deviation.sip_involved,
        "discharge_involved": deviation.discharge_involved,
    }
    for prefix in ("response_requests", "events"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    return data | changes


# --- Reports --------------------------------------------------------------------------------------


def test_the_workflows_fields_and_the_texts_are_not_inputs(client, superuser, w):
    client.force_login(superuser)
    html = client.get(url(Deviation, "change", w.dev_x.pk)).content.decode()
    for name in (
        "status",
        "council",
        "assigned_to",
        "systemic_issue",
        "duplicate_of",
        "reject_reason",
        "counterpart_organizations",
        "description",
        "consequence",
        "actions_taken",
        "suggested_improvement",
    ):
        assert f'name="{name}"' not in html, name
    assert reverse("deviations:detail", args=[w.dev_x.reference]) in html
    assert 'name="category"' in html


def test_posting_the_workflows_fields_changes_nothing_and_a_correction_is_on_the_record(client, superuser, w):
    other_category = factories.DeviationCategoryFactory(
        name="Samordnad individuell plan", agreements=[w.agreement]
    )
    client.force_login(superuser)
    response = client.post(
        url(Deviation, "change", w.dev_x.pk),
        change_form_data(
            w.dev_x,
            category=other_category.pk,
            status=Status.CLOSED,
            council=w.council_y.pk,
            assigned_to=w.member_x.pk,
            description="Omskriven i admin.",
        ),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    w.dev_x.refresh_from_db()
    assert (w.dev_x.status, w.dev_x.council, w.dev_x.assigned_to, w.dev_x.category) == (
        Status.TRIAGE,
        w.council_x,
        None,
        other_category,
    )
    assert "Omskriven" not in w.dev_x.description
    (event,) = w.dev_x.events.all()
    assert (event.kind, event.action, event.actor) == (DeviationEvent.Kind.CORRECTION, "correct", superuser)
    assert event.details == {
        "changes": [{"field": "category", "from": "Utskrivning", "to": "Samordnad individuell plan"}]
    }

    client.force_login(w.coord_x)
    html = client.get(reverse("deviations:detail", args=[w.dev_x.reference])).content.decode()
    assert "Uppgifter rättade i administrationen" in html and "Samordnad individuell plan" in html


def test_saving_without_a_change_writes_no_event(client, superuser, w):
    client.force_login(superuser)
    response = client.post(url(Deviation, "change", w.dev_x.pk), change_form_data(w.dev_x))
    assert response.status_code == 302
    assert not w.dev_x.events.exists()


def test_a_correction_must_keep_the_report_consistent(client, superuser, w):
    district = factories.DistrictFactory()  # of another municipality
    client.force_login(superuser)
    response = client.post(
        url(Deviation, "change", w.dev_x.pk), change_form_data(w.dev_x, district=district.pk)
    )
    assert response.status_code == 200
    assert "district" in response.context["adminform"].form.errors
    assert not w.dev_x.events.exists()


def test_reports_are_neither_added_nor_deleted_in_admin(client, superuser, w):
    client.force_login(superuser)
    assert client.get(url(Deviation, "add")).status_code == 403
    assert client.get(url(Deviation, "delete", w.dev_x.pk)).status_code == 403
    assert Deviation.objects.filter(pk=w.dev_x.pk).exists()


def action(client, model, name, objects, **extra):
    return client.post(
        url(model, "changelist"),
        {"action": name, ACTION_CHECKBOX_NAME: [o.pk for o in objects], **extra},
        follow=True,
    )


def test_reroute_action_asks_for_the_council_and_reason_then_applies_the_transition(
    client, w, mailoutbox, django_capture_on_commit_callbacks
):
    coordinator = staff(w.coord_x, "deviations.view_deviation", "deviations.change_deviation")
    client.force_login(coordinator)
    response = client.post(
        url(Deviation, "changelist"), {"action": "reroute", ACTION_CHECKBOX_NAME: [w.dev_x.pk]}
    )
    assert response.status_code == 200
    assert 'name="council"' in response.content.decode() and 'name="text"' in response.content.decode()
    assert Deviation.objects.get(pk=w.dev_x.pk).council == w.council_x

    with django_capture_on_commit_callbacks(execute=True):
        action(client, Deviation, "reroute", [w.dev_x], apply="1", council=w.council_y.pk, text="Fel område.")
    w.dev_x.refresh_from_db()
    assert (w.dev_x.council, w.dev_x.status) == (w.council_y, Status.SUBMITTED)
    event = w.dev_x.events.get(kind=DeviationEvent.Kind.TRANSITION)
    assert (event.action, event.from_council, event.to_council, event.actor, event.text) == (
        "reroute",
        w.council_x,
        w.council_y,
        coordinator,
        "Fel område.",
    )
    assert [m.to for m in mailoutbox] == [["coord_y@example.se"]]


def test_reroute_action_without_a_reason_moves_nothing(client, w):
    client.force_login(staff(w.coord_x, "deviations.view_deviation", "deviations.change_deviation"))
    response = action(client, Deviation, "reroute", [w.dev_x], apply="1", council=w.council_y.pk, text="")
    assert response.status_code == 200
    w.dev_x.refresh_from_db()
    assert w.dev_x.council == w.council_x
    assert not w.dev_x.events.exists()


def test_an_administrator_who_handles_no_report_is_refused_by_the_service(client, superuser, w):
    """The superuser sees every report in admin but has no council role: the service says no, as it does
    on the report page."""
    client.force_login(superuser)
    response = action(client, Deviation, "reroute", [w.dev_x], apply="1", council=w.council_y.pk, text="Fel.")
    assert response.status_code == 200
    assert "behörighet" in response.content.decode()
    w.dev_x.refresh_from_db()
    assert w.dev_x.council == w.council_x
    assert not w.dev_x.events.exists()


def test_unassign_action_goes_through_the_assignment_service(client, w):
    w.dev_x.assigned_to = w.member_x
    w.dev_x.save()
    client.force_login(staff(w.coord_x, "deviations.view_deviation", "deviations.change_deviation"))
    action(client, Deviation, "unassign", [w.dev_x])
    w.dev_x.refresh_from_db()
    assert w.dev_x.assigned_to is None
    event = w.dev_x.events.get()
    assert (event.kind, event.from_assignee, event.to_assignee) == (
        DeviationEvent.Kind.ASSIGNMENT,
        w.member_x,
        None,
    )


def test_unlink_action_goes_through_the_systemic_service(client, superuser, w):
    issue = factories.SystemicIssueFactory(created_by=w.regional)
    w.dev_x.systemic_issue = issue
    w.dev_x.save()
    client.force_login(superuser)
    action(client, Deviation, "unlink_from_systemic_issue", [w.dev_x])
    w.dev_x.refresh_from_db()
    assert w.dev_x.systemic_issue is None
    assert w.dev_x.events.get().details == {"from_issue": {"id": issue.pk, "title": issue.title}}


# --- Response requests and systemic issues ----------------------------------------------------------


def test_response_requests_are_read_only_and_withdrawn_through_the_service(client, w):
    request = factories.ResponseRequestFactory(
        deviation=w.dev_x, organization=w.org_psych, requested_by=w.coord_x
    )
    Deviation.objects.filter(pk=w.dev_x.pk).update(status=Status.AWAITING_RESPONSE)
    coordinator = staff(w.coord_x, "deviations.view_responserequest", "deviations.change_responserequest")
    client.force_login(coordinator)
    assert client.get(url(ResponseRequest, "add")).status_code == 403
    html = client.get(url(ResponseRequest, "change", request.pk)).content.decode()
    for name in ("deviation", "organization", "email", "due_on", "answered_at", "cancelled_at", "message"):
        assert f'name="{name}"' not in html, name

    action(client, ResponseRequest, "cancel", [request])
    request.refresh_from_db()
    assert request.cancelled_at is not None
    w.dev_x.refresh_from_db()
    assert w.dev_x.status == Status.TRIAGE  # nothing left to wait for
    assert list(w.dev_x.events.values_list("action", flat=True)) == [
        "cancel_response_request",
        "resume_triage",
    ]


def test_systemic_issue_saved_in_admin_goes_through_the_service(client, superuser, w):
    client.force_login(superuser)
    response = client.post(
        url(SystemicIssue, "add"),
        {
            "title": "Utskrivning utan information",
            "description": "Återkommande.",
            "agreements": [w.agreement.pk],
            "state": SystemicIssue.State.RESOLVED,
            "outcome": "Ny rutin.",
            "actions-TOTAL_FORMS": "0",
            "actions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    issue = SystemicIssue.objects.get()
    assert (issue.created_by, list(issue.agreements.all())) == (superuser, [w.agreement])
    assert issue.resolved_at is not None


def test_staff_outside_the_regional_level_only_view_systemic_issues(client, w):
    issue = factories.SystemicIssueFactory(created_by=w.regional)
    coordinator = staff(w.coord_x, "deviations.view_systemicissue", "deviations.change_systemicissue")
    client.force_login(coordinator)
    html = client.get(url(SystemicIssue, "change", issue.pk)).content.decode()
    assert 'name="title"' not in html
    response = client.post(url(SystemicIssue, "change", issue.pk), {"title": "Ändrad"})
    assert response.status_code == 403
    issue.refresh_from_db()
    assert issue.title != "Ändrad"


def test_systemic_action_added_through_the_service_then_only_its_state_changes(client, superuser, w):
    issue = factories.SystemicIssueFactory(created_by=w.regional)
    client.force_login(superuser)
    due = (timezone.localdate() + timezone.timedelta(days=30)).isoformat()
    response = client.post(
        url(SystemicAction, "add"),
        {"issue": issue.pk, "description": "Gemensam rutin", "owner": w.org_psych.pk, "due_on": due},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    created = SystemicAction.objects.get()
    html = client.get(url(SystemicAction, "change", created.pk)).content.decode()
    assert 'name="description"' not in html and 'name="state"' in html
    client.post(url(SystemicAction, "change", created.pk), {"state": SystemicAction.State.DONE})
    created.refresh_from_db()
    assert (created.state, created.done_on) == (SystemicAction.State.DONE, timezone.localdate())


# --- URL lookups ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "lookup"),
    [
        (Deviation, "reporter_email__startswith=a"),
        (Deviation, "reporter_name__icontains=a"),
        (Deviation, "reporter_phone__startswith=07"),
        (Deviation, "reporter__email__startswith=a"),
        (Deviation, "description__icontains=patient"),
        (Deviation, "idempotency_key__startswith=0"),
        (Deviation, "council__name__startswith=S"),
        (DeviationEvent, "deviation__reporter_email__startswith=a"),
        (DeviationEvent, "text__icontains=a"),
        (ResponseRequest, "deviation__reporter_email__startswith=a"),
        (ResponseRequest, "answer_what_happened__icontains=a"),
    ],
)
def test_url_lookups_on_other_columns_are_refused(client, superuser, w, model, lookup):
    client.force_login(superuser)
    response = client.get(f"{url(model, 'changelist')}?{lookup}")
    assert response.status_code == 400


def test_url_lookup_on_reporter_email_is_refused_also_for_staff(client, w):
    coordinator = staff(w.coord_x, "deviations.view_deviation")
    client.force_login(coordinator)
    assert client.get(f"{url(Deviation, 'changelist')}?reporter_email__startswith=a").status_code == 400
    assert client.get(f"{url(Deviation, 'changelist')}?reporter_email=a@example.se").status_code == 400


@pytest.mark.parametrize(
    ("model", "query"),
    [
        (Deviation, "status__exact=triage"),
        (Deviation, "council__level__exact=local"),
        (Deviation, "council__id__exact=1"),
        (Deviation, "agreement__id__exact=1"),
        (Deviation, "council__isnull=True"),
        (DeviationEvent, "kind__exact=note"),
        (ResponseRequest, "organization__kind__exact=psychiatry"),
        ("accesslog", "at__year=2026&at__month=1"),
        ("accesslog", "deviation__council__id__exact=1"),
        (SystemicIssue, "agreements__id__exact=1"),
    ],
)
def test_the_list_filters_still_work(client, superuser, w, model, query):
    from deviations.models import AccessLog

    model = AccessLog if model == "accesslog" else model
    client.force_login(superuser)
    assert client.get(f"{url(model, 'changelist')}?{query}").status_code == 200
