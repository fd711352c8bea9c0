"""Redaction after the fact: who may, the passage gone from every table, the event that records it
without the removed text, bad input, and the pages."""

import json

import pytest
from django.db import connection, models
from django.urls import reverse
from django.utils import timezone

from config.errors import Invalid, NotAllowed
from deviations import search, tokens
from deviations.models import REDACTABLE_FIELDS, Deviation, DeviationEvent, ResponseRequest
from deviations.selectors import EVERYWHERE, stored_texts
from deviations.services import notes, redaction
from deviations.services.transitions import apply_transition
from deviations.workflow import RejectReason, Status
from tests import factories
from tests.deviations.triage_world import build_world, fast_passwords  # noqa: F401

pytestmark = pytest.mark.django_db

NAME = "Kalle Zebrafinksson"


@pytest.fixture
def w(db):
    world = build_world()
    world.dev_x.status = Status.TRIAGE
    world.dev_x.description = f"{NAME} skrevs ut utan information.\nHans bror ringde."
    world.dev_x.save()
    return world


def rows_mentioning(word: str) -> dict[str, int]:
    """Rows of every table of the database whose text (all columns, the search document too) holds
    ``word``, case-insensitively."""
    found = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(include_views=False):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT count(*) FROM {quoted} t WHERE t::text ILIKE %s", [f"%{word}%"])  # noqa: S608
            (count,) = cursor.fetchone()
            if count:
                found[table] = count
    return found


def spread_the_name(w):
    """The name in the report, an internal note, the counterpart's answer and the closing feedback."""
    notes.add_note(deviation=w.dev_x, actor=w.coord_x, text=f"Ringde {NAME.upper()} i dag.")
    factories.ResponseRequestFactory(
        deviation=w.dev_x,
        organization=w.org_psych,
        requested_by=w.coord_x,
        answered_at=timezone.now(),
        answered_by_name="Enhetschef",
        answer_what_happened=f"Vi kände inte till att {NAME} skulle skrivas ut.",
    )
    apply_transition(deviation=w.dev_x, action="close", actor=w.coord_x, text=f"Tack. {NAME} har nu en SIP.")


# --- The fields ------------------------------------------------------------------------------------


def test_every_text_field_of_the_report_models_is_redactable():
    """A new free-text field on a report, an event or a response request must be added to
    ``models.REDACTABLE_FIELDS`` (or this test's list of contact fields, which retention erases)."""
    contact = {"reporter_name", "reporter_email", "reporter_phone", "email"}
    for kind, (model, _label, fields) in REDACTABLE_FIELDS.items():
        texts = {
            f.name
            for f in model._meta.get_fields()
            if isinstance(f, models.TextField) and f.name not in contact
        }
        assert texts <= set(fields), f"{kind}: {texts - set(fields)} cannot be redacted"
    assert {m for m, _l, _f in REDACTABLE_FIELDS.values()} == {Deviation, DeviationEvent, ResponseRequest}


# --- Who may ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["coord_x", "regional"])
def test_coordinators_of_the_council_and_regional_coordinators_may_redact(w, username):
    redaction.redact_passage(
        deviation=w.dev_x, actor=getattr(w, username), passage=NAME, reason="Namn på patienten."
    )
    w.dev_x.refresh_from_db()
    assert w.dev_x.description == "[borttaget] skrevs ut utan information.\nHans bror ringde."


@pytest.mark.parametrize("username", ["member_x", "coord_y", "reporter_a", "responder", "superuser"])
def test_members_reporters_other_councils_counterparts_and_superusers_may_not(w, username):
    factories.ResponseRequestFactory(deviation=w.dev_x, organization=w.org_psych, requested_by=w.coord_x)
    user = (
        factories.UserFactory(username="admin", is_staff=True, is_superuser=True)
        if username == "superuser"
        else getattr(w, username)
    )
    with pytest.raises(NotAllowed):
        redaction.redact_passage(deviation=w.dev_x, actor=user, passage=NAME, reason="Namn.")
    w.dev_x.refresh_from_db()
    assert NAME in w.dev_x.description
    assert not w.dev_x.events.filter(kind=DeviationEvent.Kind.REDACTION).exists()


