"""Standard texts (ResponseTemplate): administrators maintain them; coordinators insert them into
requests for a response, feedback and rejection reasons, with or without JavaScript."""

import datetime

import pytest
from django.urls import reverse

from deviations.dates import stockholm_today
from deviations.models import ResponseRequest, ResponseTemplate
from deviations.workflow import Status
from tests import factories
from tests.deviations.triage_world import build_world, fast_passwords  # noqa: F401

pytestmark = pytest.mark.django_db
Purpose = ResponseTemplate.Purpose


@pytest.fixture
def w(db):
    world = build_world()
    world.dev_x.status = Status.TRIAGE
    world.dev_x.save()
    make = factories.ResponseTemplateFactory
    world.any_request = make(title="Allmän begäran", text_sv="Hur ser er rutin ut?", text_en="Your routine?")
    world.psyk_request = make(
        title="PSYK-begäran", agreement=world.agreement, text_sv="Gäller PSYK.", text_en=""
    )
    world.other_agreement = make(title="Annan överenskommelse", agreement=factories.AgreementFactory())
    world.other_category = make(title="Annan kategori", category=factories.DeviationCategoryFactory())
    world.inactive = make(title="Inaktiv", active=False)
    world.feedback = make(title="Tack", purpose=Purpose.FEEDBACK, text_sv="Tack för rapporten.")
    world.rejection = make(
        title="Inte en brist", purpose=Purpose.REJECTION, text_sv="Inte en samverkansbrist."
    )
    return world


def action_url(w, action):
    return reverse("deviations:transition", args=[w.dev_x.reference, action])


def offered(response) -> list[str]:
    form = response.context["form"]
    return (
        [label for value, label in form.fields["template"].choices if value]
        if "template" in form.fields
        else []
    )


def test_each_form_offers_the_texts_that_fit_the_report_and_its_purpose(client, w):
    client.force_login(w.coord_x)
    assert offered(client.get(action_url(w, "request_response"))) == [
        "Allmän begäran (svenska)",
        "Allmän begäran (engelska)",
        "PSYK-begäran (svenska)",
    ]
    assert offered(client.get(action_url(w, "close"))) == ["Tack (svenska)", "Tack (engelska)"]
    assert offered(client.get(action_url(w, "reject"))) == [
        "Inte en brist (svenska)",
        "Inte en brist (engelska)",
    ]
    # Other transitions have no standard texts (and no select).
    assert offered(client.get(action_url(w, "escalate"))) == []
    html = client.get(action_url(w, "close")).content.decode()
    assert 'data-text="Tack för rapporten."' in html and "js/response_templates.js" in html
    assert "js/response_templates.js" not in client.get(action_url(w, "escalate")).content.decode()


def test_without_javascript_the_button_inserts_the_text_and_keeps_the_input(client, w):
    client.force_login(w.coord_x)
    due = (stockholm_today() + datetime.timedelta(days=20)).isoformat()
    response = client.post(
        action_url(w, "request_response"),
        {
            "organizations": [w.org_psych.pk],
            "message": "Vi undrar över utskrivningen.",
            "due_on": due,
            "template": f"{w.any_request.pk}:en",
            "use_template": "1",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert not form.is_bound and not form.errors
    assert form.initial["message"] == "Vi undrar över utskrivningen.\n\nYour routine?"
    assert form.initial["due_on"] == due
    assert [str(pk) for pk in form.initial["organizations"]] == [str(w.org_psych.pk)]
    html = response.content.decode()
    assert "Your routine?" in html and "checked" in html
    # Nothing was applied.
    assert not ResponseRequest.objects.exists()
    w.dev_x.refresh_from_db()
    assert w.dev_x.status == Status.TRIAGE and not w.dev_x.events.exists()


def test_the_inserted_text_is_what_the_transition_then_records(client, w):
    client.force_login(w.coord_x)
    response = client.post(
        action_url(w, "close"), {"text": "", "template": f"{w.feedback.pk}:sv", "use_template": "1"}
    )
    text = response.context["form"].initial["text"]
    assert text == "Tack för rapporten."
    assert client.post(action_url(w, "close"), {"text": text}).status_code == 302
    w.dev_x.refresh_from_db()
    assert w.dev_x.status == Status.CLOSED
    assert w.dev_x.events.get(action="close").text == "Tack för rapporten."


@pytest.mark.parametrize(
    "template", ["", "nonsense", "999999:sv", "{other}:sv", "{inactive}:sv", "{feedback}:sv"]
)
def test_an_unknown_or_unfitting_template_inserts_nothing(client, w, template):
    """Only the offered texts can be inserted: others' ids, inactive ones and another purpose's are
    ignored, the form comes back as written."""
    template = template.format(other=w.other_agreement.pk, inactive=w.inactive.pk, feedback=w.feedback.pk)
    client.force_login(w.coord_x)
    response = client.post(
        action_url(w, "request_response"),
        {
            "organizations": [w.org_psych.pk],
            "message": "Egen text",
            "template": template,
            "use_template": "1",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].initial["message"] == "Egen text"
    assert not ResponseRequest.objects.exists()


def test_others_cannot_use_the_forms(client, w):
    # Another council's coordinator cannot see the report; its reporter sees it but may not close it
    # (back to the report with a message); neither gets the form or its standard texts.
    for user, status in ((w.coord_y, 404), (w.reporter_a, 302)):
        client.force_login(user)
        data = {"template": f"{w.feedback.pk}:sv", "use_template": "1"}
        assert client.post(action_url(w, "close"), data).status_code == status
        assert client.get(action_url(w, "close")).status_code == 404
    w.dev_x.refresh_from_db()
    assert w.dev_x.status == Status.TRIAGE


def test_transition_form_query_count_with_templates(client, w, django_assert_max_num_queries):
    client.force_login(w.coord_x)
    with django_assert_max_num_queries(12):
        assert client.get(action_url(w, "request_response")).status_code == 200


def test_admin_maintains_standard_texts(client, superuser):
    client.force_login(superuser)
    agreement = factories.AgreementFactory()
    response = client.post(
        reverse("admin:deviations_responsetemplate_add"),
        {
            "title": "Ny text",
            "purpose": "feedback",
            "agreement": agreement.pk,
            "category": "",
            "text_sv": "Svensk text",
            "text_en": "English text",
            "order": "1",
            "active": "on",
        },
    )
    assert response.status_code == 302
    template = ResponseTemplate.objects.get(title="Ny text")
    assert (template.agreement, template.text_en) == (agreement, "English text")
    assert client.get(reverse("admin:deviations_responsetemplate_changelist")).status_code == 200


def test_staff_who_are_not_superusers_cannot_edit_standard_texts(client, w):
    w.coord_x.is_staff = True
    w.coord_x.save()
    client.force_login(w.coord_x)
    assert client.get(reverse("admin:deviations_responsetemplate_changelist")).status_code == 403
