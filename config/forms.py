"""The project's form renderer (Django's ``TemplatesSetting`` plus a cache for long choice lists), a
crispy layout field whose HTML is cached, and how a service's refusal reaches a form."""

import hashlib

from crispy_forms.layout import Field
from crispy_forms.utils import TEMPLATE_PACK
from django.core.cache import cache
from django.forms.renderers import TemplatesSetting
from django.utils.translation import get_language

from config.errors import ApplicationError
from config.render_cache import cached_form_html, render_version

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


class CachedField(Field):
    """crispy's ``Field`` in a layout, its HTML from the cache while the form is unbound
    (``config.render_cache.cached_form_html``: the key holds the field's label, help text, widget
    attributes, value and choices, the language and the release). For a page whose form is mostly
    long lists of choices, like the report form (whose lists and groups of checkboxes cost crispy's
    templates ~10 ms on every visit). Not for a field whose value is personal data (the reporter's
    name and address): its HTML would be kept in the cache."""

    def render(self, form, context, template_pack=TEMPLATE_PACK, extra_context=None, **kwargs):
        return cached_form_html(
            form,
            lambda: super(CachedField, self).render(form, context, template_pack, extra_context, **kwargs),
            "layout-field",
            template_pack,
            self.template,
            sorted(self.attrs.items()),
            self.wrapper_class,
            sorted((str(key), str(value)) for key, value in (extra_context or {}).items()),
            fields=set(self.fields),
        )


def add_service_errors(form, error: ApplicationError) -> None:
    """Put a service's refusal on ``form``: each of ``error.errors`` on the form's field of that name
    (the same message a model or form validator gives), others on the form as a whole. A refusal with
    no field errors is not about the form: it is raised again, for the view or
    ``ApplicationErrorMiddleware``."""
    if not error.errors:
        raise error
    for field, message in error.errors.items():
        form.add_error(field if field in form.fields else None, message)
