"""The reference data's version (agreements.models.reference_data_version): whatever changes a reference
table, by whatever means, changes the version in the same transaction; what the queue caches by it
(its names and filter choices) therefore never outlives a change."""

import pytest
from django.db import connection, transaction

from agreements.models import (
    VERSIONED_TABLES,
    Agreement,
    Organization,
    reference_data_version,
)
from councils.models import Council
from tests import factories

pytestmark = pytest.mark.django_db


def test_every_versioned_table_has_its_trigger_and_no_other_table_has_one():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname LIKE '%%_reference_data_version' AND NOT t.tgisinternal"
        )
        assert sorted(row[0] for row in cursor.fetchall()) == sorted(VERSIONED_TABLES)


def _changes(change) -> bool:
    before = reference_data_version()
    change()
    after = reference_data_version()
    assert before is not None and after is not None
    return after > before


def test_each_kind_of_change_to_each_reference_table_changes_the_version():
    municipality = factories.MunicipalityFactory()
    district = factories.DistrictFactory(municipality=municipality)
    council = factories.CouncilFactory()
    agreement = factories.AgreementFactory()
    category = factories.DeviationCategoryFactory()
    organization = factories.OrganizationFactory(principal_municipality=municipality)
    changes = {
        "agreements_agreement": lambda: Agreement.objects.filter(pk=agreement.pk).update(short_name="Ny"),
        "agreements_deviationcategory": lambda: (setattr(category, "name", "Omdöpt"), category.save()),
        "agreements_organization": lambda: factories.OrganizationFactory(principal_municipality=municipality),
        "councils_council": lambda: Council.objects.filter(pk=council.pk).update(name="Samråd Omdöpt"),
        "councils_council_districts": lambda: council.districts.add(district),
        "councils_council_municipalities": lambda: council.municipalities.add(municipality),
        "councils_district": lambda: (setattr(district, "name", "Ny stadsdel"), district.save()),
        "councils_municipality": lambda: (setattr(municipality, "name", "Nyköping"), municipality.save()),
        "agreements_commitment": lambda: factories.CommitmentFactory(agreement=agreement),
        "agreements_deviationcategory_agreements": lambda: category.agreements.add(agreement),
        "agreements_emaildomain": lambda: factories.EmailDomainFactory(organization=organization),
        "councils_region": lambda: factories.RegionFactory(code="99", name="Region Gotland"),
    }
    assert sorted(changes) == sorted(VERSIONED_TABLES)
    for table, change in changes.items():
        assert _changes(change), table
    # Deletions too, and SQL that bypasses the ORM (and its signals).
    assert _changes(lambda: council.municipalities.remove(municipality))
    assert _changes(lambda: Organization.objects.filter(pk=organization.pk).delete())
    with connection.cursor() as cursor:
        assert _changes(lambda: cursor.execute("UPDATE agreements_agreement SET name = name || ' '"))


def test_a_change_to_other_tables_keeps_the_version():
    assert not _changes(lambda: factories.ContributingFactorFactory())
    assert not _changes(lambda: factories.UserFactory())


def test_a_rolled_back_change_is_no_version_and_no_version_is_used_twice():
    before = reference_data_version()
    with pytest.raises(RuntimeError), transaction.atomic():
        factories.AgreementFactory()
        inside = reference_data_version()
        assert inside > before
        raise RuntimeError
    assert reference_data_version() == before
    factories.AgreementFactory()
    assert reference_data_version() > inside


def test_without_its_row_the_version_is_unknown_until_the_next_change():
    # Nothing may be cached by version meanwhile.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM agreements_referencedataversion")
    assert reference_data_version() is None
    factories.MunicipalityFactory()
    assert reference_data_version() is not None
