"""A built-in library (settings: ``TEMPLATES["OPTIONS"]["builtins"]``): Django's url tag remembering URLs
without arguments (``config.templatetags.memo``)."""

from django.template import Library

from .memo import url

register = Library()
register.tag("url", url)
