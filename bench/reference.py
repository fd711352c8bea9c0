"""Reference data the generator needs: the region, the 26 municipalities of Stockholm county, Stockholm
city's districts, the four agreements, commitments, categories, example councils and organisations.

``ensure_reference_data()`` prefers the project's own ``manage.py load_reference_data`` when the command
exists; otherwise it creates a minimal equivalent itself, idempotently (get_or_create by natural key).
"""

import datetime

from django.core.management import call_command, get_commands
from django.db import transaction

REGION = ("Region Stockholm", "01")

# Official municipality codes and (rounded) populations in thousands: the populations weight where
# reports happen.
MUNICIPALITIES = [
    ("Botkyrka", "0127", 97),
    ("Danderyd", "0162", 33),
    ("Ekerö", "0125", 29),
    ("Haninge", "0136", 97),
    ("Huddinge", "0126", 115),
    ("Järfälla", "0123", 85),
    ("Lidingö", "0186", 48),
    ("Nacka", "0182", 108),
    ("Norrtälje", "0188", 64),
    ("Nykvarn", "0140", 11),
    ("Nynäshamn", "0192", 29),
    ("Salem", "0128", 17),
    ("Sigtuna", "0191", 51),
    ("Sollentuna", "0163", 76),
    ("Solna", "0184", 85),
    ("Stockholm", "0180", 984),
    ("Sundbyberg", "0183", 55),
    ("Södertälje", "0181", 101),
    ("Tyresö", "0138", 49),
    ("Täby", "0160", 74),
    ("Upplands-Bro", "0139", 31),
    ("Upplands Väsby", "0114", 48),
    ("Vallentuna", "0115", 35),
    ("Vaxholm", "0187", 12),
    ("Värmdö", "0120", 46),
    ("Österåker", "0117", 47),
]
POPULATION = {name: pop for name, _code, pop in MUNICIPALITIES}

