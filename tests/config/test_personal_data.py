"""The personal-data guard's detector: identity numbers are found in every format and disguise people
paste, ordinary content (dates, times, phone, reference, organisation numbers, postcodes, sums) never."""

import datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from config.personal_data import (
    PERSONNUMMER,
    SAMORDNINGSNUMMER,
    contains_identity_number,
    find_identity_numbers,
    luhn_valid,
)

TODAY = datetime.date(2026, 11, 25)


def check_digit(nine: str) -> str:
    return next(str(d) for d in range(10) if luhn_valid(nine + str(d)))


def identity_number(birth: datetime.date, serial: int, *, coordination: bool = False) -> tuple[str, str]:
    """(YYYYMMDD, NNNN) of a valid personnummer/samordningsnummer."""
    day = birth.day + (60 if coordination else 0)
    date8 = f"{birth.year:04d}{birth.month:02d}{day:02d}"
    nine = date8[2:] + f"{serial:03d}"
    return date8, f"{serial:03d}{check_digit(nine)}"


@st.composite
def written_numbers(draw):
    """A valid number as people write it: 10 or 12 digits, with or without separator."""
    birth = draw(st.dates(min_value=datetime.date(1900, 1, 1), max_value=TODAY))
    coordination = draw(st.booleans())
    date8, serial = identity_number(birth, draw(st.integers(0, 999)), coordination=coordination)
    if draw(st.booleans()):
        date, separators = date8, ["", "-", " ", "–", " - ", "\u00a0"]
    else:
        date = date8[2:]
        separators = ["", "-", " ", "–", "\u00a0"] + (["+"] if birth.year <= TODAY.year - 100 else [])
    number = date + draw(st.sampled_from(separators)) + serial
    return number, SAMORDNINGSNUMMER if coordination else PERSONNUMMER


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzåäöABCÅÄÖ ,.!?:;()\n", min_size=0, max_size=60)

# Ordinary content with digits that must never be taken for an identity number.
phone_numbers = st.one_of(
    st.builds(
        lambda a, b, c, d: f"07{a}-{b:03d} {c:02d} {d:02d}",
        st.sampled_from("02369"),
        st.integers(0, 999),
        st.integers(0, 99),
        st.integers(0, 99),
    ),
    st.builds(
        lambda a, b, c: f"08-{a:03d} {b:03d} {c:02d}",
        st.integers(100, 999),
        st.integers(0, 999),
        st.integers(0, 99),
    ),
    st.builds(
        lambda a, b, c: f"08-{a:02d} {b:02d} {c:02d}",
        st.integers(10, 99),
        st.integers(0, 99),
        st.integers(0, 99),
    ),
    st.builds(
        lambda a, b, c, d: f"+46 7{a} {b:03d} {c:02d} {d:02d}",
        st.sampled_from("02369"),
        st.integers(0, 999),
        st.integers(0, 99),
        st.integers(0, 99),
    ),
    st.builds(lambda n: f"+4670{n:07d}", st.integers(0, 9_999_999)),
)
dates = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2100, 12, 31)).flatmap(
    lambda d: st.sampled_from(
        [
            d.isoformat(),
            f"{d.day}/{d.month}",
            f"{d.day}/{d.month} {d.year}",
            f"{d.day}.{d.month}.{d.year}",
            f"{d.day} mars {d.year}",
        ]
    )
)
ordinary_tokens = st.one_of(
    words,
    phone_numbers,
    dates,
    st.builds(lambda y, n: f"SB-{y}-{n:05d}", st.integers(2020, 2099), st.integers(1, 99999)),  # references
    st.builds(lambda a, b: f"{a:03d} {b:02d}", st.integers(100, 999), st.integers(0, 99)),  # postal codes
    st.integers(1900, 2100).map(str),  # years
    st.builds(lambda n: f"{n:,} kr".replace(",", " "), st.integers(0, 10_000_000)),  # money
    st.builds(lambda h, m: f"kl. {h:02d}.{m:02d}", st.integers(0, 23), st.integers(0, 59)),
)


@given(number=written_numbers(), before=words, after=words)
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@example(number=("19121212-1212", PERSONNUMMER), before="Patienten har pnr ", after=".")
@example(number=("121272-1219", SAMORDNINGSNUMMER), before="(", after=")")
def test_valid_numbers_are_found_in_any_format_and_context(number, before, after):
    text, kind = number
    findings = find_identity_numbers(before + text + after, today=TODAY)
    assert [f.kind for f in findings] == [kind]
    assert (before + text + after)[findings[0].start : findings[0].end] == text


