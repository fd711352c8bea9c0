"""Demo data for development: organisations, one user per role and a few thousand realistic reports.

Used by ``manage.py seed_demo`` (which refuses to run unless DEBUG is on). factory-boy is a dev
dependency, so this module is only imported by that command. Reports are built in memory with the
factories below and written with ``bulk_create``; every report gets a consistent event history.
Texts describe collaboration failures, never a person: no names, no personal identity numbers.
"""

import datetime
import random
import zoneinfo
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import factory
import factory.random
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from factory.django import DjangoModelFactory

from agreements import reference_data as ref
from agreements.models import (
    Agreement,
    Commitment,
    ContributingFactor,
    DeviationCategory,
    EmailDomain,
    Organization,
)
from councils.models import Council, CouncilMembership, District, Municipality, Region, User
from deviations import summary
from deviations.models import (
    Deviation,
    DeviationEvent,
    ReferenceCounter,
    ResponseRequest,
    SystemicAction,
    SystemicIssue,
    YesNoUnknown,
)
from deviations.services.responses import sync_response_summaries
from deviations.services.routing import council_for_place
from deviations.workflow import RejectReason, Status

#: The one password of every demo account (development only; printed by seed_demo).
DEMO_PASSWORD = "samverkan-demo-2026"

K = Organization.Kind

# name, kind, principal (municipality code or "region"), e-mail domains, contact e-mail
ORGANIZATIONS: list[tuple[str, str, str, list[str], str]] = [
    (
        "Socialtjänsten Spånga-Tensta",
        K.SOCIAL_SERVICES,
        "0180",
        ["stockholm.se"],
        "socialtjanst.spanga-tensta@stockholm.se",
    ),
    (
        "Socialtjänsten Rinkeby-Kista",
        K.SOCIAL_SERVICES,
        "0180",
        ["stockholm.se"],
        "socialtjanst.rinkeby-kista@stockholm.se",
    ),
    (
        "Socialtjänsten Skärholmen",
        K.SOCIAL_SERVICES,
        "0180",
        ["stockholm.se"],
        "socialtjanst.skarholmen@stockholm.se",
    ),
    (
        "Socialtjänsten Hägersten-Älvsjö",
        K.SOCIAL_SERVICES,
        "0180",
        ["stockholm.se"],
        "socialtjanst.hagersten-alvsjo@stockholm.se",
    ),
    (
        "Socialtjänsten Södermalm",
        K.SOCIAL_SERVICES,
        "0180",
        ["stockholm.se"],
        "socialtjanst.sodermalm@stockholm.se",
    ),
    (
        "Socialtjänsten Farsta",
        K.SOCIAL_SERVICES,
        "0180",
        ["stockholm.se"],
        "socialtjanst.farsta@stockholm.se",
    ),
    (
        "Socialförvaltningen Stockholms stad",
        K.SOCIAL_SERVICES,
        "0180",
        ["stockholm.se"],
        "socialforvaltningen@stockholm.se",
    ),
    ("Socialtjänsten Huddinge", K.SOCIAL_SERVICES, "0126", ["huddinge.se"], "socialtjansten@huddinge.se"),
    ("Socialtjänsten Botkyrka", K.SOCIAL_SERVICES, "0127", ["botkyrka.se"], "socialtjansten@botkyrka.se"),
    (
        "Socialtjänsten Södertälje",
        K.SOCIAL_SERVICES,
        "0181",
        ["sodertalje.se"],
        "socialtjansten@sodertalje.se",
    ),
    ("Socialtjänsten Haninge", K.SOCIAL_SERVICES, "0136", ["haninge.se"], "socialtjansten@haninge.se"),
    ("Socialtjänsten Järfälla", K.SOCIAL_SERVICES, "0123", ["jarfalla.se"], "socialtjansten@jarfalla.se"),
    ("Socialtjänsten Solna", K.SOCIAL_SERVICES, "0184", ["solna.se"], "socialtjansten@solna.se"),
    ("Socialtjänsten Nacka", K.SOCIAL_SERVICES, "0182", ["nacka.se"], "socialtjansten@nacka.se"),
    ("Socialtjänsten Täby", K.SOCIAL_SERVICES, "0160", ["taby.se"], "socialtjansten@taby.se"),
    ("Socialtjänsten Norrtälje", K.SOCIAL_SERVICES, "0188", ["norrtalje.se"], "socialtjansten@norrtalje.se"),
    (
        "Vård- och omsorgsförvaltningen Sollentuna",
        K.CARE_ADMINISTRATION,
        "0163",
        ["sollentuna.se"],
        "vard.omsorg@sollentuna.se",
    ),
    (
        "Beroendecentrum Stockholm",
        K.ADDICTION_CARE,
        "region",
        ["regionstockholm.se"],
        "beroendecentrum.yttranden@regionstockholm.se",
    ),
    (
        "Psykiatri Södra Stockholm",
        K.PSYCHIATRY,
        "region",
        ["regionstockholm.se"],
        "psykiatri.sodra.yttranden@regionstockholm.se",
    ),
    (
        "Psykiatri Nordväst",
        K.PSYCHIATRY,
        "region",
        ["regionstockholm.se"],
        "psykiatri.nordvast.yttranden@regionstockholm.se",
    ),
    (
        "Norra Stockholms psykiatri",
        K.PSYCHIATRY,
        "region",
        ["regionstockholm.se"],
        "norra.psykiatri.yttranden@regionstockholm.se",
    ),
    (
        "Psykiatri Sydväst",
        K.PSYCHIATRY,
        "region",
        ["regionstockholm.se"],
        "psykiatri.sydvast.yttranden@regionstockholm.se",
    ),
    (
        "Beroendevården Södertälje",
        K.ADDICTION_CARE,
        "region",
        ["regionstockholm.se"],
        "beroende.sodertalje@regionstockholm.se",
    ),
    (
        "Vårdcentral Tensta",
        K.PRIMARY_CARE,
        "region",
        ["regionstockholm.se"],
        "vardcentral.tensta@regionstockholm.se",
    ),
    (
        "Vårdcentral Skärholmen",
        K.PRIMARY_CARE,
        "region",
        ["regionstockholm.se"],
        "vardcentral.skarholmen@regionstockholm.se",
    ),
    (
        "Beroendemottagning Söder (privat vårdgivare)",
        K.PRIVATE_PROVIDER,
        "region",
        ["beroendemottagningsoder.example"],
        "yttranden@beroendemottagningsoder.example",
    ),
]

