"""{% translate "constant" %} and {% url 'name' %} remembered per node (config/templatetags/memo.py): the
same output as Django's tags for every language, script prefix, application namespace and escaping, and
Django's own tags wherever the text is not constant."""

from pathlib import Path

import pytest
from django.template import Context, Engine, engines
from django.test import RequestFactory
from django.urls import set_script_prefix
from django.utils import translation

from config.templatetags import memo

SOURCE = (
    "{% load i18n %}"
    '{% translate "Ärenden" %}|{% translate "Logga ut" %}|{% translate "100%% <b>klart</b>" %}|'
    '{% translate "Maj" context "månad" %}|{% translate "Ärenden" noop %}|'
    "{% url 'deviations:queue' %}|{% url 'home' %}|{% url 'login' %}"
)
VARIABLE_SOURCE = (
    "{% load i18n %}{% translate text %}|{% translate 'Ärenden'|upper %}|"
    "{% translate 'Ärenden' as label %}{{ label }}|{% url 'deviations:detail' reference %}|"
    "{% url name %}|{% url 'home' as home %}{{ home }}"
)


def _project(source):
    return engines["django"].from_string(source).template


def _django(source):
    """The same template with Django's own i18n library and url tag."""
    return Engine(libraries={"i18n": "django.templatetags.i18n"}).from_string(source)


def _render(template, *, language, autoescape=True, request=None, **values):
    with translation.override(language):
        context = Context(values, autoescape=autoescape)
        if request is not None:
            context.request = request
        return template.render(context)


def test_constant_texts_and_urls_are_remembered_nodes():
    nodes = list(_project(SOURCE).nodelist)
    assert sum(isinstance(node, memo.MemoTranslateNode) for node in nodes) == 5
    assert sum(isinstance(node, memo.MemoURLNode) for node in nodes) == 3
    assert not any(
        isinstance(node, memo.MemoTranslateNode | memo.MemoURLNode)
        for node in _project(VARIABLE_SOURCE).nodelist
    )


@pytest.mark.parametrize("autoescape", [True, False])
def test_the_same_output_as_djangos_tags_in_every_language_and_prefix(autoescape):
    project, django = _project(SOURCE), _django(SOURCE)
    outputs = set()
    try:
        for prefix in ("/", "/app/", "/"):
            set_script_prefix(prefix)
            for language in ("sv", "en", "sv", "en"):
                expected = _render(django, language=language, autoescape=autoescape)
                assert _render(project, language=language, autoescape=autoescape) == expected
                outputs.add(expected)
    finally:
        set_script_prefix("/")
    assert len(outputs) == 4  # two languages under two prefixes: each its own


def test_the_url_follows_the_requests_application_namespace():
    project, django = _project("{% url 'deviations:queue' %}"), _django("{% url 'deviations:queue' %}")
    for current_app in ("deviations", None, "deviations"):
        request = RequestFactory().get("/")
        if current_app:
            request.current_app = current_app
        expected = _render(django, language="sv", request=request)
        assert _render(project, language="sv", request=request) == expected == "/arenden/"


def test_texts_and_urls_that_are_not_constant_render_as_djangos_tags():
    project, django = _project(VARIABLE_SOURCE), _django(VARIABLE_SOURCE)
    for language in ("sv", "en"):
        for values in (
            {"text": "Ärenden", "reference": "SB-2026-00001", "name": "home"},
            {"text": "Logga ut", "reference": "SB-2026-00002", "name": "login"},
        ):
            assert _render(project, language=language, **values) == _render(
                django, language=language, **values
            )


def test_a_changed_catalogue_under_runserver_is_translated_afresh():
    node = next(n for n in _project(SOURCE).nodelist if isinstance(n, memo.MemoTranslateNode))
    node._memo[("sv", True, memo._generation)] = "gammalt"
    assert node.render(Context()) == "gammalt"
    memo._catalogue_changed(sender=None, file_path=Path("locale/en/LC_MESSAGES/django.mo"))
    memo._catalogue_changed(sender=None, file_path=Path("deviations/views/common.py"))  # not a catalogue
    with translation.override("sv"):
        assert node.render(Context()) == "Ärenden"
