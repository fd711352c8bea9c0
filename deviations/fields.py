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
