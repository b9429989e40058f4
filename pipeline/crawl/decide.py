"""Every fetch-scheduling decision of the crawl stage, in one place, as pure functions.

Like the ``Decider`` of lemon24/reader's update, this module does not interact with
anything, it only processes data: it takes a fetch's outcome, what the store knows of
the source and ``now`` (never reading a clock), and returns a :class:`CrawlRecord`, the
intent that :meth:`pipeline.store.Store.record_crawl` writes as it is. The crawl job
(:mod:`pipeline.crawl.job`) does the I/O around it, source by source::

    store.due_sources | fetch and parse (crawlers/) | store.save_entries
        | decide: after_success / after_failure | store.record_crawl | log

Decided here:

* when a source is polled next: the adaptive interval after a success
  (:func:`next_interval`), exponential back-off after consecutive failures
  (:func:`backoff`), and never before a Retry-After, which is cut to
  :data:`MAX_RETRY_AFTER` (:func:`retry_after_cap`);
* what a permanent redirect (301/308: the crawler goes to the new URL from now on)
  and 410 Gone (the source is switched off, :func:`gone_reason`) do to a source;
* which sources are due (:func:`is_due`) and when each is polled next
  (:func:`poll_time`); the store selects the switched-on sources and applies these;
* spreading the overdue sources after a restart (:func:`spread_overdue`), so they are
  not all fetched at once; the scheduler calls it;
* the order a crawl takes its sources in (:func:`spread_hosts`): one host's sources
  apart, so they do not queue for their host's slots and delay while holding the crawl's;
* how many feeds a crawl parses inline before it starts its parsing pool
  (:func:`inline_parses`).

Who owns an article's row when an alert and a feed bring in the same URL is decided in
:mod:`pipeline.crawl.ownership`. Times are timezone-aware (UTC) throughout.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

MAX_BACKOFF = timedelta(hours=24)  # longest wait after repeated failures
MAX_RETRY_AFTER = timedelta(days=7)  # a Retry-After further ahead is cut to this
WINDOW = timedelta(days=7)  # publishing rate is measured over at most this long
MIN_SPAN = timedelta(days=1)  # …and over at least this long, so one fresh entry is no burst
FUTURE_SLACK = timedelta(hours=1)  # entries dated further ahead than this are ignored


@dataclass(frozen=True)
class CrawlRecord:
    """What one crawl leaves on its source's row: the intent :func:`after_success` or
    :func:`after_failure` returns, which :meth:`Store.record_crawl` writes as it is."""

    ok: bool  # something usable arrived (entries, or 304 Not Modified)
    next_poll: datetime
    status: int = 0
    errors: int = 0  # consecutive failures, this crawl's included (0 after a success)
    error: str | None = None  # a failure's message (ok=False)
    warning: str | None = None
    etag: str | None = None  # the fetch state for the next conditional GET (ok=True)...
    last_modified: str | None = None
    title: str | None = None  # None keeps the stored one
    poll_interval: int | None = None  # seconds
    cache_max_age: int | None = None  # seconds
    feed_ttl: int | None = None  # minutes; None keeps the stored one
    retry_after: datetime | None = None  # no poll before this (None: no wait)
    moved_to: str | None = None  # permanent redirect: the source's new URL
    disabled_reason: str | None = None  # switch the source off, saying why (410 Gone)
    duration: float | None = None  # seconds the crawl took


class Outcome(Protocol):
    """What a fetch brought back, in the terms decisions need (the crawl job's result
    of a feed, alert or blog has these)."""

    status: int
    error: str | None  # set: nothing usable arrived
    warning: str | None
    etag: str | None
    last_modified: str | None
    title: str | None
    cache_max_age: int | None  # seconds, from Cache-Control max-age
    ttl: int | None  # minutes, from the feed's <ttl> or sy:updatePeriod
    retry_after: datetime | None  # from Retry-After on 429/503
    moved_to: str | None  # a 301/308 chain that ended in success
    gone: bool  # 410 Gone


class Stored(Protocol):
    """What the store knows of a source before this crawl (a ``SourceRow`` has it)."""

    url: str
    consecutive_errors: int
    feed_ttl: int | None  # minutes, from an earlier crawl


@dataclass(frozen=True)
class Polling:
    """How often one source may be polled: the base interval (``[schedule]
    crawl_every``) and the source's bounds for adaptive polling."""

    every: timedelta
    min_interval: timedelta
    max_interval: timedelta


