"""The personal-data guard: no Swedish identity number is stored in any text, whoever writes it.

A report describes a collaboration failure, never a person; the same holds for every note, answer,
message, analysis and reference-data name. Three layers use this module, all with one detector:

- ``validate_no_identity_number``: a validator on every human-written ``CharField``/``TextField`` of
  every model (``tests/config/test_personal_data_fields.py`` enumerates them), so Django admin and any
  ``ModelForm`` (``full_clean``) refuse it on the field;
- ``guard_texts(**texts)``: called by every service that stores text, before it writes anything. It
  raises ``config.errors.Invalid`` with an error per field, which views put on their form's fields
  (``config.forms.add_service_errors``); commands and any future API get the same refusal;
- ``find_identity_numbers``/``contains_identity_number``: the detector itself;
- ``stored_identity_numbers``: the detector over every guarded text already stored (``manage.py
  find_identity_numbers``), for texts written before the detector knew a form (it learns new ones).

What it finds: personnummer and samordningsnummer (coordination numbers, day + 60), 10 or 12 digits,
with a valid date (not in the future) and a valid Luhn check digit, as people actually paste them:

- after Unicode NFKC normalisation, with format characters (zero-width space, soft hyphen, BOM, ...)
  removed and any Unicode decimal digit (full-width, Arabic-Indic, ...) read as its value;
- with a separator before the last four digits (``-``, ``+``, any dash, ``.``, ``/``, ``_``, spaces
  including no-break ones, a line break, or several of these: ``--``, `` / ``, ``.-``), or none; in a
  number written in one piece also a label's ``:`` or a list's ``,`` (``811218:9876``), which never
  glue two numbers into one code (``811218-9876,790101-1234`` is two);
- grouped: ``81 12 18-9876``, ``1981-12-18-9876``, ``81.12.18-9876``, at both of the date's boundaries;
  a line break may fall anywhere inside the number (it wraps, twice at most), also on a boundary;
- anywhere in a word or address: ``pnr:8112189876``, ``8112189876@example.se``.

What it must never flag (tests/config/test_personal_data.py proves both directions with hypothesis):
dates and times (``2026-03-14 12.30``, ``2026-03-14 1999``: a grouped date followed by a number after a
space is a date, so a grouped number needs punctuation before its last four digits; digits glued to more
digits by punctuation, ``2026-03-14–2026-04-01``, are a longer code), phone numbers
(``08-123 456 78``, ``070-123 45 67``, ``+46 70 123 45 67``: their groups never fall on a date's
boundaries), reference numbers (``SB-2026-00001``, ``dnr 2026/123``), organisation numbers
(``212000-0142``, ``556677-8899``, ``16556677-8899``: their "month" is 20 or more), postcodes and sums.
A phone number written as ten bare digits (``0701234567``) is indistinguishable from the personnummer of
someone born in 2007 and is refused when its check digit happens to fit: write it with its separators.

Findings carry only the kind and position, never the digits, and messages never contain the number, so
callers cannot echo, log or store it by mistake.
"""

import calendar
import datetime
import functools
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .errors import Invalid

PERSONNUMMER = "personnummer"
SAMORDNINGSNUMMER = "samordningsnummer"

# After NFKC: whitespace (no-break spaces become spaces), the dashes NFKC keeps, and . / _ + : ,.
_SEPARATOR_CHARS = r"\s+._/:,\-\u2010-\u2015\u2212"
# Digit groups joined by short runs of separators ("811218 - 9876", "81 12 18-9876", "8112\n189876").
_CHAIN = re.compile(rf"[0-9]+(?:[{_SEPARATOR_CHARS}]{{1,5}}[0-9]+)*")
_GROUP = re.compile(r"[0-9]+")
_DASHES = "-+\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
#: Line breaks a number may wrap at (a narrow column wraps it twice at most; bounding them keeps a text of
#: digits on short lines as quick to read as any other).
_MAX_WRAPS = 2
# Where a date may be split into groups (YY MM DD / YYYY MM DD), by the number's length.
_DATE_BOUNDARIES = {10: frozenset({2, 4}), 12: frozenset({4, 6})}


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


