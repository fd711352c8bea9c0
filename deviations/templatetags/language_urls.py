"""The current page's address in another language, for the language switch."""

from django import template
from django.urls import translate_url

register = template.Library()


@register.simple_tag(takes_context=True)
def translated_path(context, language: str) -> str:
    """This page's path (with its query string) in ``language``: ``/en/konto/logga-in/`` for ``sv``
    gives ``/konto/logga-in/``.

    Computed here, while the page's own language is active: Django's set_language view translates
    ``next`` itself, but it runs outside i18n_patterns, always in Swedish (the unprefixed default),
    so it cannot resolve an English address and would send the user back to the English page.
    """
    return translate_url(context["request"].get_full_path(), language)
