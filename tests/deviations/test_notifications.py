"""Every hand-off mails the person who must act (or keeps it for their daily digest); mails are sent
by the worker after commit and carry references and links, never report text."""

import datetime

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from councils.models import User
from deviations.models import PendingNotification
from deviations.services.digests import send_digests
from deviations.workflow import Status
from tests import factories
from tests.deviations.triage_world import build_world, fast_passwords  # noqa: F401

pytestmark = pytest.mark.django_db
DAILY = User.NotificationMode.DAILY
SECRET = "Patientens hemliga berättelse"


@pytest.fixture
def w(db):
    world = build_world()
    world.dev_x.status = Status.TRIAGE
    world.dev_x.description = SECRET
    world.dev_x.save()
    return world


def action_url(deviation, action):
    return reverse("deviations:transition", args=[deviation.reference, action])


def post(client, user, url, data, capture):
    client.force_login(user)
    with capture(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:500]
    return response


def no_report_text(mails):
    return all(SECRET not in m.body and SECRET not in m.subject for m in mails)


def test_return_to_local_mails_the_council_and_the_assignee(
    client, w, mailoutbox, django_capture_on_commit_callbacks
):
    w.dev_x.status = Status.REGIONAL_ANALYSIS
    w.dev_x.assigned_to = w.member_x
    w.dev_x.save()
    post(
        client,
        w.regional,
        action_url(w.dev_x, "return_to_local"),
        {"text": "Lokal fråga."},
        django_capture_on_commit_callbacks,
    )
    (mail,) = mailoutbox
    assert sorted(mail.to) == ["coord_x@example.se", "member_x@example.se", "x@example.se"]
    assert w.dev_x.reference in mail.subject and "Återförd" in mail.subject
    assert "Lokal fråga" not in mail.body and no_report_text(mailoutbox)


def test_reopen_mails_the_council_and_the_assignee(client, w, mailoutbox, django_capture_on_commit_callbacks):
    w.dev_x.status = Status.CLOSED
    w.dev_x.closed_at = timezone.now()
    w.dev_x.assigned_to = w.member_x
    w.dev_x.save()
    post(
        client,
        w.coord_x,
        action_url(w.dev_x, "reopen"),
        {"text": "Ny information."},
        django_capture_on_commit_callbacks,
    )
    (mail,) = mailoutbox
    assert sorted(mail.to) == ["coord_x@example.se", "member_x@example.se", "x@example.se"]
    assert "Öppnad igen" in mail.subject and no_report_text(mailoutbox)


def test_reroute_mails_the_new_council_with_the_reason(
    client, w, mailoutbox, django_capture_on_commit_callbacks
):
    post(
        client,
        w.coord_x,
        action_url(w.dev_x, "reroute"),
        {"council": w.council_y.pk, "text": "Hände i Ystad, inte i Xköping."},
        django_capture_on_commit_callbacks,
    )
    (mail,) = mailoutbox
    assert mail.to == ["coord_y@example.se"]
    assert "har flyttats till er" in mail.subject
    assert "Skäl: Hände i Ystad, inte i Xköping." in mail.body and no_report_text(mailoutbox)


def test_a_reroute_reason_with_an_identity_number_is_refused_and_nothing_is_mailed(
    client, w, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(w.coord_x)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            action_url(w.dev_x, "reroute"), {"council": w.council_y.pk, "text": "Gäller 121212-1212."}
        )
    assert "personnummer" in response.content.decode()
    w.dev_x.refresh_from_db()
    assert w.dev_x.council == w.council_x and not mailoutbox