# Where each municipal organisation works (district name or municipality code) and which Region
# organisations it mostly deals with, most frequent first: the skew of the demo data.
MUNICIPAL_AREA = {
    "Socialtjänsten Spånga-Tensta": ("0180", "Spånga-Tensta"),
    "Socialtjänsten Rinkeby-Kista": ("0180", "Rinkeby-Kista"),
    "Socialtjänsten Skärholmen": ("0180", "Skärholmen"),
    "Socialtjänsten Hägersten-Älvsjö": ("0180", "Hägersten-Älvsjö"),
    "Socialtjänsten Södermalm": ("0180", "Södermalm"),
    "Socialtjänsten Farsta": ("0180", "Farsta"),
    "Socialförvaltningen Stockholms stad": ("0180", None),
    "Socialtjänsten Huddinge": ("0126", None),
    "Socialtjänsten Botkyrka": ("0127", None),
    "Socialtjänsten Södertälje": ("0181", None),
    "Socialtjänsten Haninge": ("0136", None),
    "Socialtjänsten Järfälla": ("0123", None),
    "Socialtjänsten Solna": ("0184", None),
    "Socialtjänsten Nacka": ("0182", None),
    "Socialtjänsten Täby": ("0160", None),
    "Socialtjänsten Norrtälje": ("0188", None),
    "Vård- och omsorgsförvaltningen Sollentuna": ("0163", None),
}
MUNICIPAL_WEIGHTS = {
    "Socialtjänsten Spånga-Tensta": 16,
    "Socialtjänsten Rinkeby-Kista": 12,
    "Socialtjänsten Skärholmen": 10,
    "Socialtjänsten Hägersten-Älvsjö": 7,
    "Socialtjänsten Södermalm": 7,
    "Socialtjänsten Farsta": 5,
    "Socialförvaltningen Stockholms stad": 3,
    "Socialtjänsten Huddinge": 8,
    "Socialtjänsten Botkyrka": 7,
    "Socialtjänsten Södertälje": 6,
    "Socialtjänsten Haninge": 4,
    "Socialtjänsten Järfälla": 4,
    "Socialtjänsten Solna": 3,
    "Socialtjänsten Nacka": 3,
    "Socialtjänsten Täby": 2,
    "Socialtjänsten Norrtälje": 2,
    "Vård- och omsorgsförvaltningen Sollentuna": 1,
}
NORTH_WEST = {"Psykiatri Nordväst": 6, "Beroendecentrum Stockholm": 5, "Vårdcentral Tensta": 1}
SOUTH = {"Psykiatri Södra Stockholm": 6, "Beroendecentrum Stockholm": 5, "Vårdcentral Skärholmen": 1}
SOUTH_WEST = {"Psykiatri Sydväst": 5, "Beroendecentrum Stockholm": 4, "Beroendevården Södertälje": 2}
NORTH = {"Norra Stockholms psykiatri": 5, "Beroendecentrum Stockholm": 4}
REGION_PARTNERS = {
    "Socialtjänsten Spånga-Tensta": NORTH_WEST,
    "Socialtjänsten Rinkeby-Kista": NORTH_WEST,
    "Socialtjänsten Skärholmen": {**SOUTH_WEST, "Vårdcentral Skärholmen": 1},
    "Socialtjänsten Hägersten-Älvsjö": SOUTH_WEST,
    "Socialtjänsten Södermalm": {**SOUTH, "Beroendemottagning Söder (privat vårdgivare)": 2},
    "Socialtjänsten Farsta": SOUTH,
    "Socialförvaltningen Stockholms stad": {"Beroendecentrum Stockholm": 3, "Psykiatri Södra Stockholm": 1},
    "Socialtjänsten Huddinge": SOUTH,
    "Socialtjänsten Botkyrka": SOUTH_WEST,
    "Socialtjänsten Södertälje": {"Beroendevården Södertälje": 5, "Psykiatri Sydväst": 3},
    "Socialtjänsten Haninge": SOUTH,
    "Socialtjänsten Järfälla": NORTH_WEST,
    "Socialtjänsten Solna": NORTH,
    "Socialtjänsten Nacka": {**SOUTH, "Beroendemottagning Söder (privat vårdgivare)": 1},
    "Socialtjänsten Täby": NORTH,
    "Socialtjänsten Norrtälje": NORTH,
    "Vård- och omsorgsförvaltningen Sollentuna": NORTH_WEST,
}

AGREEMENT_WEIGHTS = {"MISSBRUK": 42, "PSYK": 38, "HEMLÖSHET": 13, "SPEL": 7}
CATEGORY_WEIGHTS = {
    "PSYK": {
        ref.CATEGORY_DISCHARGE: 34,
        ref.CATEGORY_SIP: 24,
        ref.CATEGORY_SOBER: 14,
        ref.CATEGORY_RESPONSIBILITY: 9,
        ref.CATEGORY_REFERRAL: 8,
        ref.CATEGORY_ACCESSIBILITY: 7,
        ref.CATEGORY_OTHER: 4,
    },
    "MISSBRUK": {
        ref.CATEGORY_DISCHARGE: 30,
        ref.CATEGORY_SIP: 22,
        ref.CATEGORY_SOBER: 16,
        ref.CATEGORY_RESPONSIBILITY: 12,
        ref.CATEGORY_ACCESSIBILITY: 9,
        ref.CATEGORY_REFERRAL: 7,
        ref.CATEGORY_OTHER: 4,
    },
    "SPEL": {
        ref.CATEGORY_RESPONSIBILITY: 30,
        ref.CATEGORY_ACCESSIBILITY: 25,
        ref.CATEGORY_REFERRAL: 20,
        ref.CATEGORY_SIP: 15,
        ref.CATEGORY_DISCHARGE: 5,
        ref.CATEGORY_OTHER: 5,
    },
    "HEMLÖSHET": {ref.CATEGORY_HOMELESS: 70, ref.CATEGORY_RESPONSIBILITY: 22, ref.CATEGORY_OTHER: 8},
}
# Which commitment (by its number in reference_data) a category usually concerns, per agreement.
COMMITMENT_FOR = {
    ("PSYK", ref.CATEGORY_SIP): 1,
    ("PSYK", ref.CATEGORY_RESPONSIBILITY): 2,
    ("PSYK", ref.CATEGORY_DISCHARGE): 3,
    ("PSYK", ref.CATEGORY_ACCESSIBILITY): 4,
    ("PSYK", ref.CATEGORY_REFERRAL): 4,
    ("PSYK", ref.CATEGORY_SOBER): 5,
    ("MISSBRUK", ref.CATEGORY_SIP): 1,
    ("MISSBRUK", ref.CATEGORY_RESPONSIBILITY): 2,
    ("MISSBRUK", ref.CATEGORY_ACCESSIBILITY): 3,
    ("MISSBRUK", ref.CATEGORY_REFERRAL): 3,
    ("MISSBRUK", ref.CATEGORY_SOBER): 5,
    ("MISSBRUK", ref.CATEGORY_DISCHARGE): 6,
    ("SPEL", ref.CATEGORY_RESPONSIBILITY): 1,
    ("SPEL", ref.CATEGORY_SIP): 2,
    ("SPEL", ref.CATEGORY_ACCESSIBILITY): 3,
    ("SPEL", ref.CATEGORY_REFERRAL): 3,
    ("HEMLÖSHET", ref.CATEGORY_HOMELESS): 1,
    ("HEMLÖSHET", ref.CATEGORY_RESPONSIBILITY): 4,
}

