"""What cached HTML depends on besides its own data: the release and the code that renders it.

Four render caches pay for themselves (measured in the commits that added them): long select lists
(``config.forms.CachedChoicesRenderer``), the queue's filter form (``deviations.filters.form_cache_key``),
the follow-up page's two forms (``form_cache_key`` below) and the unbound forms of the queue and the
report page (``deviations/templatetags/cached_forms.py``, with ``form_cache_key`` too).
Their keys hold the data they show; ``render_version()`` adds what a deploy changes, so HTML cached by
one release is never served by the next one, also when the cache is shared (``CACHE_URL``) or a
release keeps its version number:

- ``settings.RELEASE`` (environment ``RELEASE``, by default the installed package's version);
- the installed distributions and their versions (Django's, crispy's own templates and code);
- the source of every template in the project's and the apps' template directories.

The last two are read once per process (a deploy starts new processes); under ``runserver`` an edited
template also changes the version at once (the autoreloader's ``file_changed`` signal).
"""

import hashlib
from functools import cache
from importlib import metadata

from django.conf import settings
from django.core.cache import cache as html_cache
from django.dispatch import receiver
from django.template.autoreload import get_template_directories
from django.utils.autoreload import file_changed
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

#: Seconds a form's cached HTML is kept: it only bounds memory (a change is another key).
FORM_HTML_TIMEOUT = 3600


def render_version() -> str:
    """The release and a digest of the installed code and template sources."""
    return f"{settings.RELEASE}:{_code_digest()}"


@cache
def _code_digest() -> str:
    digest = hashlib.sha256()
    for name, version in sorted((dist.name or "", dist.version) for dist in metadata.distributions()):
        digest.update(f"{name}=={version}\n".encode())
    for directory in sorted(get_template_directories()):
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            digest.update(f"{path.relative_to(directory)}\n".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@receiver(file_changed, dispatch_uid="render_version_file_changed")
def _forget_digest(sender, file_path, **kwargs):
    """A template edited under ``runserver`` (Python changes restart the process anyway). Returns
    None: whether the server restarts stays Django's decision."""
    if file_path.suffix != ".py":
        _code_digest.cache_clear()


def content_key(*material) -> str:
    """A key for HTML made from ``material`` alone (plain values whose ``repr`` shows all of them),
    with the language and ``render_version()``: ``{% cache TIMEOUT name key %}`` around the fragment."""
    return hashlib.sha256(repr([render_version(), get_language(), *material]).encode()).hexdigest()


def form_cache_key(form, *parts, fields=None) -> str | None:
    """A key for a form's rendered fields (``{% cache %}`` in a template), or None when the form has
    errors (rendered each time). Made of everything the fields render: each field's name, label, help
    text, whether it is required, its widget's attributes, its value (the bound data, or the initial
    one) and its choices (values and labels, read once here: a ModelChoiceField's queryset is one query,
    as it is when the form renders; or the digest of them a field has PostgreSQL compute), plus
    ``parts``, the language and ``render_version()``. Another value, an edited label or a deploy is
    another key: nothing to invalidate. ``fields``: the names of the fields the cached fragment
    renders, when it is not all of them (the others, e.g. a hidden field holding the user's own
    search, stay out of the cache and of the key)."""
    if form.is_bound and form.errors:
        return None
    material: list = [
        render_version(),
        get_language(),
        type(form).__qualname__,
        form.prefix,
        form.auto_id,
        *parts,
    ]
    for name, field in form.fields.items():
        if fields is not None and name not in fields:
            continue
        bound = form[name]
        choices = getattr(field, "choices", None)
        material.append(
            (
                name,
                str(bound.label),
                str(field.help_text),
                field.required,
                type(field.widget).__qualname__,
                field.disabled,
                sorted((str(key), str(value)) for key, value in field.widget.attrs.items()),
                str(bound.value()),
                _choices_material(field, choices),
            )
        )
    return hashlib.sha256(repr(material).encode()).hexdigest()


def cached_form_html(form, render, *parts, fields=None) -> str:
    """``render()`` (crispy's HTML of ``form`` or of its ``fields``), from the cache while the form is
    unbound: kept under ``form_cache_key(form, *parts, fields=fields)``. A bound form (what the user
    sent, perhaps with errors) is rendered afresh and never stored."""
    if form.is_bound:
        return render()
    key = f"crispy:{form_cache_key(form, *parts, fields=fields)}"
    html = html_cache.get(key)
    if html is None:
        html = str(render())
        html_cache.set(key, html, FORM_HTML_TIMEOUT)
    return mark_safe(html)  # noqa: S308 - crispy's own output, escaped by its templates


def _choices_material(field, choices):
    """The choices as the text they render, or the digest of them that the field has PostgreSQL
    compute (``deviations.fields.DigestedModelChoiceField``: a long list of rows is not read to make
    the key of HTML that holds it)."""
    if choices is None:
        return None
    digest = getattr(field, "choices_digest", None)
    if digest is not None:
        return digest()
    return _plain(list(iter(choices)))  # iter: no COUNT(*) of a queryset


def _plain(value):
    """Choices as the text they render (lazy translations, model choices and option groups)."""
    if isinstance(value, list | tuple):
        return tuple(_plain(item) for item in value)
    return str(value)
