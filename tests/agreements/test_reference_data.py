import pytest
from django.core.management import call_command

from agreements import reference_data
from agreements.models import Agreement, Commitment, ContributingFactor, DeviationCategory
from councils.models import Council, District, Municipality, Region

pytestmark = pytest.mark.django_db

OFFICIAL_CODES = {
    "Upplands Väsby": "0114",
    "Vallentuna": "0115",
    "Österåker": "0117",
    "Värmdö": "0120",
    "Järfälla": "0123",
    "Ekerö": "0125",
    "Huddinge": "0126",
    "Botkyrka": "0127",
    "Salem": "0128",
    "Haninge": "0136",
    "Tyresö": "0138",
    "Upplands-Bro": "0139",
    "Nykvarn": "0140",
    "Täby": "0160",
    "Danderyd": "0162",
    "Sollentuna": "0163",
    "Stockholm": "0180",
    "Södertälje": "0181",
    "Nacka": "0182",
    "Sundbyberg": "0183",
    "Solna": "0184",
    "Lidingö": "0186",
    "Vaxholm": "0187",
    "Norrtälje": "0188",
    "Sigtuna": "0191",
    "Nynäshamn": "0192",
}


def snapshot():
    """Every row the loader touches, with the fields it sets, to compare two runs."""
    return {
        "regions": list(Region.objects.values_list("code", "name")),
        "municipalities": list(Municipality.objects.order_by("code").values_list("pk", "code", "name")),
        "districts": list(District.objects.order_by("name").values_list("pk", "name", "municipality")),
        "agreements": list(Agreement.objects.order_by("code").values()),
        "commitments": list(Commitment.objects.order_by("pk").values()),
        "categories": [
            (c.pk, c.name, c.order, sorted(c.agreements.values_list("code", flat=True)))
            for c in DeviationCategory.objects.order_by("pk")
        ],
        "factors": list(
            ContributingFactor.objects.order_by("pk").values_list("pk", "parent", "name", "order")
        ),
        "councils": [
            (
                c.pk,
                c.name,
                c.level,
                c.is_example,
                sorted(c.municipalities.values_list("code", flat=True)),
                sorted(c.districts.values_list("name", flat=True)),
            )
            for c in Council.objects.order_by("pk")
        ],
    }


def test_reference_data_is_complete():
    call_command("load_reference_data", verbosity=0)

    assert list(Region.objects.values_list("code", "name")) == [("01", "Region Stockholm")]
    assert dict(Municipality.objects.values_list("name", "code")) == OFFICIAL_CODES
    assert set(Municipality.objects.values_list("region__code", flat=True)) == {"01"}
    stockholm_districts = District.objects.filter(municipality__code="0180").values_list("name", flat=True)
    assert sorted(stockholm_districts) == sorted(
        [
            "Bromma",
            "Enskede-Årsta-Vantör",
            "Farsta",
            "Hägersten-Älvsjö",
            "Hässelby-Vällingby",
            "Kungsholmen",
            "Norrmalm",
            "Rinkeby-Kista",
            "Skarpnäck",
            "Skärholmen",
            "Spånga-Tensta",
            "Södermalm",
            "Östermalm",
        ]
    )
    assert District.objects.count() == 13

    agreements = {a.code: a for a in Agreement.objects.all()}
    assert set(agreements) == {"PSYK", "MISSBRUK", "SPEL", "HEMLÖSHET"}
    assert agreements["HEMLÖSHET"].parties == Agreement.Parties.MUNICIPALITIES
    assert not agreements["HEMLÖSHET"].includes_region
    for code in ("PSYK", "MISSBRUK", "SPEL"):
        assert agreements[code].includes_region
    for agreement in agreements.values():
        assert agreement.commitments.count() >= 4
        assert agreement.active
    assert Commitment.objects.filter(agreement__code="MISSBRUK", title__icontains="SIP").exists()


