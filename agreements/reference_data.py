"""Reference data: the places, agreements, categories and councils the product starts with.

Plain Python data so that admins and developers can read it; ``manage.py load_reference_data`` loads it
(idempotently, keyed on natural keys). After the first load everything here is maintained in Django
admin: by default the command only creates what is missing and never overwrites admin edits;
``load_reference_data --update`` resets existing rows to the values below.

Sources: Statistics Sweden's municipality codes (kommunkoder) for Stockholm county (län 01); Stockholm
city's 13 district committees (stadsdelsnämnder, since 2020); the four Storsthlm agreements named in the
reporting form's launch note (seed 001) with document links as cited in Stockholm city's report
"Samsjuklighet och boendestöd" (seed 002, November 2020); goals paraphrased from the agreements as
summarised in the seeds (002, 003).
"""

import datetime

REGION = {"code": "01", "name": "Region Stockholm"}

#: The 26 municipalities of Stockholm county with their official four-digit codes.
MUNICIPALITIES: dict[str, str] = {
    "0114": "Upplands Väsby",
    "0115": "Vallentuna",
    "0117": "Österåker",
    "0120": "Värmdö",
    "0123": "Järfälla",
    "0125": "Ekerö",
    "0126": "Huddinge",
    "0127": "Botkyrka",
    "0128": "Salem",
    "0136": "Haninge",
    "0138": "Tyresö",
    "0139": "Upplands-Bro",
    "0140": "Nykvarn",
    "0160": "Täby",
    "0162": "Danderyd",
    "0163": "Sollentuna",
    "0180": "Stockholm",
    "0181": "Södertälje",
    "0182": "Nacka",
    "0183": "Sundbyberg",
    "0184": "Solna",
    "0186": "Lidingö",
    "0187": "Vaxholm",
    "0188": "Norrtälje",
    "0191": "Sigtuna",
    "0192": "Nynäshamn",
}

STOCKHOLM_CODE = "0180"