def test_an_unconfirmed_report_cannot_be_redacted(w):
    draft = factories.DeviationFactory(status=Status.UNCONFIRMED, council=w.council_x, description=NAME)
    with pytest.raises(NotAllowed):
        redaction.redact_passage(deviation=draft, actor=w.coord_x, passage=NAME, reason="Namn.")


# --- Gone from the database -----------------------------------------------------------------------


def test_the_passage_is_gone_from_every_table_and_the_event_holds_no_removed_text(w):
    spread_the_name(w)
    assert {"deviations_deviation", "deviations_deviationevent", "deviations_responserequest"} <= set(
        rows_mentioning("zebrafink")
    )

    event = redaction.redact_passage(
        deviation=w.dev_x, actor=w.coord_x, passage=NAME, reason="Patientens namn.", target=EVERYWHERE
    )

    assert rows_mentioning("zebrafink") == {}
    assert (event.kind, event.action, event.actor, event.text) == (
        DeviationEvent.Kind.REDACTION,
        "redact",
        w.coord_x,
        "Patientens namn.",
    )
    assert "zebrafink" not in json.dumps(event.details).lower()
    assert event.details["occurrences"] == 4
    assert sorted((f["object"], f["field"]) for f in event.details["fields"]) == [
        ("deviation", "description"),
        ("event", "text"),
        ("event", "text"),
        ("response", "answer_what_happened"),
    ]
    w.dev_x.refresh_from_db()
    assert w.dev_x.description.startswith("[borttaget] skrevs ut")
    assert "Ringde [borttaget] i dag." in w.dev_x.events.values_list("text", flat=True)


def test_the_search_document_follows(w):
    visible = Deviation.objects.filter(pk=w.dev_x.pk)
    assert list(search.search(visible, "Zebrafinksson")) == [w.dev_x]
    redaction.redact_passage(deviation=w.dev_x, actor=w.coord_x, passage=NAME, reason="Namn.")
    assert list(search.search(visible, "Zebrafinksson")) == []
    assert list(search.search(visible, "bror")) == [w.dev_x]


def test_one_chosen_text_only(w):
    note = notes.add_note(deviation=w.dev_x, actor=w.coord_x, text=f"Samtal med {NAME}.")
    (stored,) = [t for t in stored_texts(w.dev_x) if t.kind == "event" and t.pk == note.pk]
    event = redaction.redact_passage(
        deviation=w.dev_x, actor=w.coord_x, passage=NAME, reason="Namn i anteckningen.", target=stored.key
    )
    assert event.details["fields"] == [{"object": "event", "id": note.pk, "field": "text"}]
    assert DeviationEvent.objects.get(pk=note.pk).text == "Samtal med [borttaget]."
    w.dev_x.refresh_from_db()
    assert NAME in w.dev_x.description


def test_the_passage_matches_across_line_breaks_and_letter_case(w):
    redaction.redact_passage(
        deviation=w.dev_x, actor=w.coord_x, passage="information. hans   BROR", reason="Anhörig."
    )
    w.dev_x.refresh_from_db()
    assert w.dev_x.description == f"{NAME} skrevs ut utan [borttaget] ringde."


def test_events_stay_immutable_but_for_redaction(w):
    note = notes.add_note(deviation=w.dev_x, actor=w.coord_x, text="Text")
    with pytest.raises(TypeError):
        DeviationEvent.objects.filter(pk=note.pk).update(text="Ändrad")
    with pytest.raises(TypeError):
        DeviationEvent.objects.redact(pk=note.pk, field="action", text="x")
    assert DeviationEvent.objects.get(pk=note.pk).text == "Text"


