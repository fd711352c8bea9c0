"""A reporter's contact details erased on request, before their retention: who may, what is gone, what the
log says (which fields, never their values), and the page that does it."""

import json
import logging
from io import StringIO

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.urls import reverse

from config.errors import Conflict, Invalid, NotAllowed
from deviations.models import DeviationEvent
from deviations.services.contacts import erase_contact_details
from deviations.workflow import Status
from tests import factories
from tests.deviations.test_redaction import rows_mentioning
from tests.deviations.triage_world import build_world, fast_passwords  # noqa: F401

pytestmark = pytest.mark.django_db

CONTACT = {
    "reporter_name": "Greta Gnuggelberg",
    "reporter_email": "greta.gnuggelberg@example.se",
    "reporter_phone": "070-555 12 34",
}


@pytest.fixture
def w(db):
    world = build_world()
    world.dev_x.status = Status.TRIAGE
    for name, value in CONTACT.items():
        setattr(world.dev_x, name, value)
    world.dev_x.save()
    return world


def held(report) -> dict:
    report.refresh_from_db()
    return {name: getattr(report, name) for name in CONTACT}


def erase_url(deviation):
    return reverse("deviations:erase_contact", args=[deviation.reference])


def detail_url(deviation):
    return reverse("deviations:detail", args=[deviation.reference])


# --- The service ----------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["coord_x", "regional"])
def test_coordinators_of_the_council_and_regional_coordinators_may_erase(w, username):
    actor = getattr(w, username)
    event = erase_contact_details(deviation=w.dev_x, actor=actor, reason="Rapportören begärde radering.")

    assert held(w.dev_x) == dict.fromkeys(CONTACT, "")
    assert w.dev_x.contact_erased_at == event.created_at
    assert (event.kind, event.action, event.actor, event.text) == (
        DeviationEvent.Kind.REDACTION,
        "erase_contact",
        actor,
        "Rapportören begärde radering.",
    )
    assert event.details == {
        "fields": [{"object": "deviation", "id": w.dev_x.pk, "field": name} for name in CONTACT]
    }
    assert event.action_label == "Kontaktuppgifter raderade"
    assert event.redacted_field_labels == [
        "Rapport: Rapportörens namn",
        "Rapport: Rapportörens e-post",
        "Rapport: Rapportörens telefon",
    ]


def test_no_table_keeps_the_details_and_the_event_names_only_the_fields_that_held_one(w):
    w.dev_x.reporter_phone = ""
    w.dev_x.save()
    assert set(rows_mentioning("gnuggelberg")) == {"deviations_deviation"}

    event = erase_contact_details(deviation=w.dev_x, actor=w.coord_x, reason="Begäran om radering.")

    assert rows_mentioning("gnuggelberg") == {}
    assert [item["field"] for item in event.details["fields"]] == ["reporter_name", "reporter_email"]
    assert "gnuggelberg" not in json.dumps(event.details).lower()


@pytest.mark.parametrize("username", ["member_x", "coord_y", "reporter_a", "responder", "superuser"])
def test_members_reporters_other_councils_counterparts_and_superusers_may_not(w, username):
    user = (
        factories.UserFactory(username="admin", is_staff=True, is_superuser=True)
        if username == "superuser"
        else getattr(w, username)
    )
    with pytest.raises(NotAllowed):
        erase_contact_details(deviation=w.dev_x, actor=user, reason="Begäran.")
    assert held(w.dev_x) == CONTACT
    assert w.dev_x.contact_erased_at is None
    assert not w.dev_x.events.exists()


def test_an_unconfirmed_report_is_not_for_anyone_yet(w):
    draft = factories.DeviationFactory(status=Status.UNCONFIRMED, council=w.council_x, **CONTACT)
    with pytest.raises(NotAllowed):
        erase_contact_details(deviation=draft, actor=w.coord_x, reason="Begäran.")
    assert held(draft) == CONTACT