def test_assignment_mails_the_assignee_but_not_someone_assigning_themselves(
    client, w, mailoutbox, django_capture_on_commit_callbacks
):
    url = reverse("deviations:assign", args=[w.dev_x.reference])
    post(client, w.coord_x, url, {"assignee": w.member_x.pk}, django_capture_on_commit_callbacks)
    (mail,) = mailoutbox
    assert mail.to == ["member_x@example.se"] and "Tilldelad dig" in mail.subject
    assert no_report_text(mailoutbox)
    post(client, w.coord_x, url, {"me": "1"}, django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 1


def test_systemic_action_owner_gets_the_decision(client, w, mailoutbox, django_capture_on_commit_callbacks):
    issue = factories.SystemicIssueFactory(title="Utskrivningsmeddelanden", created_by=w.regional)
    due = timezone.localdate() + datetime.timedelta(days=60)
    post(
        client,
        w.regional,
        reverse("deviations:systemic_action_add", args=[issue.pk]),
        {"description": "Ny gemensam rutin", "owner": w.org_psych.pk, "due_on": due.isoformat()},
        django_capture_on_commit_callbacks,
    )
    (mail,) = mailoutbox
    assert mail.to == ["yttrande@psyk.example.se"]
    assert due.isoformat() in mail.subject
    assert "Ny gemensam rutin" in mail.body and "Utskrivningsmeddelanden" in mail.body
    assert "regional@example.se" in mail.body


def test_an_owner_without_contact_address_gets_nothing(
    client, w, mailoutbox, django_capture_on_commit_callbacks
):
    issue = factories.SystemicIssueFactory(created_by=w.regional)
    owner = factories.OrganizationFactory(contact_email="")
    due = timezone.localdate() + datetime.timedelta(days=60)
    post(
        client,
        w.regional,
        reverse("deviations:systemic_action_add", args=[issue.pk]),
        {"description": "Rutin", "owner": owner.pk, "due_on": due.isoformat()},
        django_capture_on_commit_callbacks,
    )
    assert mailoutbox == []


def test_mails_are_queued_for_the_worker_never_sent_in_the_request(
    client, w, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    post(
        client,
        w.coord_x,
        reverse("deviations:assign", args=[w.dev_x.reference]),
        {"assignee": w.member_x.pk},
        django_capture_on_commit_callbacks,
    )
    assert mailoutbox == []
    assert DBTaskResult.objects.count() == 1


# --- The daily digest -------------------------------------------------------------------------------


def choose_daily(user):
    user.notification_mode = DAILY
    user.save()


def test_a_digest_user_gets_no_mail_at_once_but_one_digest(
    client, w, mailoutbox, django_capture_on_commit_callbacks
):
    choose_daily(w.member_x)
    choose_daily(w.coord_x)
    url = reverse("deviations:assign", args=[w.dev_x.reference])
    post(client, w.coord_x, url, {"assignee": w.member_x.pk}, django_capture_on_commit_callbacks)
    w.dev_x.refresh_from_db()
    w.dev_x.status = Status.CLOSED
    w.dev_x.closed_at = timezone.now()
    w.dev_x.save()
    post(
        client,
        w.regional,
        action_url(w.dev_x, "reopen"),
        {"text": "Skäl"},
        django_capture_on_commit_callbacks,
    )
    # The council's function mailbox is no user: it gets the reopen mail at once; the two users none.
    assert [m.to for m in mailoutbox] == [["x@example.se"]]
    assert PendingNotification.objects.filter(user=w.member_x).count() == 2
    assert PendingNotification.objects.filter(user=w.coord_x).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        assert send_digests() == {"users": 2, "notifications": 3, "pruned": 0}
    digests = {tuple(m.to): m for m in mailoutbox[1:]}
    member_digest = digests[("member_x@example.se",)]
    assert "2 saker väntar på dig" in member_digest.subject
    assert member_digest.body.count(reverse("deviations:detail", args=[w.dev_x.reference])) == 2
    assert "Tilldelad dig" in member_digest.body and "Öppnad igen" in member_digest.body
    assert reverse("account:profile") in member_digest.body
    assert no_report_text(mailoutbox)
    # Run again (or twice at once): nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert send_digests() == {"users": 0, "notifications": 0, "pruned": 0}
        call_command("send_digests")
    assert len(mailoutbox) == 3


def test_sent_digest_rows_are_deleted_after_thirty_days(w):
    old = factories.PendingNotificationFactory(
        user=w.member_x, sent_at=timezone.now() - datetime.timedelta(days=31)
    )
    recent = factories.PendingNotificationFactory(
        user=w.member_x, sent_at=timezone.now() - datetime.timedelta(days=2)
    )
    assert send_digests()["pruned"] == 1
    assert list(PendingNotification.objects.all()) == [recent]
    assert not PendingNotification.objects.filter(pk=old.pk).exists()


def test_an_inactive_user_gets_no_digest(w, mailoutbox, django_capture_on_commit_callbacks):
    factories.PendingNotificationFactory(user=w.member_x)
    w.member_x.is_active = False
    w.member_x.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert send_digests()["users"] == 0
    assert mailoutbox == [] and not PendingNotification.objects.filter(sent_at__isnull=True).exists()


# --- The preference on the profile ------------------------------------------------------------------


def test_each_user_chooses_immediate_or_daily_on_the_profile(client, w):
    url = reverse("account:notification_mode")
    client.force_login(w.reporter_a)
    profile = client.get(reverse("account:profile")).content.decode()
    assert url in profile and "En daglig sammanfattning" in profile
    response = client.post(url, {"notification_mode": "daily"})
    assert response.status_code == 302 and response["Location"] == reverse("account:profile")
    w.reporter_a.refresh_from_db()
    assert w.reporter_a.notification_mode == DAILY
    response = client.post(url, {"notification_mode": "hourly"}, follow=True)
    assert "Välj hur du vill få e-post" in response.content.decode()
    w.reporter_a.refresh_from_db()
    assert w.reporter_a.notification_mode == DAILY
    assert client.get(url).status_code == 405
    client.logout()
    assert client.post(url, {"notification_mode": "immediate"}).status_code == 302
    w.reporter_a.refresh_from_db()
    assert w.reporter_a.notification_mode == DAILY