@functools.lru_cache(maxsize=4096)
def _read_as_is(char: str) -> bool:
    """Whether ``_normalised`` keeps ``char`` as it is: NFKC leaves it, it is not invisible (Cf) and not
    a decimal digit (each is mapped below)."""
    return unicodedata.category(char) not in ("Cf", "Nd") and unicodedata.normalize("NFKC", char) == char


def _normalised(text: str) -> tuple[str, list[int] | None]:
    """``text`` as the detector reads it, and for each of its characters the index of the character of
    ``text`` it came from (``None``: the same indexes, for text that is read as it is: ASCII, and Swedish
    with its å, ä and ö, as almost every text is; the distinct characters are checked, not each one)."""
    if text.isascii() or all(_read_as_is(char) for char in set(text) if not char.isascii()):
        return text, None
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char.isascii():
            chars.append(char)
            origin.append(index)
            continue
        category = unicodedata.category(char)
        if category == "Cf":  # zero-width space and joiners, soft hyphen, BOM, direction marks
            continue
        for piece in unicodedata.normalize("NFKC", char):
            if unicodedata.category(piece) == "Nd":  # any script's decimal digit, as 0-9
                piece = str(unicodedata.decimal(piece))
            chars.append(piece)
            origin.append(index)
    return "".join(chars), origin


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


#: Punctuation that labels or lists rather than joins (``811218:9876``, ``811218-9876,790101-1234``):
#: before the last four digits of a number written in one piece, never inside a date, never gluing.
_LIST_PUNCTUATION = frozenset(":,")
#: What may stand alone before the last four digits of a number written in one piece.
_SERIAL_PUNCTUATION = frozenset("._/" + _DASHES) | _LIST_PUNCTUATION


def _serial_separator_ok(separator: str, *, grouped: bool) -> bool:
    """Whether ``separator`` may stand before the last four digits: a dash or ``+``, or a run of up to
    three (``--``), spaces around it allowed; or, after a date written in one piece, nothing, spaces, or
    up to three of ``.``, ``/``, ``_`` and dashes (``.-``, `` / ``). "2026-03-14 1999" is a date and a
    year and "2000-01-01 / 1907" two things: a grouped date needs its dash."""
    core = separator.strip()
    if not core:
        return not grouped
    if len(core) > 3:
        return False
    if all(char in _DASHES for char in core):
        return True
    return not grouped and all(char in _SERIAL_PUNCTUATION for char in core)


def _wrap(separator: str) -> bool:
    """Whether ``separator`` is where a number wrapped at the end of a line (only spaces and a line
    break): not a boundary between the number's parts."""
    return separator.isspace() and bool(_LINE_BREAKS & set(separator))


def _window_kind(groups: list[str], separators: list[str], *, today: datetime.date) -> str | None:
    """The kind of identity number that consecutive digit ``groups`` (10 or 12 digits in all), joined by
    ``separators``, write; None if they write something else."""
    digits = "".join(groups)
    serial_at = len(digits) - 4
    date_boundaries = _DATE_BOUNDARIES[len(digits)]
    boundaries: dict[int, str] = {}
    wrapped: set[int] = set()
    position = 0
    for group, separator in zip(groups, separators, strict=False):
        position += len(group)
        if _wrap(separator):
            wrapped.add(position)  # the number wrapped at the end of a line: not a boundary of its own
            continue
        boundaries[position] = separator
    if not set(boundaries) <= date_boundaries | {serial_at}:
        return None
    if set(boundaries) & date_boundaries and not date_boundaries <= set(boundaries) | wrapped:
        return None  # a date is grouped at both its boundaries: "2010-03-14\n13" is a date and more
    date_separators = {boundaries[at] for at in set(boundaries) & date_boundaries}
    if len(date_separators) > 1:
        return None  # "81 12 18" or "81.12.18", never "01.05–01.05": that is a span of times or dates
    if any(_LIST_PUNCTUATION & set(separator) for separator in date_separators):
        return None  # "12:12:12-1212", "12,12,12-1212": times and lists, not dates
    serial_separator = boundaries.get(serial_at, "")
    if not _serial_separator_ok(serial_separator, grouped=bool(set(boundaries) & date_boundaries)):
        return None
    kind = _date_kind(digits[:serial_at], plus="+" in serial_separator, today=today)
    if kind and luhn_valid(digits[-10:]):
        return kind
    return None