# --- Texts -------------------------------------------------------------------------------------------
# {other} is the counterpart organisation. No names, no dates of birth, no identity numbers.

DESCRIPTIONS = {
    ref.CATEGORY_DISCHARGE: [
        "Personen skrevs ut från slutenvården hos {other} utan att socialtjänsten fick något "
        "utskrivningsmeddelande. Vi fick kännedom om utskrivningen först när personen sökte upp "
        "mottagningen två dagar senare.",
        "Inskrivningsmeddelande kom aldrig till socialtjänsten och utskrivningen skedde en fredag "
        "eftermiddag. Boende och stöd i hemmet var inte planerade.",
        "Utskrivningsmeddelandet kom samma dag som personen skrevs ut från {other}, vilket inte gav "
        "tid att ordna boende eller planera insatser.",
        "Personen skrevs ut direkt till gatan trots att vården visste att personen saknade bostad. "
        "Socialtjänsten kontaktades inte inför utskrivningen.",
        "Information om läkemedel och fortsatt behandling följde inte med vid utskrivningen, och "
        "boendestödet kunde inte ge rätt stöd de första dagarna.",
    ],
    ref.CATEGORY_SIP: [
        "Socialtjänsten kallade till SIP men {other} deltog inte och meddelade inte förhinder. "
        "Mötet fick ställas in.",
        "Vi begärde en SIP för tre veckor sedan. {other} har inte svarat på kallelsen trots påminnelser.",
        "En SIP upprättades men de insatser {other} åtog sig i planen har inte påbörjats och ingen "
        "uppföljning har skett.",
        "Behovet av SIP var tydligt vid utskrivningen men ingen av parterna tog initiativ till att "
        "kalla, och personen blev utan samordnade insatser.",
        "SIP-mötet genomfördes utan att den som ansvarar för behandlingen hos {other} deltog, så ingen "
        "ansvarsfördelning kunde göras.",
    ],
    ref.CATEGORY_SOBER: [
        "{other} avböjde psykiatrisk bedömning med hänvisning till att personen var påverkad och bad "
        "oss återkomma när personen varit drogfri en period.",
        "Personen nekades fortsatt kontakt hos {other} med motiveringen att missbruket först måste "
        "behandlas, trots att beroendevården bedömt att behandlingen behöver ske samtidigt.",
        "Beroendevården hänvisade till psykiatrin och psykiatrin hänvisade tillbaka till "
        "beroendevården. Ingen av dem tog emot personen.",
        "Remiss till {other} avvisades eftersom personen hade ett pågående missbruk. Samsjukligheten "
        "var känd sedan tidigare.",
    ],
    ref.CATEGORY_RESPONSIBILITY: [
        "Oenighet med {other} om vem som ska bekosta behandlingsplatsen. Placeringen har skjutits upp "
        "i väntan på besked.",
        "{other} menar att insatsen är socialtjänstens ansvar medan vi bedömer att den är hälso- och "
        "sjukvård. Under tiden får personen ingen insats.",
        "Ansvaret för uppföljning efter avslutad behandling var oklart och ingen part tog kontakt med "
        "personen efter utskrivningen.",
        "Parterna är oeniga om vem som ska ordna och bekosta provtagning enligt den gemensamma planen.",
    ],
    ref.CATEGORY_REFERRAL: [
        "Remiss skickades till {other} för sex veckor sedan utan att vi fått någon bekräftelse eller "
        "något svar.",
        "{other} avvisade remissen utan att hänvisa till någon annan vårdgivare.",
        "Vår förfrågan om samarbete kring en gemensam insats har inte besvarats trots två påminnelser.",
    ],
    ref.CATEGORY_ACCESSIBILITY: [
        "Det gick inte att nå {other} per telefon under flera dagar och meddelanden besvarades inte.",
        "Väntetiden till första besök hos {other} var över två månader trots att behovet bedömdes som "
        "brådskande.",
        "Mottagningen hos {other} var stängd under sommaren och ingen ersättande kontakt anvisades.",
        "Personen fick ingen tid för uppföljning efter akutbesöket och föll mellan stolarna.",
    ],
    ref.CATEGORY_HOMELESS: [
        "{other} bestrider ärendeansvaret för en person i hemlöshet trots att personen senast var "
        "folkbokförd och hade sina insatser där.",
        "Ansökan om stöd skickades vidare mellan kommunerna i flera veckor innan någon tog "
        "ärendeansvaret. Personen var under tiden utan boende.",
        "Vi fick ingen överlämning från {other} när ärendeansvaret flyttades, och pågående insatser avbröts.",
        "Oenighet om ärendeansvaret ledde till att akut boende inte kunde ordnas samma dag.",
    ],
    ref.CATEGORY_OTHER: [
        "Överenskommen rutin för kontakt mellan verksamheterna följdes inte, vilket försenade planeringen.",
        "Journalinformation som behövdes för planeringen lämnades inte ut trots samtycke.",
        "Ett planerat gemensamt hembesök med {other} ställdes in utan förvarning.",
    ],
}
# Reports from the Region's side about social services, for the categories where that happens.
REGION_DESCRIPTIONS = {
    ref.CATEGORY_SIP: [
        "Psykiatrin kallade till SIP inför utskrivningen men {other} deltog inte och skickade ingen "
        "ersättare.",
        "{other} har inte genomfört de insatser som socialtjänsten åtog sig i den samordnade planen.",
    ],
    ref.CATEGORY_RESPONSIBILITY: [
        "Personen är utskrivningsklar sedan två veckor men {other} har inte ordnat boende, så personen "
        "blir kvar i slutenvården.",
        "{other} anser att boendestöd efter utskrivningen är hälso- och sjukvårdens ansvar. Ingen "
        "insats har kommit i gång.",
    ],
    ref.CATEGORY_REFERRAL: [
        "Vår anmälan om behov av stöd till {other} har inte besvarats trots påminnelser.",
    ],
    ref.CATEGORY_OTHER: [
        "Överenskommen rutin för kontakt inför utskrivning följdes inte av {other}, vilket försenade "
        "planeringen.",
    ],
}
CONSEQUENCES = [
    "Personen var utan boende i flera nätter.",
    "Personen återföll i missbruk innan insatser hann komma på plats.",
    "Behandlingen försenades med flera veckor.",
    "Personen fick inga läkemedel under de första dagarna efter utskrivningen.",
    "Personen sökte akutvård igen inom en vecka.",
    "Planerade insatser kunde inte starta och personen avbröt kontakten.",
    "Risk för allvarlig försämring; ingen vårdkontakt på flera veckor.",
    "Personen fick upprepa sin berättelse för flera verksamheter och tappade förtroendet.",
]
ACTIONS_TAKEN = [
    "",
    "",
    "Vi kontaktade enhetschefen hos motparten per telefon.",
    "Akut boende ordnades tillfälligt.",
    "Vi påminde om kallelsen skriftligt.",
    "Ärendet lyftes på nästa möte i det lokala samrådet.",
]
SUGGESTIONS = [
    "",
    "Gemensam rutin för utskrivningsmeddelanden även helger.",
    "Tydligare kontaktvägar mellan verksamheterna, t.ex. en funktionsbrevlåda.",
    "Regelbundna avstämningar mellan socialtjänst och psykiatri om gemensamma ärenden.",
    "Förtydliga ansvarsfördelningen i överenskommelsen för personer med samsjuklighet.",
    "Utbildning om SIP för nyanställda i båda verksamheterna.",
]
FEEDBACK = [
    "Motparten har sett över sin rutin för utskrivningsmeddelanden och påmint personalen om den.",
    "Frågan har diskuterats i det lokala samrådet och en gemensam kontaktväg är införd.",
    "Motparten bekräftar bristen och har infört en ny rutin för kallelser till SIP.",
    "Ansvarsfrågan är utredd och parterna är överens om hur liknande situationer ska hanteras.",
    "Bristen ingår i en systemfråga som följs upp i det regionala samrådet.",
    "Verksamheterna har haft ett gemensamt möte och kommit överens om förbättringar.",
]
LOCAL_RESOLUTIONS = [
    "Enhetscheferna har haft ett möte och kommit överens om en kontaktperson i varje verksamhet.",
    "Motparten har åtgärdat bristen i sin rutin.",
    "Parterna har enats om hur ansvaret fördelas framöver.",
]
ESCALATION_REASONS = [
    "Återkommande brist som rör flera lokala samråd.",
    "Frågan kräver ett länsgemensamt beslut om ansvarsfördelning.",
    "Utanför det lokala samrådets mandat.",
]
REJECT_TEXTS = {
    RejectReason.NOT_A_DEVIATION: "Händelsen gäller en enskild verksamhets interna rutin och inte "
    "samverkan mellan huvudmännen. Den bör hanteras i verksamhetens egen avvikelsehantering.",
    RejectReason.BELONGS_TO_BUS: "Rapporten gäller ett barn och ska hanteras i BUS-processen.",
    RejectReason.PERSONAL_DATA: "Rapporten innehöll uppgifter som kan identifiera en person och har "
    "avvisats. Skicka gärna in den igen utan sådana uppgifter.",
}
ANSWERS = [
    (
        "Utskrivningen skedde akut och meddelandet registrerades inte i tid.",
        "Vi har gått igenom rutinen med personalgruppen och infört kontroll vid varje utskrivning.",
    ),
    (
        "Kallelsen kom inte fram till rätt mottagning.",
        "Kallelser till SIP tas nu emot i en gemensam funktionsbrevlåda.",
    ),
    (
        "Vi bedömde att personen inte var tillgänglig för behandling vid tillfället.",
        "Vi har sett över hur vi bedömer samsjuklighet och tar kontakt med socialtjänsten vid avslag.",
    ),
]
SYSTEMIC_ISSUES = [
    (
        "Utskrivningsmeddelanden når inte socialtjänsten vid helgutskrivningar",
        "Återkommande rapporter från flera lokala samråd om att socialtjänsten inte får meddelande när "
        "personer skrivs ut från slutenvården under helger.",
        ["PSYK", "MISSBRUK"],
        ref.CATEGORY_DISCHARGE,
    ),
    (
        "Personer med samsjuklighet nekas psykiatrisk bedömning vid pågående missbruk",
        "Rapporter visar att personer hänvisas mellan psykiatri och beroendevård utan att någon tar "
        "emot dem.",
        ["PSYK", "MISSBRUK"],
        ref.CATEGORY_SOBER,
    ),
    (
        "SIP-kallelser från socialtjänsten besvaras inte",
        "Kallelser till samordnad individuell plan blir obesvarade eller mötena genomförs utan rätt "
        "deltagare.",
        ["PSYK", "MISSBRUK", "SPEL"],
        ref.CATEGORY_SIP,
    ),
    (
        "Oklart ärendeansvar för personer i hemlöshet som flyttar mellan kommuner",
        "Kommunerna tolkar överenskommelsen olika när personen har vistats i flera kommuner.",
        ["HEMLÖSHET"],
        ref.CATEGORY_HOMELESS,
    ),
]