def test_categories_apply_to_the_right_agreements():
    call_command("load_reference_data", verbosity=0)

    homeless = DeviationCategory.objects.get(name=reference_data.CATEGORY_HOMELESS)
    assert list(homeless.agreements.values_list("code", flat=True)) == ["HEMLÖSHET"]
    discharge = DeviationCategory.objects.get(name=reference_data.CATEGORY_DISCHARGE)
    assert "HEMLÖSHET" not in discharge.agreements.values_list("code", flat=True)
    other = DeviationCategory.objects.get(name=reference_data.CATEGORY_OTHER)
    assert other.agreements.count() == 4
    assert DeviationCategory.objects.count() == 8
    # Every agreement has at least two categories to choose from.
    for agreement in Agreement.objects.all():
        assert agreement.categories.count() >= 2


def test_councils_regional_and_examples():
    call_command("load_reference_data", verbosity=0)

    regional = Council.objects.get(level=Council.Level.REGIONAL)
    assert regional.name == "Regionala samrådet för missbruk och psykiatri"
    assert not regional.is_example
    local = Council.objects.filter(level=Council.Level.LOCAL)
    assert local.count() >= 3
    for council in local:
        assert council.is_example
        assert "(exempel)" in council.name
    # Stockholm city's districts are split over two or three example councils, each district in one.
    district_councils = local.filter(districts__isnull=False).distinct()
    assert 2 <= district_councils.count() <= 3
    assert District.objects.filter(councils__isnull=True).count() == 0
    assert District.objects.filter(councils__isnull=False).count() == District.objects.count()
    # Every municipality but Stockholm (covered by district) belongs to exactly one example council.
    for municipality in Municipality.objects.exclude(code="0180"):
        assert municipality.councils.count() == 1, municipality


def test_loading_twice_changes_nothing():
    call_command("load_reference_data", verbosity=0)
    first = snapshot()
    call_command("load_reference_data", verbosity=0)
    assert snapshot() == first
    call_command("load_reference_data", "--update", verbosity=0)
    assert snapshot() == first


def test_reload_keeps_admin_edits_unless_update():
    call_command("load_reference_data", verbosity=0)
    council = Council.objects.get(name="Lokalt samråd Södertörn (exempel)")
    council.active = False
    council.save()
    council.municipalities.remove(Municipality.objects.get(code="0126"))

    call_command("load_reference_data", verbosity=0)
    council.refresh_from_db()
    assert not council.active
    assert not council.municipalities.filter(code="0126").exists()

    call_command("load_reference_data", "--update", verbosity=0)
    council.refresh_from_db()
    assert council.active
    assert council.municipalities.filter(code="0126").exists()


def test_missing_rows_are_recreated():
    call_command("load_reference_data", verbosity=0)
    DeviationCategory.objects.get(name=reference_data.CATEGORY_OTHER).delete()
    call_command("load_reference_data", verbosity=0)
    assert DeviationCategory.objects.get(name=reference_data.CATEGORY_OTHER).agreements.count() == 4


def test_without_examples_creates_only_the_regional_council():
    call_command("load_reference_data", "--without-examples", verbosity=0)
    assert list(Council.objects.values_list("level", flat=True)) == [Council.Level.REGIONAL]


def test_reference_urls_and_codes_are_valid():
    call_command("load_reference_data", verbosity=0)
    for obj in [*Agreement.objects.all(), *Municipality.objects.all(), *Commitment.objects.all()]:
        obj.full_clean()


def test_default_contributing_factors_are_a_two_level_taxonomy():
    call_command("load_reference_data", verbosity=0)
    mains = {f.name: f for f in ContributingFactor.objects.filter(parent=None)}
    assert {
        "Informationsöverföring",
        "Otydligt ansvar",
        "Tillgänglighet",
        "Kompetens och kunskap",
        "Rutiner",
    } <= set(mains)
    assert mains["Informationsöverföring"].children.filter(name="Informationen kom för sent").exists()
    assert not ContributingFactor.objects.filter(parent__parent__isnull=False).exists()
    assert ContributingFactor.objects.selectable().count() == ContributingFactor.objects.count()
