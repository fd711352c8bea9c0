"""The admin site: staff only (as Django's), and only in a session with two-step verification. Every
form it shows refuses an identity number in any text, also the forms of other packages' models; the
fields of tabular inlines are labelled for assistive technology."""

from django import forms
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.urls import reverse

from config.personal_data import (
    IDENTITY_NUMBER_MESSAGE,
    contains_identity_number,
    validate_no_identity_number,
    validate_query_without_identity_number,
)

from . import mfa

_GUARDS = (validate_no_identity_number, validate_query_without_identity_number)


def _texts(value):
    """Every string in a cleaned value: itself, or the keys and values of a JSON value, or a list's items."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(key)
            yield from _texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item)


class IdentityNumberGuardForm:
    """A form mixin: a field whose cleaned text (a string, or any string in a JSON value or list) holds a
    personnummer or samordningsnummer gets the guard's error, and nothing is saved. Fields whose model
    field carries the guard's validator already (this project's models: tests/config/
    test_personal_data_fields.py) and passwords (never stored as typed) are left to themselves."""

    def clean(self):
        cleaned = super().clean()
        model = getattr(getattr(self, "_meta", None), "model", None)
        for name, value in list(self.cleaned_data.items()):  # add_error takes the field out
            field = self.fields.get(name)
            if field is None or isinstance(field.widget, forms.PasswordInput) or _guarded(model, name):
                continue
            if any(contains_identity_number(text) for text in _texts(value)):
                self.add_error(name, ValidationError(IDENTITY_NUMBER_MESSAGE, code="identity_number"))
        return cleaned


def _guarded(model, name: str) -> bool:
    """Whether ``model``'s field ``name`` validates its text with the guard itself."""
    if model is None:
        return False
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:  # a form field of its own, not the model's
        return False
    return any(validator in _GUARDS for validator in getattr(field, "validators", ()))


def guarded(form_class: type) -> type:
    """``form_class`` with ``IdentityNumberGuardForm`` (the admin makes its form classes per request, as
    this does)."""
    if issubclass(form_class, IdentityNumberGuardForm):
        return form_class
    return type(
        form_class.__name__, (IdentityNumberGuardForm, form_class), {"__module__": form_class.__module__}
    )


class IdentityNumberGuardAdmin:
    """A ``ModelAdmin`` mixin: its add/change form, its list's editable rows and its inlines' forms are
    ``guarded``."""

    def get_form(self, request, obj=None, **kwargs):  # some admins' get_form take no ``change``
        return guarded(super().get_form(request, obj, **kwargs))

    def get_changelist_form(self, request, **kwargs):
        return guarded(super().get_changelist_form(request, **kwargs))

    def get_formsets_with_inlines(self, request, obj=None):
        for formset, inline in super().get_formsets_with_inlines(request, obj):
            formset.form = guarded(formset.form)  # a class of its own, made for this request
            if isinstance(inline, admin.TabularInline):
                formset = labelled(formset)
            yield formset, inline


def labelled(formset_class: type) -> type:
    """A tabular inline's formset whose fields are named to assistive technology: Django's tabular
    inline puts the label in the column's header only, which names no input (WCAG 1.3.1, 4.1.2), so
    each visible field, the delete box too, gets its label as ``aria-label``."""

    class Labelled(formset_class):
        def add_fields(self, form, index):
            super().add_fields(form, index)
            for field in form.fields.values():  # the form's own copies
                if not field.widget.is_hidden and field.label:
                    field.widget.attrs.setdefault("aria-label", str(field.label))

    Labelled.__name__ = formset_class.__name__
    return Labelled


class AdminSite(admin.AdminSite):
    def has_permission(self, request):
        return super().has_permission(request) and mfa.is_verified(request)

    def login(self, request, extra_context=None):
        """One login for the whole service: the site's login page (password and code, or an identity
        provider), then back to the admin."""
        return redirect_to_login(request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index"))

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every model's admin, also another package's (groups, e-mail addresses, social accounts), with
        ``IdentityNumberGuardAdmin``."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, IdentityNumberGuardAdmin):
            admin_class = type(
                admin_class.__name__,
                (IdentityNumberGuardAdmin, admin_class),
                {"__module__": admin_class.__module__},
            )
        super().register(model_or_iterable, admin_class, **options)
