"""Response requests (yttranden): request, signed single-use answer link, reminders, overdue marks."""

import datetime
import re
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.urls import resolve, reverse
from django.utils import timezone

from config.errors import Invalid, NotAllowed
from deviations.dates import stockholm_today
from deviations.models import DeviationEvent, ResponseRequest
from deviations.response_tokens import make_token, read_token
from deviations.services import responses
from deviations.workflow import Status
from tests import factories
from tests.deviations.triage_world import build_world, fast_passwords  # noqa: F401

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


@pytest.fixture
def w(db):
    world = build_world()
    world.dev_x.status = Status.TRIAGE
    world.dev_x.save()
    return world


def _request(w, **kwargs):
    return responses.request_response(
        deviation=w.dev_x,
        organizations=[w.org_psych],
        actor=w.coord_x,
        message="Hur gick det till?",
        **kwargs,
    )[0]


def _link_path(body: str) -> str:
    return re.search(r"http://testserver(\S*/yttrande/\S+/)", body).group(1)


def test_request_response_creates_requests_transition_and_mails(
    w, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.RESPONSE_DEADLINE_DAYS = 60
    with django_capture_on_commit_callbacks(execute=True):
        rr = _request(w)
    w.dev_x.refresh_from_db()
    assert w.dev_x.status == Status.AWAITING_RESPONSE
    assert rr.due_on == stockholm_today() + datetime.timedelta(days=60)
    assert rr.email == "yttrande@psyk.example.se"
    kinds = list(w.dev_x.events.values_list("kind", flat=True))
    assert kinds == [DeviationEvent.Kind.TRANSITION, DeviationEvent.Kind.RESPONSE_REQUESTED]
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["yttrande@psyk.example.se"]
    assert w.dev_x.reference in mail.subject
    assert "/yttrande/" in mail.body
    assert w.dev_x.description not in mail.body and "Hur gick det till" not in mail.body


def test_only_handlers_may_request_a_response(w):
    with pytest.raises(NotAllowed):
        responses.request_response(deviation=w.dev_x, organizations=[w.org_psych], actor=w.coord_y)
    assert not ResponseRequest.objects.exists()


def test_organization_without_contact_address_is_refused(w):
    org = factories.OrganizationFactory(contact_email="")
    with pytest.raises(Invalid):
        responses.request_response(deviation=w.dev_x, organizations=[org], actor=w.coord_x)
    w.dev_x.refresh_from_db()
    assert w.dev_x.status == Status.TRIAGE and not w.dev_x.events.exists()


def test_request_response_via_the_view(client, w, mailoutbox, django_capture_on_commit_callbacks):
    client.force_login(w.coord_x)
    url = reverse("deviations:transition", args=[w.dev_x.reference, "request_response"])
    page = client.get(url).content.decode()
    assert "Psykiatri Syd" in page
    due = (stockholm_today() + datetime.timedelta(days=10)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"organizations": [w.org_psych.pk], "message": "", "due_on": due})
    assert response.status_code == 302
    assert ResponseRequest.objects.get().due_on.isoformat() == due
    assert len(mailoutbox) == 1
    # What was done, where it is seen after the redirect.
    shown = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert shown == [f"Begäran om yttrande är skickad till {w.org_psych.name}, svar senast {due}."]
    # A past due date is refused with a message next to the field.
    response = client.post(url, {"organizations": [w.org_psych.pk], "due_on": "2020-01-01"})
    assert "måste ligga i framtiden" in response.content.decode()


