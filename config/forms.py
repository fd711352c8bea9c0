"""The project's form renderer (Django's ``TemplatesSetting`` plus a cache for long choice lists), and
how a service's refusal reaches a form."""

import hashlib

from django.core.cache import cache
from django.forms.renderers import TemplatesSetting
from django.utils.translation import get_language

from config.errors import ApplicationError
from config.render_cache import render_version

#: Widget templates whose output is cached, and the number of options from which it pays.
CACHED_TEMPLATES = frozenset({"django/forms/widgets/select.html"})
MIN_OPTIONS = 20
TIMEOUT = 60 * 60


def _canonical(value):
    """Everything a widget template can read, as plain text (lazy translations and choice values
    become the strings the template would print)."""
    if isinstance(value, dict):
        return tuple(sorted((str(key), _canonical(item)) for key, item in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_canonical(item) for item in value)
    if value is None or isinstance(value, bool | int):
        return value
    return str(value)


class CachedChoicesRenderer(TemplatesSetting):
    """Renders widgets through ``TEMPLATES`` (so ``templates/django/forms/`` can override a built-in
    widget template) and caches the HTML of long select lists.

    A select with hundreds of organisations costs tens of milliseconds to render through the template
    engine, on every form page (the report form: 26 ms with the cache, 44 ms without, 600 reports and
    the bench's organisations). The key is the whole widget context (name, attributes, every option's
    value, label, selection and attributes), the language and the release with the template sources
    (``render_version``), so a renamed organisation, another selected value or a deploy is another key:
    nothing to invalidate, and the cache timeout only bounds memory."""

    def render(self, template_name, context, request=None):
        if template_name not in CACHED_TEMPLATES or request is not None:
            return super().render(template_name, context, request)
        widget = context.get("widget", {})
        options = sum(len(options) for _group, options, _index in widget.get("optgroups", ()))
        if options < MIN_OPTIONS or set(context) != {"widget"}:
            return super().render(template_name, context, request)
        material = repr((render_version(), template_name, get_language(), _canonical(widget)))
        key = "select-html:" + hashlib.sha256(material.encode()).hexdigest()
        html = cache.get(key)
        if html is None:
            html = super().render(template_name, context, request)
            cache.set(key, html, TIMEOUT)
        return html


def add_service_errors(form, error: ApplicationError) -> None:
    """Put a service's refusal on ``form``: each of ``error.errors`` on the form's field of that name
    (the same message a model or form validator gives), others on the form as a whole. A refusal with
    no field errors is not about the form: it is raised again, for the view or
    ``ApplicationErrorMiddleware``."""
    if not error.errors:
        raise error
    for field, message in error.errors.items():
        form.add_error(field if field in form.fields else None, message)