@given(tokens=st.lists(ordinary_tokens, min_size=1, max_size=12))
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_ordinary_text_is_never_flagged(tokens):
    assert find_identity_numbers(" ".join(tokens), today=TODAY) == []


@given(number=written_numbers(), wrong=st.integers(1, 9))
def test_a_wrong_check_digit_is_not_flagged(number, wrong):
    text, _kind = number
    changed = text[:-1] + str((int(text[-1]) + wrong) % 10)
    assert find_identity_numbers(changed, today=TODAY) == []


@pytest.mark.parametrize(
    "text",
    [
        "Personnummer 19121212-1212 står i journalen.",
        "pnr:121212-1212",
        "121212+1212 är över hundra år",
        "191212121212",
        "1212121212",
        "19121212 1212",
        "121212 1212",
        "19121212–1212",  # en dash, as word processors write it
        "samordningsnummer 121272-1219",
        "20000229-0005",  # a leap day
    ],
)
def test_hand_written_identity_numbers_are_found(text):
    assert contains_identity_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "Ring 070-123 45 67 eller 08-123 456 78.",
        "Ärendet SB-2026-00042 gäller samma enhet.",
        "Adress: Storgatan 1, 123 45 Stockholm.",
        "Det hände 2026-03-14 och igen 14/3 och 15/3 2026.",
        "Kostnaden var 12 500 kr, i fjol 1 250 000 kr.",
        "Under 2025 och 2026 har detta hänt 12 gånger.",
        "121212-1213",  # wrong check digit
        "121312-1212",  # month 13
        "190230-1234",  # 30 February
        "121292-1219",  # coordination day 92
        "1212121212121",  # 13 digits: an account number, not an identity number
        "SE4550000000058398257466",  # an IBAN
        "20991212-1212",  # a birth date in the future
    ],
)
def test_ordinary_content_is_not_flagged(text):
    assert find_identity_numbers(text, today=TODAY) == []


def test_findings_never_carry_the_number():
    finding = find_identity_numbers("pnr 19121212-1212", today=TODAY)[0]
    assert "1212" not in repr(finding)


# --- What people paste ----------------------------------------------------------------------------

#: Unicode format characters (category Cf) that editors and web pages leave inside copied text.
FORMAT_CHARACTERS = ["\u200b", "\u00ad", "\ufeff", "\u200c", "\u200d", "\u2060", "\u200e"]
#: Zero of decimal digits in other scripts and forms: full-width, Arabic-Indic, Extended Arabic-Indic,
#: Devanagari, Bengali, mathematical bold and monospace.
DIGIT_ZEROS = [0xFF10, 0x0660, 0x06F0, 0x0966, 0x09E6, 0x1D7CE, 0x1D7F6]
SERIAL_SEPARATORS = [
    "-",
    " - ",
    "–",
    "—",
    "\u2011",
    "\u2212",
    ".",
    "/",
    "_",
    "  ",
    "\n",
    "-\n",
    "\r\n",
    "\u202f",
    ":",
    ": ",
    ",",
    ", ",
]


@st.composite
def disguised_numbers(draw):
    """A valid number as it arrives from a paste: grouped, separated, wrapped, with invisible characters
    and in other digits. Returns (text, kind, keeps_span): ``keeps_span`` is false when the
    transformation changed the digits' own characters (the span is then checked through its length)."""
    birth = draw(st.dates(min_value=datetime.date(1900, 1, 1), max_value=TODAY))
    coordination = draw(st.booleans())
    date8, serial = identity_number(birth, draw(st.integers(0, 999)), coordination=coordination)
    form = draw(st.sampled_from(["plain", "grouped", "email"]))
    long = draw(st.booleans())
    date = date8 if long else date8[2:]
    if form == "plain":
        number = date + draw(st.sampled_from(["", " ", *SERIAL_SEPARATORS])) + serial
    elif form == "grouped":
        parts = [date[:-4], date[-4:-2], date[-2:]]
        number = draw(st.sampled_from([" ", "-", ".", "/", "  "])).join(parts)
        number += draw(st.sampled_from(["-", " - ", "–", "-\n", "\u2212", "+" if long else "-"])) + serial
    else:
        number = date + draw(st.sampled_from(["", "-", "."])) + serial
    if form != "email" and draw(st.booleans()):
        # A line break where the number wrapped, between two digits.
        places = [i for i in range(1, len(number)) if number[i - 1].isdigit() and number[i].isdigit()]
        at = draw(st.sampled_from(places))
        number = number[:at] + "\n" + number[at:]
    if draw(st.booleans()):
        at = draw(st.integers(1, len(number) - 1))
        number = number[:at] + draw(st.sampled_from(FORMAT_CHARACTERS)) + number[at:]
    zero = draw(st.sampled_from([ord("0"), *DIGIT_ZEROS]))
    number = "".join(chr(zero + int(c)) if c.isdigit() else c for c in number)
    if form == "email":
        number += "@" + draw(st.sampled_from(["stockholm.se", "regionstockholm.se", "example.com"]))
        digits_end = number.index("@")
    else:
        digits_end = len(number)
    return number, digits_end, SAMORDNINGSNUMMER if coordination else PERSONNUMMER


