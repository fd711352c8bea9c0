"""Following up a response request: a later due date, the link sent again, and the signed-in
counterpart's list of open requests to their organisation."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from deviations.dates import stockholm_today
from deviations.models import DeviationEvent, ResponseRequest
from deviations.response_tokens import make_token, read_token
from deviations.workflow import Status
from tests import factories
from tests.deviations.triage_world import build_world, fast_passwords  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    world = build_world()
    world.dev_x.status = Status.AWAITING_RESPONSE
    world.dev_x.save()
    world.request = factories.ResponseRequestFactory(
        deviation=world.dev_x,
        organization=world.org_psych,
        requested_by=world.coord_x,
        due_on=stockholm_today() - datetime.timedelta(days=2),
        reminder_sent_at=timezone.now(),
        overdue_marked_at=timezone.now(),
    )
    return world


def extend_url(w, deviation=None):
    return reverse("deviations:extend_response", args=[(deviation or w.dev_x).reference, w.request.pk])


def resend_url(w, deviation=None):
    return reverse("deviations:resend_response", args=[(deviation or w.dev_x).reference, w.request.pk])


def extend_data(w, due):
    return {f"rr{w.request.pk}-due_on": due.isoformat() if isinstance(due, datetime.date) else due}


# --- A later due date -------------------------------------------------------------------------------


def test_coordinator_extends_an_overdue_request(client, w, mailoutbox, django_capture_on_commit_callbacks):
    new_due = stockholm_today() + datetime.timedelta(days=14)
    client.force_login(w.coord_x)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(extend_url(w), extend_data(w, new_due))
    assert response.status_code == 302 and response["Location"].endswith("#yttranden")
    w.request.refresh_from_db()
    assert w.request.due_on == new_due
    # The reminder and the overdue mark apply again to the new date.
    assert w.request.reminder_sent_at is None and w.request.overdue_marked_at is None
    event = w.dev_x.events.get(action="extend_response_deadline")
    assert event.kind == DeviationEvent.Kind.NOTE and new_due.isoformat() in event.text
    # The counterpart is told the new date, with the same answer link; no report text.
    (mail,) = mailoutbox
    assert mail.to == [w.request.email]
    assert new_due.isoformat() in mail.subject
    assert reverse("deviations:respond", args=[make_token(w.request)]).split(":")[0] in mail.body
    assert w.dev_x.description not in mail.body


@pytest.mark.parametrize(
    ("due", "message"),
    [
        (datetime.timedelta(days=0), "måste ligga i framtiden"),
        (None, "Ange ett giltigt nytt svarsdatum"),
        ("inte-ett-datum", "Ange ett giltigt nytt svarsdatum"),
    ],
)
def test_bad_new_due_dates_are_refused_with_a_message(client, w, due, message):
    if isinstance(due, datetime.timedelta):
        due = stockholm_today() + due
    before = w.request.due_on
    client.force_login(w.coord_x)
    response = client.post(extend_url(w), extend_data(w, due) if due else {}, follow=True)
    assert message in response.content.decode()
    w.request.refresh_from_db()
    assert w.request.due_on == before
    assert not w.dev_x.events.filter(action="extend_response_deadline").exists()


def test_a_new_due_date_must_be_later_than_the_current_one(client, w):
    w.request.due_on = stockholm_today() + datetime.timedelta(days=30)
    w.request.save()
    client.force_login(w.coord_x)
    response = client.post(
        extend_url(w), extend_data(w, stockholm_today() + datetime.timedelta(days=10)), follow=True
    )
    assert "måste ligga efter det nuvarande" in response.content.decode()
    w.request.refresh_from_db()
    assert w.request.due_on == stockholm_today() + datetime.timedelta(days=30)


@pytest.mark.parametrize(("username", "status"), [("coord_y", 404), ("reporter_a", 302), ("responder", 302)])
def test_only_handlers_extend_or_resend(client, w, username, status, mailoutbox):
    """Others cannot see the report (404) or may see it but not handle it (back with a message)."""
    client.force_login(getattr(w, username))
    future = stockholm_today() + datetime.timedelta(days=10)
    assert client.post(extend_url(w), extend_data(w, future)).status_code == status
    assert client.post(resend_url(w)).status_code == status
    w.request.refresh_from_db()
    assert w.request.due_on < stockholm_today()
    assert not w.dev_x.events.exists() and not mailoutbox


def test_extend_and_resend_are_post_only_and_need_login(client, w):
    assert client.post(resend_url(w)).status_code == 302  # to the login page
    client.force_login(w.coord_x)
    assert client.get(extend_url(w)).status_code == 405
    assert client.get(resend_url(w)).status_code == 405


def test_a_request_id_under_another_reports_reference_is_404(client, w):
    client.force_login(w.coord_y)
    future = stockholm_today() + datetime.timedelta(days=10)
    assert client.post(extend_url(w, w.dev_y), extend_data(w, future)).status_code == 404


# --- The link again ---------------------------------------------------------------------------------


def test_resend_mails_the_same_link_to_the_current_contact_address(
    client, w, mailoutbox, django_capture_on_commit_callbacks
):
    w.org_psych.contact_email = "ny-brevlada@psyk.example.se"
    w.org_psych.save()
    client.force_login(w.coord_x)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(resend_url(w)).status_code == 302
    (mail,) = mailoutbox
    assert mail.to == ["ny-brevlada@psyk.example.se"]
    assert "/yttrande/" in mail.body and w.dev_x.description not in mail.body
    w.request.refresh_from_db()
    assert w.request.email == "ny-brevlada@psyk.example.se"
    assert w.dev_x.events.filter(action="resend_response_link").count() == 1


def test_answered_or_withdrawn_requests_are_not_extended_or_resent(client, w, mailoutbox):
    ResponseRequest.objects.filter(pk=w.request.pk).update(answered_at=timezone.now())
    client.force_login(w.coord_x)
    response = client.post(resend_url(w), follow=True)
    assert "redan besvarad eller återkallad" in response.content.decode()
    future = stockholm_today() + datetime.timedelta(days=10)
    client.post(extend_url(w), extend_data(w, future))
    assert not w.dev_x.events.exists() and not mailoutbox


def test_detail_page_offers_extend_and_resend_for_open_requests_only(client, w):
    answered = factories.ResponseRequestFactory(
        deviation=w.dev_x, requested_by=w.coord_x, answered_at=timezone.now()
    )
    client.force_login(w.coord_x)
    html = client.get(reverse("deviations:detail", args=[w.dev_x.reference])).content.decode()
    assert extend_url(w) in html and resend_url(w) in html
    assert reverse("deviations:resend_response", args=[w.dev_x.reference, answered.pk]) not in html


# --- The counterpart's own list ---------------------------------------------------------------------


def my_requests_url():
    return reverse("deviations:my_response_requests")


def test_counterpart_lists_the_open_requests_to_their_organisation(client, w, django_assert_max_num_queries):
    factories.ResponseRequestFactory(deviation=w.dev_y)  # to another organisation
    factories.ResponseRequestFactory(deviation=w.dev_y, organization=w.org_psych, answered_at=timezone.now())
    client.force_login(w.responder)
    with django_assert_max_num_queries(9):
        response = client.get(my_requests_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert w.dev_x.reference in html
    # The request's answer link (its token is signed with the time: compare the request it names).
    prefix = reverse("deviations:respond", args=["TOKEN"]).split("TOKEN")[0]
    tokens = re.findall(re.escape(prefix) + r"([^/\"]+)/", html)
    assert w.request.pk in {read_token(token) for token in tokens}
    assert "Försenat" in html
    assert w.dev_y.reference not in html
    # The menu offers the list to staff of an organisation.
    assert my_requests_url() in html


def test_the_list_query_count_does_not_grow_with_the_rows(client, w, django_assert_max_num_queries):
    for _ in range(5):
        factories.ResponseRequestFactory(
            deviation=factories.DeviationFactory(status=Status.AWAITING_RESPONSE), organization=w.org_psych
        )
    client.force_login(w.responder)
    with django_assert_max_num_queries(9):
        response = client.get(my_requests_url())
    assert len(response.context["rows"]) == 6


def test_users_without_an_organisation_have_no_list(client, w):
    assert client.get(my_requests_url()).status_code == 302
    client.force_login(w.coord_x)  # no organisation in this world
    assert client.get(my_requests_url()).status_code == 404
    html = client.get(reverse("home")).content.decode()
    assert my_requests_url() not in html
