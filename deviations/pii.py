"""Names of people in a report's free text: a warning the reporter can confirm past, never a refusal.

Identity numbers are refused everywhere by ``config.personal_data``; a name cannot be told from an
ordinary capitalised word with certainty, so the report form only warns (``ReportForm``), on the field
that holds the name, and asks again whenever a text changes after the warning was confirmed.

``suspected_names`` flags:

- a capitalised word (or two) after "patienten", "klienten", "herr", "fru" …;
- two capitalised words in a row mid-sentence ("vi ringde Anna Svensson");
- one of the common Swedish given names or surnames (``data/given_names.txt``, ``data/surnames.txt``:
  published name statistics, see their headers) written with a capital: "Hennes son Erik", "enligt
  Lindqvist"; at the start of a sentence only a given name ("Anna, 45 år, …", "Erik skrevs ut …"),
  unless it is also an ordinary Swedish word there ("Inga åtgärder", "Hans mamma", "Per telefon").

Words of ``known`` (municipalities, districts, organisations) and ``COMMON_WORDS`` are never names.
"""

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

_UPPER = "A-ZÅÄÖÉÜ"
_LOWER = "a-zåäöéüèáíóúëï"
_WORD = rf"[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}][{_LOWER}]+)?"
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
_SINGLE = re.compile(rf"(?<![\w-])(?P<name>{_WORD})(?![\w-])")
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
# Given names of the statistics that are also ordinary Swedish words, so common at the start of a
# sentence that flagging them there would make the warning noise ("Inga åtgärder vidtogs", "Hans
# mamma ringde", "Per telefon", "Mina kollegor", "Dag 3", "Maj 2025"). Mid-sentence, capitalised, they
# are still names. Written by hand: these are words, not names.
_SENTENCE_START = """
    inga hans per mina bo dag liv lo maj juni my del ben mark max tor tom bror stig sten björn
    vide saga iris rosa malva viola lova love rita urban viking junior frans kaj said tim ted
"""
SENTENCE_START_WORDS = frozenset(_SENTENCE_START.split())
_SENTENCE_END = ".!?:;\n•*–-\"'(”"


def _read(name: str) -> frozenset[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


@cache
def given_names() -> frozenset[str]:
    """Common Swedish given names, lower case (``data/given_names.txt``)."""
    return _read("given_names.txt")


@cache
def surnames() -> frozenset[str]:
    """Common Swedish surnames, lower case (``data/surnames.txt``)."""
    return _read("surnames.txt")


def _words(phrase: str) -> list[str]:
    return [w for w in re.split(r"[\s-]+", phrase.lower()) if w]


def _is_common(phrase: str, known: frozenset[str]) -> bool:
    return any(word in COMMON_WORDS or word in known for word in _words(phrase))


def _starts_sentence(text: str, position: int) -> bool:
    before = text[:position].rstrip()
    return not before or before[-1] in _SENTENCE_END


def _listed_name(word: str, *, sentence_start: bool) -> bool:
    """Whether ``word`` (a capitalised word, maybe hyphenated) is a common given name or surname."""
    lower = word.lower()
    if sentence_start:
        # A surname that starts a sentence is too often a word ("Frisk", "Stark", "Strand").
        return lower in given_names() and lower not in SENTENCE_START_WORDS
    parts = _words(word)
    return lower in given_names() or lower in surnames() or any(p in given_names() for p in parts)


def suspected_names(text: str, *, known: Iterable[str] = ()) -> list[str]:
    """Phrases in ``text`` that look like a person's name, in order. ``known`` holds words that are not
    names (municipalities, districts, organisations). A heuristic: use it to warn, never to refuse."""
    if not text:
        return []
    known_words = frozenset(w for name in known for w in _words(name))
    spans: list[tuple[int, int, str]] = []
    for match in _AFTER_TRIGGER.finditer(text):
        name = match["name"]
        if not _is_common(name.split()[0], known_words):
            spans.append((match.start("name"), match.end("name"), name))
    for match in _PAIR.finditer(text):
        name = match["name"]
        if not _starts_sentence(text, match.start()) and not _is_common(name, known_words):
            spans.append((match.start("name"), match.start("name") + len(name), name))
    for match in _SINGLE.finditer(text):
        name = match["name"]
        sentence_start = _starts_sentence(text, match.start())
        if _listed_name(name, sentence_start=sentence_start) and not _is_common(name, known_words):
            spans.append((match.start(), match.end(), name))
    # A name inside a longer one already found ("Lind" in "Anna-Karin Lind") is not listed again.
    spans.sort(key=lambda span: (span[0], -span[1]))
    found: list[str] = []
    covered = -1
    for _start, end, name in spans:
        if end <= covered:
            continue
        covered = max(covered, end)
        if name not in found:
            found.append(name)
    return found
