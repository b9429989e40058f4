"""Numbers as both languages share them: one key per quantity, whatever the spelling.

A Dutch and an English report of one event give the same figures in different forms:
``1.200`` / ``1,200``, ``4,1 procent`` / ``4.1%`` / ``4.1 per cent``, ``€ 3,5 miljoen`` /
``€3.5m`` / ``3.5 million euros``, ``1,2 miljard`` / ``1.2bn``, ``tweeduizend`` / ``2,000``,
``2 februari`` / ``February 2`` / ``Feb. 2``. :func:`number_key` reads one number token
with the words around it and returns the key both spellings share:

- a quantity is its value in full (``3.5 miljoen`` and ``€3.5m`` are ``3500000``; the
  short ``m`` and ``k`` only after a currency sign), the currency left out (``euro``,
  ``€`` and ``euros`` say nothing the figure does not);
- a percentage keeps its unit (``4.1%``), so that it never meets a plain ``4.1``;
- dates need nothing of their own: a day of two digits is a number both spellings
  share (``14 januari`` / ``January 14``: ``14``), the year too; measured, keys for
  dates (``2 feb`` for ``2 februari`` / ``Feb. 2``, the day next to a month name)
  gained nothing on the bilingual sets and cost 0.006 F1 on ECB+, so there are none;
- number words from a hundred up, or before a magnitude, are read: Dutch compounds
  (``achthonderd``, ``tweeduizend``, ``twee miljoen``) and English words (``hundred``);
  smaller ones (``twintig``, ``twenty``) are as often ages and durations as figures
  (measured: reading them cost 0.01 F1 on the bilingual sets);
- single digits say too little to tell events apart and give no key (``4%`` and
  ``4.5`` do).

Pure functions on token texts; :mod:`.analyse` calls them for the tokens that hold a
digit or a number word.
"""

from __future__ import annotations

import re
from functools import lru_cache

MAGNITUDES = {
    "duizend": 1_000,
    "thousand": 1_000,
    "k": 1_000,
    "miljoen": 1_000_000,
    "mln": 1_000_000,
    "mln.": 1_000_000,
    "million": 1_000_000,
    "m": 1_000_000,
    "mio": 1_000_000,
    "miljard": 1_000_000_000,
    "mld": 1_000_000_000,
    "mrd": 1_000_000_000,
    "billion": 1_000_000_000,
    "bn": 1_000_000_000,
    "bln": 1_000_000_000,
}
PERCENT = frozenset({"%", "procent", "percent", "pct", "pct.", "procentpunt", "procentpunten"})
_NL_UNITS = {
    "een": 1, "één": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5,
    "zes": 6, "zeven": 7, "acht": 8, "negen": 9,
}  # fmt: skip
_NL_TEENS = {
    "tien": 10, "elf": 11, "twaalf": 12, "dertien": 13, "veertien": 14, "vijftien": 15,
    "zestien": 16, "zeventien": 17, "achttien": 18, "negentien": 19,
}  # fmt: skip
_NL_TENS = {
    "twintig": 20, "dertig": 30, "veertig": 40, "vijftig": 50, "zestig": 60,
    "zeventig": 70, "tachtig": 80, "negentig": 90,
}  # fmt: skip
_EN_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000,
}  # fmt: skip
# lower-case words that may start a number: the only alpha tokens worth a look
NUMBER_WORD_STARTS = ("een", "één", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht",
                      "negen", "tien", "elf", "twaalf", "twintig", "dertig", "veertig",
                      "vijftig", "zestig", "zeventig", "tachtig", "negentig", "honderd",
                      "duizend")  # fmt: skip

# what every number word ends in (parse_word reads a word as pieces, the last one of
# these): a word that ends in none of them is no number word, without reading it
NUMBER_WORD_ENDS = tuple(
    sorted({*_EN_WORDS, *_NL_UNITS, *_NL_TEENS, *_NL_TENS, "honderd", "duizend"})
)

CURRENCIES = frozenset({"€", "$", "£", "eur", "usd", "gbp"})
_NEEDS_CURRENCY = frozenset({"m", "k"})  # "€3.5m" is money; "100 m" may be a distance
_SUFFIXED = re.compile(r"(\d[\d.,]*)(bn|bln|mln|mio|m|k)")
_PLAIN = re.compile(r"\d+(\.\d+)?")
MIN_WORD = 100  # "achthonderd" is a figure; "twintig" is as often "twintig jaar"


