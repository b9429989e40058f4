"""The crawl stage's fetch-scheduling decisions (pipeline.crawl.decide): a fetch's
outcome, the source's stored state and a fixed ``now`` in, the record the store writes
out. No servers, no SQLite, no clock; every expected value is worked out by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.crawl.decide import (
    CrawlRecord,
    Polling,
    after_failure,
    after_success,
    backoff,
    gone_reason,
    inline_parses,
    is_due,
    poll_time,
    retry_after_cap,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
EVERY = timedelta(minutes=30)
POLLING = Polling(EVERY, timedelta(minutes=10), timedelta(hours=24))
H = timedelta(hours=1)
URL = "https://example.test/feed.xml"


@dataclass
class Fetch:
    """A fetch's outcome, as the crawl job hands it over."""

    status: int = 200
    error: str | None = None
    warning: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    cache_max_age: int | None = None
    ttl: int | None = None
    retry_after: datetime | None = None
    moved_to: str | None = None
    gone: bool = False


@dataclass
class Row:
    """What the store knows of the source before the crawl."""

    url: str = URL
    consecutive_errors: int = 0
    feed_ttl: int | None = None


def failed(status: int = 500, errors_before: int = 0, **fetch: object) -> CrawlRecord:
    error = fetch.pop("error", f"HTTP {status}")
    outcome = Fetch(status=status, error=error, **fetch)  # type: ignore[arg-type]
    return after_failure(outcome, Row(consecutive_errors=errors_before), EVERY, NOW, duration=0.5)


# --- failures: back-off, Retry-After, 410 --------------------------------------------


def test_a_first_failure_is_retried_after_the_base_interval() -> None:
    assert failed(500, error="HTTP 500 Internal Server Error") == CrawlRecord(
        ok=False,
        next_poll=NOW + 30 * timedelta(minutes=1),
        status=500,
        errors=1,
        error="HTTP 500 Internal Server Error",
        duration=0.5,
    )


@pytest.mark.parametrize(
    ("errors_before", "wait"),
    [
        (1, timedelta(hours=1)),  # 2nd failure: 30 min x 2
        (3, timedelta(hours=4)),  # 4th: 30 min x 8
        (5, timedelta(hours=16)),  # 6th: 30 min x 32
        (6, timedelta(hours=24)),  # 7th: 32 h, cut to a day
        (100, timedelta(hours=24)),  # the exponent stops at 16; still a day
    ],
)
def test_failures_in_a_row_back_off_exponentially_up_to_a_day(
    errors_before: int, wait: timedelta
) -> None:
    record = failed(503, errors_before)
    assert (record.errors, record.next_poll) == (errors_before + 1, NOW + wait)


def test_back_off_never_waits_less_than_the_base_interval() -> None:
    every = timedelta(days=2)
    assert backoff(3, every, NOW) == NOW + every  # 8 days, cut to max(a day, 2 days)
    assert backoff(0, EVERY, NOW) == NOW + EVERY
    assert backoff(2, EVERY, NOW) == NOW + H


def test_retry_after_postpones_the_next_poll() -> None:
    record = failed(429, retry_after=NOW + 3 * H)
    assert (record.retry_after, record.next_poll) == (NOW + 3 * H, NOW + 3 * H)


def test_back_off_beyond_a_retry_after_wins() -> None:
    record = failed(503, errors_before=2, retry_after=NOW + timedelta(minutes=5))
    assert record.retry_after == NOW + timedelta(minutes=5)  # no poll before it...
    assert record.next_poll == NOW + 2 * H  # ...and none before the third failure's back-off


def test_a_retry_after_beyond_a_week_is_cut_to_a_week() -> None:
    record = failed(429, retry_after=NOW + timedelta(days=30))
    assert record.retry_after == record.next_poll == NOW + timedelta(days=7)
    assert retry_after_cap(NOW + H, NOW) == NOW + H


def test_410_gone_switches_the_source_off_with_the_date() -> None:
    record = failed(410, error="HTTP 410 Gone", gone=True)
    assert record.disabled_reason == "410 Gone on 2026-11-26"
    assert (record.ok, record.errors, record.error) == (False, 1, "HTTP 410 Gone")
    assert gone_reason(datetime(2027, 1, 1, 23, 59, tzinfo=UTC)) == "410 Gone on 2027-01-01"


def test_a_failure_keeps_the_fetch_state_and_records_no_move() -> None:
    record = failed(500, moved_to="https://example.test/new.xml", etag='"x"', title="Feed")
    assert (record.moved_to, record.etag, record.title) == (None, None, None)
    assert record.disabled_reason is None


# --- successes: the adaptive interval, the server's word, moves ----------------------


