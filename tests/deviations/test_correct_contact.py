"""A reporter's contact details corrected on request (a mistyped address): who may, what is checked,
what the log says (which fields, never the old or new values), and the page that does it."""

import json

import pytest
from django.core import signing
from django.urls import reverse

from config.errors import Conflict, Invalid, NotAllowed
from deviations import notifications, tokens
from deviations.models import DeviationEvent
from deviations.services.contacts import correct_contact_details, erase_contact_details
from deviations.workflow import Status
from tests import factories
from tests.deviations.test_erase_contact import CONTACT, held
from tests.deviations.triage_world import build_world, fast_passwords  # noqa: F401

pytestmark = pytest.mark.django_db

NEW_ADDRESS = "greta.ny@example.se"


@pytest.fixture
def w(db):
    world = build_world()
    world.dev_x.status = Status.TRIAGE
    world.dev_x.reporter = None  # filed without an account: mail goes to the address on the report
    for name, value in CONTACT.items():
        setattr(world.dev_x, name, value)
    world.dev_x.save()
    return world


def correct_url(deviation):
    return reverse("deviations:correct_contact", args=[deviation.reference])


def detail_url(deviation):
    return reverse("deviations:detail", args=[deviation.reference])


@pytest.mark.parametrize("username", ["coord_x", "regional"])
def test_coordinators_correct_the_address_and_later_mail_goes_there(w, username):
    actor = getattr(w, username)
    event = correct_contact_details(
        deviation=w.dev_x,
        actor=actor,
        reason="Felskriven adress.",
        **{**CONTACT, "reporter_email": NEW_ADDRESS},
    )

    assert held(w.dev_x) == {**CONTACT, "reporter_email": NEW_ADDRESS}
    assert notifications.reporter_address(w.dev_x) == NEW_ADDRESS
    assert (event.kind, event.action, event.actor, event.text) == (
        DeviationEvent.Kind.CORRECTION,
        "correct_contact",
        actor,
        "Felskriven adress.",
    )
    assert event.details == {
        "fields": [{"object": "deviation", "id": w.dev_x.pk, "field": "reporter_email"}],
        "status_link": "renewed",
    }
    assert event.action_label == "Kontaktuppgifter rättade"
    assert event.redacted_field_labels == ["Rapport: Rapportörens e-post"]
    logged = json.dumps(event.details) + event.text
    assert "greta" not in logged.lower() and "gnuggelberg" not in logged.lower()
    assert w.dev_x.contact_erased_at is None


def test_a_new_address_replaces_the_status_link_and_mails_the_new_one(w, django_capture_on_commit_callbacks):
    old_link = tokens.status_token(w.dev_x)
    with django_capture_on_commit_callbacks() as queued:
        event = correct_contact_details(
            deviation=w.dev_x, actor=w.coord_x, reason="Felskriven adress.", reporter_email=NEW_ADDRESS
        )
    w.dev_x.refresh_from_db()
    assert w.dev_x.status_link_version == 1
    assert tokens.status_token(w.dev_x) != old_link
    assert event.details["status_link"] == "renewed"
    assert len(queued) == 1

    # Another correction of the name only keeps the link and mails nothing.
    with django_capture_on_commit_callbacks() as queued:
        event = correct_contact_details(
            deviation=w.dev_x, actor=w.coord_x, reason="Stavfel.", reporter_name="Greta G"
        )
    w.dev_x.refresh_from_db()
    assert w.dev_x.status_link_version == 1
    assert "status_link" not in event.details
    assert queued == []


def test_a_removed_address_revokes_the_link_and_mails_nothing(client, w, django_capture_on_commit_callbacks):
    client.force_login(w.coord_x)
    data = {f"rattelse-{name}": value for name, value in CONTACT.items()}
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = client.post(
            correct_url(w.dev_x), {**data, "rattelse-reporter_email": "", "rattelse-reason": "Fel adress."}
        )
    assert response.status_code == 302
    assert queued == []  # no address (and no account) to send a new link to
    w.dev_x.refresh_from_db()
    assert w.dev_x.status_link_version == 1
    assert w.dev_x.events.get().details["status_link"] == "revoked"
    html = client.get(detail_url(w.dev_x)).content.decode()
    assert "det finns ingen adress att skicka en ny till" in html