@lru_cache(maxsize=4)
def _grouped(thousands: str, decimal: str) -> re.Pattern[str]:
    """A number written with thousands separators, such as ``2.000`` or ``1,250.5``."""
    return re.compile(rf"\d{{1,3}}({re.escape(thousands)}\d{{3}})+({re.escape(decimal)}\d+)?")


def parse_digits(text: str, lang: str) -> float | None:
    """The value of a number written in digits: Dutch ``2.000`` and ``7,1``, English
    ``2,000`` and ``7.1``; a Dutch ``1,250`` is 1.25 and an English ``1.250`` 1.25."""
    raw = text.strip()
    if not raw or not raw[0].isdigit():
        return None
    thousands, decimal = (".", ",") if lang == "nl" else (",", ".")
    if _grouped(thousands, decimal).fullmatch(raw):
        raw = raw.replace(thousands, "")
    raw = raw.replace(decimal, ".")
    if not _PLAIN.fullmatch(raw):
        return None
    return float(raw)


def is_number_word(word: str) -> bool:
    """Whether :func:`parse_word` reads ``word`` as a number; most words end in no
    number word's last piece and are not read."""
    return word.endswith(NUMBER_WORD_ENDS) and parse_word(word) is not None


@lru_cache(maxsize=4096)
def parse_word(word: str) -> int | None:
    """The value of a number word: Dutch (``achthonderd``, ``vijfentwintig``,
    ``tweeduizend``, ``drieëntwintig``) or English (``twenty``); None for other words."""
    if word in _EN_WORDS:
        return _EN_WORDS[word]
    return _parse_dutch(word)


def _parse_dutch(word: str) -> int | None:
    if not word:
        return None
    for unit, size in (("duizend", 1000), ("honderd", 100)):
        head, found, tail = word.partition(unit)
        if found:
            left = _parse_dutch(head) if head else 1
            right = _parse_dutch(tail) if tail else 0
            if left is None or right is None or (size == 100 and left > 99):
                return None
            return left * size + right
    if word in _NL_UNITS:
        return _NL_UNITS[word]
    if word in _NL_TEENS:
        return _NL_TEENS[word]
    if word in _NL_TENS:
        return _NL_TENS[word]
    for joint in ("en", "ën"):  # vijfentwintig, tweeëntwintig
        unit, found, tens = word.partition(joint)
        if found and unit in _NL_UNITS and tens in _NL_TENS:
            return _NL_UNITS[unit] + _NL_TENS[tens]
    return None


def format_value(value: float) -> str:
    """``3500000.0`` as ``3500000``, ``4.10`` as ``4.1``."""
    if value == int(value):
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


@lru_cache(maxsize=50_000)
def _read_digits(low: str, lang: str) -> tuple[float, str | None, bool] | None:
    """A number token in digits (lower case) read on its own: its value, its magnitude
    suffix (``2bn``, ``3.5m``) and whether it ends in ``%``; None when it is no number.
    Remembered: an article's figures recur in it and in its story's other articles."""
    body = low.rstrip("%")
    percent = body != low
    suffix = None
    matched = _SUFFIXED.fullmatch(body)
    if matched:  # "2bn", "3.5m"
        body, suffix = matched.group(1), matched.group(2)
    value = parse_digits(body, lang)
    return None if value is None else (value, suffix, percent)


def number_key(
    text: str,
    lang: str,
    before: str = "",
    after: str = "",
    after2: str = "",
) -> str | None:
    """The shared key of the number token ``text`` (as written) with the lower-case
    token before it and the two after it, or None when it gives none (see the module
    docstring)."""
    low = text.lower()
    if after.endswith(".") and after[:-1] in MAGNITUDES:
        after = after[:-1]  # "€3.5m." at the end of a sentence: the tokeniser keeps "m."
    value: float | None
    suffix = None
    percent = False
    if low[:1].isdigit():
        reading = _read_digits(low, lang)
        if reading is None:
            return None
        value, suffix, percent = reading
    else:
        word = parse_word(low)
        if word is None or (word < MIN_WORD and after not in MAGNITUDES):
            return None
        value = float(word)
    money = before in CURRENCIES
    if suffix is not None:
        if suffix in _NEEDS_CURRENCY and not money:
            return None
        value *= MAGNITUDES[suffix]
    elif after in MAGNITUDES and (money or after not in _NEEDS_CURRENCY):
        value *= MAGNITUDES[after]
    elif after in PERCENT or (after == "per" and after2 == "cent"):
        percent = True
    if percent:
        return f"{format_value(value)}%"
    key = format_value(value)
    return key if len(key) > 1 else None
