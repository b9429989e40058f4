"""Adaptive polling: how long to wait before fetching a feed again. Pure; no clock."""

from __future__ import annotations

from datetime import datetime, timedelta

WINDOW = timedelta(days=7)  # publishing rate is measured over at most this long
MIN_SPAN = timedelta(days=1)  # …and over at least this long, so one fresh entry is no burst
FUTURE_SLACK = timedelta(hours=1)  # entries dated further ahead than this are ignored


def next_interval(
    entry_times: list[datetime],
    now: datetime,
    base: timedelta,
    min_interval: timedelta,
    max_interval: timedelta,
    cache_max_age: float | None = None,
    feed_ttl_minutes: int | None = None,
    new_entries: int = 0,
) -> timedelta:
    """The wait before the next poll of a feed, within ``[min_interval, max_interval]``.

    1. Rate: the mean gap between entries published in the last 7 days (the span runs
       from the oldest of them to ``now``, at least one day, since a feed only lists its
       latest entries). A busy feed (24 a day) gets about an hour, a quiet one (one a
       week) a week, capped at ``max_interval``. No recent entries at all: ``max_interval``.
       No usable dates (undated feed, nothing known yet, only future dates): ``base``.
    2. A poll that found new entries keeps the next one at most ``base`` away: a feed
       that just published is not quiet.
    3. The server's word: never sooner than Cache-Control ``max-age`` (``cache_max_age``
       seconds) or the feed's ``<ttl>``/``sy:updatePeriod`` (``feed_ttl_minutes``).
       These hints may lengthen the wait, but not past ``max_interval``: the user's
       freshness bound wins over a server that asks for a day.
    4. Clamped to ``[min_interval, max_interval]``.

    ``entry_times`` are timezone-aware publish times of recent entries (the time first
    seen may stand in for entries without a date); ``now`` is timezone-aware.
    """
    if min_interval > max_interval:
        raise ValueError("min_interval is longer than max_interval")
    interval = _rate_interval(entry_times, now, base, max_interval)
    if new_entries > 0:
        interval = min(interval, base)
    hint = timedelta(0)
    if cache_max_age and cache_max_age > 0:
        hint = max(hint, timedelta(seconds=cache_max_age))
    if feed_ttl_minutes and feed_ttl_minutes > 0:
        hint = max(hint, timedelta(minutes=feed_ttl_minutes))
    interval = max(interval, min(hint, max_interval))
    return min(max(interval, min_interval), max_interval)


def _rate_interval(
    entry_times: list[datetime], now: datetime, base: timedelta, max_interval: timedelta
) -> timedelta:
    usable = [t for t in entry_times if t <= now + FUTURE_SLACK]
    if not usable:  # no dates, or only impossible ones
        return base
    recent = [t for t in usable if t >= now - WINDOW]
    if not recent:
        return max_interval
    span = min(max(now - min(recent), MIN_SPAN), WINDOW)
    return span / len(recent)
