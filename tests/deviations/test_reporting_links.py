"""Signed links: the one-time confirmation link and the private status link; and "Mina rapporter"."""

import time
import uuid
from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from deviations import tokens
from deviations.models import Deviation, DeviationEvent
from deviations.services import reporting
from deviations.services.contacts import correct_contact_details
from deviations.workflow import Status
from tests import factories
from tests.deviations.reporting_world import build_world, service_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    return build_world()


@pytest.fixture
def unconfirmed(w):
    return reporting.submit_deviation(data=service_data(w), idempotency_key=uuid.uuid4())[0]


def confirm_url(deviation, prefix=""):
    with translation.override("sv"):
        return prefix + reverse("deviations:confirm", args=[tokens.confirmation_token(deviation)])


def status_url(deviation, prefix=""):
    with translation.override("sv"):
        return prefix + reverse("deviations:status", args=[tokens.status_token(deviation)])


# --- Confirmation --------------------------------------------------------------------------------


def test_confirmation_link_from_the_e_mail_works(client, w, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reporting.submit_deviation(data=service_data(w), idempotency_key=uuid.uuid4())
    link = next(line for line in mail.outbox[0].body.splitlines() if "/rapportera/bekrafta/" in line)
    path = link.strip().removeprefix("http://testserver")
    response = client.get(path)
    assert response.status_code == 200
    assert Deviation.objects.get().status == Status.UNCONFIRMED  # a GET (mail scanner) changes nothing
    response = client.post(path)
    assert response.status_code == 302
    deviation = Deviation.objects.get()
    assert deviation.status == Status.SUBMITTED
    assert response["Location"] == status_url(deviation)


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_confirming_routes_sends_receipt_and_shows_status(
    client, unconfirmed, w, prefix, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(confirm_url(unconfirmed, prefix), follow=True)
    assert response.status_code == 200
    deviation = Deviation.objects.get()
    assert deviation.status == Status.SUBMITTED
    assert deviation.council == w.nacka_council
    assert deviation.reference in response.content.decode()
    event = deviation.events.get()
    assert event.actor is None and event.actor_label
    assert "rapportor@nacka.se" not in event.actor_label  # no contact data kept in the log
    assert sorted(a for m in mail.outbox for a in m.to) == ["rapportor@nacka.se", "samordnare@nacka.se"]
    receipt = next(m for m in mail.outbox if m.to == ["rapportor@nacka.se"])
    assert f"http://testserver{status_url(deviation, prefix)}" in receipt.body


def test_reused_confirmation_link_says_already_confirmed(client, unconfirmed):
    url = confirm_url(unconfirmed)
    client.post(url)
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 200
        assert "redan bekräftad" in response.content.decode()
        assert status_url(Deviation.objects.get()) in response.content.decode()
    assert DeviationEvent.objects.count() == 1


def test_expired_confirmation_link_is_refused_clearly(client, unconfirmed, settings):
    issued = time.time() - (settings.CONFIRMATION_MAX_AGE_HOURS * 3600 + 60)
    with mock.patch("django.core.signing.time.time", return_value=issued):
        url = confirm_url(unconfirmed)
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 400
        assert "Länken har gått ut" in response.content.decode()
    assert Deviation.objects.get().status == Status.UNCONFIRMED


def test_link_just_within_the_limit_still_works(client, unconfirmed, settings):
    issued = time.time() - (settings.CONFIRMATION_MAX_AGE_HOURS * 3600 - 60)
    with mock.patch("django.core.signing.time.time", return_value=issued):
        url = confirm_url(unconfirmed)
    assert client.post(url).status_code == 302


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # altered signature
        lambda t: "x" + t,  # altered payload
        lambda t: "inte-en-token",
        lambda t: tokens.status_token(Deviation.objects.get()),  # a status link is not a confirmation
    ],
)
def test_tampered_confirmation_link_is_404(client, unconfirmed, mangle):
    token = mangle(tokens.confirmation_token(unconfirmed))
    response = client.post(reverse("deviations:confirm", args=[token]))
    assert response.status_code == 404
    assert "Länken fungerar inte" in response.content.decode()
    assert Deviation.objects.get().status == Status.UNCONFIRMED


def test_confirmation_link_of_a_purged_report_is_404(client, unconfirmed):
    url = confirm_url(unconfirmed)
    Deviation.objects.all().delete()
    assert client.get(url).status_code == 404


# --- Status page ---------------------------------------------------------------------------------