def _glued(separators: list[str], index: int) -> bool:
    """Whether the separator at ``index`` (if any) joins two digit groups into one code: without any
    space, and not a list's or label's ``,`` or ``:``."""
    if not 0 <= index < len(separators):
        return False
    separator = separators[index]
    return not any(char.isspace() or char in _LIST_PUNCTUATION for char in separator)


def find_identity_numbers(text: str, *, today: datetime.date | None = None) -> list[Finding]:
    """Every personnummer or samordningsnummer in ``text`` (kind and position in ``text`` only)."""
    if not text:
        return []
    today = today or datetime.date.today()
    normalised, origin = _normalised(text)
    findings: list[Finding] = []
    for chain in _CHAIN.finditer(normalised):
        matches = list(_GROUP.finditer(normalised, chain.start(), chain.end()))
        groups = [m.group() for m in matches]
        separators = [normalised[a.end() : b.start()] for a, b in zip(matches, matches[1:], strict=False)]
        covered = -1  # a window may not overlap one already found
        for first in range(len(groups)):
            if matches[first].start() <= covered or _glued(separators, first - 1):
                continue  # inside a number found, or part of a longer code ("2026-03-14–2026-04-01")
            found = None  # the longest window from here: 12 digits rather than the 10 inside them
            length = boundaries = wraps = 0
            for last in range(first, len(groups)):
                length += len(groups[last])
                if last > first:
                    if _wrap(separators[last - 1]):
                        wraps += 1
                    else:
                        boundaries += 1
                if length > 12 or boundaries > 3 or wraps > _MAX_WRAPS:
                    break  # a number has at most three boundaries: two in its date, one before the serial
                if length in _DATE_BOUNDARIES and not _glued(separators, last):
                    kind = _window_kind(groups[first : last + 1], separators[first:last], today=today)
                    found = (kind, last) if kind else found
            if found:
                kind, last = found
                start, end = matches[first].start(), matches[last].end()
                covered = end
                if origin is not None:
                    start, end = origin[start], origin[end - 1] + 1
                findings.append(Finding(kind=kind, start=start, end=end))
    return findings


def contains_identity_number(text: str) -> bool:
    return bool(find_identity_numbers(text))


# --- Refusing it ---------------------------------------------------------------------------------

IDENTITY_NUMBER_MESSAGE = gettext_lazy(
    "Texten verkar innehålla ett personnummer eller samordningsnummer. Inga uppgifter får gå att koppla "
    "till en enskild person: ta bort numret och försök igen. Ingenting har sparats."
)


def identity_number_message(label: str | None = None) -> str:
    """The refusal, naming the field when its ``label`` is known. Never contains the number."""
    if not label:
        return str(IDENTITY_NUMBER_MESSAGE)
    return _(
        "Fältet ”%(field)s” verkar innehålla ett personnummer eller samordningsnummer. Inga uppgifter får "
        "gå att koppla till en enskild person: ta bort numret och försök igen. Ingenting har sparats."
    ) % {"field": label}


def validate_no_identity_number(value) -> None:
    """Model and form field validator: refuses a text holding a personnummer or samordningsnummer."""
    if isinstance(value, str) and contains_identity_number(value):
        raise ValidationError(IDENTITY_NUMBER_MESSAGE, code="identity_number")