def test_answer_link_round_trip_is_single_use(client, w, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        rr = _request(w)
    path = _link_path(mailoutbox[0].body)
    response = client.get(path)
    assert response.status_code == 200
    assert w.dev_x.description in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            path,
            {"answered_by_name": "Enhetschef", "what_happened": "Brist i rutinen", "actions": "Ny rutin"},
        )
    # Redirected to the receipt, which can be reloaded without answering again. (Compared by the request
    # the token names: a token made a second later carries another timestamp.)
    assert response.status_code == 302
    done = response["Location"]
    assert resolve(done).url_name == "respond_done"
    assert read_token(resolve(done).kwargs["token"]) == rr.pk
    for _ in range(2):
        receipt = client.get(done)
        assert receipt.status_code == 200 and "Tack för ert yttrande" in receipt.content.decode()
    rr.refresh_from_db()
    assert rr.answered_at and rr.answer_actions == "Ny rutin"
    event = w.dev_x.events.filter(kind=DeviationEvent.Kind.RESPONSE_RECEIVED).get()
    assert "Psykiatri Syd" in event.actor_label
    received = mailoutbox[-1]
    assert sorted(received.to) == ["coord_x@example.se", "x@example.se"]
    assert "Ny rutin" not in received.body and "Brist i rutinen" not in received.body
    # Used once: the link no longer works, and nothing changes.
    response = client.post(path, {"answered_by_name": "X", "what_happened": "Y", "actions": "Z"})
    assert response.status_code == 410
    rr.refresh_from_db()
    assert rr.answer_actions == "Ny rutin"


def test_tampered_or_unknown_token_is_the_friendly_link_page(client, w):
    rr = _request(w)
    token = make_token(rr)
    unknown = ResponseRequest(pk=rr.pk + 1000)
    for url in (
        reverse("deviations:respond", args=[token[:-2] + "xx"]),
        reverse("deviations:respond", args=["nonsense"]),
        reverse("deviations:respond", args=[make_token(unknown)]),
        reverse("deviations:respond_done", args=[token[:-2] + "xx"]),
        reverse("deviations:respond_done", args=[make_token(unknown)]),
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.templates[0].name == "deviations/reporting/link_invalid.html", url
    response = client.post(reverse("deviations:respond", args=["nonsense"]), {"answered_by_name": "X"})
    assert response.status_code == 404
    assert "Länken fungerar inte" in response.content.decode()
    response = client.get("/en" + reverse("deviations:respond", args=["nonsense"]))
    assert response.status_code == 404
    assert "The link does not work" in response.content.decode()


def test_answer_page_shows_who_reported_and_the_councils_question(client, w):
    rr = _request(w)
    content = client.get(reverse("deviations:respond", args=[make_token(rr)])).content.decode()
    assert "Socialtjänst X" in content  # the reporting organisation
    assert "Samråd X" in content  # the council asking
    assert "Samrådets fråga" in content
    assert '<p lang="sv">Hur gick det till?</p>' in content
    # Never the reporter's contact details.
    assert "a@example.se" not in content


def test_answer_page_without_a_message_asks_the_default_question(client, w, django_assert_max_num_queries):
    rr = factories.ResponseRequestFactory(deviation=w.dev_x, organization=w.org_psych, message="")
    with django_assert_max_num_queries(3):
        content = client.get(reverse("deviations:respond", args=[make_token(rr)])).content.decode()
    assert "Samrådet ber er beskriva vad som hände" in content


def test_the_receipt_of_an_unanswered_request_is_its_form(client, w):
    rr = _request(w)
    response = client.get(reverse("deviations:respond_done", args=[make_token(rr)]))
    assert response.status_code == 302
    # A link to the same request's form (the token is signed with the time, so compare what it names).
    match = resolve(response["Location"])
    assert match.url_name == "respond"
    assert read_token(match.kwargs["token"]) == rr.pk


def test_a_late_answer_is_taken_and_marked_late(client, w, mailoutbox, django_capture_on_commit_callbacks):
    """Past the due date the link still works: the form says the answer is late, and the answer is
    marked late on the request, in the event log and on the detail page."""
    due = stockholm_today() - datetime.timedelta(days=1)
    rr = factories.ResponseRequestFactory(
        deviation=w.dev_x, organization=w.org_psych, requested_by=w.coord_x, due_on=due
    )
    path = reverse("deviations:respond", args=[make_token(rr)])
    page = client.get(path)
    assert page.status_code == 200
    assert "markeras som sent" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            path, {"answered_by_name": "Enhetschef", "what_happened": "Sent men svar", "actions": "Rutin"}
        )
    assert response.status_code == 302
    rr.refresh_from_db()
    assert rr.answered_at and rr.answered_late
    event = w.dev_x.events.get(kind=DeviationEvent.Kind.RESPONSE_RECEIVED)
    assert event.action == "answered_late" and due.isoformat() in event.text
    assert mailoutbox and "Sent men svar" not in mailoutbox[-1].body
    client.force_login(w.coord_x)
    detail = client.get(reverse("deviations:detail", args=[w.dev_x.reference])).content.decode()
    assert detail.count("Sent svar") == 2  # the request's badge and the timeline's
    # Still single use.
    again = client.post(path, {"answered_by_name": "X", "what_happened": "Y", "actions": "Z"})
    assert again.status_code == 410


