"""The report form through the test client: rendering, each validation rule, the personal-data guard,
the name warning, the domain restriction and idempotent submits."""

import datetime
import logging
import re
import uuid
from html.parser import HTMLParser
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from deviations.forms import ReportForm
from deviations.models import Deviation
from deviations.services import reporting
from deviations.workflow import Status
from tests import factories
from tests.config.test_personal_data import written_numbers
from tests.deviations.reporting_world import build_world, valid_post

pytestmark = pytest.mark.django_db

FORM_URL = "/rapportera/formular/"


@pytest.fixture
def w(db):
    return build_world()


def post(client, w, **overrides):
    return client.post(FORM_URL, valid_post(w, **overrides))


def test_urls_are_swedish():
    assert reverse("deviations:report_start") == "/rapportera/"
    assert reverse("deviations:report_form") == FORM_URL
    assert reverse("deviations:my_reports") == "/mina-rapporter/"


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_start_page_explains_and_links_bus(client, settings, prefix, db):
    response = client.get(f"{prefix}/rapportera/")
    assert response.status_code == 200
    content = response.content.decode()
    assert settings.BUS_URL in content
    assert f"{prefix}/rapportera/formular/" in content


def test_home_and_nav_link_to_reporting(client, db):
    content = client.get("/").content.decode()
    assert 'href="/rapportera/"' in content
    user = factories.UserFactory()
    client.force_login(user)
    assert 'href="/mina-rapporter/"' in client.get("/").content.decode()


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_form_renders_grouped_choices_and_script(client, w, prefix, django_assert_max_num_queries):
    # The first page after the reference data changed: the version and its twelve lists
    # (test_query_budgets has the steady state's budget).
    with django_assert_max_num_queries(13):
        response = client.get(f"{prefix}{FORM_URL}")
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="idempotency_key"' in content
    assert f'data-group="{w.psyk.pk}"' in content  # commitments/categories grouped by agreement
    assert 'data-valid-to="2019-12-31"' in content  # agreement validity for the script
    assert "js/report_form.js" in content
    assert "<script>" not in content  # no inline scripts (CSP)
    assert 'name="names_checked"' not in content  # only shown when the name warning fires


def test_each_get_has_a_fresh_idempotency_key(client, w):
    first = client.get(FORM_URL).context["form"]["idempotency_key"].value()
    second = client.get(FORM_URL).context["form"]["idempotency_key"].value()
    assert first != second


def test_anonymous_submit_stores_unconfirmed_and_asks_to_check_mail(client, w):
    with_callbacks = client.post(FORM_URL, valid_post(w), follow=True)
    assert with_callbacks.redirect_chain[-1][0] == reverse("deviations:report_sent")
    deviation = Deviation.objects.get()
    assert deviation.status == Status.UNCONFIRMED
    assert deviation.reporter is None
    assert deviation.reporter_email == "rapportor@Nacka.se"
    assert "rapportor@Nacka.se" in with_callbacks.content.decode()


def test_double_submit_creates_one_report(client, w):
    first = post(client, w)
    second = post(client, w)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == reverse("deviations:report_sent")
    assert Deviation.objects.count() == 1