def test_a_report_rejected_for_personal_data_no_longer_shows_the_text(client, w):
    apply_transition(
        deviation=w.dev_x,
        action="reject",
        actor=w.coord_x,
        text="Rapporten innehåller ett namn.",
        reject_reason=RejectReason.PERSONAL_DATA,
    )
    redaction.redact_passage(deviation=w.dev_x, actor=w.coord_x, passage=NAME, reason="Namn på patienten.")

    client.force_login(w.coord_x)
    html = client.get(reverse("deviations:detail", args=[w.dev_x.reference])).content.decode()
    assert NAME not in html
    assert "[borttaget] skrevs ut" in html
    assert "Namn på patienten." in html and "Text maskerad" in html
    client.logout()
    w.dev_x.refresh_from_db()
    html = client.get(reverse("deviations:status", args=[tokens.status_token(w.dev_x)])).content.decode()
    assert NAME not in html
    assert "Namn på patienten." not in html  # the reason is internal


# --- Bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("passage", "reason", "target", "field"),
    [
        ("Olle Okänd", "Namn.", EVERYWHERE, "passage"),
        ("", "Namn.", EVERYWHERE, "passage"),
        (" .,- ", "Namn.", EVERYWHERE, "passage"),
        (NAME, "", EVERYWHERE, "reason"),
        (NAME, "   ", EVERYWHERE, "reason"),
        (NAME, f"Tog bort {NAME.lower()}.", EVERYWHERE, "reason"),
        (NAME, "Namn.", "event:999999:text", "target"),
        (NAME, "Namn.", "deviation:1:reporter_email", "target"),
    ],
    ids=[
        "not found",
        "empty passage",
        "punctuation only",
        "empty reason",
        "blank reason",
        "reason repeats the passage",
        "unknown event",
        "not a redactable field",
    ],
)
def test_bad_input_changes_nothing(w, passage, reason, target, field):
    before = Deviation.objects.filter(pk=w.dev_x.pk).values_list("description", "updated_at").get()
    with pytest.raises(Invalid) as refused:
        redaction.redact_passage(
            deviation=w.dev_x, actor=w.coord_x, passage=passage, reason=reason, target=target
        )
    assert field in refused.value.errors
    assert Deviation.objects.filter(pk=w.dev_x.pk).values_list("description", "updated_at").get() == before
    assert not w.dev_x.events.exists()


# --- Pages -----------------------------------------------------------------------------------------


def redact_url(deviation):
    return reverse("deviations:redact", args=[deviation.reference])


def test_detail_page_offers_redaction_to_coordinators_only(client, w):
    for user, offered in ((w.coord_x, True), (w.regional, True), (w.member_x, False), (w.reporter_a, False)):
        client.force_login(user)
        html = client.get(reverse("deviations:detail", args=[w.dev_x.reference])).content.decode()
        assert (redact_url(w.dev_x) in html) is offered, user


def test_redaction_page_lists_the_texts_and_removes_the_passage(client, w):
    note = notes.add_note(deviation=w.dev_x, actor=w.coord_x, text=f"Samtal med {NAME}.")
    client.force_login(w.coord_x)
    html = client.get(redact_url(w.dev_x)).content.decode()
    assert 'value="all"' in html
    assert f'value="event:{note.pk}:text"' in html
    assert 'value="deviation:' in html

    response = client.post(redact_url(w.dev_x), {"target": "all", "passage": NAME, "reason": "Namn."})
    assert response.status_code == 302
    assert response["Location"].endswith("#handelser")
    assert rows_mentioning("zebrafink") == {}


def test_redaction_page_shows_errors_on_the_fields(client, w):
    client.force_login(w.coord_x)
    response = client.post(redact_url(w.dev_x), {"target": "all", "passage": "Olle Okänd", "reason": "Namn."})
    assert response.status_code == 200
    assert "Texten finns inte i rapporten" in response.content.decode()
    response = client.post(redact_url(w.dev_x), {"target": "all", "passage": NAME, "reason": ""})
    assert response.status_code == 200
    w.dev_x.refresh_from_db()
    assert NAME in w.dev_x.description


@pytest.mark.parametrize("username", ["member_x", "coord_y", "reporter_a"])
def test_redaction_page_is_404_for_everyone_else(client, w, username):
    client.force_login(getattr(w, username))
    assert client.get(redact_url(w.dev_x)).status_code == 404
    response = client.post(redact_url(w.dev_x), {"target": "all", "passage": NAME, "reason": "Namn."})
    assert response.status_code == 404
    w.dev_x.refresh_from_db()
    assert NAME in w.dev_x.description