@given(number=disguised_numbers(), before=words, after=words)
@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@example(number=("81 12 18-9876", 13, PERSONNUMMER), before="", after="")
@example(number=("1981-12-18-9876", 15, PERSONNUMMER), before="", after="")
@example(number=("8112189876@stockholm.se", 10, PERSONNUMMER), before="Mejla ", after="")
@example(number=("８１１２１８－９８７６", 11, PERSONNUMMER), before="", after="")
@example(number=("811218\u200b-98\u00ad76", 13, PERSONNUMMER), before="", after="")
def test_disguised_numbers_are_found(number, before, after):
    text, digits_end, kind = number
    findings = find_identity_numbers(before + text + after, today=TODAY)
    assert [f.kind for f in findings] == [kind]
    assert (findings[0].start, findings[0].end) == (len(before), len(before) + digits_end)


@pytest.mark.parametrize(
    "text",
    [
        "81 12 18-9876",
        "1981-12-18-9876",
        "81.12.18-9876",
        "1981 12 18 - 9876",
        "811218.9876",
        "811218/9876",
        "811218_9876",
        "811218   9876",
        "811218\n9876",
        "19811218-\n9876",
        "8112\n189876",
        "8112189876@stockholm.se",
        "e-post: anna.811218-9876@example.se",
        "８１１２１８－９８７６",  # full-width digits and hyphen
        "٨١١٢١٨-٩٨٧٦",  # Arabic-Indic digits
        "811218\u200b-9876",  # zero-width space
        "8112\u00ad18-9876",  # soft hyphen
        "\ufeff811218-9876",  # byte order mark
        "811218\u00a0-\u00a09876",  # no-break spaces
        # Doubled or spaced punctuation (found in a review): a doubled dash, a dot before the dash, a
        # spaced slash or dot, also after a grouped date when it is all dashes.
        "811218--9876",
        "811218 -- 9876",
        "811218.-9876",
        "811218 / 9876",
        "811218 . 9876",
        "81-12-18--9876",
        # A label's colon or a list's comma before the last four digits (found in a review).
        "811218:9876",
        "19811218:9876",
        "811218,9876",
        "pnr 811218 : 9876",
        "811218\uff1a9876",  # a full-width colon
    ],
)
def test_pasted_identity_numbers_are_found(text):
    assert contains_identity_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "Åsa på äldreboendet, pnr 811218-9876, fick ingen läkartid.",  # read as it is (the fast path)
        "Åsa på äldreboendet, pnr 811218\u200b-9876, fick ingen läkartid.",  # an invisible character
        "Åsa på äldreboendet, pnr ８１１２１８－９８７６, fick ingen läkartid.",  # full-width digits
        "Åsa på äldreboendet, pnr ٨١١٢١٨-٩٨٧٦, fick ingen läkartid.",  # Arabic-Indic digits
    ],
)
def test_in_swedish_text_the_number_is_found_where_it_stands(text):
    (finding,) = find_identity_numbers(text, today=TODAY)
    assert text[finding.start] in "8８٨" and text[finding.end - 1] in "6６٦"
    assert text[finding.end :] == ", fick ingen läkartid."


