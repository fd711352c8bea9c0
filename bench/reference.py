"""Reference data for the generator: the product's own (``manage.py load_reference_data``, i.e.
``agreements/reference_data.py``: the region, municipalities, districts, agreements, categories and
councils) plus what only the bench needs: populations that weight where reports happen, and
organisations (the product ships none; ``seed_demo`` makes the demo ones).

``ensure_reference_data()`` is idempotent (get_or_create by natural key).
"""

from django.core.management import call_command
from django.db import transaction

#: Rounded populations in thousands by official municipality code (Statistics Sweden): they weight
#: where reports happen. Municipalities not listed weigh as 20.
POPULATION = {
    "0114": 48,  # Upplands Väsby
    "0115": 35,  # Vallentuna
    "0117": 47,  # Österåker
    "0120": 46,  # Värmdö
    "0123": 85,  # Järfälla
    "0125": 29,  # Ekerö
    "0126": 115,  # Huddinge
    "0127": 97,  # Botkyrka
    "0128": 17,  # Salem
    "0136": 97,  # Haninge
    "0138": 49,  # Tyresö
    "0139": 31,  # Upplands-Bro
    "0140": 11,  # Nykvarn
    "0160": 74,  # Täby
    "0162": 33,  # Danderyd
    "0163": 76,  # Sollentuna
    "0180": 984,  # Stockholm
    "0181": 101,  # Södertälje
    "0182": 108,  # Nacka
    "0183": 55,  # Sundbyberg
    "0184": 85,  # Solna
    "0186": 48,  # Lidingö
    "0187": 12,  # Vaxholm
    "0188": 64,  # Norrtälje
    "0191": 51,  # Sigtuna
    "0192": 29,  # Nynäshamn
}
DEFAULT_POPULATION = 20

#: The region's organisations of the bench: (name, kind).
REGION_ORGANIZATIONS = [
    ("Beroendecentrum Stockholm", "addiction_care"),
    ("Beroendeakuten (BAS)", "addiction_care"),
    ("Psykiatri Södra Stockholm", "psychiatry"),
    ("Norra Stockholms psykiatri", "psychiatry"),
    ("Psykiatri Nordväst", "psychiatry"),
    ("Psykiatri Sydväst", "psychiatry"),
    ("Södertälje psykiatri", "psychiatry"),
    ("Norrtälje psykiatri", "psychiatry"),
    ("Akutsjukhus (somatisk slutenvård)", "other"),
    ("Primärvården Region Stockholm", "primary_care"),
    ("Spelberoendemottagningen", "addiction_care"),
]


def ensure_reference_data() -> str:
    """Load the product's reference data and the bench's organisations; returns how it was done."""
    call_command("load_reference_data", verbosity=0)
    _create_organizations()
    return "manage.py load_reference_data + bench organisations"


def _slug(text: str) -> str:
    table = str.maketrans("åäöéÅÄÖÉ", "aaoeaaoe")
    return "".join(ch if ch.isalnum() else "-" for ch in text.translate(table).lower()).strip("-")[:40]


@transaction.atomic
def _create_organizations() -> None:
    """Region organisations, and per municipality its social services (one per district where it has
    districts) and care administration, named after the places of the reference data."""
    from agreements.models import EmailDomain, Organization
    from agreements.reference_data import REGION
    from councils.models import Municipality, Region

    def organization(name, kind, **principal):
        org, _ = Organization.objects.get_or_create(
            name=name,
            defaults={"kind": kind, "contact_email": f"yttrande@{_slug(name)}.example.se", **principal},
        )
        EmailDomain.objects.get_or_create(organization=org, domain=f"{_slug(name)}.example.se")
        return org

    region = Region.objects.get(code=REGION["code"])
    for name, kind in REGION_ORGANIZATIONS:
        organization(name, kind, principal_region=region)
    for municipality in Municipality.objects.filter(region=region).prefetch_related("districts"):
        districts = [d.name for d in municipality.districts.all() if d.active]
        for place in districts or [municipality.name]:
            organization(f"Socialtjänsten {place}", "social_services", principal_municipality=municipality)
        organization(
            f"Vård- och omsorgsförvaltningen {municipality.name}",
            "care_administration",
            principal_municipality=municipality,
        )