@pytest.fixture
def handled(w):
    """A confirmed report with an internal note and feedback visible to the reporter."""
    deviation = factories.DeviationFactory(
        status=Status.CLOSED, agreement=w.psyk, category=w.category, council=w.nacka_council
    )
    factories.DeviationEventFactory(deviation=deviation, text="Intern anteckning om motparten")
    factories.DeviationEventFactory(
        deviation=deviation,
        kind=DeviationEvent.Kind.TRANSITION,
        action="close",
        to_status=Status.CLOSED,
        text="Återkoppling: rutinen är nu ändrad.",
        visibility=DeviationEvent.Visibility.REPORTER,
    )
    return deviation


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_status_page_shows_only_reporter_visible_data(client, handled, prefix, django_assert_max_num_queries):
    other = factories.DeviationFactory(reporter_email="annan@nacka.se")
    factories.DeviationEventFactory(
        deviation=other, text="Annan rapports återkoppling", visibility=DeviationEvent.Visibility.REPORTER
    )
    with django_assert_max_num_queries(4):
        response = client.get(status_url(handled, prefix))
    assert response.status_code == 200
    content = response.content.decode()
    assert handled.reference in content
    assert str(handled.agreement) in content and str(handled.category) in content
    assert "Återkoppling: rutinen är nu ändrad." in content
    for hidden in (
        "Intern anteckning",
        handled.description,
        handled.consequence,
        handled.reporter_email,
        handled.reporter_name,
        other.reference,
        "Annan rapports",
    ):
        assert hidden not in content
    assert response["Cache-Control"].startswith("max-age=0")


def test_tampered_status_link_is_404(client, handled):
    token = tokens.status_token(handled)
    for bad in (token[:-2] + "zz", token.replace(str(handled.idempotency_key)[:8], "00000000"), "x"):
        assert client.get(reverse("deviations:status", args=[bad])).status_code == 404


def test_confirmation_token_is_not_a_status_link(client, handled):
    token = tokens.confirmation_token(handled)
    assert client.get(reverse("deviations:status", args=[token])).status_code == 404


def test_status_link_of_an_unconfirmed_report_is_404(client, unconfirmed):
    assert client.get(status_url(unconfirmed)).status_code == 404


def test_status_link_does_not_expire(client, handled):
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 3 * 365 * 24 * 3600):
        url = status_url(handled)
    assert client.get(url).status_code == 200


def test_status_links_are_not_guessable(handled):
    token = tokens.status_token(handled)
    assert str(handled.pk) != token.split(":")[0]
    assert len(token.split(":")[-1]) >= 20


# --- Mina rapporter ------------------------------------------------------------------------------


