"""The reference data the report form checks a report against is kept by the process under a version
that every change of it replaces (``deviations.reference``): never stale, and the same answers as
looking the choices up in the database."""

import pytest
from django import forms
from django.db import connection, transaction

from agreements.models import Organization
from deviations import reference
from deviations.forms import ReportForm
from deviations.models import Deviation
from tests import factories
from tests.deviations.reporting_world import build_world, valid_post

pytestmark = pytest.mark.django_db

FORM_URL = "/rapportera/formular/"


@pytest.fixture
def w(db):
    return build_world()


def test_every_table_the_form_checks_against_gives_a_new_version_when_it_changes():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname LIKE '%%_reference_data_version' AND NOT t.tgisinternal"
        )
        triggered = {name for (name,) in cursor.fetchall()}
    assert {model._meta.db_table for model in reference.TRACKED_MODELS} <= triggered
    # The lists, and what the rules read of them (prefetched), come from these tables only.
    data = reference.current()
    read = {type(row) for rows in vars(data).values() if isinstance(rows, dict) for row in rows.values()}
    read |= {
        type(related)
        for rows in (data.category, data.municipality, data.organization)
        for row in rows.values()
        for related_rows in getattr(row, "_prefetched_objects_cache", {}).values()
        for related in related_rows
    }
    read |= {
        type(related)
        for row in data.organization.values()
        for related in row._state.fields_cache.values()
        if related is not None
    }
    assert read <= set(reference.TRACKED_MODELS)


@pytest.mark.parametrize(
    "change",
    [
        lambda w: w.psyk.save(),
        lambda w: Organization.objects.filter(pk=w.own.pk).update(active=False),
        lambda w: w.category.agreements.add(w.old),
        lambda w: w.spanga.delete(),
        lambda w: w.own.email_domains.create(domain="nacka.example.se"),
        lambda w: factories.CommitmentFactory(agreement=w.psyk),
        lambda w: connection.cursor().execute("UPDATE councils_municipality SET name = name || ' kommun'"),
        lambda w: w.region.save(),
    ],
    ids=["save", "update", "m2m", "delete", "related create", "create", "plain SQL", "region"],
)
def test_any_change_gives_a_new_version(w, change):
    before = reference.version()
    change(w)
    assert reference.version() != before


def test_a_rolled_back_change_leaves_the_version_and_its_number_is_never_used(w):
    before = reference.version()
    with pytest.raises(RuntimeError), transaction.atomic():
        w.psyk.save()
        rolled_back = reference.version()
        raise RuntimeError
    assert reference.version() == before
    w.psyk.save()
    assert reference.version() not in (before, rolled_back)


def test_the_lists_are_read_again_only_when_the_version_changes(w, django_assert_num_queries):
    first = reference.current()
    with django_assert_num_queries(1):  # the version
        assert reference.current() is first
    w.counterpart.save()
    with django_assert_num_queries(13):  # the version, then the twelve lists (with the routes)
        assert reference.current() is not first


def test_a_pinned_snapshot_is_current_without_reading_the_version(w, django_assert_num_queries):
    snapshot = reference.current()
    w.counterpart.save()  # a new version
    with reference.pinned(snapshot), django_assert_num_queries(0):
        assert reference.current() is snapshot
    with reference.pinned(None), django_assert_num_queries(13):  # no pin: the version, the lists
        assert reference.current() is not snapshot


def test_a_deactivated_organisation_is_refused_at_the_next_filing(client, w):
    assert client.post(FORM_URL, valid_post(w)).status_code == 302  # the process keeps the lists now
    Organization.objects.filter(pk=w.counterpart.pk).update(active=False)
    again = valid_post(w, idempotency_key="2b0b5d0e-6a4c-4c57-8b8a-2d4b1f0b1c22", description="Ny text.")
    response = client.post(FORM_URL, again)
    assert response.status_code == 200
    assert "counterpart_organizations" in response.context["form"].errors
    assert Deviation.objects.count() == 1


def test_a_new_agreement_is_accepted_at_the_next_filing(client, w):
    assert client.post(FORM_URL, valid_post(w)).status_code == 302
    agreement = factories.AgreementFactory(code="NY", valid_from=w.psyk.valid_from)
    category = factories.DeviationCategoryFactory(agreements=[agreement])
    response = client.post(
        FORM_URL,
        valid_post(
            w,
            idempotency_key="2b0b5d0e-6a4c-4c57-8b8a-2d4b1f0b1c22",
            agreement=agreement.pk,
            category=category.pk,
            commitment="",
            description="Ny text.",
        ),
    )
    assert response.status_code == 302
    assert Deviation.objects.filter(agreement=agreement, category=category).exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("agreement", "abc"),
        ("agreement", "999999"),
        ("agreement", "1.5"),
        ("agreement", "\x00"),
        ("district", "999999"),
        ("counterpart_organizations", ["abc"]),
        ("counterpart_organizations", ["999999"]),
        ("counterpart_organizations", "not-a-list"),
        ("counterpart_organizations", []),
        ("counterpart_organizations", ["own_padded"]),
        ("counterpart_organizations", ["inactive"]),
        ("reporting_organization", "inactive"),
        ("category", ""),
    ],
)
def test_refusals_are_those_of_django_model_choice_fields(w, name, value):
    """The same data through the form's fields and through Django's own ModelChoiceField and
    ModelMultipleChoiceField over the same querysets: the same error, message for message."""
    values = {"inactive": str(w.inactive.pk), "own_padded": f"0{w.own.pk}"}
    value = [values.get(v, v) for v in value] if isinstance(value, list) else values.get(value, value)
    data = valid_post(w)
    data[name] = value
    ours = ReportForm(data)
    assert not ours.is_valid()
    field = ours.fields[name]
    django_class = (
        forms.ModelMultipleChoiceField
        if isinstance(field, forms.ModelMultipleChoiceField)
        else forms.ModelChoiceField
    )
    django_field = django_class(queryset=field.queryset, required=field.required)
    with pytest.raises(forms.ValidationError) as expected:
        django_field.clean(value)
    assert ours.errors[name] == expected.value.messages


def test_accepted_values_are_those_of_django_model_choice_fields(w):
    form = ReportForm(valid_post(w, counterpart_organizations=[w.counterpart.pk, w.own.pk]))
    assert form.is_valid(), form.errors
    for name in ("agreement", "commitment", "category", "municipality", "reporting_organization"):
        django_field = forms.ModelChoiceField(queryset=form.fields[name].queryset)
        assert form.cleaned_data[name] == django_field.clean(valid_post(w)[name])
    django_field = forms.ModelMultipleChoiceField(queryset=form.fields["counterpart_organizations"].queryset)
    assert form.cleaned_data["counterpart_organizations"] == list(
        django_field.clean([w.counterpart.pk, w.own.pk])
    )


def test_the_form_shows_a_renamed_organisation_and_region_at_the_next_page(client, w):
    assert "Psykiatri Södra" in client.get(FORM_URL).content.decode()  # the process keeps the lists now
    Organization.objects.filter(pk=w.counterpart.pk).update(name="Psykiatri Syd")
    w.region.name = "Region Sthlm"
    w.region.save()
    page = client.get(FORM_URL).content.decode()
    assert "Psykiatri Syd" in page and "Psykiatri Södra" not in page
    assert "Region Sthlm" in page


def test_nothing_is_kept_while_the_version_is_unknown(w, django_assert_num_queries):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM agreements_referencedataversion")
    first = reference.current()
    with django_assert_num_queries(13):  # the version (none), then the twelve lists again
        assert reference.current() is not first