@pytest.mark.parametrize(
    "reason, message",
    [
        ("", "Skriv varför kontaktuppgifterna raderas."),
        ("   ", "Skriv varför kontaktuppgifterna raderas."),
        ("Begäran från GRETA.gnuggelberg@example.se", "Skälet får inte innehålla kontaktuppgifterna."),
        ("Greta Gnuggelberg ringde", "Skälet får inte innehålla kontaktuppgifterna."),
        ("Hon ringde från 070-555 12 34", "Skälet får inte innehålla kontaktuppgifterna."),
        ("Personnummer 811218-9876 angavs", "personnummer"),
    ],
)
def test_a_missing_reason_or_one_that_repeats_a_detail_or_a_number_changes_nothing(w, reason, message):
    with pytest.raises(Invalid) as refused:
        erase_contact_details(deviation=w.dev_x, actor=w.coord_x, reason=reason)
    assert set(refused.value.errors) == {"reason"}
    assert message in refused.value.errors["reason"]
    assert held(w.dev_x) == CONTACT
    assert not w.dev_x.events.exists()


def test_nothing_left_to_erase_is_a_conflict_and_writes_no_second_event(w):
    erase_contact_details(deviation=w.dev_x, actor=w.coord_x, reason="Begäran.")
    with pytest.raises(Conflict):
        erase_contact_details(deviation=w.dev_x, actor=w.regional, reason="Begäran igen.")
    assert w.dev_x.events.count() == 1


# --- The pages ------------------------------------------------------------------------------------


def test_the_report_page_offers_it_to_those_who_may_while_there_is_something_to_erase(client, w):
    for user, offered in ((w.coord_x, True), (w.regional, True), (w.member_x, False), (w.reporter_a, False)):
        client.force_login(user)
        html = client.get(detail_url(w.dev_x)).content.decode()
        assert (erase_url(w.dev_x) in html) is offered, user
    client.force_login(w.coord_x)
    html = client.get(detail_url(w.dev_x)).content.decode()
    # Its reason field does not clash with the redaction form's on the same page.
    assert html.count('id="id_reason"') == 1 and 'id="id_kontakt-reason"' in html

    erase_contact_details(deviation=w.dev_x, actor=w.coord_x, reason="Begäran.")
    html = client.get(detail_url(w.dev_x)).content.decode()
    assert erase_url(w.dev_x) not in html
    assert "Kontaktuppgifterna är raderade." in html


def test_the_page_erases_them_and_the_log_says_which_never_what(client, w):
    client.force_login(w.coord_x)
    assert client.get(erase_url(w.dev_x)).status_code == 200

    response = client.post(erase_url(w.dev_x), {"kontakt-reason": "Rapportören begärde radering."})

    assert response.status_code == 302
    assert response["Location"] == detail_url(w.dev_x) + "#handelser"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Rapportörens kontaktuppgifter är raderade."
    ]
    assert held(w.dev_x) == dict.fromkeys(CONTACT, "")
    html = client.get(detail_url(w.dev_x)).content.decode()
    assert "Kontaktuppgifter raderade" in html
    assert "Raderade uppgifter" in html and "Rapport: Rapportörens e-post" in html
    assert "gnuggelberg" not in html.lower()


