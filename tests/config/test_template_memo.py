"""{% url 'name' %} without arguments remembered per node (config/templatetags/memo.py): the same output
as Django's tag for every language, script prefix, application namespace and escaping, and Django's own
tag wherever the URL is not constant."""

import pytest
from django.template import Context, Engine, engines
from django.test import RequestFactory
from django.urls import set_script_prefix
from django.utils import translation

from config.templatetags import memo

SOURCE = "{% url 'deviations:queue' %}|{% url 'home' %}|{% url \"login\" %}|{% url 'pages:privacy' %}"
VARIABLE_SOURCE = (
    "{% url 'deviations:detail' reference %}|{% url name %}|{% url 'home' as home %}{{ home }}|"
    "{% url 'deviations:queue'|default:'home' %}"
)


def _project(source):
    return engines["django"].from_string(source).template


def _django(source):
    """The same template with Django's own url tag."""
    return Engine().from_string(source)


def _render(template, *, language, autoescape=True, request=None, **values):
    with translation.override(language):
        context = Context(values, autoescape=autoescape)
        if request is not None:
            context.request = request
        return template.render(context)


def test_urls_without_arguments_are_remembered_nodes_and_others_are_djangos():
    assert sum(isinstance(node, memo.MemoURLNode) for node in _project(SOURCE).nodelist) == 4
    assert not any(isinstance(node, memo.MemoURLNode) for node in _project(VARIABLE_SOURCE).nodelist)


@pytest.mark.parametrize("autoescape", [True, False])
def test_the_same_output_as_djangos_tag_in_every_language_and_prefix(autoescape):
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


def test_urls_that_are_not_constant_render_as_djangos_tag():
    project, django = _project(VARIABLE_SOURCE), _django(VARIABLE_SOURCE)
    for language in ("sv", "en"):
        for values in (
            {"reference": "SB-2026-00001", "name": "home"},
            {"reference": "SB-2026-00002", "name": "login"},
        ):
            assert _render(project, language=language, **values) == _render(
                django, language=language, **values
            )
