"""crispy's HTML of unchanged forms from the cache (deviations/templatetags/cached_forms.py): the same
HTML as crispy's own, another key for any change, never a bound (submitted) form in the cache."""

import re

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field, as_crispy_form
from django import forms
from django.core.cache import cache
from django.template import Context, Template
from django.utils import translation

from councils.models import User
from tests import factories

pytestmark = pytest.mark.django_db


class NoteForm(forms.Form):
    text = forms.CharField(label="Anteckning", widget=forms.Textarea, max_length=100)
    assignee = forms.ModelChoiceField(
        label="Handläggare", queryset=User.objects.order_by("pk"), required=False
    )


def render(source: str, **context) -> str:
    return Template("{% load cached_forms %}" + source).render(Context(context))


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def stored() -> str:
    return "".join(str(value) for value in cache._cache.values())


def test_renders_what_crispy_renders_and_keeps_it(django_assert_max_num_queries):
    factories.UserFactory(username="kerstin.berg")
    # Fresh forms each time, as each request makes them (crispy adds classes to the widgets it renders).
    assert render("{{ form|cached_crispy }}", form=NoteForm()) == str(as_crispy_form(NoteForm()))
    field = render("{{ form.assignee|cached_crispy_field }}", form=NoteForm())
    assert field == str(as_crispy_field(NoteForm()["assignee"]))
    assert "kerstin.berg" in stored()
    with django_assert_max_num_queries(1):  # the choices, for the key; no COUNT(*), no rendering
        render("{{ form.assignee|cached_crispy_field }}", form=NoteForm())


def test_a_changed_choice_label_or_initial_value_is_another_key():
    colleague = factories.UserFactory(username="kerstin.berg")
    assert "kerstin.berg" in render("{{ form|cached_crispy }}", form=NoteForm())
    colleague.username = "kerstin.ek"
    colleague.save()
    html = render("{{ form|cached_crispy }}", form=NoteForm())
    assert "kerstin.ek" in html and "kerstin.berg" not in html
    assert "Utkast" in render("{{ form|cached_crispy }}", form=NoteForm(initial={"text": "Utkast"}))


def test_a_submitted_form_is_rendered_afresh_and_never_stored():
    typed = NoteForm(data={"text": "Det den anställde skrev"})
    assert "Det den anställde skrev" in render("{{ form|cached_crispy }}", form=typed)
    invalid = NoteForm(data={"text": "x" * 101})
    assert "invalid-feedback" in render("{{ form|cached_crispy }}", form=invalid)
    assert stored() == ""


# --- Lists keyed by a digest PostgreSQL computes (deviations.fields.DigestedModelChoiceField) ---------


def _issue_options(client, deviation) -> list[str]:
    html = client.get(f"/rapporter/{deviation.reference}/").content.decode()
    select = html[html.index('name="issue"') : html.index("</select>", html.index('name="issue"'))]
    return [option.split(">", 1)[1].split("<", 1)[0] for option in select.split("<option")[2:]]


def test_the_report_pages_systemic_issues_change_at_once(client, regional_coordinator):
    """Every change of the list through the services shows on the next page: a new issue, a renamed
    one, one resolved (it leaves the list) and one reopened (it comes back)."""
    from deviations.services.systemic import resolve_systemic_issue, save_systemic_issue

    client.force_login(regional_coordinator)
    deviation = factories.DeviationFactory()
    first = factories.SystemicIssueFactory(title="Bristande överföring", agreements=[deviation.agreement])
    assert _issue_options(client, deviation) == ["Bristande överföring"]
    assert _issue_options(client, deviation) == ["Bristande överföring"]  # from the cache
    second = save_systemic_issue(
        actor=regional_coordinator,
        title="Avbrutna remisser",
        description="Remisser.",
        agreements=[deviation.agreement],
    )
    assert _issue_options(client, deviation) == ["Avbrutna remisser", "Bristande överföring"]
    save_systemic_issue(
        actor=regional_coordinator,
        issue=first,
        title="Utebliven överföring",
        description=first.description,
        agreements=[deviation.agreement],
    )
    assert _issue_options(client, deviation) == ["Avbrutna remisser", "Utebliven överföring"]
    resolve_systemic_issue(issue=second, actor=regional_coordinator, outcome="Rutinen ändrad.")
    assert _issue_options(client, deviation) == ["Utebliven överföring"]
    save_systemic_issue(
        actor=regional_coordinator,
        issue=second,
        title=second.title,
        description=second.description,
        agreements=[deviation.agreement],
    )
    assert _issue_options(client, deviation) == ["Avbrutna remisser", "Utebliven överföring"]


