"""Number keys that a Dutch and an English report of one event share."""

from __future__ import annotations

import itertools
import random

import pytest

from pipeline.process.analysis import numbers
from pipeline.process.analysis.numbers import (
    is_number_word,
    number_key,
    parse_digits,
    parse_word,
)


@pytest.mark.parametrize(
    ("text", "lang", "before", "after", "after2", "expected"),
    [
        ("1.200", "nl", "", "banen", "", "1200"),
        ("1,200", "en", "", "jobs", "", "1200"),
        ("4,1", "nl", "", "procent", "", "4.1%"),
        ("4.1", "en", "", "%", "", "4.1%"),
        ("4.1", "en", "", "per", "cent", "4.1%"),
        ("4,1%", "nl", "", "", "", "4.1%"),
        ("3,5", "nl", "€", "miljoen", "", "3500000"),
        ("3.5", "en", "€", "m", "", "3500000"),
        ("3.5", "en", "", "million", "euros", "3500000"),
        ("3.5", "en", "€", "m.", "", "3500000"),  # "€3.5m." ending a sentence
        ("2", "en", "$", "bn.", "", "2000000000"),
        ("3.5", "en", "", "m", "", "3.5"),  # "3.5 m" without a currency: a distance, say
        ("1.2bn", "en", "", "", "", "1200000000"),
        ("1,2", "nl", "", "miljard", "", "1200000000"),
        ("2", "nl", "", "februari", "", None),  # a single digit, even as a day
        ("14", "en", "", "january", "", "14"),  # as "14 januari" gives it
        ("2027", "en", "february", "", "", "2027"),
        ("360.000", "nl", "", "euro", "", "360000"),
        ("360,000", "en", "€", "", "", "360000"),
        ("achthonderd", "nl", "ruim", "banen", "", "800"),
        ("tweeduizend", "nl", "", "betogers", "", "2000"),
        ("twee", "nl", "", "miljoen", "", "2000000"),
        ("twee", "nl", "", "weken", "", None),  # single digits tell nothing apart
        ("ninety", "en", "", "jobs", "", None),  # small number words: ages, durations
        ("hundred", "en", "a", "jobs", "", "100"),
        ("3", "en", "", "jobs", "", None),
        ("12:30", "en", "", "", "", None),
    ],
)
def test_number_keys_are_shared_across_languages(
    text: str, lang: str, before: str, after: str, after2: str, expected: str | None
) -> None:
    assert number_key(text, lang, before, after, after2) == expected


@pytest.mark.parametrize(
    ("word", "value"),
    [
        ("vijfentwintig", 25),
        ("tweeëntwintig", 22),
        ("achthonderd", 800),
        ("driehonderdvijftig", 350),
        ("tweeduizend", 2000),
        ("duizend", 1000),
        ("negentig", 90),
        ("twenty", 20),
        ("honderdste", None),
        ("staking", None),
    ],
)
def test_number_words(word: str, value: int | None) -> None:
    assert parse_word(word) == value


def test_a_number_word_is_told_by_its_end_as_by_reading_it() -> None:
    """``is_number_word`` reads only the words that end in a number word's last piece:
    it says what reading every word says, on every word of one or two pieces (number
    words and pieces joined wrongly alike), seeded longer compounds, and other words."""
    pieces = [*numbers._EN_WORDS, *numbers._NL_UNITS, *numbers._NL_TEENS, *numbers._NL_TENS]
    pieces += ["honderd", "duizend", "en", "ën", "e", "n", "s", "ste", "tig", "jarig", ""]
    words = ["".join(p) for p in itertools.product(pieces, repeat=2)]
    rng = random.Random(16)
    words += ["".join(rng.choices(pieces, k=rng.randint(3, 6))) for _ in range(5000)]
    words += ["staking", "werkgevers", "een", "Twee", "tweeëntwintig", "één", "zeventien"]
    words += ["honderdste", "duizenden", "2000", "€", "-", " twee", "twee ", "achtenveertig"]
    read = [w for w in words if parse_word(w) is not None]
    assert len(read) > 200  # many number words among them
    assert [w for w in words if is_number_word(w)] == read


def test_digits_follow_the_language_of_the_text() -> None:
    assert parse_digits("1.250", "nl") == 1250
    assert parse_digits("1.250", "en") == 1.25
    assert parse_digits("1,250", "nl") == 1.25
