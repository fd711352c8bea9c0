"""``{% load i18n %}`` (settings: ``TEMPLATES["OPTIONS"]["libraries"]``): Django's i18n library, its
translate tag remembering constant texts (``config.templatetags.memo``)."""

from django.template import Library
from django.templatetags import i18n

from .memo import translate

register = Library()
register.tags.update(i18n.register.tags)
register.filters.update(i18n.register.filters)
register.tag("translate", translate)
register.tag("trans", translate)
