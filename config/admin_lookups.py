"""Changelist URL lookups limited to what the list offers.

Django's admin accepts a lookup on any of a model's own columns in the changelist's query string
(``?reporter_email__startswith=a``, ``?password__startswith=pbkdf2``), whatever the list shows. Anyone who
may open the list can then probe a column the admin never displays, one character at a time, by
watching the number of rows. ``FilterLookupsOnlyMixin`` accepts only lookups on the fields of the list
filters and the date hierarchy; any other answers 400 (Django's ``DisallowedModelAdminLookup``).
"""

from django.contrib.admin import SimpleListFilter
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import FieldDoesNotExist
from django.db.models.constants import LOOKUP_SEP


def field_path(model, lookup: str) -> str:
    """The fields a lookup walks, without its lookups and transforms: ``"council__level__exact"`` →
    ``"council__level"``."""
    parts = []
    for part in lookup.split(LOOKUP_SEP):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            break
        parts.append(part)
        if not getattr(field, "path_infos", None):
            break
        model = field.path_infos[-1].to_opts.model
    return LOOKUP_SEP.join(parts)


class FilterLookupsOnlyMixin:
    """For a ``ModelAdmin``: lookups in the URL only on ``list_filter`` and ``date_hierarchy`` fields."""

    def lookup_allowed(self, lookup, value, request):
        parameters, paths = self._filter_lookups(request)
        allowed = lookup in parameters or field_path(self.model, lookup) in paths
        return allowed and super().lookup_allowed(lookup, value, request)

    def _filter_lookups(self, request) -> tuple[set[str], set[str]]:
        """(parameter names of simple list filters, field paths of the field filters)."""
        parameters, paths = set(), set()
        if self.date_hierarchy:
            paths.add(self.date_hierarchy)
        for item in self.get_list_filter(request):
            if isinstance(item, type) and issubclass(item, SimpleListFilter):
                parameters.add(item.parameter_name)
                continue
            path = item[0] if isinstance(item, (list, tuple)) else item
            paths.add(path)
            field = get_fields_from_path(self.model, path)[-1]
            if field.is_relation:
                # A relation's filter compares the related row's key: "council__id__exact".
                paths.add(f"{path}{LOOKUP_SEP}{field.target_field.name}")
        return parameters, paths