def test_someone_elses_idempotency_key_shows_nothing_of_their_report(client, w):
    post(client, w)
    other = client.__class__()
    response = other.post(FORM_URL, valid_post(w, reporter_email="annan@nacka.se"), follow=True)
    assert Deviation.objects.count() == 1
    assert "rapportor@Nacka.se" not in response.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"occurred_on": "future"}, "occurred_on"),
        ({"occurred_on": "not-a-date"}, "occurred_on"),
        ({"agreement": "old"}, "agreement"),
        ({"commitment": "old_commitment"}, "commitment"),
        ({"category": "old_category"}, "category"),
        ({"category": ""}, "category"),
        ({"municipality": "stockholm"}, "district"),
        ({"district": "spanga"}, "district"),
        ({"reporting_organization": "inactive"}, "reporting_organization"),
        ({"counterpart_organizations": "own"}, "counterpart_organizations"),
        ({"counterpart_organizations": ""}, "counterpart_organizations"),
        ({"description": ""}, "description"),
        ({"consequence": ""}, "consequence"),
        ({"sip_involved": "kanske"}, "sip_involved"),
        ({"discharge_involved": ""}, "discharge_involved"),
        ({"reporter_name": ""}, "reporter_name"),
        ({"reporter_email": "inte-en-adress"}, "reporter_email"),
        ({"reporter_email": "someone@gmail.com"}, "reporter_email"),
        ({"reporter_email": "someone@nedlagd.se"}, "reporter_email"),
        ({"idempotency_key": "inte-en-uuid"}, "idempotency_key"),
    ],
)
def test_each_rule_is_shown_next_to_its_field_and_in_the_summary(client, w, overrides, field):
    values = {
        "future": (timezone.localdate() + datetime.timedelta(days=1)).isoformat(),
        "old": w.old.pk,
        "old_commitment": w.old_commitment.pk,
        "old_category": w.old_category.pk,
        "stockholm": w.stockholm.pk,
        "spanga": w.spanga.pk,
        "inactive": w.inactive.pk,
        "own": [w.own.pk],
    }
    response = post(client, w, **{k: values.get(v, v) for k, v in overrides.items()})
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors
    content = response.content.decode()
    assert "error-summary" in content
    target = form[field].id_for_label or f"{form[field].auto_id}_0"  # radios: their first input
    assert f'href="#{target}"' in content
    assert f'id="{target}"' in content
    assert Deviation.objects.count() == 0
    # Nothing typed is lost.
    assert "Utskrivning från slutenvården skedde" in content or field == "description"


def test_agreement_valid_on_an_old_occurrence_date_is_accepted(client, w):
    response = post(
        client,
        w,
        occurred_on="2019-06-01",
        agreement=w.old.pk,
        commitment="",
        category=w.old_category.pk,
    )
    assert response.status_code == 302
    assert Deviation.objects.get().agreement == w.old


def test_stockholm_needs_a_district_of_its_own(client, w):
    assert post(client, w, municipality=w.stockholm.pk, district=w.spanga.pk).status_code == 302
    assert Deviation.objects.get().district == w.spanga


def test_errors_are_in_swedish_and_english(client, w):
    response = post(client, w, description="")
    assert "Detta fält måste fyllas i." in response.content.decode()
    response = client.post("/en" + FORM_URL, valid_post(w, description=""))
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


class GroupedInputs(HTMLParser):
    """For each radio or checkbox name: the ``aria-describedby`` ids of the fieldsets around it,
    whether every box is ``aria-invalid``, and the ids present in the page."""

    def __init__(self):
        super().__init__()
        self.fieldsets: list[str] = []
        self.described: dict[str, set[str]] = {}
        self.invalid: dict[str, set[bool]] = {}
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "fieldset":
            self.fieldsets.append(attrs.get("aria-describedby") or "")
        elif tag == "input" and attrs.get("type") in ("radio", "checkbox") and self.fieldsets:
            name = attrs["name"]
            self.described.setdefault(name, set()).update(" ".join(self.fieldsets).split())
            self.invalid.setdefault(name, set()).add(attrs.get("aria-invalid") == "true")

    def handle_endtag(self, tag):
        if tag == "fieldset":
            self.fieldsets.pop()


@pytest.mark.parametrize("name", ["sip_involved", "discharge_involved", "counterpart_organizations"])
def test_an_error_on_a_group_of_boxes_is_announced_with_the_group(client, w, name):
    """A screen reader entering the group hears its error (the fieldset's ``aria-describedby`` names
    the error's element), and every box says it is invalid (WCAG 3.3.1, 1.3.1)."""
    response = post(client, w, **{name: [] if name == "counterpart_organizations" else ""})
    assert response.status_code == 200
    assert response.context["form"].errors[name]
    page = GroupedInputs()
    page.feed(response.content.decode())
    assert f"id_{name}_error" in page.described[name]
    assert page.described[name] <= page.ids  # every id it names is on the page
    assert page.invalid[name] == {True}
    valid = post(client, w, description="")  # the group itself is fine
    page = GroupedInputs()
    page.feed(valid.content.decode())
    assert f"id_{name}_error" not in page.described[name]
    assert page.invalid[name] == {False}