def test_the_status_link_of_a_report_whose_address_was_never_corrected_is_the_one_already_sent(w):
    """Links sent before versions existed (and every report's first link) are the signed key alone."""
    old_style = signing.Signer(salt=tokens.STATUS_SALT).sign(str(w.dev_x.idempotency_key))
    assert tokens.status_token(w.dev_x) == old_style
    assert tokens.read_status_token(old_style) == (w.dev_x.idempotency_key, 0)
    forged = signing.Signer(salt=tokens.STATUS_SALT).sign(f"{w.dev_x.idempotency_key}.1x")
    with pytest.raises(tokens.InvalidToken):
        tokens.read_status_token(forged)


def test_the_old_link_shows_nothing_and_the_new_one_the_report(client, w):
    old_link = reverse("deviations:status", args=[tokens.status_token(w.dev_x)])
    assert client.get(old_link).status_code == 200
    correct_contact_details(
        deviation=w.dev_x, actor=w.coord_x, reason="Felskriven.", reporter_email=NEW_ADDRESS
    )
    w.dev_x.refresh_from_db()
    response = client.get(old_link)
    assert response.status_code == 404 and w.dev_x.reference not in response.content.decode()
    assert "en ny länk skickats till den rättade adressen" in response.content.decode()
    new_link = reverse("deviations:status", args=[tokens.status_token(w.dev_x)])
    response = client.get(new_link)
    assert response.status_code == 200 and w.dev_x.reference in response.content.decode()


def test_an_emptied_detail_is_removed_but_not_all_of_them(w):
    correct_contact_details(
        deviation=w.dev_x, actor=w.coord_x, reason="Inget telefonnummer.", reporter_phone=""
    )
    assert held(w.dev_x) == {**CONTACT, "reporter_phone": ""}
    with pytest.raises(Invalid) as refused:
        correct_contact_details(
            deviation=w.dev_x, actor=w.coord_x, reason="Allt bort.", reporter_name="", reporter_email=""
        )
    assert "Radera kontaktuppgifterna" in refused.value.errors["__all__"]
    assert held(w.dev_x) == {**CONTACT, "reporter_phone": ""}


@pytest.mark.parametrize("username", ["member_x", "coord_y", "reporter_a", "responder"])
def test_members_reporters_other_councils_and_counterparts_may_not(w, username):
    with pytest.raises(NotAllowed):
        correct_contact_details(
            deviation=w.dev_x, actor=getattr(w, username), reason="Ny.", reporter_email=NEW_ADDRESS
        )
    assert held(w.dev_x) == CONTACT
    assert not w.dev_x.events.exists()


def test_erased_details_are_not_brought_back(w):
    erase_contact_details(deviation=w.dev_x, actor=w.coord_x, reason="Begäran.")
    with pytest.raises(Conflict):
        correct_contact_details(deviation=w.dev_x, actor=w.coord_x, reason="Ny.", reporter_email=NEW_ADDRESS)
    assert held(w.dev_x) == dict.fromkeys(CONTACT, "")


@pytest.mark.parametrize(
    "values, reason, field, message",
    [
        ({"reporter_email": "inte en adress"}, "Ny adress.", "reporter_email", "giltig e-postadress"),
        ({"reporter_phone": "811218-9876"}, "Nytt nummer.", "reporter_phone", "personnummer"),
        ({"reporter_name": "x" * 151}, "Långt namn.", "reporter_name", "150 tecken"),
        (dict(CONTACT), "Samma som förut.", "__all__", "Ändra minst en av uppgifterna."),
        ({"reporter_email": NEW_ADDRESS}, "", "reason", "Skriv varför kontaktuppgifterna rättas."),
        ({"reporter_email": NEW_ADDRESS}, f"Ny: {NEW_ADDRESS.upper()}", "reason", "får inte innehålla"),
        (
            {"reporter_email": NEW_ADDRESS},
            "Gammal: greta.gnuggelberg@example.se",
            "reason",
            "får inte innehålla",
        ),
    ],
)
def test_bad_input_is_refused_on_its_field_and_changes_nothing(w, values, reason, field, message):
    with pytest.raises(Invalid) as refused:
        correct_contact_details(deviation=w.dev_x, actor=w.coord_x, reason=reason, **values)
    assert message in refused.value.errors[field]
    assert held(w.dev_x) == CONTACT
    assert not w.dev_x.events.exists()


