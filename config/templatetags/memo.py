"""``{% url 'name' %}`` without arguments remembered per node.

Django reverses each ``{% url %}`` on every render: the report page has ~28, the queue page ~22 (10 µs
each on sb_bench). When the view name is a literal and there are no arguments and no ``as``, the URL
depends only on what a request sets, and that is the key of what each node remembers: the view name,
the current application (the namespace, found as Django's tag finds it), the URL configuration, the
script prefix, the active language (``i18n_patterns``) and whether the context autoescapes. Any other
use renders through Django's tag. The output is the string Django's tag returns for the same key (a
test compares them).

(Not ``{% translate %}``: remembering it would mean replacing Django's ``i18n`` library, which
``check --deploy`` rightly reports as two modules for one library name.)
"""

from django.template import Variable
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import get_script_prefix, get_urlconf
from django.utils.translation import get_language


def _literal(expression) -> bool:
    """A filter expression that is a constant string: a quoted literal without filters (the parser
    keeps a constant as the string itself)."""
    var = getattr(expression, "var", None)
    constant = isinstance(var, str) or (isinstance(var, Variable) and var.literal is not None)
    return constant and not expression.filters


class MemoURLNode(URLNode):
    def __init__(self, node: URLNode):
        super().__init__(node.view_name, node.args, node.kwargs, node.asvar)
        self._memo: dict = {}

    def render(self, context):
        request = getattr(context, "request", None)
        try:
            current_app = request.current_app
        except AttributeError:
            try:
                current_app = request.resolver_match.namespace
            except AttributeError:
                current_app = None
        key = (current_app, get_urlconf(), get_script_prefix(), get_language(), context.autoescape)
        value = self._memo.get(key)
        if value is None:
            value = self._memo[key] = super().render(context)
        return value


def url(parser, token):
    """Django's ``{% url %}``; a URL without arguments is remembered."""
    node = django_url(parser, token)
    if node.asvar or node.args or node.kwargs or not _literal(node.view_name):
        return node
    return MemoURLNode(node)