# --- Factories -----------------------------------------------------------------------------------------


def _pick(options):
    return factory.random.randgen.choice(options)


DEMO_SEVERITIES = ["none", "moderate", "moderate", "serious", "serious", "very_serious", "unknown"]


class DemoDeviationFactory(DjangoModelFactory):
    """A report with texts fitting its category. Built (not saved) and written with bulk_create."""

    class Meta:
        model = Deviation

    class Params:
        other = "motparten"
        region_side = False  # reported by the Region about social services

    description = factory.LazyAttribute(
        lambda o: _pick((REGION_DESCRIPTIONS if o.region_side else DESCRIPTIONS)[o.category.name]).format(
            other=o.other
        )
    )
    consequence = factory.LazyFunction(lambda: _pick(CONSEQUENCES))
    actions_taken = factory.LazyFunction(lambda: _pick(ACTIONS_TAKEN))
    suggested_improvement = factory.LazyFunction(lambda: _pick(SUGGESTIONS))
    sip_involved = factory.LazyAttribute(
        lambda o: (
            YesNoUnknown.YES
            if o.category.name == ref.CATEGORY_SIP
            else _pick([YesNoUnknown.NO, YesNoUnknown.NO, YesNoUnknown.UNKNOWN, YesNoUnknown.YES])
        )
    )
    discharge_involved = factory.LazyAttribute(
        lambda o: (
            YesNoUnknown.YES
            if o.category.name == ref.CATEGORY_DISCHARGE
            else _pick([YesNoUnknown.NO, YesNoUnknown.NO, YesNoUnknown.UNKNOWN])
        )
    )
    severity = factory.LazyFunction(
        lambda: _pick(
            ["none", "moderate", "moderate", "moderate", "serious", "serious", "very_serious", "unknown"]
        )
    )
    reporter_name = factory.Faker("name", locale="sv_SE")