# --- after a crawl ------------------------------------------------------------------


def after_success(
    outcome: Outcome,
    stored: Stored,
    polling: Polling,
    now: datetime,
    *,
    entry_times: Sequence[datetime] = (),
    new_entries: int = 0,
    duration: float | None = None,
) -> CrawlRecord:
    """The record of a crawl that brought something usable (entries, or 304).

    The next poll is ``now`` plus the adaptive interval (:func:`next_interval`) over
    ``entry_times``, the source's newest publication dates after this crawl's entries
    were saved, with ``new_entries`` of them new. A success forgets the errors and any
    Retry-After; a permanent move to another URL than the stored one is recorded."""
    interval = next_interval(
        list(entry_times),
        now,
        polling.every,
        polling.min_interval,
        polling.max_interval,
        cache_max_age=outcome.cache_max_age,
        feed_ttl_minutes=outcome.ttl or stored.feed_ttl,
        new_entries=new_entries,
    )
    moved = outcome.moved_to if outcome.moved_to and outcome.moved_to != stored.url else None
    return CrawlRecord(
        ok=True,
        next_poll=now + interval,
        status=outcome.status,
        warning=outcome.warning,
        etag=outcome.etag,
        last_modified=outcome.last_modified,
        title=outcome.title,
        poll_interval=int(interval.total_seconds()),
        cache_max_age=outcome.cache_max_age,
        feed_ttl=outcome.ttl,
        moved_to=moved,
        duration=duration,
    )


def after_failure(
    outcome: Outcome,
    stored: Stored,
    every: timedelta,
    now: datetime,
    *,
    duration: float | None = None,
) -> CrawlRecord:
    """The record of a crawl that failed: one more error in a row, the next poll backed
    off (:func:`backoff`) and never before a Retry-After (:func:`retry_after_cap`);
    410 Gone switches the source off. The fetch state stays as it was."""
    errors = stored.consecutive_errors + 1
    next_poll = backoff(errors, every, now)
    retry_after = None
    if outcome.retry_after is not None:
        retry_after = retry_after_cap(outcome.retry_after, now)
        next_poll = max(next_poll, retry_after)
    return CrawlRecord(
        ok=False,
        next_poll=next_poll,
        status=outcome.status,
        errors=errors,
        error=outcome.error,
        retry_after=retry_after,
        disabled_reason=gone_reason(now) if outcome.gone else None,
        duration=duration,
    )


def backoff(errors: int, every: timedelta, now: datetime) -> datetime:
    """When to poll again after ``errors`` consecutive failures: exponential back-off,
    ``every`` x 2^(errors-1), at most a day (or ``every`` if that is longer)."""
    if errors <= 0:
        return now + every
    return now + min(every * (2 ** min(errors - 1, 16)), max(MAX_BACKOFF, every))


def retry_after_cap(retry_after: datetime, now: datetime) -> datetime:
    """A server's Retry-After, cut to at most :data:`MAX_RETRY_AFTER` from ``now``."""
    return min(retry_after, now + MAX_RETRY_AFTER)


def gone_reason(now: datetime) -> str:
    """Why a source that answered 410 Gone is switched off, as stored and shown."""
    return f"410 Gone on {now.date().isoformat()}"


# --- the adaptive interval ----------------------------------------------------------


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


# --- what is due --------------------------------------------------------------------


def poll_time(next_poll: datetime | None, retry_after: datetime | None) -> datetime | None:
    """When a switched-on source is polled next: its next poll, but not before a
    Retry-After; None if it has neither (never polled: due at once)."""
    return max((t for t in (next_poll, retry_after) if t is not None), default=None)


def is_due(
    next_poll: datetime | None,
    retry_after: datetime | None,
    now: datetime,
    *,
    force: bool = False,
) -> bool:
    """Whether a crawl at ``now`` takes a switched-on source (one not switched off
    after 410 Gone): never while a Retry-After is ahead, forced or not; else when
    forced, when it was never polled, or when its next poll has come."""
    if retry_after is not None and retry_after > now:
        return False
    return force or next_poll is None or next_poll <= now