#: Stockholm city's districts (stadsdelsnämndsområden).
STOCKHOLM_DISTRICTS: list[str] = [
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

_STORSTHLM = "https://www.storsthlm.se/download/"

# ``valid_from``: the agreements in force when the reporting form was launched (October 2020) were
# published by Storsthlm in 2019; the exact dates of signing are not in our sources, so the first day of
# the year of publication is used. Correct them in admin when the signed documents are at hand.
AGREEMENTS: list[dict] = [
    {
        "code": "PSYK",
        "order": 1,
        "name": "Samverkan kring vuxna med psykisk sjukdom eller funktionsnedsättning",
        "short_name": "Psykisk sjukdom/funktionsnedsättning",
        "parties": "municipalities_region",
        "valid_from": datetime.date(2019, 1, 1),
        "document_url": _STORSTHLM + "18.215f26e3150e4b04b37e2c39/1552548448663/"
        "Överenskommelse,%20Samverkan%20kring%20vuxna%20med%20psykisk%20sjukdom_"
        "funktionsnedsättning.pdf",
        "description": (
            "Överenskommelse mellan kommunerna i Stockholms län och Region Stockholm om samverkan kring "
            "vuxna med psykisk sjukdom eller psykisk funktionsnedsättning: gemensamma mål, "
            "ansvarsfördelning och samverkan på individ-, verksamhets- och ledningsnivå."
        ),
        "scope": (
            "Vuxna med psykisk sjukdom eller psykisk funktionsnedsättning som behöver stöd både från "
            "kommunen och från vården, till exempel vid utskrivning från psykiatrin eller när en SIP behövs."
        ),
        "commitments": [
            "Samordnad individuell plan (SIP) upprättas när den enskilde har behov av insatser från "
            "både socialtjänst och hälso- och sjukvård",
            "Samordning och ansvarsfördelning mellan huvudmännen förbättras ständigt",
            "Information överförs vid in- och utskrivning från sluten psykiatrisk vård",
            "God tillgänglighet till vård och stöd",
            "Insatserna utgår från den enskildes behov och önskemål och ges på samma villkor som för andra",
            "Vård och stöd bygger på nationella riktlinjer och bästa tillgängliga kunskap",
        ],
    },
    {
        "code": "MISSBRUK",
        "order": 2,
        "name": "Samverkan kring personer med missbruk/beroende",
        "short_name": "Missbruk/beroende",
        "parties": "municipalities_region",
        "valid_from": datetime.date(2019, 1, 1),
        "document_url": _STORSTHLM + "18.1e61f155155953c1a73109e6/1552548450512/"
        "Samverkan%20kring%20personer%20med%20missbruk%20beroende%20överenskommelse.pdf",
        "description": (
            "Överenskommelse mellan kommunerna i Stockholms län och Region Stockholm om samverkan kring "
            "personer med missbruk eller beroende av alkohol, narkotika, läkemedel och andra "
            "beroendeframkallande medel. Personer med samsjuklighet är en prioriterad målgrupp."
        ),
        "scope": (
            "Vuxna med problem med alkohol, narkotika, läkemedel eller andra beroendeframkallande "
            "medel, också när personen samtidigt har psykisk ohälsa."
        ),
        "commitments": [
            "Samordnad individuell plan (SIP) upprättas vid behov och när den enskilde så önskar",
            "Samordning och ansvarsfördelning mellan huvudmännen förbättras ständigt",
            "God tillgänglighet till vård, stöd och behandling",
            "Personer med missbruk/beroende ges vård och andra insatser på samma villkor som andra, "
            "utifrån den enskildes behov",
            "Samtidig och samordnad behandling vid samsjuklighet med psykisk ohälsa",
            "Information överförs vid in- och utskrivning från slutenvård",
            "Vård och behandling bygger på nationella riktlinjer och bästa tillgängliga kunskap",
        ],
    },
    {
        "code": "SPEL",
        "order": 3,
        "name": "Tilläggsöverenskommelse: samverkan kring personer med missbruk/beroende av spel om pengar",
        "short_name": "Spel om pengar",
        "parties": "municipalities_region",
        "valid_from": datetime.date(2019, 1, 1),
        "document_url": _STORSTHLM + "18.485eb51816d6731e034187/1569485332657/"
        "Tilläggsöverenskommelse%20-%20Samverkan%20kring%20personer%20med%20%20"
        "missbruk%20-beroende%20av%20spel%20om%20pengar1.pdf",
        "description": (
            "Tillägg till överenskommelsen om missbruk/beroende som omfattar personer med missbruk eller "
            "beroende av spel om pengar, som sedan 2018 är ett gemensamt ansvar för kommun och region."
        ),
        "scope": (
            "Vuxna med problem med spel om pengar. Välj den här när spelproblemet är det som samverkan "
            "gällde."
        ),
        "commitments": [
            "Ansvarsfördelningen mellan kommun och region vid spelproblem är tydlig och känd",
            "Samordnad individuell plan (SIP) upprättas vid behov",
            "God tillgänglighet till stöd och behandling för spelproblem",
            "Samtidig behandling vid samsjuklighet med annat missbruk eller psykisk ohälsa",
        ],
    },
    {
        "code": "HEMLÖSHET",
        "order": 4,
        "name": "Ärendeansvar för personer i hemlöshet",
        "short_name": "Hemlöshet",
        "parties": "municipalities",
        "valid_from": datetime.date(2019, 1, 1),
        "document_url": "",
        "description": (
            "Överenskommelse mellan kommunerna i Stockholms län om vilken kommun som har ärendeansvaret "
            "för personer i hemlöshet. Regionen är inte part."
        ),
        "scope": (
            "Personer i hemlöshet, när det är oklart eller omstritt vilken kommun som ansvarar för "
            "ärendet. Gäller bara mellan kommuner, inte vården."
        ),
        "commitments": [
            "Det klarläggs utan dröjsmål vilken kommun som har ärendeansvaret",
            "Den enskilde får stöd medan ansvarsfrågan utreds",
            "Kommunerna överför information när ärendeansvaret flyttas",
            "Oenighet om ärendeansvar hanteras enligt överenskommelsens process",
        ],
    },
]

ALL_AGREEMENTS = [a["code"] for a in AGREEMENTS]
HEALTHCARE_AGREEMENTS = ["PSYK", "MISSBRUK", "SPEL"]

# Category names; the demo seeder refers to them by these constants.
CATEGORY_DISCHARGE = "Informationsöverföring vid utskrivning från slutenvård"
CATEGORY_SIP = "SIP inte sammankallad eller inte följd"
CATEGORY_RESPONSIBILITY = "Oenighet om ansvar eller betalningsansvar"
CATEGORY_REFERRAL = "Remiss obesvarad eller avvisad"
CATEGORY_ACCESSIBILITY = "Tillgänglighet och väntetider"
CATEGORY_SOBER = "Vård nekas tills personen är nykter eller drogfri"
CATEGORY_HOMELESS = "Ärendeansvar mellan kommuner vid hemlöshet"
CATEGORY_OTHER = "Övrigt"

CATEGORIES: list[dict] = [
    {
        "name": CATEGORY_DISCHARGE,
        "order": 1,
        "agreements": HEALTHCARE_AGREEMENTS,
        "help_text": "Socialtjänsten fick inte inskrivnings- eller utskrivningsmeddelande, eller fick det "
        "för sent för att hinna planera insatser inför hemgång.",
    },
    {
        "name": CATEGORY_SIP,
        "order": 2,
        "agreements": HEALTHCARE_AGREEMENTS,
        "help_text": "En samordnad individuell plan behövdes men sammankallades inte, någon part uteblev, "
        "eller det som beslutades i planen genomfördes inte.",
    },
    {
        "name": CATEGORY_RESPONSIBILITY,
        "order": 3,
        "agreements": ALL_AGREEMENTS,
        "help_text": "Parterna var oeniga om vem som ansvarar för en insats eller vem som ska betala för "
        "den, och den enskilde blev utan insats under tiden.",
    },
    {
        "name": CATEGORY_REFERRAL,
        "order": 4,
        "agreements": HEALTHCARE_AGREEMENTS,
        "help_text": "En remiss eller förfrågan besvarades inte inom rimlig tid eller avvisades utan "
        "hänvisning till annan vårdgivare.",
    },
    {
        "name": CATEGORY_ACCESSIBILITY,
        "order": 5,
        "agreements": HEALTHCARE_AGREEMENTS,
        "help_text": "Den enskilde fick inte tillgång till vård eller stöd inom rimlig tid, eller "
        "verksamheten gick inte att nå.",
    },
    {
        "name": CATEGORY_SOBER,
        "order": 6,
        "agreements": ["PSYK", "MISSBRUK"],
        "help_text": "Psykiatrisk vård eller bedömning nekades med hänvisning till pågående missbruk, eller "
        "beroendevård nekades med hänvisning till psykisk ohälsa.",
    },
    {
        "name": CATEGORY_HOMELESS,
        "order": 7,
        "agreements": ["HEMLÖSHET"],
        "help_text": "Kommunerna var oeniga om vilken kommun som har ärendeansvaret för en person i "
        "hemlöshet.",
    },
    {
        "name": CATEGORY_OTHER,
        "order": 99,
        "agreements": ALL_AGREEMENTS,
        "help_text": "En annan brist i samverkan enligt överenskommelsen.",
    },
]

#: The default taxonomy of contributing factors (bidragande faktorer), two levels: main factor, help text,
#: sub-factors. Built from the hindering factors a real follow-up names (seed 003: staff turnover,
#: unregulated collaboration, poor access, unclear leadership and organisation, lack of dialogue,
#: unrealistic expectations, different legislation) and the categories above. Maintained in admin.
CONTRIBUTING_FACTORS: list[dict] = [
    {
        "name": "Informationsöverföring",
        "help_text": "Information nådde inte fram, kom för sent eller var ofullständig.",
        "children": [
            "Meddelande om in- eller utskrivning skickades inte",
            "Informationen kom för sent",
            "Informationen var ofullständig eller otydlig",
            "Samtycke saknades eller sekretessen hindrade",
            "Kontaktuppgifter saknades eller var fel",
        ],
    },
    {
        "name": "Otydligt ansvar",
        "help_text": "Det var oklart eller omtvistat vem som skulle göra vad.",
        "children": [
            "Oklart vilken huvudman som ansvarar",
            "Oenighet om betalningsansvar",
            "Oklart vilken kommun som har ärendeansvaret",
            "Ingen samordnande kontaktperson utsedd",
        ],
    },
    {
        "name": "Tillgänglighet",
        "help_text": "Vården eller stödet gick inte att få eller nå i tid.",
        "children": [
            "Lång väntetid",
            "Svårt att nå verksamheten",
            "Ingen plats eller insats att tillgå",
            "Krav på nykterhet eller drogfrihet för vård",
        ],
    },
    {
        "name": "Kompetens och kunskap",
        "help_text": "Kunskap om överenskommelsen, den andra partens uppdrag eller arbetssätt saknades.",
        "children": [
            "Bristande kunskap om överenskommelsen",
            "Bristande kunskap om den andra partens uppdrag",
            "Bristande kunskap om SIP",
        ],
    },
    {
        "name": "Rutiner",
        "help_text": "En gemensam rutin saknades, var okänd eller följdes inte.",
        "children": [
            "Gemensam rutin saknas",
            "Rutinen är okänd i verksamheten",
            "Rutinen följdes inte",
        ],
    },
    {
        "name": "Samordnad planering",
        "help_text": "Samordnad individuell plan (SIP) eller annan gemensam planering brast.",
        "children": [
            "SIP kallades inte till",
            "En part uteblev från SIP-mötet",
            "Planen följdes inte upp",
        ],
    },
    {
        "name": "Bemanning och resurser",
        "help_text": "Personalomsättning, vakanser eller arbetsbelastning påverkade samverkan.",
        "children": [
            "Personalomsättning eller vakanser",
            "Hög arbetsbelastning",
        ],
    },
    {
        "name": "Dialog och förtroende",
        "help_text": "Parterna hade inte kontakt, eller förväntningarna på varandra skilde sig åt.",
        "children": [
            "Ingen fungerande kontaktväg mellan parterna",
            "Olika förväntningar på varandra",
            "Olika lagstiftning eller regelverk",
        ],
    },
    {"name": "Övrigt", "help_text": "En annan bidragande faktor.", "children": []},
]

REGIONAL_COUNCIL = "Regionala samrådet för missbruk och psykiatri"

#: Example local councils. The real grouping is not published in our sources; these make demo and
#: tests meaningful and are marked ``is_example`` so nobody mistakes them for the real division.
EXAMPLE_COUNCILS: list[dict] = [
    {
        "name": "Lokalt samråd Västerort (exempel)",
        "municipalities": [],
        "districts": ["Bromma", "Hässelby-Vällingby", "Rinkeby-Kista", "Spånga-Tensta"],
    },
    {
        "name": "Lokalt samråd Innerstaden (exempel)",
        "municipalities": [],
        "districts": ["Kungsholmen", "Norrmalm", "Södermalm", "Östermalm"],
    },
    {
        "name": "Lokalt samråd Söderort (exempel)",
        "municipalities": [],
        "districts": ["Enskede-Årsta-Vantör", "Farsta", "Hägersten-Älvsjö", "Skarpnäck", "Skärholmen"],
    },
    {
        "name": "Lokalt samråd Södertörn (exempel)",
        "municipalities": ["0126", "0127", "0128", "0136", "0138", "0140", "0181", "0192"],
        "districts": [],
    },
    {
        "name": "Lokalt samråd Nordväst (exempel)",
        "municipalities": ["0114", "0123", "0125", "0139", "0163", "0183", "0184", "0191"],
        "districts": [],
    },
    {
        "name": "Lokalt samråd Nordost (exempel)",
        "municipalities": ["0115", "0117", "0160", "0162", "0186", "0187", "0188"],
        "districts": [],
    },
    {
        "name": "Lokalt samråd Nacka-Värmdö (exempel)",
        "municipalities": ["0182", "0120"],
        "districts": [],
    },
]
