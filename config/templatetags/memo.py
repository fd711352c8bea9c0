"""``{% translate "constant text" %}`` and ``{% url 'name' %}`` remembered per node.

Django translates each ``{% translate %}`` and reverses each ``{% url %}`` on every render: the report
page has ~100 of the first and ~28 of the second (1.5 ms of its Python, ~0.7 ms on the queue page;
bench/profile on sb_bench). When their text is a literal (no variable, no filter, no ``as``), the
result depends only on things a request sets, and those are the key of what each node remembers:

- a translation: the active language and whether the context autoescapes (and the message context,
  a literal too); the catalogues are loaded once per process (``memo_generation`` changes when
  ``runserver`` sees a ``.mo`` file change and reloads them);
- a URL without arguments: the view name, the current application (the namespace, as Django's tag
  finds it), the URL configuration, the script prefix and the active language (``i18n_patterns``), and
  autoescaping.

Any other use (a variable, arguments, ``as``) renders as Django's tag does, through it. The output is
the string Django's tag returns for the same key (a test compares every key's parts).
"""

from django.dispatch import receiver
from django.template import Variable
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.templatetags import i18n as django_i18n
from django.urls import get_script_prefix, get_urlconf
from django.utils.autoreload import file_changed
from django.utils.translation import get_language

_generation = 0


@receiver(file_changed, dispatch_uid="config.templatetags.memo.file_changed")
def _catalogue_changed(sender, file_path, **kwargs):
    """``runserver`` reloads a changed ``.mo`` file without restarting (Django's own handler): so does
    what the nodes remember. Returns None: whether the server restarts stays Django's decision."""
    global _generation
    if file_path.suffix == ".mo":
        _generation += 1


def _literal(expression) -> bool:
    """A filter expression that is a constant string: a quoted literal without filters (the parser
    keeps a constant as the string itself, ``{% translate %}`` as a literal ``Variable``)."""
    var = getattr(expression, "var", None)
    constant = isinstance(var, str) or (isinstance(var, Variable) and var.literal is not None)
    return constant and not expression.filters


class MemoTranslateNode(django_i18n.TranslateNode):
    def __init__(self, node: django_i18n.TranslateNode):
        super().__init__(node.filter_expression, node.noop, node.asvar, node.message_context)
        self._memo: dict = {}

    def render(self, context):
        key = (get_language(), context.autoescape, _generation)
        value = self._memo.get(key)
        if value is None:
            value = self._memo[key] = super().render(context)
        return value


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


def translate(parser, token):
    """Django's ``{% translate %}``; a constant text is remembered."""
    node = django_i18n.do_translate(parser, token)
    message_context = node.message_context
    if node.asvar or not _literal(node.filter_expression):
        return node
    if message_context is not None and not _literal(message_context):
        return node
    return MemoTranslateNode(node)


def url(parser, token):
    """Django's ``{% url %}``; a URL without arguments is remembered."""
    node = django_url(parser, token)
    if node.asvar or node.args or node.kwargs or not _literal(node.view_name):
        return node
    return MemoURLNode(node)
