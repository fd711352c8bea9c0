"""The name warning's heuristic: names of people are suspected, ordinary text and places are not."""

import pytest

from deviations.pii import suspected_names


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
