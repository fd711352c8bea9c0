"""The project's form renderer caches long select lists under a key made of their whole content."""

from django import forms
from django.core.cache import cache
from django.forms.renderers import TemplatesSetting
from django.utils import translation

from config.forms import MIN_OPTIONS, CachedChoicesRenderer


def _form(choices, **initial):
    class PickForm(forms.Form):
        pick = forms.ChoiceField(choices=choices)

    return PickForm(initial=initial, renderer=CachedChoicesRenderer())


def _choices(n=MIN_OPTIONS + 5, label="Organisation"):
    return [(str(i), f"{label} {i}") for i in range(n)]


def _cached_entries():
    return [key for key in cache._cache if "select-html" in key]


def test_a_long_select_renders_as_without_the_cache_and_is_cached_once():
    cache.clear()
    html = str(_form(_choices(), pick="3")["pick"])
    plain = _form(_choices(), pick="3")
    plain.renderer = TemplatesSetting()
    assert html == str(plain["pick"])
    assert '<option value="3" selected>Organisation 3</option>' in html
    assert len(_cached_entries()) == 1
    assert str(_form(_choices(), pick="3")["pick"]) == html
    assert len(_cached_entries()) == 1


def test_the_key_is_the_content_selection_and_language():
    cache.clear()
    first = str(_form(_choices(), pick="3")["pick"])
    other_selection = str(_form(_choices(), pick="4")["pick"])
    assert '<option value="4" selected>' in other_selection and 'value="3" selected' not in other_selection
    renamed = str(_form(_choices(label="Omdöpt"), pick="3")["pick"])
    assert "Omdöpt 3" in renamed and "Omdöpt" not in first
    with translation.override("en"):
        str(_form(_choices(), pick="3")["pick"])
    assert len(_cached_entries()) == 4


def test_short_selects_are_not_cached():
    cache.clear()
    html = str(_form(_choices(n=MIN_OPTIONS - 1), pick="1")["pick"])
    assert 'value="1" selected' in html
    assert _cached_entries() == []