#: The main contributing factor that most often lies behind a category, for tagging handled demo reports.
CATEGORY_FACTORS = {
    ref.CATEGORY_DISCHARGE: "Informationsöverföring",
    ref.CATEGORY_SIP: "Samordnad planering",
    ref.CATEGORY_RESPONSIBILITY: "Otydligt ansvar",
    ref.CATEGORY_REFERRAL: "Dialog och förtroende",
    ref.CATEGORY_ACCESSIBILITY: "Tillgänglighet",
    ref.CATEGORY_SOBER: "Tillgänglighet",
    ref.CATEGORY_HOMELESS: "Otydligt ansvar",
    ref.CATEGORY_OTHER: "Rutiner",
}
SECONDARY_FACTORS = ["Rutiner", "Kompetens och kunskap", "Bemanning och resurser"]


def _tag_factors(reports, rng: random.Random) -> None:
    """Handled reports get the factor their category suggests (a sub-factor, or the main factor itself)
    and sometimes a second one, as handlers would tag them in triage."""
    children = defaultdict(list)
    mains = {}
    for factor in ContributingFactor.objects.all():
        if factor.parent_id is None:
            mains[factor.name] = factor
        else:
            children[factor.parent_id].append(factor)
    if not mains:
        return
    Through = Deviation.contributing_factors.through
    rows = []
    for deviation, _counterparts, status, _path in reports:
        if status in (Status.SUBMITTED, Status.REJECTED) or rng.random() < 0.25:
            continue
        picked = {CATEGORY_FACTORS.get(deviation.category.name, "Rutiner")}
        if rng.random() < 0.3:
            picked.add(rng.choice(SECONDARY_FACTORS))
        for name in picked:
            main = mains.get(name)
            if main is not None:
                factor = rng.choice(children[main.pk] or [main])
                rows.append(Through(deviation_id=deviation.pk, contributingfactor_id=factor.pk))
    Through.objects.bulk_create(rows, batch_size=5000)


def _event(**fields) -> DeviationEvent:
    """Events are built plainly (thousands of them; a factory would only add overhead)."""
    fields.setdefault("kind", DeviationEvent.Kind.TRANSITION)
    return DeviationEvent(**fields)


# --- Organisations and users -------------------------------------------------------------------------


@dataclass
class DemoUser:
    username: str
    role: str
    user: User = None


@transaction.atomic
def ensure_organizations() -> dict[str, Organization]:
    region = Region.objects.get(code=ref.REGION["code"])
    municipalities = {m.code: m for m in Municipality.objects.all()}
    organizations = {}
    for name, kind, principal, domains, contact in ORGANIZATIONS:
        principal_fields = (
            {"principal_region": region, "principal_municipality": None}
            if principal == "region"
            else {"principal_municipality": municipalities[principal], "principal_region": None}
        )
        organization, _ = Organization.objects.update_or_create(
            name=name, defaults={"kind": kind, "contact_email": contact, "active": True, **principal_fields}
        )
        for domain in domains:
            EmailDomain.objects.get_or_create(organization=organization, domain=domain)
        organizations[name] = organization
    return organizations


@transaction.atomic
def ensure_users(organizations: dict[str, Organization]) -> list[DemoUser]:
    """One account per role, all with ``DEMO_PASSWORD``. Returns them for printing."""
    regional = Council.objects.get(name=ref.REGIONAL_COUNCIL)
    west = Council.objects.get(name="Lokalt samråd Västerort (exempel)")
    south = Council.objects.get(name="Lokalt samråd Södertörn (exempel)")
    specs = [
        ("admin", "Administratör (superuser)", "Ada", "Admin", None, None, None),
        (
            "regional",
            "Regional samordnare",
            "Regina",
            "Regional",
            "Beroendecentrum Stockholm",
            regional,
            CouncilMembership.Role.COORDINATOR,
        ),
        (
            "samordnare.vasterort",
            "Samordnare, Lokalt samråd Västerort (exempel)",
            "Sam",
            "Västerort",
            "Socialtjänsten Rinkeby-Kista",
            west,
            CouncilMembership.Role.COORDINATOR,
        ),
        (
            "ledamot.vasterort",
            "Ledamot, Lokalt samråd Västerort (exempel)",
            "Lea",
            "Västerort",
            "Psykiatri Nordväst",
            west,
            CouncilMembership.Role.MEMBER,
        ),
        (
            "samordnare.sodertorn",
            "Samordnare, Lokalt samråd Södertörn (exempel)",
            "Sam",
            "Södertörn",
            "Socialtjänsten Huddinge",
            south,
            CouncilMembership.Role.COORDINATOR,
        ),
        (
            "ledamot.sodertorn",
            "Ledamot, Lokalt samråd Södertörn (exempel)",
            "Lea",
            "Södertörn",
            "Psykiatri Södra Stockholm",
            south,
            CouncilMembership.Role.MEMBER,
        ),
        (
            "rapportor",
            "Rapportör, Socialtjänsten Spånga-Tensta",
            "Rut",
            "Rapportör",
            "Socialtjänsten Spånga-Tensta",
            None,
            None,
        ),
        (
            "motpart",
            "Motpart som lämnar yttranden, Psykiatri Nordväst",
            "Mats",
            "Motpart",
            "Psykiatri Nordväst",
            None,
            None,
        ),
    ]
    domain_of = {name: domains[0] for name, _, _, domains, _ in ORGANIZATIONS}
    password = make_password(DEMO_PASSWORD)  # hashed once: hashing is slow on purpose
    result = []
    for username, role, first, last, org_name, council, membership_role in specs:
        email = f"demo.{username}@{domain_of[org_name] if org_name else 'example.se'}"
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": email,
                "organization": organizations.get(org_name),
                "is_staff": username == "admin",
                "is_superuser": username == "admin",
                "is_active": True,
            },
        )
        user.password = password
        user.save(update_fields=["password"])
        if council is not None:
            CouncilMembership.objects.update_or_create(
                council=council, user=user, defaults={"role": membership_role}
            )
        result.append(DemoUser(username=username, role=role, user=user))
    return result


