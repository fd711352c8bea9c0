"""crispy's HTML of unchanged forms from the cache (deviations/templatetags/cached_forms.py): the same
HTML as crispy's own, another key for any change, never a bound (submitted) form in the cache."""

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field, as_crispy_form
from django import forms
from django.core.cache import cache
from django.template import Context, Template

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
