"""The personal-data guard: identity numbers are found in every format, ordinary content is not."""

import datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from deviations.pii import (
    PERSONNUMMER,
    SAMORDNINGSNUMMER,
    contains_identity_number,
    find_identity_numbers,
    luhn_valid,
    suspected_names,
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Patienten Anna Svensson skrevs ut utan information.", ["Anna Svensson"]),
        ("Vi pratade med klienten Karl om planen.", ["Karl"]),
        ("Fru Berg ringde till mottagningen.", ["Berg"]),
        ("Igår träffade vi Anna-Karin Lind på mottagningen.", ["Anna-Karin Lind"]),
    ],
)
def test_names_are_suspected(text, expected):
    assert suspected_names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Patienten skrevs ut från slutenvården utan att socialtjänsten fick information.",
        "Region Stockholm och Beroendecentrum Stockholm kallade inte till SIP.",
        "Anna ringde. Karl svarade inte.",
        "Psykiatri Södra ville inte ta emot personen.",
        "Kontakt togs med Spånga-Tensta stadsdelsförvaltning och Skärholmen Vuxen.",
    ],
)
def test_ordinary_text_is_not_suspected(text):
    assert suspected_names(text, known=["Spånga-Tensta", "Skärholmen"]) == []
