"""Tabular inlines in the admin (commitments, sub-factors, e-mail domains, districts, memberships): Django
names their columns in the table header only, which names no input; every field they show is labelled."""

from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

#: The admins with an editable tabular inline (the read-only ones show text, not fields).
EDITABLE_TABULAR = sorted(
    f"{model._meta.app_label}_{model._meta.model_name}"
    for model, model_admin in admin.site._registry.items()
    if any(
        issubclass(inline, admin.TabularInline) and not getattr(inline, "readonly_fields", None)
        for inline in model_admin.inlines
    )
)


class InlineFields(HTMLParser):
    """The fields inside tabular inlines (``div.tabular``), with their ``aria-label``, and the ``for``
    of every label on the page."""

    def __init__(self):
        super().__init__()
        self.depth = 0  # of <div> inside a tabular inline, 0 outside
        self.fields: list[dict] = []
        self.label_for: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div":
            if self.depth:
                self.depth += 1
            elif "tabular" in (attrs.get("class") or "").split():
                self.depth = 1
        elif tag == "label" and attrs.get("for"):
            self.label_for.add(attrs["for"])
        elif self.depth and tag in ("input", "select", "textarea") and attrs.get("type") != "hidden":
            self.fields.append(attrs)

    def handle_endtag(self, tag):
        if tag == "div" and self.depth:
            self.depth -= 1


@pytest.fixture
def agreement_with_commitment():
    return factories.CommitmentFactory().agreement


def test_the_admins_with_editable_tabular_inlines():
    assert EDITABLE_TABULAR == [
        "agreements_agreement",  # commitments
        "agreements_contributingfactor",  # sub-factors
        "agreements_organization",  # e-mail domains
        "councils_council",  # memberships
        "councils_municipality",  # districts
        "councils_user",  # memberships
    ]


@pytest.mark.parametrize("admin_name", EDITABLE_TABULAR)
def test_every_field_of_a_tabular_inline_has_a_name(client, superuser, admin_name):
    client.force_login(superuser)
    response = client.get(reverse(f"admin:{admin_name}_add"))
    assert response.status_code == 200
    page = InlineFields()
    page.feed(response.content.decode())
    assert page.fields, "no inline fields found"
    unnamed = [
        field.get("name")
        for field in page.fields
        if not (field.get("aria-label") or "").strip() and field.get("id") not in page.label_for
    ]
    assert unnamed == []


def test_the_label_is_the_columns_and_the_delete_box_is_named(client, superuser, agreement_with_commitment):
    client.force_login(superuser)
    response = client.get(reverse("admin:agreements_agreement_change", args=[agreement_with_commitment.pk]))
    page = InlineFields()
    page.feed(response.content.decode())
    labels = {field["name"].split("-")[-1]: field.get("aria-label") for field in page.fields}
    assert labels["title"] == "Rubrik"
    assert labels["DELETE"] == "Radera"
