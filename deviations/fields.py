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

    #: The digest of the list's rows in its order (its ORDER BY, kept by the aggregate over the sorted
    #: subquery; a different order would only be another key). JSON text: no separator is ambiguous.
    DIGEST_SQL = "SELECT md5(string_agg(row_to_json(r)::text, ',')) FROM ({}) r"

    def __init__(self, queryset, *, label_fields, label_from_instance=None, **kwargs):
        super().__init__(queryset, **kwargs)
        self.label_fields = tuple(label_fields)
        if label_from_instance is not None:
            self.label_from_instance = label_from_instance
        #: Set by a form whose queryset has a compiled digest (``compiled_digest``): a function
        #: returning that digest, for this field's queryset only.
        self.digest_of_queryset = None

    @classmethod
    def compiled_digest(cls, model, build, *kinds, label_fields):
        """The digest of the rows of ``build(*values)`` (a queryset of ``model``) with SQL compiled once
        per process (``config.compiled.CompiledRead``): ``.read(*values)`` returns ``[(digest,)]``.
        ``label_fields`` must be the field's."""
        from config.compiled import CompiledRead

        return CompiledRead(
            model,
            lambda *values: build(*values).values_list("pk", *label_fields),
            *kinds,
            around=cls.DIGEST_SQL,
        )

    def choices_digest(self) -> tuple:
        from django.db import connections

        if self.digest_of_queryset is not None:
            return self.digest_of_queryset(), str(self.empty_label)
        rows = self.queryset.values_list("pk", *self.label_fields)
        sql, params = rows.query.sql_with_params()
        with connections[rows.db].cursor() as cursor:
            cursor.execute(self.DIGEST_SQL.format(sql), params)
            (digest,) = cursor.fetchone()
        return digest, str(self.empty_label)
