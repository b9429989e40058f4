"""Adaptive polling intervals (pipeline.crawl.decide.next_interval), with a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.crawl.decide import next_interval

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
BASE = timedelta(minutes=30)
MIN = timedelta(minutes=10)
MAX = timedelta(hours=24)
H = timedelta(hours=1)


def interval(times: list[datetime], **kw: object) -> timedelta:
    return next_interval(times, NOW, BASE, MIN, MAX, **kw)  # type: ignore[arg-type]


def every(gap: timedelta, count: int) -> list[datetime]:
    return [NOW - gap * i for i in range(count)]


def test_no_dates_uses_base() -> None:
    assert interval([]) == BASE


def test_busy_feed_is_polled_more_often_than_base() -> None:
    # 20 entries in the last 5 hours: one every 15 minutes, but the span is at least a day
    busy = every(timedelta(minutes=15), 20)
    assert interval(busy) == timedelta(days=1) / 20
    # 100 entries in three days: about one every 43 minutes
    steady = every(timedelta(minutes=43), 100)
    assert interval(steady) < BASE * 2
    # a firehose hits the floor
    assert interval(every(timedelta(minutes=1), 500)) == MIN


def test_quiet_feed_is_polled_less_often_up_to_the_maximum() -> None:
    daily = every(timedelta(days=1), 7)
    assert interval(daily) == timedelta(days=6) / 7  # span from the oldest to now
    weekly = every(timedelta(days=7), 5)
    assert interval(weekly) == MAX
    stale = [NOW - timedelta(days=40), NOW - timedelta(days=60)]
    assert interval(stale) == MAX


def test_busier_means_sooner() -> None:
    results = [interval(every(timedelta(hours=h), 30)) for h in (0.5, 1, 2, 4, 8)]
    assert results == sorted(results)


def test_new_entries_keep_a_quiet_feed_at_base() -> None:
    weekly = every(timedelta(days=7), 5)
    assert interval(weekly, new_entries=1) == BASE
    assert interval(every(timedelta(minutes=15), 200), new_entries=3) < BASE


def test_cache_max_age_is_a_floor() -> None:
    busy = every(timedelta(minutes=15), 200)
    assert interval(busy, cache_max_age=3600) == H
    assert interval(busy, cache_max_age=0) < H
    # the hint never pushes past the maximum (the user's freshness bound)
    assert interval(busy, cache_max_age=7 * 86400) == MAX


def test_feed_ttl_is_a_floor() -> None:
    busy = every(timedelta(minutes=15), 200)
    assert interval(busy, feed_ttl_minutes=120) == 2 * H
    assert interval([], feed_ttl_minutes=60) == H
    assert interval(busy, feed_ttl_minutes=120, cache_max_age=10_800) == 3 * H


def test_future_and_bogus_dates_are_ignored() -> None:
    future = [NOW + timedelta(days=300)] * 10
    assert interval(future) == BASE
    mixed = future + every(timedelta(days=1), 7)
    assert interval(mixed) == interval(every(timedelta(days=1), 7))


def test_an_entry_dated_one_hour_ahead_still_counts_and_one_a_moment_later_does_not() -> None:
    # four entries dated exactly FUTURE_SLACK (one hour) ahead are usable: the span
    # from the oldest to now is negative, so the one-day minimum applies: a day / 4
    assert interval([NOW + H] * 4) == timedelta(hours=6)
    # a microsecond further ahead they are impossible dates, as if there were none
    assert interval([NOW + H + timedelta(microseconds=1)] * 4) == BASE


def test_result_is_always_within_bounds() -> None:
    for times in ([], every(timedelta(seconds=1), 1000), every(timedelta(days=30), 3)):
        for hint in (None, 1, 10**9):
            result = interval(times, cache_max_age=hint, feed_ttl_minutes=hint)
            assert MIN <= result <= MAX


def test_inconsistent_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        next_interval([], NOW, BASE, MAX, MIN)