def test_the_page_shows_a_refused_reason_on_its_field_and_keeps_the_details(client, w):
    client.force_login(w.coord_x)
    response = client.post(erase_url(w.dev_x), {"kontakt-reason": "Mejl från greta.gnuggelberg@example.se"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Skälet får inte innehålla kontaktuppgifterna." in html
    assert 'aria-invalid="true"' in html
    assert held(w.dev_x) == CONTACT
    response = client.post(erase_url(w.dev_x), {"kontakt-reason": ""})
    assert response.status_code == 200
    assert held(w.dev_x) == CONTACT


def test_the_page_says_so_when_there_is_nothing_left_to_erase(client, w):
    erase_contact_details(deviation=w.dev_x, actor=w.coord_x, reason="Begäran.")
    client.force_login(w.regional)
    for response in (
        client.get(erase_url(w.dev_x)),
        client.post(erase_url(w.dev_x), {"kontakt-reason": "Begäran igen."}),
    ):
        assert response.status_code == 302
        assert response["Location"] == detail_url(w.dev_x)
    assert w.dev_x.events.count() == 1


@pytest.mark.parametrize("username", ["member_x", "coord_y", "reporter_a"])
def test_the_page_is_404_for_everyone_else(client, w, username):
    client.force_login(getattr(w, username))
    assert client.get(erase_url(w.dev_x)).status_code == 404
    assert client.post(erase_url(w.dev_x), {"kontakt-reason": "Begäran."}).status_code == 404
    assert held(w.dev_x) == CONTACT


def test_signed_out_visitors_are_sent_to_sign_in(client, w):
    response = client.post(erase_url(w.dev_x), {"kontakt-reason": "Begäran."})
    assert response.status_code == 302
    assert "/konto/logga-in/" in response["Location"]
    assert held(w.dev_x) == CONTACT


# --- An erasure request for every report of one reporter (the data protection officer) -------------


def run_erasure(*args) -> str:
    out = StringIO()
    call_command("erase_reporter_contacts", *args, stdout=out)
    return out.getvalue().strip()


def test_the_command_erases_every_report_of_the_address_or_its_account_and_nothing_else(w, caplog):
    other_council = factories.DeviationFactory(council=w.council_y, status=Status.CLOSED, **CONTACT)
    capitals = factories.DeviationFactory(
        status=Status.UNCONFIRMED, reporter_name="", reporter_email=CONTACT["reporter_email"].upper()
    )
    account = factories.UserFactory(email=CONTACT["reporter_email"])
    by_account = factories.DeviationFactory(reporter=account, reporter_email="", reporter_name="Greta G.")
    someone_else = factories.DeviationFactory(**{**CONTACT, "reporter_email": "annan@example.se"})
    caplog.set_level(logging.INFO)

    out = run_erasure(
        "--email", "Greta.Gnuggelberg@example.se", "--reason", "Begäran om radering, dnr 2026/12."
    )

    assert out == "erased=4"
    for report in (w.dev_x, other_council, capitals, by_account):
        assert held(report) == dict.fromkeys(CONTACT, ""), report
        assert report.contact_erased_at is not None
        (event,) = report.events.filter(action="erase_contact")
        assert (event.actor_id, event.actor_label, event.text) == (
            None,
            "system",
            "Begäran om radering, dnr 2026/12.",
        )
    assert held(someone_else) == {**CONTACT, "reporter_email": "annan@example.se"}
    assert [f["field"] for f in by_account.events.get().details["fields"]] == ["reporter_name"]
    assert "gnuggelberg" not in (out + caplog.text).lower()
    assert run_erasure("--email", CONTACT["reporter_email"], "--reason", "Igen.") == "erased=0"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--email", CONTACT["reporter_email"]], "Skriv varför kontaktuppgifterna raderas."),
        (
            ["--email", CONTACT["reporter_email"], "--reason", "Mejl från GRETA.gnuggelberg@example.se"],
            "får inte",
        ),
        (["--email", CONTACT["reporter_email"], "--reason", "Hon ringde från 070-555 12 34"], "får inte"),
        (["--email", "inte en adress", "--reason", "Begäran."], "Not an e-mail address."),
        (["--reason", "Begäran."], "--reason goes with --email."),
        (["--email", CONTACT["reporter_email"], "--reason", "Begäran.", "--months", "3"], "does not go with"),
    ],
)
def test_the_command_refuses_a_request_it_cannot_record_and_erases_nothing(w, args, message):
    with pytest.raises(CommandError, match=message):
        run_erasure(*args)
    assert held(w.dev_x) == CONTACT
    assert not w.dev_x.events.exists()