def test_the_assignee_list_follows_the_councils_members_and_their_names(client, regional_coordinator):
    client.force_login(regional_coordinator)
    deviation = factories.DeviationFactory()
    # Names the factories' random ones never are (the list holds every member of the council).
    member = factories.UserFactory(username="k.berg", first_name="Kerstin", last_name="Berg-Provsson")
    factories.CouncilMembershipFactory(council=deviation.council, user=member)

    def options():
        html = client.get(f"/rapporter/{deviation.reference}/").content.decode()
        start = html.index('name="assignee"')
        return html[start : html.index("</select>", start)]

    assert "Kerstin Berg-Provsson" in options() and "Kerstin Berg-Provsson" in options()
    member.last_name = "Ek-Provsson"
    member.save()
    assert "Kerstin Ek-Provsson" in options() and "Kerstin Berg-Provsson" not in options()
    member.first_name = member.last_name = ""
    member.save()
    assert ">k.berg<" in options()  # no name: the username
    newcomer = factories.UserFactory(username="n.ny", first_name="Nils", last_name="Ny")
    factories.CouncilMembershipFactory(council=deviation.council, user=newcomer)
    assert "Nils Ny" in options()
    newcomer.is_active = False
    newcomer.save()
    assert "Nils Ny" not in options()


def test_a_digested_list_is_keyed_by_one_short_row_and_renders_what_crispy_renders(
    django_assert_num_queries,
):
    from deviations.forms_triage import LinkToIssueForm

    for title in ("B", "A", "C"):
        factories.SystemicIssueFactory(title=title)
    html = render("{{ form.issue|cached_crispy_field }}", form=LinkToIssueForm())
    assert html == str(as_crispy_field(LinkToIssueForm()["issue"]))
    with django_assert_num_queries(1) as queries:  # the digest; no row read, nothing rendered
        assert render("{{ form.issue|cached_crispy_field }}", form=LinkToIssueForm()) == html
    assert "MD5" in queries.captured_queries[0]["sql"].upper()


# --- The report form's fields (config.forms.CachedField) ---------------------------------------------

REPORT_FORM = "/rapportera/formular/"


def _report_form_html(client) -> str:
    """The report form as a page shows it, without what differs on every request by design (the form
    key and the CSRF token)."""
    html = client.get(REPORT_FORM).content.decode()
    start = html.index('id="report-form"')
    html = html[start : html.index("</form>", start)]
    html = re.sub(r'(name="idempotency_key" value=")[^"]+', r"\1KEY", html)
    return re.sub(r'(name="csrfmiddlewaretoken" value=")[^"]+', r"\1TOKEN", html)


@pytest.fixture
def reporting_world(db):
    from tests.deviations.reporting_world import build_world

    return build_world()


def test_the_report_form_is_the_same_from_the_cache_and_without_it(client, settings, reporting_world):
    reporter = factories.UserFactory(organization=reporting_world.own)
    client.force_login(reporter)
    cached = _report_form_html(client)
    assert stored() != ""
    assert _report_form_html(client) == cached  # now from the cache
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    assert _report_form_html(client) == cached  # crispy's own rendering, nothing kept
    assert f'value="{reporting_world.own.pk}" selected' in cached  # the reporter's organisation, chosen


def test_the_reporters_own_details_are_never_kept_in_the_cache(client, reporting_world):
    reporter = factories.UserFactory(
        first_name="Ingrid",
        last_name="Sundqvist",
        email="ingrid.sundqvist@nacka.se",
        phone="070-555 12 34",
        organization=reporting_world.own,
    )
    client.force_login(reporter)
    html = _report_form_html(client)
    for detail in ("Ingrid Sundqvist", "ingrid.sundqvist@nacka.se", "070-555 12 34"):
        assert detail in html
        assert detail not in stored()
    key = re.search(r'name="idempotency_key" value="([^"]+)', client.get(REPORT_FORM).content.decode())[1]
    assert key not in stored()


def test_a_change_of_the_reference_data_shows_on_the_next_form(client, reporting_world):
    assert "Beroendemottagningen Nacka" not in _report_form_html(client)
    factories.OrganizationFactory(name="Beroendemottagningen Nacka")
    assert _report_form_html(client).count("Beroendemottagningen Nacka") == 2  # own, and counterpart
    reporting_world.counterpart.name = "Omdöpt mottagning"
    reporting_world.counterpart.save()
    html = _report_form_html(client)
    assert "Omdöpt mottagning" in html
    with translation.override("en"):
        english = client.get("/en" + REPORT_FORM).content.decode()
    assert "Omdöpt mottagning" in english and 'lang="en"' in english


def test_a_report_sent_back_with_errors_shows_what_was_typed_and_is_not_kept(client, reporting_world):
    from tests.deviations.reporting_world import valid_post

    typed = "Avdelningen ringde aldrig tillbaka trots tre försök under veckan."
    response = client.post(REPORT_FORM, valid_post(reporting_world, description=typed, consequence=""))
    assert response.status_code == 200
    html = response.content.decode()
    assert typed in html and "invalid-feedback" in html
    assert typed not in stored()
