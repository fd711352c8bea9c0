"""Filters of the triage queue (django-filter). Every filter maps onto an indexed column or a short
subquery; nothing here needs the whole table in Python."""

import copy
import datetime
import hashlib
import re

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.text import format_lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from agreements.models import Agreement, DeviationCategory, Organization
from config.render_cache import render_version
from councils.models import Council, Municipality

from . import search
from .fields import PlainQueryChoiceIterator
from .forms import SwedishSelect
from .models import AccessLog, Deviation
from .selectors import local_council_ids, sees_whole_county
from .workflow import Status

FULL_REFERENCE_RE = re.compile(r"^SB-\d{4}-\d{5}$")
REFERENCE_RE = re.compile(r"^\s*SB-\d{0,4}(-\d{0,5})?\s*$", re.IGNORECASE)


class DatePeriodFilter(django_filters.DateFromToRangeFilter):
    """A from/to pair of native date inputs, each named for assistive technology ("Inträffade, från")."""

    def __init__(self, *args, **kwargs):
        widget = django_filters.widgets.DateRangeWidget(attrs={"type": "date"})
        label = kwargs.get("label", "")
        for part, word in zip(widget.widgets, (_("från"), _("till")), strict=True):
            part.attrs["aria-label"] = format_lazy("{}, {}", label, word)
        kwargs.setdefault("widget", widget)
        super().__init__(*args, **kwargs)


def text_search(queryset, value: str):
    """A reference number (or its beginning), or words found in the report's texts, category or
    commitment (Swedish full-text search with prefixes, ranked: deviations/search.py)."""
    value = (value or "").strip()[:200]
    if not value:
        return queryset
    if REFERENCE_RE.match(value):
        reference = value.strip().upper()
        if FULL_REFERENCE_RE.match(reference):
            return queryset.filter(reference=reference)  # the unique index
        return queryset.filter(reference__startswith=reference)
    return search.search(queryset, value)


class _ReferenceChoiceIterator(django_filters.fields.ModelChoiceIterator, PlainQueryChoiceIterator):
    pass


class _ReferenceChoiceField(django_filters.fields.ModelChoiceField):
    iterator = _ReferenceChoiceIterator


class ReferenceChoiceFilter(django_filters.ModelChoiceFilter):
    """A choice of reference data (agreement, council, organisation...): its options change only with
    the reference data's version (``agreements.models.reference_data_version``) and the queryset's
    ``choice_scope`` (see ``form_cache_key``)."""

    field_class = _ReferenceChoiceField


class _FiltersCopiedBySettings(dict):
    """A FilterSet's filters that its ``__init__`` copies for each instance filter by filter, sharing
    their settings (labels, querysets, widgets, choices), instead of ``copy.deepcopy`` of them all.
    Nothing changes a filter's settings after its class is made (an instance only removes filters and
    sets their ``model`` and ``parent``; the form's fields are the form's own copies), and the deep copy
    cost about a tenth of a queue page's CPU."""

    def __deepcopy__(self, memo):
        copies = {}
        for name, filter_ in self.items():
            copied = copies[name] = copy.copy(filter_)
            copied.__dict__.pop("_field", None)  # each copy builds its own field
            if copied.method is not None:
                copied.method = copied.method  # a filter method bound to the copy (its parent)
        return copies


class DeviationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Sök"), method="filter_q")
    status = django_filters.MultipleChoiceFilter(
        label=_("Status"),
        choices=[c for c in Status.choices if c[0] != Status.UNCONFIRMED],
        widget=forms.CheckboxSelectMultiple,
        # A column of the report itself: no join can duplicate rows, and django-filter's default
        # SELECT DISTINCT would sort every matching row (seconds over a million closed reports).
        distinct=False,
    )
    # Stored Swedish names: their options say so on English pages (lang="sv").
    agreement = ReferenceChoiceFilter(
        label=_("Överenskommelse"), queryset=Agreement.objects.all(), widget=SwedishSelect
    )
    category = ReferenceChoiceFilter(
        label=_("Kategori"), queryset=DeviationCategory.objects.all(), widget=SwedishSelect
    )
    council = ReferenceChoiceFilter(label=_("Samråd"), queryset=Council.objects.all())
    municipality = ReferenceChoiceFilter(label=_("Kommun"), queryset=Municipality.objects.all())
    organization = ReferenceChoiceFilter(
        label=_("Organisation (rapporterande eller motpart)"),
        queryset=Organization.objects.all(),
        method="filter_organization",
    )
    occurred = DatePeriodFilter(label=_("Inträffade"), field_name="occurred_on")
    reported = DatePeriodFilter(label=_("Rapporterad"), field_name="reported_on")
    assigned = django_filters.ChoiceFilter(
        label=_("Handläggare"),
        choices=[("me", _("Tilldelade mig")), ("none", _("Ej tilldelade"))],
        method="filter_assigned",
        empty_label=_("Alla"),
    )
    overdue = django_filters.BooleanFilter(
        label=_("Försenat yttrande"),
        method="filter_overdue",
        widget=forms.CheckboxInput,
    )
    response = django_filters.ChoiceFilter(
        label=_("Yttrande"),
        choices=[
            ("requested", _("Begärt, inte besvarat")),
            ("due_week", _("Försenat eller svar senast inom 7 dagar")),
            ("received", _("Inkommet")),
            ("unread", _("Inkommet sedan du senast öppnade rapporten")),
        ],
        method="filter_response",
        empty_label=_("Alla"),
    )
    my_councils = django_filters.BooleanFilter(
        label=_("Bara mina lokala samråd"),
        method="filter_my_councils",
        widget=forms.CheckboxInput,
    )

    #: Shown at the top of the form; the others are folded under "Fler filter".
    COMMON = ("q", "assigned", "response", "agreement")

    class Meta:
        model = Deviation
        fields = []

    def __init__(self, *args, today=None, user=None, councils=None, municipalities=None, **kwargs):
        """``councils``/``municipalities``: the choices offered (those the user can see); no council
        choice at all for someone with a single council. ``my_councils`` is offered only to whole-county
        users who are also members of local councils (everyone else's queue is their councils)."""
        super().__init__(*args, **kwargs)
        self.today = today
        self.user = user
        self.local_councils = local_council_ids(user) if user is not None else []
        #: What the reference choices' querysets are made of besides the reference data itself.
        self.choice_scope = (councils,)
        # Filters are removed before the form is built from them; choices are set on the form's fields
        # (a filter's field is built once and copied with it).
        if councils is not None and len(councils) <= 1:
            del self.filters["council"]
        if user is None or not (sees_whole_county(user) and self.local_councils):
            del self.filters["my_councils"]
        fields = self.form.fields
        if councils is not None and "council" in fields:
            fields["council"].queryset = Council.objects.filter(pk__in=councils)
        if municipalities is not None:
            fields["municipality"].queryset = municipalities

    #: Form classes by the filters offered. Their fields are made of the filters' settings only (a form
    #: copies its class's fields, so a change to an instance's field stays in that instance).
    _form_classes: dict = {}

    def get_form_class(self):
        """django-filter makes a new form class for every instance; one per set of filters here."""
        key = tuple(self.filters)
        form_class = self._form_classes.get(key)
        if form_class is None:
            form_class = self._form_classes[key] = super().get_form_class()
        return form_class

    def common_fields(self):
        return [self.form[name] for name in self.COMMON if name in self.form.fields]

    def other_fields(self):
        return [field for field in self.form if field.name not in self.COMMON]

    def queryset_without(self, name: str):
        """The filtered queryset with every filter but ``name`` (call ``is_valid()`` first): the queue's
        counts per status use the same filters except the status filter, without a second form."""
        queryset = self.queryset
        for field, value in self.form.cleaned_data.items():
            if field != name:
                queryset = self.filters[field].filter(queryset, value)
        return queryset

    def filter_q(self, queryset, name, value):
        return text_search(queryset, value)

    def filter_organization(self, queryset, name, value):
        if not value:
            return queryset
        counterpart = Deviation.counterpart_organizations.through.objects.filter(
            deviation_id=OuterRef("pk"), organization_id=value.pk
        )
        return queryset.filter(Q(reporting_organization=value) | Exists(counterpart))

    def filter_assigned(self, queryset, name, value):
        if value == "me" and self.user is not None:
            return queryset.filter(assigned_to=self.user)
        if value == "none":
            return queryset.filter(assigned_to__isnull=True)
        return queryset

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(Deviation.response_overdue_condition(self.today)) if value else queryset

    def filter_response(self, queryset, name, value):
        """On the reports' response summaries (``Deviation.response_due_on``: the earliest due date of
        the open requests; ``response_received_at``: the latest answer), each with a partial index."""
        if value == "requested":
            return queryset.filter(response_due_on__isnull=False)
        if value == "due_week":
            return queryset.filter(response_due_on__lte=self.today + datetime.timedelta(days=7))
        if value == "received":
            return queryset.filter(response_received_at__isnull=False)
        if value == "unread" and self.user is not None:
            # An answer newer than the user's last opening of the report (the access log).
            seen = AccessLog.objects.filter(
                user=self.user, deviation_id=OuterRef("pk"), at__gte=OuterRef("response_received_at")
            )
            return queryset.filter(response_received_at__isnull=False).exclude(Exists(seen))
        return queryset

    def filter_my_councils(self, queryset, name, value):
        return queryset.filter(council__in=self.local_councils) if value else queryset