def jitter(name: str, window: timedelta) -> timedelta:
    """A deterministic offset in ``[0, window)`` for ``name`` (0 if ``window <= 0``).

    Based on SHA-256 of the name, so it is the same in every process and run
    (unlike ``hash()``, which is salted per process).
    """
    step = timedelta(microseconds=1)
    steps = window // step
    if steps <= 0:
        return timedelta(0)
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return (int.from_bytes(digest, "big") % steps) * step


def spread_overdue(
    next_polls: Mapping[str, datetime | None],
    now: datetime,
    window: timedelta,
) -> dict[str, datetime]:
    """New next-poll times for the overdue sources, spread over ``window``.

    A source is overdue when its next poll is None (never scheduled) or at or
    before ``now``; each gets ``now + jitter(name, window)``, so a restart after
    downtime does not fetch everything at once. Only overdue sources are in the
    result; sources polled later are left alone. ``window <= 0``: all get ``now``.
    ValueError for a naive ``now``.
    """
    if now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got naive {now.isoformat()}")
    return {
        name: now + jitter(name, window)
        for name, due in next_polls.items()
        if due is None or due <= now
    }


# --- the order of a crawl -----------------------------------------------------------


def spread_width(concurrency: int, per_host_delay: float, hosts: Sequence[str]) -> int:
    """How many hosts take turns in :func:`spread_hosts`.

    With the adaptive delay alone (``per_host_delay`` 0) a host may be asked again about
    one answer later, which is when its next source comes ``concurrency`` places on.
    A fixed floor under the delay (say a second) is longer than that: a source that
    waits for its host holds one of the crawl's places meanwhile, so a host's sources
    are then spread as far apart as the hosts allow (every host takes turns)."""
    if per_host_delay <= 0:
        return max(1, concurrency)
    return max(1, concurrency, len(set(hosts)))


def spread_hosts(hosts: Sequence[str], width: int) -> list[int]:
    """The order to crawl sources in, as indexes into ``hosts`` (each source's host, in
    the order the sources are listed).

    Up to ``width`` hosts (the crawl's concurrency) take turns, one source each, in the
    order they first appear; a host whose sources are done makes room for the next.
    So two sources of one host are about ``width`` places apart when there are enough
    hosts: a crawl does not fill its slots with sources that wait for the same host
    (at most ``per_host`` requests to it at once, and its delay between them), and the
    host's next source comes soon enough to reuse its connection. Within one host the
    listed order is kept; ``width < 1`` counts as 1."""
    queues: dict[str, deque[int]] = {}
    for index, host in enumerate(hosts):
        queues.setdefault(host, deque()).append(index)
    waiting = iter(queues.values())
    turns: deque[deque[int]] = deque()
    for queue in waiting:
        turns.append(queue)
        if len(turns) >= max(1, width):
            break
    order: list[int] = []
    while turns:
        queue = turns.popleft()
        order.append(queue.popleft())
        if queue:
            turns.append(queue)
        elif (following := next(waiting, None)) is not None:
            turns.append(following)
    return order


def inline_parses(validators: Iterable[bool], threshold: int) -> int:
    """How many feeds with content a crawl parses in its event loop before it starts its
    parsing pool; ``validators`` says of each due feed whether it has an ETag or a
    Last-Modified to revalidate with.

    A cycle of feeds that mostly answer 304 parses its few changed feeds inline
    (``threshold``) and starts no process. But more than ``threshold`` feeds that cannot
    answer 304 (a first crawl, servers that never validate) all bring content: parsed
    one after another in the event loop, their first answers would hold up every other
    answer in flight for seconds, and with them the per-host delay, which follows the
    answers' times. Those crawls start the pool at once (0)."""
    unvalidated = sum(not v for v in validators)
    return 0 if unvalidated > threshold else threshold


def sources_digest(sources: Iterable[Any]) -> str:
    """A digest of what the sources table follows of the config (each source's name,
    type, URL, language and whether it is switched on, in order): equal digests, no
    change to sync."""
    h = hashlib.sha256()
    for s in sources:
        fields = (s.name, s.type, s.url, s.language or "", "1" if s.enabled else "0")
        h.update(json.dumps(fields).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()