def ok(fetch: Fetch, row: Row | None = None, **kw: object) -> CrawlRecord:
    return after_success(fetch, row or Row(), POLLING, NOW, **kw)  # type: ignore[arg-type]


def test_a_success_without_dates_polls_after_the_base_interval_and_keeps_the_state() -> None:
    fetch = Fetch(status=200, etag='"v2"', last_modified="Thu, 26 Nov 2026 11:00:00 GMT")
    fetch.title, fetch.warning = "Testfeed", "2 entries without a link"
    assert ok(fetch, Row(consecutive_errors=4), duration=1.25) == CrawlRecord(
        ok=True,
        next_poll=NOW + EVERY,
        status=200,
        errors=0,
        warning="2 entries without a link",
        etag='"v2"',
        last_modified="Thu, 26 Nov 2026 11:00:00 GMT",
        title="Testfeed",
        poll_interval=1800,
        duration=1.25,
    )


def test_a_busy_feed_is_polled_about_hourly_and_new_entries_keep_it_at_base() -> None:
    # 24 entries, 55 min apart: the oldest 22 h ago, a span of at least a day -> 1 h each
    times = [NOW - timedelta(minutes=55) * (i + 1) for i in range(24)]
    quiet = ok(Fetch(), entry_times=times)
    assert (quiet.next_poll, quiet.poll_interval) == (NOW + H, 3600)
    fresh = ok(Fetch(), entry_times=times, new_entries=3)
    assert (fresh.next_poll, fresh.poll_interval) == (NOW + EVERY, 1800)


def test_nothing_published_this_week_waits_the_longest_interval() -> None:
    record = ok(Fetch(), entry_times=[NOW - timedelta(days=10)])
    assert record.poll_interval == 24 * 3600


def test_the_servers_hints_lengthen_the_wait() -> None:
    assert ok(Fetch(cache_max_age=7200)).poll_interval == 7200
    with_ttl = ok(Fetch(ttl=180))
    assert (with_ttl.poll_interval, with_ttl.feed_ttl) == (180 * 60, 180)
    # a <ttl> learnt before counts while the feed does not repeat it; it is not stored again
    remembered = ok(Fetch(ttl=None), Row(feed_ttl=120))
    assert (remembered.poll_interval, remembered.feed_ttl) == (7200, None)


def test_a_permanent_move_is_recorded_only_to_another_url() -> None:
    assert ok(Fetch(moved_to="https://example.test/new.xml")).moved_to == (
        "https://example.test/new.xml"
    )
    assert ok(Fetch(moved_to=URL)).moved_to is None
    assert ok(Fetch()).moved_to is None


def test_a_success_forgets_a_retry_after() -> None:
    record = ok(Fetch(retry_after=NOW + 3 * H))
    assert (record.retry_after, record.next_poll) == (None, NOW + EVERY)


# --- what is due ---------------------------------------------------------------------


def test_a_source_is_due_when_its_next_poll_has_come() -> None:
    assert is_due(None, None, NOW)  # never polled
    assert is_due(NOW, None, NOW)
    assert is_due(NOW - H, None, NOW)
    assert not is_due(NOW + timedelta(seconds=1), None, NOW)
    assert is_due(NOW + H, None, NOW, force=True)


def test_a_pending_retry_after_keeps_a_source_out_even_when_forced() -> None:
    assert not is_due(NOW - H, NOW + H, NOW)
    assert not is_due(NOW - H, NOW + H, NOW, force=True)
    assert is_due(NOW - H, NOW, NOW)  # the Retry-After has come
    assert is_due(NOW + H, NOW - H, NOW, force=True)


def test_the_next_poll_is_never_before_a_retry_after() -> None:
    assert poll_time(None, None) is None
    assert poll_time(NOW, None) == NOW
    assert poll_time(None, NOW + H) == NOW + H
    assert poll_time(NOW + 2 * H, NOW + H) == NOW + 2 * H
    assert poll_time(NOW + H, NOW + 3 * H) == NOW + 3 * H


def test_a_crawl_parses_inline_unless_more_feeds_than_the_threshold_cannot_answer_304() -> None:
    """Feeds without ETag or Last-Modified bring content every time: more of them than
    the threshold start the parsing pool at once; otherwise the threshold's first feeds
    with content are parsed inline."""
    assert inline_parses([False] * 51, 50) == 0  # a first crawl of 51 feeds
    assert inline_parses([False] * 50, 50) == 50  # exactly the threshold: inline first
    assert inline_parses([True] * 500, 50) == 50  # a cycle of revalidations
    assert inline_parses([True] * 400 + [False] * 51, 50) == 0
    assert inline_parses([], 50) == 50
