"""crispy's rendering of unchanged forms, from the cache: ``{{ form|cached_crispy }}`` and
``{{ form.field|cached_crispy_field }}`` render as ``|crispy`` and ``|as_crispy_field`` do.

crispy's templates cost about a quarter of the report page's CPU (five forms: systemic issue, assignee,
redaction, two notes). An unbound form renders the same HTML every time until one of the things it is
made of changes, so that HTML is kept under a key made of all of them (``config.render_cache``:
labels, help texts, widget attributes, initial values, choices, language, release and templates) —
a renamed colleague or a new systemic issue is another key, nothing to invalidate. A bound form
(submitted, possibly with what the user typed, or with errors) is always rendered afresh and never
stored.
"""

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field, as_crispy_form
from django import template

from config.render_cache import cached_form_html

register = template.Library()


@register.filter
def cached_crispy(form):
    return cached_form_html(form, lambda: as_crispy_form(form), "form")


@register.filter
def cached_crispy_field(bound_field):
    return cached_form_html(
        bound_field.form,
        lambda: as_crispy_field(bound_field),
        "field",
        bound_field.name,
        fields={bound_field.name},
    )