# --- Reports -----------------------------------------------------------------------------------------

# Paths through the state machine from "submitted" to each final or current status (actions after
# "confirm"). Several paths per status, most common first.
PATHS = {
    Status.SUBMITTED: [[]],
    Status.TRIAGE: [["start_triage"], ["start_triage", "request_response", "resume_triage"]],
    Status.AWAITING_RESPONSE: [["start_triage", "request_response"]],
    Status.RESOLVED_LOCALLY: [
        ["start_triage", "resolve_locally"],
        ["start_triage", "request_response", "resolve_locally"],
    ],
    Status.ESCALATED: [["start_triage", "escalate"], ["start_triage", "request_response", "escalate"]],
    Status.REGIONAL_ANALYSIS: [["start_triage", "escalate", "start_regional_analysis"]],
    Status.CLOSED: [
        ["start_triage", "request_response", "close"],
        ["start_triage", "close"],
        ["start_triage", "request_response", "resolve_locally", "close"],
        ["start_triage", "resolve_locally", "close"],
        ["start_triage", "escalate", "start_regional_analysis", "close"],
    ],
    Status.REJECTED: [["reject"], ["start_triage", "reject"]],
}
PATH_WEIGHTS = {Status.CLOSED: [40, 20, 15, 15, 10], Status.REJECTED: [50, 50]}
TARGET = {
    "start_triage": Status.TRIAGE,
    "request_response": Status.AWAITING_RESPONSE,
    "resume_triage": Status.TRIAGE,
    "resolve_locally": Status.RESOLVED_LOCALLY,
    "escalate": Status.ESCALATED,
    "start_regional_analysis": Status.REGIONAL_ANALYSIS,
    "close": Status.CLOSED,
    "reject": Status.REJECTED,
}
# Typical days between steps (mean of an exponential distribution).
STEP_DAYS = {
    "start_triage": 4,
    "request_response": 3,
    "resume_triage": 25,
    "resolve_locally": 20,
    "escalate": 14,
    "start_regional_analysis": 10,
    "close": 12,
    "reject": 3,
}


def _status_for_age(rng: random.Random, age_days: int) -> Status:
    """Old reports are mostly closed; recent ones spread over the open states."""
    if age_days > 180:
        table = {
            Status.CLOSED: 86,
            Status.REJECTED: 6,
            Status.REGIONAL_ANALYSIS: 3,
            Status.ESCALATED: 1,
            Status.RESOLVED_LOCALLY: 2,
            Status.AWAITING_RESPONSE: 1,
            Status.TRIAGE: 1,
        }
    elif age_days > 60:
        table = {
            Status.CLOSED: 62,
            Status.REJECTED: 6,
            Status.REGIONAL_ANALYSIS: 8,
            Status.ESCALATED: 4,
            Status.RESOLVED_LOCALLY: 7,
            Status.AWAITING_RESPONSE: 8,
            Status.TRIAGE: 5,
        }
    elif age_days > 14:
        table = {
            Status.CLOSED: 25,
            Status.REJECTED: 5,
            Status.REGIONAL_ANALYSIS: 5,
            Status.ESCALATED: 6,
            Status.RESOLVED_LOCALLY: 9,
            Status.AWAITING_RESPONSE: 25,
            Status.TRIAGE: 20,
            Status.SUBMITTED: 5,
        }
    else:
        table = {
            Status.SUBMITTED: 40,
            Status.TRIAGE: 30,
            Status.AWAITING_RESPONSE: 15,
            Status.REJECTED: 5,
            Status.ESCALATED: 4,
            Status.CLOSED: 4,
            Status.RESOLVED_LOCALLY: 2,
        }
    return rng.choices(list(table), weights=list(table.values()))[0]


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@dataclass
class _Context:
    agreements: dict
    categories: dict
    commitments: dict
    organizations: dict
    municipalities: dict
    districts: dict
    regional_council: Council
    regional_coordinator: User
    council_users: dict  # council id -> (coordinator, member)
    reporter: User
    domains: dict  # organisation id -> e-mail domain
    councils: dict = field(default_factory=dict)  # (municipality id, district id) -> Council

    def council(self, municipality, district):
        key = (municipality.pk, district.pk if district else None)
        if key not in self.councils:
            self.councils[key] = council_for_place(municipality_id=key[0], district_id=key[1])
        return self.councils[key]


def _context(organizations, users) -> _Context:
    by_username = {u.username: u.user for u in users}
    council_users = defaultdict(lambda: (None, None))
    for membership in CouncilMembership.objects.filter(user__in=[u.user for u in users]).select_related(
        "council"
    ):
        coordinator, member = council_users[membership.council_id]
        if membership.is_coordinator:
            coordinator = membership.user
        else:
            member = membership.user
        council_users[membership.council_id] = (coordinator, member)
    return _Context(
        agreements={a.code: a for a in Agreement.objects.all()},
        categories={c.name: c for c in DeviationCategory.objects.all()},
        commitments={(c.agreement.code, c.number): c for c in Commitment.objects.select_related("agreement")},
        organizations=organizations,
        municipalities={m.code: m for m in Municipality.objects.all()},
        districts={d.name: d for d in District.objects.filter(municipality__code=ref.STOCKHOLM_CODE)},
        regional_council=Council.objects.get(name=ref.REGIONAL_COUNCIL),
        regional_coordinator=by_username["regional"],
        council_users=council_users,
        reporter=by_username["rapportor"],
        domains=dict(EmailDomain.objects.order_by("-pk").values_list("organization_id", "domain")),
    )