@pytest.mark.parametrize("field", ["description", "consequence", "actions_taken", "suggested_improvement"])
@pytest.mark.parametrize("number", ["19121212-1212", "121212-1212", "1212121212", "121272 1219"])
def test_identity_number_refuses_the_whole_form_without_echoing_it(client, w, caplog, field, number):
    text = f"Det gällde {number} som skrevs ut."
    with caplog.at_level(logging.DEBUG):
        response = post(client, w, **{field: text})
    assert response.status_code == 200
    assert Deviation.objects.count() == 0
    assert mail.outbox == []
    form = response.context["form"]
    message = " ".join(form.errors[field])
    assert str(form.fields[field].label) in message
    assert "personnummer" in message
    for errors in form.errors.values():
        assert number not in " ".join(errors)
    content = response.content.decode()
    # The number is only in the reporter's own textarea, to be edited, never in a message.
    assert content.count(number) == 1
    assert f"{text}</textarea>" in content
    assert number not in caplog.text


def confirmation_of(response) -> str:
    """The hidden digest a browser sends back with the ticked name box (the texts it confirms)."""
    content = response.content.decode()
    match = re.search(r'name="names_checked_for" value="([0-9a-f]+)"', content)
    assert match, "the name warning renders the digest of the texts it is about"
    return match[1]


def test_name_warning_can_be_confirmed_past(client, w):
    text = "Vi ringde Anna Svensson på avdelningen men fick inget svar."
    response = post(client, w, description=text)
    assert response.status_code == 200
    assert "names_checked" in response.context["form"].errors
    assert 'name="names_checked"' in response.content.decode()
    assert Deviation.objects.count() == 0
    response = post(
        client, w, description=text, names_checked="on", names_checked_for=confirmation_of(response)
    )
    assert response.status_code == 302
    assert Deviation.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "text", "name"),
    [
        ("consequence", "Hennes son Erik fick vänta på hemtjänst i tre dagar.", "Erik"),
        ("description", "Anna, 45 år, skrevs ut utan att någon kallade till SIP.", "Anna"),
        ("actions_taken", "Erik ringde till mottagningen dagen efter.", "Erik"),
    ],
)
def test_name_warning_points_at_the_field_that_holds_the_name(client, w, field, text, name):
    response = post(client, w, **{field: text})
    assert response.status_code == 200
    form = response.context["form"]
    assert f"”{name}”" in " ".join(form.errors[field])
    assert set(form.errors) == {field, "names_checked"}
    assert str(form.fields[field].label) in " ".join(form.errors["names_checked"])
    assert Deviation.objects.count() == 0


def test_a_confirmation_does_not_cover_texts_changed_after_it(client, w):
    first = post(client, w, description="Vi ringde Anna Svensson på avdelningen.")
    confirmation = confirmation_of(first)
    # The reporter confirms, but has meanwhile written a name in another field.
    response = post(
        client,
        w,
        description="Vi ringde Anna Svensson på avdelningen.",
        consequence="Hennes son Erik fick vänta i tre dagar.",
        names_checked="on",
        names_checked_for=confirmation,
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert {"description", "consequence", "names_checked"} <= set(form.errors)
    content = response.content.decode()
    checkbox = re.search(r'<input[^>]*name="names_checked"[^>]*>', content)[0]
    assert not re.search(r"\schecked\b", checkbox)  # shown unticked: it must be ticked for these texts
    assert Deviation.objects.count() == 0
    # Ticked again for the texts as they are now, it is accepted.
    response = post(
        client,
        w,
        description="Vi ringde Anna Svensson på avdelningen.",
        consequence="Hennes son Erik fick vänta i tre dagar.",
        names_checked="on",
        names_checked_for=confirmation_of(response),
    )
    assert response.status_code == 302
    assert Deviation.objects.count() == 1


def test_a_confirmation_cannot_be_made_up(client, w):
    response = post(
        client,
        w,
        description="Vi ringde Anna Svensson på avdelningen.",
        names_checked="on",
        names_checked_for="0" * 64,
    )
    assert response.status_code == 200
    assert "description" in response.context["form"].errors
    assert Deviation.objects.count() == 0


def test_place_and_organisation_names_do_not_trigger_the_name_warning(client, w):
    response = post(client, w, description="Psykiatri Södra och Socialtjänst Nacka vuxen kallade inte.")
    assert response.status_code == 302


def test_signed_in_form_is_prefilled(client, w):
    user = factories.UserFactory(first_name="Anna", last_name="Berg", email="anna@x.se", organization=w.own)
    client.force_login(user)
    form = client.get(FORM_URL).context["form"]
    assert form["reporter_name"].value() == "Anna Berg"
    assert form["reporter_email"].value() == "anna@x.se"
    assert form["reporting_organization"].value() == w.own.pk


def test_signed_in_submit_is_confirmed_and_shows_the_receipt(client, w, django_capture_on_commit_callbacks):
    factories.EmailDomainFactory(organization=w.own, domain="x.se")  # the organisation's own domain
    user = factories.UserFactory(email="anna@x.se", organization=w.own)
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, w, reporter_email="anna@x.se")
    deviation = Deviation.objects.get()
    assert deviation.status == Status.SUBMITTED
    assert deviation.reporter == user
    assert deviation.council == w.nacka_council
    assert response["Location"] == reverse("deviations:report_receipt", args=[deviation.reference])
    response = client.get(response["Location"])
    content = response.content.decode()
    assert deviation.reference in content
    assert "/status/" in content
    assert sorted(a for m in mail.outbox for a in m.to) == ["anna@x.se", "samordnare@nacka.se"]