def test_my_reports_requires_login(client, db):
    response = client.get(reverse("deviations:my_reports"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_my_reports_lists_only_own_confirmed_reports(client, w, prefix):
    user = factories.UserFactory()
    mine = factories.DeviationFactory(reporter=user, status=Status.TRIAGE)
    factories.DeviationFactory(reporter=user, status=Status.UNCONFIRMED, reference="U-1234")
    others = factories.DeviationFactory(reporter=factories.UserFactory())
    client.force_login(user)
    response = client.get(prefix + "/mina-rapporter/")
    assert response.status_code == 200
    assert [deviation for deviation, _link in response.context["rows"]] == [mine]
    content = response.content.decode()
    assert mine.reference in content and others.reference not in content
    assert status_url(mine) in content  # reporters follow their reports on the status page
    assert "U-1234" not in content


def test_my_reports_query_count_is_constant_and_paginated(client, django_assert_max_num_queries):
    user = factories.UserFactory()
    client.force_login(user)
    factories.DeviationFactory.create_batch(3, reporter=user)
    with django_assert_max_num_queries(8) as few:
        client.get("/mina-rapporter/")
    factories.DeviationFactory.create_batch(25, reporter=user)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/mina-rapporter/")
    assert len(response.context["rows"]) == 20
    assert client.get("/mina-rapporter/?page=2").context["rows"].__len__() == 8


def test_status_page_shows_the_reason_of_a_rejection(client, w):
    deviation = factories.DeviationFactory(status=Status.REJECTED, reject_reason="bus")
    content = client.get(status_url(deviation)).content.decode()
    assert "BUS-processen" in content


def test_old_link_of_an_already_confirmed_report_says_confirmed_not_expired(client, unconfirmed, settings):
    issued = time.time() - (settings.CONFIRMATION_MAX_AGE_HOURS * 3600 + 60)
    with mock.patch("django.core.signing.time.time", return_value=issued):
        url = confirm_url(unconfirmed)
    reporting.confirm_deviation(deviation=unconfirmed)
    response = client.get(url)
    assert response.status_code == 200
    assert "redan bekräftad" in response.content.decode()


# --- Expired links, a new link, and what the token pages tell browsers ---------------------------


def expired_confirm_url(deviation, settings):
    issued = time.time() - (settings.CONFIRMATION_MAX_AGE_HOURS * 3600 + 60)
    with mock.patch("django.core.signing.time.time", return_value=issued):
        return confirm_url(deviation)


def links_in(message, part: str) -> list[str]:
    lines = message.body.splitlines()
    return [line.strip().removeprefix("http://testserver") for line in lines if part in line]


def test_an_expired_link_of_a_confirmed_report_does_not_reveal_the_status_link(client, unconfirmed, settings):
    url = expired_confirm_url(unconfirmed, settings)
    reporting.confirm_deviation(deviation=unconfirmed)
    for method in (client.get, client.post):
        content = method(url).content.decode()
        assert "redan bekräftad" in content
        assert "/status/" not in content
        assert tokens.status_token(Deviation.objects.get()) not in content
    # A link still within its time may show it (it is as good as the receipt).
    assert "/status/" in client.get(confirm_url(unconfirmed)).content.decode()


def test_the_confirmation_link_does_not_reveal_the_status_link_once_the_address_was_corrected(
    client, w, unconfirmed
):
    """The confirmation went to the old (mistyped) address; the link that replaced the status link it
    was sent is for the corrected address alone."""
    url = confirm_url(unconfirmed)
    client.post(url)
    correct_contact_details(
        deviation=unconfirmed,
        actor=w.nacka_coordinator,
        reason="Felskriven adress.",
        reporter_email="ratt.adress@nacka.se",
    )
    for method in (client.get, client.post):
        content = method(url).content.decode()
        assert "redan bekräftad" in content
        assert "/status/" not in content
        assert tokens.status_token(Deviation.objects.get()) not in content


def test_an_expired_link_offers_a_new_one_sent_to_the_address_on_the_report(
    client, unconfirmed, settings, django_capture_on_commit_callbacks
):
    url = expired_confirm_url(unconfirmed, settings)
    page = client.get(url)
    assert page.status_code == 400
    resend = reverse("deviations:resend_confirmation", args=[url.rstrip("/").rsplit("/", 1)[-1]])
    assert f'action="{resend}"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(resend)
    assert response.status_code == 200
    content = response.content.decode()
    assert "En ny länk är skickad" in content and "rapportor@nacka.se" not in content
    (message,) = mail.outbox
    assert message.to == ["rapportor@nacka.se"]
    (new_link,) = links_in(message, "/rapportera/bekrafta/")
    assert client.post(new_link).status_code == 302
    assert Deviation.objects.get().status == Status.SUBMITTED
    # Once confirmed, the old link asks for nothing more and sends nothing.
    mail.outbox.clear()
    assert "redan bekräftad" in client.post(resend).content.decode()
    assert mail.outbox == []


def test_no_new_link_for_a_purged_report_or_a_forged_token(client, unconfirmed, settings):
    url = expired_confirm_url(unconfirmed, settings)
    token = url.rstrip("/").rsplit("/", 1)[-1]
    forged = reverse("deviations:resend_confirmation", args=[token[:-1] + ("A" if token[-1] != "A" else "B")])
    assert client.post(forged).status_code == 404
    Deviation.objects.all().delete()
    assert client.post(reverse("deviations:resend_confirmation", args=[token])).status_code == 404
    page = client.get(url).content.decode()
    assert "Till formuläret" in page and "Skicka en ny länk" not in page
    assert mail.outbox == []


def test_the_check_your_mail_page_sends_the_link_again(client, w, django_capture_on_commit_callbacks):
    from tests.deviations.reporting_world import valid_post

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("deviations:report_form"), valid_post(w))
    page = client.get(reverse("deviations:report_sent")).content.decode()
    assert "Skicka länken igen" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("deviations:report_sent"), follow=True)
    assert "Vi har skickat en ny länk" in response.content.decode()
    first, second = mail.outbox
    assert first.to == second.to == ["rapportor@Nacka.se"]
    assert links_in(second, "/rapportera/bekrafta/")
    # Nothing to send for a report already confirmed.
    reporting.confirm_deviation(deviation=Deviation.objects.get())
    mail.outbox.clear()
    client.post(reverse("deviations:report_sent"))
    assert mail.outbox == []


@pytest.mark.parametrize("page", ["confirm", "status", "respond", "respond_done"])
def test_token_pages_are_not_stored_and_never_send_their_address_as_referrer(client, w, page):
    deviation = factories.DeviationFactory(status=Status.UNCONFIRMED, reporter_email="a@nacka.se")
    if page == "confirm":
        url = confirm_url(deviation)
    elif page == "status":
        deviation.status = Status.SUBMITTED
        deviation.save()
        url = status_url(deviation)
    else:
        from deviations.response_tokens import make_token

        request = factories.ResponseRequestFactory()
        url = reverse(f"deviations:{page}", args=[make_token(request)])
    response = client.get(url)
    assert response.status_code in (200, 302)
    assert "no-store" in response["Cache-Control"]
    # The origin at most, never the path with the link; "no-referrer" would make browsers post the
    # page's forms with "Origin: null", which the CSRF check refuses (tests/browser journeys).
    assert response["Referrer-Policy"] == "strict-origin"
    # Other pages keep the site's policy.
    assert client.get(reverse("deviations:report_start"))["Referrer-Policy"] == "same-origin"