STOCKHOLM_DISTRICTS = [
    "Bromma",
    "Enskede-Gårdarna-Vantör",
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

AGREEMENTS = [
    # code, name, short name, parties, order
    (
        "PSYK",
        "Samverkan kring vuxna med psykisk sjukdom eller funktionsnedsättning",
        "Psykiatri",
        "municipalities_region",
        1,
    ),
    ("MISSBRUK", "Samverkan kring personer med missbruk/beroende", "Missbruk", "municipalities_region", 2),
    (
        "SPEL",
        "Tilläggsöverenskommelse: personer med missbruk/beroende av spel om pengar",
        "Spel",
        "municipalities_region",
        3,
    ),
    ("HEMLÖSHET", "Ärendeansvar för personer i hemlöshet", "Hemlöshet", "municipalities", 4),
]

COMMITMENTS = [
    "Samordnade individuella planer (SIP) upprättas när behov finns",
    "Samordning och ansvarsfördelning utvecklas kontinuerligt",
    "God tillgänglighet för den enskilde",
    "Information överförs vid in- och utskrivning",
    "Gemensamma rutiner är kända i verksamheterna",
]

CATEGORIES = [
    # name, agreements it applies to (None: all that include the region)
    ("Utskrivning från slutenvård utan information", None),
    ("SIP kallades inte eller genomfördes inte", None),
    ("Oklart huvudmannaskap / ansvarsfördelning", None),
    ("Nekad vård eller insats i väntan på nykterhet", ("MISSBRUK", "PSYK")),
    ("Bristande tillgänglighet", None),
    ("Bristande informationsöverföring", None),
    ("Läkemedelshantering vid övergång", ("PSYK", "MISSBRUK")),
    ("Remiss besvarades inte", None),
    ("Tvist om vilken kommun som ansvarar", ("HEMLÖSHET",)),
    ("Boende saknas vid utskrivning", ("HEMLÖSHET", "PSYK", "MISSBRUK")),
    ("Spelproblem uppmärksammades inte", ("SPEL",)),
    ("Annat", None),
]

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

# Example grouping of local councils (the real one is data maintained in admin).
LOCAL_COUNCILS = [
    (
        "Lokalt samråd Nordost (exempel)",
        ["Danderyd", "Lidingö", "Täby", "Vallentuna", "Vaxholm", "Österåker", "Norrtälje"],
        [],
    ),
    (
        "Lokalt samråd Nordväst (exempel)",
        [
            "Järfälla",
            "Sollentuna",
            "Sundbyberg",
            "Solna",
            "Upplands-Bro",
            "Upplands Väsby",
            "Sigtuna",
            "Ekerö",
        ],
        [],
    ),
    (
        "Lokalt samråd Södertörn (exempel)",
        ["Botkyrka", "Haninge", "Huddinge", "Nynäshamn", "Salem", "Tyresö"],
        [],
    ),
    ("Lokalt samråd Södertälje–Nykvarn (exempel)", ["Södertälje", "Nykvarn"], []),
    ("Lokalt samråd Nacka–Värmdö (exempel)", ["Nacka", "Värmdö"], []),
    (
        "Lokalt samråd Stockholm Västerort (exempel)",
        [],
        ["Bromma", "Hässelby-Vällingby", "Rinkeby-Kista", "Spånga-Tensta"],
    ),
    (
        "Lokalt samråd Stockholm Innerstaden (exempel)",
        [],
        ["Kungsholmen", "Norrmalm", "Södermalm", "Östermalm"],
    ),
    (
        "Lokalt samråd Stockholm Söderort (exempel)",
        [],
        ["Enskede-Gårdarna-Vantör", "Farsta", "Hägersten-Älvsjö", "Skarpnäck", "Skärholmen"],
    ),
]
REGIONAL_COUNCIL = "Regionala samrådet"


def ensure_reference_data(stdout=print) -> str:
    """Load reference data; returns how it was done."""
    if "load_reference_data" in get_commands():
        from councils.models import Municipality, Region

        call_command("load_reference_data")
        _create_organizations(
            Region.objects.get(code=REGION[1]), {m.name: m for m in Municipality.objects.all()}
        )
        return "manage.py load_reference_data + bench organisations"
    _create_minimal_reference_data()
    return "bench.reference fallback (load_reference_data not on this branch)"


@transaction.atomic
def _create_minimal_reference_data() -> None:
    from agreements.models import Agreement, Commitment, DeviationCategory
    from councils.models import Council, District, Municipality, Region

    region, _ = Region.objects.get_or_create(code=REGION[1], defaults={"name": REGION[0]})
    municipalities = {}
    for name, code, _pop in MUNICIPALITIES:
        municipalities[name], _ = Municipality.objects.get_or_create(
            code=code, defaults={"name": name, "region": region}
        )
    districts = {}
    for name in STOCKHOLM_DISTRICTS:
        districts[name], _ = District.objects.get_or_create(
            municipality=municipalities["Stockholm"], name=name
        )

    agreements = {}
    for code, name, short, parties, order in AGREEMENTS:
        agreements[code], _ = Agreement.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "short_name": short,
                "parties": parties,
                "order": order,
                "valid_from": datetime.date(2014, 1, 1),
            },
        )
        for number, title in enumerate(COMMITMENTS, start=1):
            Commitment.objects.get_or_create(
                agreement=agreements[code], number=number, defaults={"title": title}
            )
    for order, (name, codes) in enumerate(CATEGORIES, start=1):
        category, created = DeviationCategory.objects.get_or_create(name=name, defaults={"order": order})
        if created:
            if codes is None:
                codes = [c for c, *_rest in AGREEMENTS if c != "HEMLÖSHET"] + (
                    ["HEMLÖSHET"] if name == "Annat" else []
                )
            category.agreements.set([agreements[c] for c in codes])

    _create_organizations(region, municipalities)

    regional, _ = Council.objects.get_or_create(
        name=REGIONAL_COUNCIL,
        defaults={"level": Council.Level.REGIONAL, "email": "regionala.samradet@example.se"},
    )
    for name, municipality_names, district_names in LOCAL_COUNCILS:
        council, created = Council.objects.get_or_create(
            name=name,
            defaults={"level": Council.Level.LOCAL, "is_example": True, "email": f"{_slug(name)}@example.se"},
        )
        if created:
            council.municipalities.set([municipalities[m] for m in municipality_names])
            council.districts.set([districts[d] for d in district_names])


def _slug(text: str) -> str:
    table = str.maketrans("åäöéÅÄÖÉ", "aaoeaaoe")
    return "".join(ch if ch.isalnum() else "-" for ch in text.translate(table).lower()).strip("-")[:40]


@transaction.atomic
def _create_organizations(region, municipalities) -> None:
    """The bench's organisations: the reference data has none (``seed_demo`` makes the demo ones)."""
    from agreements.models import EmailDomain, Organization

    def organization(name, kind, **principal):
        org, _ = Organization.objects.get_or_create(
            name=name,
            defaults={"kind": kind, "contact_email": f"yttrande@{_slug(name)}.example.se", **principal},
        )
        EmailDomain.objects.get_or_create(organization=org, domain=f"{_slug(name)}.example.se")
        return org

    for name, kind in REGION_ORGANIZATIONS:
        organization(name, kind, principal_region=region)
    for name, municipality in municipalities.items():
        if name == "Stockholm":
            for district in STOCKHOLM_DISTRICTS:
                organization(
                    f"Socialtjänsten {district}", "social_services", principal_municipality=municipality
                )
        else:
            organization(f"Socialtjänsten {name}", "social_services", principal_municipality=municipality)
        organization(
            f"Vård- och omsorgsförvaltningen {name}",
            "care_administration",
            principal_municipality=municipality,
        )
