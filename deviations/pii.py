"""Names of people in free text: a warning, never a refusal. Identity numbers are refused everywhere by
``config.personal_data``.

``suspected_names`` is a heuristic (a capitalised word after "patienten", "klienten", "herr", "fru" …, or
two capitalised words in a row mid-sentence). It only warns.
"""

import re
from collections.abc import Iterable

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