def test_an_answer_on_the_due_date_is_not_late(w):
    rr = factories.ResponseRequestFactory(
        deviation=w.dev_x, organization=w.org_psych, due_on=stockholm_today()
    )
    responses.record_response(response_request=rr, answered_by_name="A", what_happened="B", actions="C")
    rr.refresh_from_db()
    assert rr.answered_at and not rr.answered_late
    assert w.dev_x.events.get(kind=DeviationEvent.Kind.RESPONSE_RECEIVED).action == ""


def test_answering_with_empty_form_keeps_input_and_shows_errors(client, w):
    rr = _request(w)
    response = client.post(
        reverse("deviations:respond", args=[make_token(rr)]),
        {"answered_by_name": "Chef", "what_happened": ""},
    )
    assert response.status_code == 200
    assert 'value="Chef"' in response.content.decode()
    rr.refresh_from_db()
    assert rr.answered_at is None


# --- Reminders and overdue ------------------------------------------------------------------------


def _at(year, month, day, hour=12, minute=0, tz="Europe/Stockholm"):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz))


def test_reminder_sent_once_and_overdue_marked_once(
    w, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.RESPONSE_REMINDER_DAYS = 7
    rr = factories.ResponseRequestFactory(
        deviation=w.dev_x,
        organization=w.org_psych,
        email="svar@psyk.example.se",
        due_on=datetime.date(2026, 5, 20),
    )
    # Too early: nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert responses.send_response_reminders(now=_at(2026, 5, 12)) == {"reminded": 0, "overdue": 0}
    # Seven days before: one reminder; running again the same or next day sends no second one.
    with django_capture_on_commit_callbacks(execute=True):
        assert responses.send_response_reminders(now=_at(2026, 5, 13)) == {"reminded": 1, "overdue": 0}
        assert responses.send_response_reminders(now=_at(2026, 5, 13, 18)) == {"reminded": 0, "overdue": 0}
        assert responses.send_response_reminders(now=_at(2026, 5, 14)) == {"reminded": 0, "overdue": 0}
    assert [m.to for m in mailoutbox] == [["svar@psyk.example.se"]]
    assert "/yttrande/" in mailoutbox[0].body
    # On the due date itself it is not overdue yet; the day after it is, once.
    with django_capture_on_commit_callbacks(execute=True):
        assert responses.send_response_reminders(now=_at(2026, 5, 20, 23, 59)) == {
            "reminded": 0,
            "overdue": 0,
        }
        assert responses.send_response_reminders(now=_at(2026, 5, 21, 0, 1)) == {"reminded": 0, "overdue": 1}
        assert responses.send_response_reminders(now=_at(2026, 5, 22)) == {"reminded": 0, "overdue": 0}
    rr.refresh_from_db()
    assert rr.reminder_sent_at and rr.overdue_marked_at
    assert w.dev_x.events.filter(kind=DeviationEvent.Kind.RESPONSE_OVERDUE).count() == 1
    # The handlers are told, and so is the counterpart, whose link still takes a (late) answer.
    handlers_mail, counterpart_mail = mailoutbox[-2:]
    assert sorted(handlers_mail.to) == sorted(["coord_x@example.se", "x@example.se", rr.requested_by.email])
    assert counterpart_mail.to == ["svar@psyk.example.se"]
    assert "/yttrande/" in counterpart_mail.body and "sent" in counterpart_mail.body
    for mail in (handlers_mail, counterpart_mail):
        assert w.dev_x.description not in mail.body


@pytest.mark.parametrize("server_tz", ["UTC", "America/New_York", "Asia/Tokyo", "Europe/Stockholm"])
def test_overdue_follows_the_stockholm_calendar_across_dst(w, settings, server_tz):
    """Summer time starts 2026-03-29 in Sweden: 22:30 UTC that day is already 00:30 on the 30th."""
    settings.TIME_ZONE = server_tz
    factories.ResponseRequestFactory(
        deviation=w.dev_x, organization=w.org_psych, due_on=datetime.date(2026, 3, 29)
    )
    before = datetime.datetime(2026, 3, 29, 21, 59, tzinfo=UTC)  # 23:59 CEST on the 29th
    after = datetime.datetime(2026, 3, 29, 22, 30, tzinfo=UTC)  # 00:30 CEST on the 30th
    assert responses.send_response_reminders(now=before)["overdue"] == 0
    assert responses.send_response_reminders(now=after)["overdue"] == 1


def test_overdue_at_the_end_of_summer_time(w):
    """Winter time starts 2026-10-25: 23:30 UTC that day is 00:30 CET on the 26th."""
    factories.ResponseRequestFactory(
        deviation=w.dev_x, organization=w.org_psych, due_on=datetime.date(2026, 10, 25)
    )
    assert (
        responses.send_response_reminders(now=datetime.datetime(2026, 10, 25, 22, 59, tzinfo=UTC))["overdue"]
        == 0
    )
    assert (
        responses.send_response_reminders(now=datetime.datetime(2026, 10, 25, 23, 0, tzinfo=UTC))["overdue"]
        == 1
    )


def test_answered_and_cancelled_requests_get_no_reminder(w):
    today = stockholm_today()
    factories.ResponseRequestFactory(deviation=w.dev_x, due_on=today, answered_at=timezone.now())
    factories.ResponseRequestFactory(
        deviation=w.dev_x, due_on=today - datetime.timedelta(days=3), cancelled_at=timezone.now()
    )
    assert responses.send_response_reminders() == {"reminded": 0, "overdue": 0}


def test_command_is_idempotent(w, mailoutbox):
    factories.ResponseRequestFactory(
        deviation=w.dev_x,
        organization=w.org_psych,
        due_on=stockholm_today() + datetime.timedelta(days=2),
    )
    factories.ResponseRequestFactory(
        deviation=w.dev_x,
        organization=w.org_psych,
        due_on=stockholm_today() - datetime.timedelta(days=2),
    )
    call_command("send_response_reminders")
    first = ResponseRequest.objects.values_list("reminder_sent_at", "overdue_marked_at")
    first = list(first)
    events = DeviationEvent.objects.count()
    call_command("send_response_reminders")
    assert list(ResponseRequest.objects.values_list("reminder_sent_at", "overdue_marked_at")) == first
    assert DeviationEvent.objects.count() == events


def test_counterpart_responder_role_ends_when_answered(w):
    from deviations.selectors import roles_for
    from deviations.workflow import Role

    rr = _request(w)
    assert roles_for(w.responder, w.dev_x) == {Role.COUNTERPART}
    responses.record_response(response_request=rr, answered_by_name="A", what_happened="B", actions="C")
    assert roles_for(w.responder, w.dev_x) == set()


def test_cancelling_a_request_ends_link_and_counterpart_access(client, w):
    rr = _request(w)
    client.force_login(w.responder)
    assert client.get(reverse("deviations:detail", args=[w.dev_x.reference])).status_code == 200
    client.force_login(w.coord_y)
    url = reverse("deviations:cancel_response", args=[w.dev_x.reference, rr.pk])
    assert client.post(url).status_code == 404
    client.force_login(w.coord_x)
    assert client.post(url).status_code == 302
    rr.refresh_from_db()
    assert rr.cancelled_at is not None
    assert w.dev_x.events.filter(action="cancel_response_request").count() == 1
    assert client.get(reverse("deviations:respond", args=[make_token(rr)])).status_code == 410
    client.force_login(w.responder)
    assert client.get(reverse("deviations:detail", args=[w.dev_x.reference])).status_code == 404


@pytest.mark.parametrize(
    ("action", "options", "text"),
    [
        ("close", {}, "Begäran om yttrande från Psykiatri X återkallad: rapporten avslutades."),
        (
            "reject",
            {"reject_reason": "personal_data"},
            "Begäran om yttrande från Psykiatri X återkallad: rapporten avvisades.",
        ),
    ],
)
def test_ending_a_report_withdraws_its_open_requests(
    client, w, mailoutbox, django_capture_on_commit_callbacks, action, options, text
):
    """Closing or rejecting a report awaiting a response (e.g. because it holds personal data) withdraws
    the open requests, each with its event: the link stops working, the counterpart's staff lose the
    report, no reminder goes out. An answered request keeps its answer."""
    from deviations.services import transitions

    open_request = _request(w)
    answered = factories.ResponseRequestFactory(
        deviation=w.dev_x, organization=w.org_psych, answered_at=timezone.now()
    )
    client.force_login(w.responder)
    assert client.get(reverse("deviations:detail", args=[w.dev_x.reference])).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        transitions.apply_transition(
            deviation=w.dev_x, action=action, actor=w.coord_x, text="Klart.", **options
        )
    open_request.refresh_from_db()
    answered.refresh_from_db()
    w.dev_x.refresh_from_db()
    assert w.dev_x.status in (Status.CLOSED, Status.REJECTED)
    assert open_request.cancelled_at == w.dev_x.closed_at and answered.cancelled_at is None
    assert w.dev_x.response_due_on is None
    withdrawn = w.dev_x.events.get(action="cancel_response_request")
    assert (withdrawn.actor, withdrawn.text) == (w.coord_x, text.replace("Psykiatri X", w.org_psych.name))
    assert client.get(reverse("deviations:detail", args=[w.dev_x.reference])).status_code == 404
    client.logout()
    respond = client.post(
        reverse("deviations:respond", args=[make_token(open_request)]),
        {"answered_by_name": "A", "what_happened": "B", "actions": "C"},
    )
    assert respond.status_code == 410
    open_request.refresh_from_db()
    assert open_request.answered_at is None
    assert responses.send_response_reminders(now=timezone.now() + datetime.timedelta(days=60)) == {
        "reminded": 0,
        "overdue": 0,
    }


def test_a_request_left_open_on_an_ended_report_answers_no_more(client, w):
    """A request still open on a closed report (written before closing withdrew them) gives no access,
    takes no answer and gets no reminder; it stays counted as unanswered."""
    legacy = factories.ResponseRequestFactory(
        deviation=w.dev_x, organization=w.org_psych, due_on=stockholm_today() - datetime.timedelta(days=1)
    )
    type(w.dev_x).objects.filter(pk=w.dev_x.pk).update(status=Status.CLOSED, closed_at=timezone.now())
    legacy.refresh_from_db()
    assert legacy.is_open and not legacy.is_answerable
    assert not ResponseRequest.objects.answerable().exists()
    client.force_login(w.responder)
    assert client.get(reverse("deviations:detail", args=[w.dev_x.reference])).status_code == 404
    assert w.dev_x.reference not in client.get(reverse("deviations:my_response_requests")).content.decode()
    client.logout()
    assert client.get(reverse("deviations:respond", args=[make_token(legacy)])).status_code == 410
    with pytest.raises(responses.ResponseLinkInvalid):
        responses.record_response(
            response_request=legacy, answered_by_name="A", what_happened="B", actions="C"
        )
    assert responses.send_response_reminders() == {"reminded": 0, "overdue": 0}


def test_open_and_overdue_are_one_rule_for_querysets_and_rows(w):
    """ResponseRequest.objects.open()/.overdue(today) and the row's is_open/is_late agree: due today is
    open, not overdue; the day after it is overdue and an answer is late (still taken); answered or
    withdrawn is neither."""
    today = stockholm_today()
    make = partial(factories.ResponseRequestFactory, deviation=w.dev_x)
    due_today = make(due_on=today)
    late = make(due_on=today - datetime.timedelta(days=1))
    answered = make(due_on=today - datetime.timedelta(days=1), answered_at=timezone.now())
    withdrawn = make(due_on=today - datetime.timedelta(days=1), cancelled_at=timezone.now())
    assert set(ResponseRequest.objects.open()) == {due_today, late}
    assert set(ResponseRequest.objects.overdue(today)) == {late}
    rows = (due_today, late, answered, withdrawn)
    assert [(r.is_open, r.is_answerable, r.is_late(today)) for r in rows] == [
        (True, True, False),
        (True, True, True),
        (False, False, False),
        (False, False, False),
    ]