def _spread(rng: random.Random, start: datetime.datetime, path: list[str], now: datetime.datetime):
    """Timestamps for the steps of ``path`` after ``start``, all before ``now``."""
    gaps = [datetime.timedelta(days=rng.expovariate(1 / STEP_DAYS[a]), hours=rng.uniform(1, 8)) for a in path]
    available = (now - start) * 0.95
    total = sum(gaps, datetime.timedelta())
    if total > available and total:
        gaps = [gap * (available / total) for gap in gaps]
    times, t = [], start
    for gap in gaps:
        t = t + gap
        times.append(t)
    return times


def create_reports(*, count: int, organizations: dict, users: list[DemoUser], seed: int | None = None) -> int:
    """Create ``count`` reports spread over the last two years, with events, response requests and
    systemic issues, in batches. Returns the number of reports created."""
    factory.random.reseed_random(seed if seed is not None else random.randrange(2**32))  # noqa: S311 (demo data)
    rng = factory.random.randgen
    ctx = _context(organizations, users)
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    now = timezone.now()
    today = timezone.localdate(now)
    municipal = list(MUNICIPAL_WEIGHTS)
    municipal_weights = list(MUNICIPAL_WEIGHTS.values())
    agreement_codes = [c for c in AGREEMENT_WEIGHTS if c in ctx.agreements]

    reports: list[tuple[Deviation, list[Organization], Status, list[str]]] = []
    for _ in range(count):
        # Slightly more reports recently: the form becomes better known.
        age = int(730 * (rng.random() ** 1.25))
        reported_on = today - datetime.timedelta(days=age)
        created_at = datetime.datetime.combine(
            reported_on, datetime.time(rng.randint(7, 17), rng.randint(0, 59), rng.randint(0, 59)), tz
        )
        if created_at > now - datetime.timedelta(hours=3):
            # Today's reports: keep them (and their confirmation) in the past.
            created_at = now - datetime.timedelta(minutes=rng.randint(180, 600))
            reported_on = timezone.localdate(created_at)
        occurred_on = reported_on - datetime.timedelta(days=min(int(rng.expovariate(1 / 6)), 90))

        code = _weighted(rng, {c: AGREEMENT_WEIGHTS[c] for c in agreement_codes})
        agreement = ctx.agreements[code]
        category = ctx.categories[_weighted(rng, CATEGORY_WEIGHTS[code])]
        number = COMMITMENT_FOR.get((code, category.name))
        commitment = ctx.commitments.get((code, number)) if number and rng.random() < 0.85 else None

        home_name = rng.choices(municipal, weights=municipal_weights)[0]
        home = organizations[home_name]
        municipality_code, district_name = MUNICIPAL_AREA[home_name]
        municipality = ctx.municipalities[municipality_code]
        district = ctx.districts.get(district_name) if district_name else None
        if code == "HEMLÖSHET":
            # Between municipalities: the reporter's and another one's social services.
            others = [n for n in municipal if MUNICIPAL_AREA[n][0] != municipality_code]
            counterparts = [organizations[rng.choice(others)]]
            reporting = home
        else:
            partner = organizations[_weighted(rng, REGION_PARTNERS[home_name])]
            counterparts = [partner]
            if rng.random() < 0.12:
                extra = organizations[_weighted(rng, REGION_PARTNERS[home_name])]
                if extra != partner:
                    counterparts.append(extra)
            # Most reports come from social services; some, where it fits, from the Region's side.
            if category.name in REGION_DESCRIPTIONS and rng.random() < 0.35:
                reporting, counterparts = partner, [home]
            else:
                reporting = home

        status = _status_for_age(rng, age)
        options = PATHS[status]
        path = rng.choices(options, weights=PATH_WEIGHTS.get(status, [1] * len(options)))[0]
        own_report = reporting == organizations["Socialtjänsten Spånga-Tensta"] and rng.random() < 0.3
        deviation = DemoDeviationFactory.build(
            category=category,
            other=counterparts[0].name,
            agreement=agreement,
            commitment=commitment,
            occurred_on=occurred_on,
            reported_on=reported_on,
            municipality=municipality,
            district=district,
            council=ctx.council(municipality, district),
            reporting_organization=reporting,
            reporter=ctx.reporter if own_report else None,
            reporter_email=(
                ctx.reporter.email
                if own_report
                else f"demo.rapportor{rng.randint(1, 400)}@{ctx.domains.get(reporting.pk, 'example.se')}"
            ),
            region_side=reporting.principal_region_id is not None,
            status=Status.SUBMITTED,
            created_at=created_at,
            submitted_at=created_at + datetime.timedelta(minutes=rng.randint(2, 90)),
        )
        if own_report:
            deviation.reporter_name = ctx.reporter.get_full_name()
        reports.append((deviation, counterparts, status, path))

    reports.sort(key=lambda r: r[0].created_at)
    with transaction.atomic():
        _assign_references([r[0] for r in reports], tz)
        _write(reports, ctx, rng, now)
        _tag_factors(reports, rng)
        summary.rebuild()  # written in bulk, past the services that keep it current
    return len(reports)


def _assign_references(deviations: list[Deviation], tz) -> None:
    """Number the reports per year in creation order, continuing the counters, and move the counters on
    so that ``next_reference`` carries on after them."""
    per_year = Counter(d.created_at.astimezone(tz).year for d in deviations)
    ReferenceCounter.objects.bulk_create([ReferenceCounter(year=y) for y in per_year], ignore_conflicts=True)
    counters = {c.year: c for c in ReferenceCounter.objects.select_for_update().filter(year__in=per_year)}
    for deviation in deviations:
        counter = counters[deviation.created_at.astimezone(tz).year]
        counter.last += 1
        deviation.reference = f"SB-{counter.year}-{counter.last:05d}"
    ReferenceCounter.objects.bulk_update(counters.values(), ["last"])