def query_string_text(query: str) -> str:
    """The names and values of a URL query string as they read decoded (``q=811218%2D9876`` holds
    ``811218-9876``): what a stored query string says."""
    from django.http import QueryDict

    return " ".join(f"{name} {value}" for name, values in QueryDict(query).lists() for value in values)


def query_string_readings(query: str) -> tuple[str, str]:
    """The texts a stored query string is checked as: as stored, and decoded."""
    return query, query_string_text(query)


def validate_query_without_identity_number(value) -> None:
    """``validate_no_identity_number`` for a stored query string: as stored and decoded."""
    if isinstance(value, str):
        for text in query_string_readings(value):
            validate_no_identity_number(text)


def identity_number_errors(texts: Mapping[str, str | None], *, labels: Mapping | None = None) -> dict:
    """``{name: message}`` for each of ``texts`` that holds an identity number (``labels`` name the
    fields in the messages)."""
    labels = labels or {}
    return {
        name: identity_number_message(labels.get(name))
        for name, text in texts.items()
        if text and contains_identity_number(text)
    }


def guard_texts(*, labels: Mapping | None = None, **texts: str | None) -> None:
    """Raise ``Invalid`` (with an error per field) if any of ``texts`` holds an identity number. Every
    service that stores text calls this before it writes."""
    errors = identity_number_errors(texts, labels=labels)
    if errors:
        raise Invalid(" ".join(dict.fromkeys(errors.values())), errors=errors)


# --- Finding what was stored before ------------------------------------------------------------


@dataclass(frozen=True)
class StoredFinding:
    """A stored text holding an identity number: where it is, never what it says. ``label``: the value
    of the caller's lookup for the row (``stored_identity_numbers``), e.g. the reference of its report."""

    model: str
    pk: object
    field: str
    kinds: tuple[str, ...]
    label: object = None


_GUARDS = (validate_no_identity_number, validate_query_without_identity_number)


def guarded_fields(model) -> list:
    """The fields of ``model`` that refuse an identity number (``_GUARDS`` among their validators)."""
    return [
        field
        for field in model._meta.concrete_fields
        if any(validator in _GUARDS for validator in field.validators)
    ]


def _stored_kinds(field, value: str) -> tuple[str, ...]:
    query = validate_query_without_identity_number in field.validators
    texts = query_string_readings(value) if query else (value,)
    return tuple(sorted({finding.kind for text in texts for finding in find_identity_numbers(text)}))


def stored_identity_numbers(
    *, models=None, label: Callable | None = None, chunk_size: int = 2000
) -> Iterator[StoredFinding]:
    """Every stored text of a guarded field (``guarded_fields``) that holds an identity number, model by
    model (``models``: every installed one). Each table is read once, in primary-key order, through a
    server-side cursor in a transaction of its own (``config.spreadsheets.server_side_rows``: constant
    memory, also behind PgBouncer), and only rows with a non-empty guarded text.
    ``label(model)``: a lookup (``"deviation__reference"``) read with each row, or None."""
    from django.apps import apps
    from django.db.models import Q

    from .spreadsheets import server_side_rows

    for model in models or apps.get_models():
        fields = guarded_fields(model)
        if not fields:
            continue
        lookup = label(model) if label else None
        non_empty = Q()
        for field in fields:
            non_empty |= Q(**{f"{field.attname}__gt": ""})
        rows = (
            model._base_manager.filter(non_empty)
            .order_by("pk")
            .values_list("pk", *(field.attname for field in fields), *([lookup] if lookup else []))
        )
        for pk, *values in server_side_rows(rows, chunk_size=chunk_size):
            row_label = values.pop() if lookup else None
            for field, value in zip(fields, values, strict=True):
                kinds = _stored_kinds(field, value) if value else ()
                if kinds:
                    yield StoredFinding(model._meta.label, pk, field.name, kinds, row_label)
