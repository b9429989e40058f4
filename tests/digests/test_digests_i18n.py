"""Localised strings, periods, dates and numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from digests import i18n

AMS = ZoneInfo("Europe/Amsterdam")


def _d(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=AMS)


@pytest.mark.parametrize(
    ("start", "end", "language", "expected"),
    [
        (_d(2026, 11, 23), _d(2026, 11, 29, 23, 59), "nl", "23–29 november 2026"),
        (_d(2026, 11, 23), _d(2026, 11, 29, 23, 59), "en", "23–29 November 2026"),
        (_d(2026, 11, 30), _d(2026, 12, 6, 23, 59), "nl", "30 november – 6 december 2026"),
        (_d(2026, 12, 28), _d(2027, 1, 3, 23, 59), "nl", "28 december 2026 – 3 januari 2027"),
        (_d(2026, 12, 28), _d(2027, 1, 3, 23, 59), "en", "28 December 2026 – 3 January 2027"),
        # an end at local midnight is exclusive
        (_d(2026, 11, 23), _d(2026, 11, 30), "nl", "23–29 november 2026"),
    ],
)
def test_format_period(start: datetime, end: datetime, language: str, expected: str) -> None:
    assert i18n.format_period(start, end, language, "Europe/Amsterdam") == expected


def test_period_is_shown_in_the_given_timezone() -> None:
    start = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # 23 Nov 00:00 in Amsterdam
    end = datetime(2026, 11, 29, 22, 59, tzinfo=UTC)
    assert i18n.format_period(start, end, "nl", "Europe/Amsterdam") == "23–29 november 2026"
    assert i18n.format_period(start, end, "nl", "UTC") == "22–29 november 2026"


def test_week_period_and_day() -> None:
    start, end = _d(2026, 11, 23), _d(2026, 11, 29, 23, 59)
    assert i18n.week_period(48, start, end, "nl") == "Week 48 · 23–29 november 2026"
    late = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    assert i18n.format_day(late, "nl", "Europe/Amsterdam") == "25 nov 2026"
    assert i18n.format_day(late, "en", "UTC") == "24 Nov 2026"


def test_numbers_plurals_and_lists() -> None:
    assert i18n.number(1234, "nl") == "1.234"
    assert i18n.number(1234, "en") == "1,234"
    assert i18n.count_noun("nl", 1) == "1 artikel"
    assert i18n.count_noun("nl", 12) == "12 artikelen"
    assert i18n.count_noun("en", 1) == "1 article"
    assert i18n.count_noun("en", 0) == "0 articles"
    assert i18n.join_list(["A", "B", "C"], "nl") == "A, B en C"
    assert i18n.join_list(["A", "B"], "en") == "A and B"


def test_language_fallback_and_same_keys() -> None:
    assert i18n.language_of("en-GB") == "en"
    assert i18n.language_of("fr") == i18n.DEFAULT_LANGUAGE
    assert set(i18n.STRINGS["nl"]) == set(i18n.STRINGS["en"])


def test_ratio() -> None:
    assert i18n.ratio(3.24, "nl") == "3,2"
    assert i18n.ratio(3.24, "en") == "3.2"
    assert i18n.ratio(2.0, "nl") == "2"
    assert i18n.ratio(1234.5, "en") == "1,234.5"