def test_only_contact_details_are_corrected_here(w):
    with pytest.raises(Invalid):
        correct_contact_details(deviation=w.dev_x, actor=w.coord_x, reason="Ny.", description="Annan text.")


# --- The pages ------------------------------------------------------------------------------------


def test_the_report_page_links_it_for_those_who_may_until_the_details_are_erased(client, w):
    for user, offered in ((w.coord_x, True), (w.regional, True), (w.member_x, False)):
        client.force_login(user)
        html = client.get(detail_url(w.dev_x)).content.decode()
        assert (correct_url(w.dev_x) in html) is offered, user
    erase_contact_details(deviation=w.dev_x, actor=w.coord_x, reason="Begäran.")
    client.force_login(w.coord_x)
    assert correct_url(w.dev_x) not in client.get(detail_url(w.dev_x)).content.decode()
    response = client.get(correct_url(w.dev_x))
    assert response.status_code == 302 and response["Location"] == detail_url(w.dev_x)


def test_the_page_shows_the_details_and_saves_the_correction(client, w):
    client.force_login(w.coord_x)
    html = client.get(correct_url(w.dev_x)).content.decode()
    assert 'value="greta.gnuggelberg@example.se"' in html
    data = {f"rattelse-{name}": value for name, value in CONTACT.items()}
    response = client.post(
        correct_url(w.dev_x),
        {**data, "rattelse-reporter_email": NEW_ADDRESS, "rattelse-reason": "Felskriven."},
    )
    assert response.status_code == 302
    assert response["Location"] == detail_url(w.dev_x) + "#handelser"
    assert held(w.dev_x)["reporter_email"] == NEW_ADDRESS
    html = client.get(detail_url(w.dev_x)).content.decode()
    assert "Kontaktuppgifter rättade" in html and "Rättade uppgifter" in html
    assert "En ny länk till rapportens status har skickats till rapportören" in html
    assert "Ny länk skickad till rapportören" in html  # the event says so too


def test_the_page_shows_refusals_on_their_fields(client, w):
    client.force_login(w.coord_x)
    data = {f"rattelse-{name}": value for name, value in CONTACT.items()}
    for changes, text in (
        ({"rattelse-reporter_email": "inte en adress", "rattelse-reason": "Ny."}, "giltig e-postadress"),
        ({"rattelse-reason": "Ingen ändring."}, "Ändra minst en av uppgifterna."),
        ({"rattelse-reporter_email": NEW_ADDRESS, "rattelse-reason": NEW_ADDRESS}, "får inte innehålla"),
    ):
        response = client.post(correct_url(w.dev_x), {**data, **changes})
        assert response.status_code == 200
        assert text in response.content.decode()
    assert held(w.dev_x) == CONTACT


@pytest.mark.parametrize("username", ["member_x", "coord_y", "reporter_a"])
def test_the_page_is_404_for_everyone_else(client, w, username):
    client.force_login(getattr(w, username))
    assert client.get(correct_url(w.dev_x)).status_code == 404
    data = {"rattelse-reporter_email": NEW_ADDRESS, "rattelse-reason": "Ny."}
    assert client.post(correct_url(w.dev_x), data).status_code == 404
    assert held(w.dev_x) == CONTACT


def test_unconfirmed_reports_are_not_for_anyone_yet(w):
    draft = factories.DeviationFactory(status=Status.UNCONFIRMED, council=w.council_x, **CONTACT)
    with pytest.raises(NotAllowed):
        correct_contact_details(deviation=draft, actor=w.coord_x, reason="Ny.", reporter_email=NEW_ADDRESS)
