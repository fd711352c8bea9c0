"""Form fields shared by the apps' forms."""

from django import forms


class PlainQueryChoiceIterator(forms.models.ModelChoiceIterator):
    """Choices read with one plain query. Django's iterator uses ``QuerySet.iterator()``, which on
    PostgreSQL opens a server-side cursor (DECLARE ... WITH HOLD, FETCH, CLOSE: three round trips and a
    materialised copy) for what is a short list of options."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


class ModelChoiceField(forms.ModelChoiceField):
    iterator = PlainQueryChoiceIterator


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    iterator = PlainQueryChoiceIterator


class DigestedModelChoiceField(ModelChoiceField):
    """A choice of rows whose rendered list the render caches key by a digest PostgreSQL computes
    (``choices_digest``, used by ``config.render_cache.form_cache_key``) instead of by every row read
    into Python: one short value for the whole list (the systemic issues' list cost the report page
    ~2 ms of Python for its key). The digest covers each row's key and ``label_fields`` in the list's
    order, and the labels are made of those fields only (``label_from_instance`` receives nothing
    else), so any change to a label, a row added or a row leaving the list is another digest, read in
    the request that renders it: never stale."""

    def __init__(self, queryset, *, label_fields, label_from_instance=None, **kwargs):
        super().__init__(queryset, **kwargs)
        self.label_fields = tuple(label_fields)
        if label_from_instance is not None:
            self.label_from_instance = label_from_instance

    def choices_digest(self) -> tuple:
        from django.db import connections

        rows = self.queryset.values_list("pk", *self.label_fields)
        sql, params = rows.query.sql_with_params()
        # The rows in the list's order (its ORDER BY, kept by the aggregate over the sorted subquery; a
        # different order would only be another key). JSON text: no separator is ambiguous.
        with connections[rows.db].cursor() as cursor:
            cursor.execute(f"SELECT md5(string_agg(row_to_json(r)::text, ',')) FROM ({sql}) r", params)  # noqa: S608 - the ORM's SQL, values as parameters
            (digest,) = cursor.fetchone()
        return digest, str(self.empty_label)
