"""Personal-data guard for free text: Swedish personal identity numbers and names.

A report describes a collaboration failure, never a person. ``find_identity_numbers`` finds
personnummer and samordningsnummer (coordination numbers, day + 60) written as 10 or 12 digits, with
or without a ``-``, ``+`` or space before the last four digits, with a valid date and a valid Luhn
check digit. A hit refuses the whole form. Findings carry only the kind and position, never the
digits, so callers cannot echo, log or store the number by mistake.

``suspected_names`` is a much weaker heuristic (a capitalised word after "patienten", "klienten",
"herr", "fru" …, or two capitalised words in a row mid-sentence). It only warns.
"""

import calendar
import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass

PERSONNUMMER = "personnummer"
SAMORDNINGSNUMMER = "samordningsnummer"

_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2212"  # hyphen and the dashes word processors produce
_SPACES = " \u00a0\u202f"  # space, no-break space, narrow no-break space
_SEPARATOR = rf"(?:[{_SPACES}]?[{_DASHES}+][{_SPACES}]?|[{_SPACES}])?"
# Six or eight digits (YYMMDD / YYYYMMDD), an optional separator, four digits; not part of a longer
# run of digits (so reference numbers, bank accounts and long phone numbers do not match).
_CANDIDATE = re.compile(
    rf"(?<![0-9])(?P<date>(?:[0-9]{{2}})?[0-9]{{6}})(?P<sep>{_SEPARATOR})(?P<serial>[0-9]{{4}})(?![0-9])"
)


@dataclass(frozen=True)
class Finding:
    """Where an identity number was found; deliberately without the number itself."""

    kind: str
    start: int
    end: int


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check used by Swedish identity numbers, over the 10-digit form."""
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _date_kind(date_digits: str, *, plus: bool, today: datetime.date) -> str | None:
    """``PERSONNUMMER``/``SAMORDNINGSNUMMER`` if the digits form a possible birth date, else None."""
    if len(date_digits) == 8:
        years = [int(date_digits[:4])]
        if not 1850 <= years[0] <= today.year:
            return None
    else:
        yy = int(date_digits[:2])
        # The century is implicit: "+" marks people aged 100 or more.
        years = [1800 + yy, 1900 + yy] if plus else [1900 + yy, 2000 + yy]
    month, day = int(date_digits[-4:-2]), int(date_digits[-2:])
    kind = PERSONNUMMER
    if day > 60:
        kind, day = SAMORDNINGSNUMMER, day - 60
    if not 1 <= month <= 12 or day < 1:
        return None
    for year in years:
        if day <= calendar.monthrange(year, month)[1] and datetime.date(year, month, day) <= today:
            return kind
    return None


def find_identity_numbers(text: str, *, today: datetime.date | None = None) -> list[Finding]:
    """Every personnummer or samordningsnummer in ``text`` (kind and position only)."""
    if not text:
        return []
    today = today or datetime.date.today()
    findings = []
    for match in _CANDIDATE.finditer(text):
        date_digits, serial = match["date"], match["serial"]
        kind = _date_kind(date_digits, plus="+" in match["sep"], today=today)
        if kind and luhn_valid(date_digits[-6:] + serial):
            findings.append(Finding(kind=kind, start=match.start(), end=match.end()))
    return findings


def contains_identity_number(text: str) -> bool:
    return bool(find_identity_numbers(text))


# --- Names (warning only) ------------------------------------------------------------------------

_WORD = r"[A-ZÅÄÖÉÜ][a-zåäöéüè]+(?:-[A-ZÅÄÖÉÜ][a-zåäöéüè]+)?"
_TRIGGERS = (
    "patienten",
    "patient",
    "klienten",
    "klient",
    "brukaren",
    "brukare",
    "kunden",
    "personen",
    "den boende",
    "mannen",
    "kvinnan",
    "herr",
    "fru",
    "hr",
)
_AFTER_TRIGGER = re.compile(
    rf"\b(?i:{'|'.join(re.escape(t) for t in _TRIGGERS)})\.?\s+(?P<name>{_WORD}(?:\s+{_WORD})?)"
)
# A lookahead, so overlapping pairs are all seen ("Igår Anna Svensson" → "Anna Svensson").
_PAIR = re.compile(rf"(?<![\w-])(?=(?P<name>{_WORD}\s+{_WORD})(?![\w-]))")
# Capitalised words that are not names of people: places, authorities, common organisation words.
_COMMON = """
    Region Stockholm Stockholms Sverige Storsthlm Södra Norra Västra Östra Centrala Sydväst Nordväst
    Socialtjänsten Socialtjänst Psykiatri Psykiatrin Beroendecentrum Beroendevården Vuxenpsykiatri
    Försäkringskassan Kriminalvården Polisen Arbetsförmedlingen Migrationsverket Kronofogden
    Vårdcentral Vårdcentralen Husläkarmottagning Akutsjukhus Sjukhus Sjukhuset Karolinska Danderyds
    Södersjukhuset Stadsdelsförvaltning Stadsdelsnämnd Kommun Kommunen Socialnämnden
    Hälso Sjukvård Regionen Inspektionen Vård Omsorg IVO SIP BAS Ungdom Mottagning Mottagningen
    Enheten Avdelning Avdelningen Vuxenenheten Boende Stödboende Härbärge Stadsmissionen
    Frälsningsarmén Ersta Diakoni Jag Vi Han Hon Hen De Det Den Vid Efter Inför Under Enligt
"""
COMMON_WORDS = frozenset(_COMMON.lower().split())
_SENTENCE_END = ".!?:;\n•*–-\"'(”"


def _is_common(phrase: str, known: frozenset[str]) -> bool:
    words = re.split(r"[\s-]+", phrase.lower())
    return any(word in COMMON_WORDS or word in known for word in words)


def suspected_names(text: str, *, known: Iterable[str] = ()) -> list[str]:
    """Phrases in ``text`` that look like a person's name. ``known`` holds words that are not names
    (municipalities, districts, organisations). A heuristic: use it to warn, never to refuse."""
    if not text:
        return []
    known_words = frozenset(w for name in known for w in re.split(r"[\s-]+", name.lower()) if w)
    found: list[str] = []
    for match in _AFTER_TRIGGER.finditer(text):
        name = match["name"]
        if not _is_common(name.split()[0], known_words):
            found.append(name)
    for match in _PAIR.finditer(text):
        before = text[: match.start()].rstrip()
        if not before or before[-1] in _SENTENCE_END:
            continue  # the first word starts a sentence or a list item
        name = match["name"]
        if not _is_common(name, known_words) and name not in found:
            found.append(name)
    return found