DeviationFilter.base_filters = _FiltersCopiedBySettings(DeviationFilter.base_filters)


#: Query parameters of the queue that are not part of the filter form (its HTML does not depend on them).
NOT_FORM_PARAMETERS = frozenset({"after", "before", "sort", "size"})


def folded_filters_in_use(filterset, query) -> bool:
    """Whether the request (``query``: its GET) uses a filter folded under "Fler filter", or the form
    has errors: then the fold is open. (Not for the status: the counts above the form show which
    statuses are listed, and the start page's links choose one.)"""
    ignored = NOT_FORM_PARAMETERS | {"status"}
    return bool(filterset.form.errors) or any(
        key not in filterset.COMMON and key not in ignored and any(query.getlist(key)) for key in query
    )


def form_cache_key(
    filterset: django_filters.FilterSet, *, reference_version: int | None, folded_open: bool = False
) -> str | None:
    """A key for the rendered filter form (``{% cache %}`` in the queue template), or None when the form
    has errors or a search text (rendered each time, never cached: free text typed by a user is not
    kept in a cache, and would make a key of its own anyway), or when the reference data's version is
    unknown.

    Rendering the form's ten fields and their choice lists costs more than the rest of a queue page (18
    ms per page with the cache, 32 ms without, 600 reports and the bench's organisations), and its HTML
    changes only with the language, the submitted values, the choices offered and the release and
    templates (``render_version``). The key is made of exactly those: the reference choices by the
    version of the reference data (``reference_version``, read before the form renders: a renamed
    organisation or a new council is a new version, so it shows at once and nothing is invalidated)
    and what their querysets are limited to (the user's councils); the fixed choices by their values.
    The cache's timeout only bounds its memory."""
    form = filterset.form
    if reference_version is None or form.errors or (form.cleaned_data.get("q") or "").strip():
        return None
    parts: list = [render_version(), get_language(), folded_open, reference_version, filterset.choice_scope]
    data = filterset.data
    # The fields offered and their fixed choices (they depend on the user and the queue).
    for name, field in form.fields.items():
        if isinstance(field, _ReferenceChoiceField):
            parts.append(name)
        else:
            choices = getattr(field, "choices", None)
            parts.append((name, [value for value, _label in choices] if choices is not None else None))
    parts.append(sorted((key, data.getlist(key)) for key in data if key not in NOT_FORM_PARAMETERS))
    return hashlib.sha256(repr(parts).encode()).hexdigest()
