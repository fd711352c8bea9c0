"""The project's form renderer caches long select lists under a key made of their whole content, the
release and the template sources."""

import copy
from pathlib import Path

import pytest
from django import forms
from django.conf import settings as django_settings
from django.core.cache import cache
from django.forms.renderers import TemplatesSetting
from django.utils import translation
from django.utils.autoreload import file_changed

from config import render_cache
from config.forms import MIN_OPTIONS, CachedChoicesRenderer

SELECT = "django/forms/widgets/select.html"


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


def test_a_new_release_renders_afresh(settings):
    cache.clear()
    settings.RELEASE = "2026.1"
    html = str(_form(_choices(), pick="3")["pick"])
    (entry,) = _cached_entries()
    cache.set(entry.split(":", 2)[2], "<select>HTML cached by 2026.1</select>")  # ":1:<key>" in locmem
    assert str(_form(_choices(), pick="3")["pick"]) == "<select>HTML cached by 2026.1</select>"
    settings.RELEASE = "2026.2"
    assert str(_form(_choices(), pick="3")["pick"]) == html
    assert len(_cached_entries()) == 2


@pytest.fixture
def editable_select(settings, tmp_path):
    """A project-level override of the select template in a directory of its own (first in DIRS)."""
    template = tmp_path / SELECT
    template.parent.mkdir(parents=True)
    template.write_text((Path(django_settings.BASE_DIR) / "templates" / SELECT).read_text())
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [tmp_path, *templates[0]["DIRS"]]
    settings.TEMPLATES = templates
    render_cache._code_digest.cache_clear()  # as in a process started with these directories
    yield template
    render_cache._code_digest.cache_clear()


def test_an_edited_template_renders_afresh(editable_select):
    cache.clear()
    before = str(_form(_choices(), pick="3")["pick"])
    editable_select.write_text(editable_select.read_text().replace("<select ", '<select data-edited="1" '))
    # A deploy starts new processes; runserver's autoreloader sends file_changed: both read it again.
    file_changed.send(sender=None, file_path=editable_select)
    after = str(_form(_choices(), pick="3")["pick"])
    assert 'data-edited="1"' in after and "data-edited" not in before
    assert len(_cached_entries()) == 2