def test_a_signed_in_filing_writes_no_session_and_its_receipt_is_the_reporters_alone(client, w):
    factories.EmailDomainFactory(organization=w.own, domain="x.se")
    user = factories.UserFactory(email="anna@x.se", organization=w.own)
    client.force_login(user)
    data = valid_post(w, reporter_email="anna@x.se")
    client.get(FORM_URL)  # the form first, as in a browser (the session's renewal is saved then)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(FORM_URL, data)
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]]
    deviation = Deviation.objects.get()
    receipt = reverse("deviations:report_receipt", args=[deviation.reference])
    assert response["Location"] == receipt
    # The same form sent again: the first report's receipt, with a note.
    again = client.post(FORM_URL, data, follow=True)
    assert again.redirect_chain[-1][0] == receipt and Deviation.objects.count() == 1
    assert "Du har redan skickat den här rapporten" in again.content.decode()
    # Anyone else signed in, or nobody: not found, or the login page.
    client.force_login(factories.UserFactory(email="bo@x.se", organization=w.own))
    assert client.get(receipt).status_code == 404
    client.logout()
    assert client.get(receipt)["Location"].startswith(reverse("login"))


def test_sent_page_without_a_submission_goes_to_start(client, db):
    response = client.get(reverse("deviations:report_sent"))
    assert response.status_code == 302
    assert response["Location"] == reverse("deviations:report_start")


def test_form_answers_only_get_and_post(client, w):
    assert client.put(FORM_URL).status_code == 405


def test_new_idempotency_key_with_other_content_is_a_new_report(client, w):
    post(client, w)
    post(client, w, idempotency_key=str(uuid.uuid4()), description="En annan brist i samverkan.")
    assert Deviation.objects.count() == 2


@given(
    number=written_numbers(),
    before=st.text(alphabet="abcdefghijklmnopqrstuvwxyzåäö ,.\n", max_size=40),
    after=st.text(alphabet="abcdefghijklmnopqrstuvwxyzåäö ,.\n", max_size=40),
    field=st.sampled_from(["description", "consequence", "actions_taken", "suggested_improvement"]),
)
@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_form_refuses_any_identity_number_in_any_text_field(w, number, before, after, field):
    text, _kind = number
    form = ReportForm(data=valid_post(w, **{field: before + text + after}))
    assert not form.is_valid()
    assert field in form.errors
    assert all(text not in " ".join(errors) for errors in form.errors.values())
    assert Deviation.objects.count() == 0


def test_a_filed_report_is_checked_against_the_rules_once(client, w):
    with mock.patch.object(reporting, "report_errors", wraps=reporting.report_errors) as rules:
        response = client.post("/rapportera/formular/", valid_post(w))
    assert response.status_code == 302
    assert rules.call_count == 1
    assert Deviation.objects.get().description == valid_post(w)["description"]