def _write(reports, ctx: _Context, rng: random.Random, now) -> None:
    retention = datetime.timedelta(days=30 * settings.CONTACT_RETENTION_MONTHS)
    issues = _systemic_issues(ctx, rng, now)
    events: list[DeviationEvent] = []
    requests: list[ResponseRequest] = []
    for deviation, counterparts, _status, path in reports:
        coordinator, member = ctx.council_users[deviation.council_id]
        local_actor = coordinator or member
        times = _spread(rng, deviation.submitted_at, path, now)
        events.append(
            _event(
                deviation=deviation,
                actor=deviation.reporter,
                actor_label="" if deviation.reporter else "Rapportören (bekräftad via e-post)",
                action="confirm",
                from_status=Status.UNCONFIRMED,
                to_status=Status.SUBMITTED,
                to_council=deviation.council,
                created_at=deviation.submitted_at,
            )
        )
        current = Status.SUBMITTED
        open_request = None
        for action, at in zip(path, times, strict=True):
            regional = action == "start_regional_analysis" or (
                action == "close" and current == Status.REGIONAL_ANALYSIS
            )
            actor = ctx.regional_coordinator if regional else local_actor
            text, visibility, details = "", DeviationEvent.Visibility.INTERNAL, {}
            if action == "request_response":
                open_request = ResponseRequest(
                    deviation=deviation,
                    organization=counterparts[0],
                    email=counterparts[0].contact_email or "yttrande@example.se",
                    message="Vi ber om ert yttrande över den rapporterade samverkansbristen.",
                    requested_by=actor or ctx.regional_coordinator,
                    requested_at=at,
                    due_on=timezone.localdate(at) + datetime.timedelta(days=settings.RESPONSE_DEADLINE_DAYS),
                )
                requests.append(open_request)
            elif open_request is not None:
                # The next step after a request: the counterpart answered in between.
                answered_at = at - (at - open_request.requested_at) * rng.uniform(0.1, 0.5)
                what, done = rng.choice(ANSWERS)
                open_request.answered_at = answered_at
                open_request.answered_by_name = f"Enhetschef, {open_request.organization.name}"
                open_request.answer_what_happened = what
                open_request.answer_actions = done
                events.append(
                    _event(
                        deviation=deviation,
                        kind=DeviationEvent.Kind.RESPONSE_RECEIVED,
                        actor_label=open_request.answered_by_name,
                        text=f"{what} {done}",
                        created_at=answered_at,
                    )
                )
                open_request = None
            if action == "resolve_locally":
                text = rng.choice(LOCAL_RESOLUTIONS)
            elif action == "escalate":
                text = rng.choice(ESCALATION_REASONS)
            elif action == "close":
                text, visibility = rng.choice(FEEDBACK), DeviationEvent.Visibility.REPORTER
                deviation.closed_at = at
            elif action == "reject":
                reason = rng.choice(list(REJECT_TEXTS))
                text, visibility = REJECT_TEXTS[reason], DeviationEvent.Visibility.REPORTER
                deviation.reject_reason = reason
                details = {"reject_reason": reason}
                deviation.closed_at = at
            if deviation.first_response_at is None:
                deviation.first_response_at = at
            events.append(
                _event(
                    deviation=deviation,
                    actor=actor,
                    actor_label="" if actor else f"Samordnare, {deviation.council}",
                    action=action,
                    from_status=current,
                    to_status=TARGET[action],
                    text=text,
                    visibility=visibility,
                    details=details,
                    created_at=at,
                )
            )
            current = TARGET[action]
            if action == "escalate" and deviation.category.name in issues and rng.random() < 0.6:
                deviation.systemic_issue = issues[deviation.category.name]
                events.append(
                    _event(
                        deviation=deviation,
                        kind=DeviationEvent.Kind.LINKED,
                        action="link",
                        actor=ctx.regional_coordinator,
                        details={
                            "to_issue": {
                                "id": deviation.systemic_issue.pk,
                                "title": deviation.systemic_issue.title,
                            }
                        },
                        created_at=at + datetime.timedelta(seconds=1),
                    )
                )
        deviation.status = current
        if current in {Status.TRIAGE, Status.AWAITING_RESPONSE} and local_actor and rng.random() < 0.6:
            deviation.assigned_to = local_actor
        if deviation.closed_at and deviation.closed_at + retention < now:
            deviation.reporter = None
            deviation.reporter_name = deviation.reporter_email = deviation.reporter_phone = ""
            deviation.contact_erased_at = deviation.closed_at + retention

    batch = 1000
    Deviation.objects.bulk_create([r[0] for r in reports], batch_size=batch)
    Through = Deviation.counterpart_organizations.through
    Through.objects.bulk_create(
        [
            Through(deviation_id=d.pk, organization_id=o.pk)
            for d, counterparts, _, _ in reports
            for o in counterparts
        ],
        batch_size=5000,
    )
    for event in events:
        event.deviation_id = event.deviation.pk
    DeviationEvent.objects.bulk_create(events, batch_size=5000)
    for request in requests:
        request.deviation_id = request.deviation.pk
    ResponseRequest.objects.bulk_create(requests, batch_size=batch)
    sync_response_summaries({request.deviation_id for request in requests})


def _systemic_issues(ctx: _Context, rng: random.Random, now) -> dict[str, SystemicIssue]:
    """A few systemic issues with decided actions, keyed by the category their reports concern."""
    issues = {}
    owners = [o for o in ctx.organizations.values() if o.principal_region_id] or list(
        ctx.organizations.values()
    )
    for title, description, codes, category in SYSTEMIC_ISSUES:
        issue, created = SystemicIssue.objects.get_or_create(
            title=title,
            defaults={
                "description": description,
                "created_by": ctx.regional_coordinator,
                "created_at": now - datetime.timedelta(days=rng.randint(200, 500)),
                "state": SystemicIssue.State.IN_PROGRESS,
            },
        )
        if created:
            issue.agreements.set([ctx.agreements[c] for c in codes if c in ctx.agreements])
            today = timezone.localdate(now)
            SystemicAction.objects.bulk_create(
                [
                    SystemicAction(
                        issue=issue,
                        description="Ta fram en gemensam rutin och informera berörda verksamheter.",
                        owner=rng.choice(owners),
                        decided_on=today - datetime.timedelta(days=120),
                        due_on=today - datetime.timedelta(days=20),
                        state=SystemicAction.State.DONE,
                        done_on=today - datetime.timedelta(days=30),
                    ),
                    SystemicAction(
                        issue=issue,
                        description="Följ upp effekten av rutinen i de lokala samråden.",
                        owner=rng.choice(owners),
                        decided_on=today - datetime.timedelta(days=60),
                        due_on=today + datetime.timedelta(days=rng.randint(20, 120)),
                        state=SystemicAction.State.IN_PROGRESS,
                    ),
                ]
            )
        issues[category] = issue
    return issues