organisation_numbers = st.builds(
    lambda prefix, a, month, b, serial, sep: f"{prefix}{a:02d}{month:02d}{b:02d}{sep}{serial:04d}",
    st.sampled_from(["", "16", "16 "]),
    st.integers(0, 99),
    st.integers(20, 99),  # the third and fourth digits of an organisation number are 20 or more
    st.integers(0, 99),
    st.integers(0, 9999),
    st.sampled_from(["-", "", " "]),
)
legitimate_tokens = st.one_of(
    ordinary_tokens,
    organisation_numbers,
    st.sampled_from(["212000-0142", "556677-8899", "202100-5489", "16556677-8899", "802002-4280"]),
    st.builds(lambda y, n: f"dnr {y}/{n}", st.integers(2000, 2099), st.integers(1, 9999)),
    st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59)),
    st.builds(lambda h, m: f"{h:02d}.{m:02d}–{h:02d}.{m:02d}", st.integers(0, 23), st.integers(0, 59)),
    st.builds(
        lambda a, b, c: f"+46 70 {a:03d} {b:02d} {c:02d}",
        st.integers(0, 999),
        st.integers(0, 99),
        st.integers(0, 99),
    ),
    st.builds(lambda a, b: f"{a.isoformat()}–{b.isoformat()}", st.dates(), st.dates()),  # periods
    st.builds(lambda a, b: f"{a.isoformat()} – {b.isoformat()}", st.dates(), st.dates()),
    st.builds(
        lambda d, h, m: f"{d.isoformat()} {h:02d}.{m:02d}", st.dates(), st.integers(0, 23), st.integers(0, 59)
    ),
    st.builds(lambda n: f"{n:,} kr".replace(",", "\u00a0"), st.integers(0, 10_000_000)),
)


@given(
    tokens=st.lists(legitimate_tokens, min_size=1, max_size=12),
    joiner=st.sampled_from([" ", "\n", ", ", " / "]),
)
@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
def test_legitimate_text_is_never_flagged(tokens, joiner):
    assert find_identity_numbers(joiner.join(tokens), today=TODAY) == []


@pytest.mark.parametrize(
    "text",
    [
        "Ring 08-123 456 78, 070-123 45 67 eller +46 70 123 45 67.",
        "Ärende SB-2026-00001, dnr 2026/123.",
        "Organisationsnummer 212000-0142 och 556677-8899, 16556677-8899.",
        "Postnummer 123 45. Beloppet var 1 234 567 kr.",
        "Perioden 2026-01-01–2026-06-30, mötet 2026-03-14 kl. 12.30, därefter 2026-03-14 1999.",
        "2026-03-14\n1999",
    ],
)
def test_brief_examples_of_legitimate_text_are_not_flagged(text):
    assert find_identity_numbers(text, today=TODAY) == []


@pytest.mark.parametrize(
    "text",
    [
        "811218-9876,790101-1234",
        "811218-9876, 790101-1234",
        "811218:9876,790101:1234",
        "8112189876,7901011234",
    ],
)
def test_numbers_in_a_list_are_each_found(text):
    """A comma between two numbers lists them; it does not glue them into one longer code."""
    assert [f.kind for f in find_identity_numbers(text, today=TODAY)] == [PERSONNUMMER, PERSONNUMMER]


@pytest.mark.parametrize("text", ["8112\n189876", "8112\n18-98\n76", "19811218-\n98\n76"])
def test_a_number_wrapped_twice_is_found(text):
    assert [f.kind for f in find_identity_numbers(text, today=TODAY)] == [PERSONNUMMER]


@pytest.mark.parametrize("line", ["1", "12", "1, ", "12:", "1-"])
def test_digits_on_short_lines_are_read_without_trying_every_window(monkeypatch, line):
    """A text of digits joined by line breaks or list punctuation (a pasted column, or an attacker's
    form post of megabytes) is read in one pass: no run of it can be a number, so none is tried."""
    from config import personal_data

    tried = []
    window_kind = personal_data._window_kind
    monkeypatch.setattr(
        personal_data, "_window_kind", lambda *args, **kwargs: tried.append(1) or window_kind(*args, **kwargs)
    )
    text = "\n".join([line] * 2000)
    assert find_identity_numbers(text, today=TODAY) == []
    assert tried == []


@pytest.mark.parametrize(
    "text",
    [
        "Klockan 12:12:12-1212 loggades samtalet.",  # a time is not a date
        "12,12,12-1212",  # a list of numbers, not a grouped date
        "Mötet 2026-03-14, 1999 deltagare.",
        "Mötet 2026-03-14,1999 deltagare.",
        "Position 59,334591, 18,063240.",
        "kl. 10:30, 1212 ärenden",
        "Perioden 2026-01-01–2026-06-30, därefter 2026-07-01, 2026-08-01.",
        # A date at the end of a line and a number on the next: read across the line break, the digits
        # "2010-03-14\n13" looked like a number grouped "YYMM-DD-SSSS" (found by hypothesis).
        "Uppföljning 2010-03-14\n13 ärenden har granskats.",
        "2000-01-01 – 0209-01-18\n16 002000-0000",
    ],
)
def test_colons_and_commas_in_ordinary_text_are_not_flagged(text):
    assert find_identity_numbers(text, today=TODAY) == []
