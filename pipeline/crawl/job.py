"""The crawl job: every due source once (feeds, alerts and blogs) into the store.

The fetch loop and the saving; every fetch-scheduling decision (which sources are due,
when a source is polled next, what a permanent redirect or 410 Gone does to it) is
taken in :mod:`pipeline.crawl.decide`. For each source: fetch and parse (``crawlers/``),
save the entries, decide what the crawl leaves on the source, record it, log it. The
CLI's ``crawl`` and the scheduler call :func:`crawl` (or :func:`crawl_async`); a
queue worker's fetch job calls :func:`crawl_source_async` for one source.

One HTTP client (:func:`crawlers.http.make_client`) carries every request of a crawl,
so the per-host limit and delay hold across sources, full-text pages and robots.txt.
Blogs are crawled by a Scrapy spider in a child process each. Every source's entries
and health are saved in one transaction of their own, so a crash half-way leaves each
source either fully recorded or untouched, and a failing source never stops the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from crawlers.blog import BlogConfig, crawl_blog_async
from crawlers.blog.config import BLOG_USER_AGENT
from crawlers.bounds import MAX_TITLE, clip
from crawlers.entries import Entry, bounded
from crawlers.feed_crawler import CrawlOutcome, FeedParser, FetchState, crawl_feed, parse_inline
from crawlers.fulltext import FullTextError, apply_full_text, fetch_full_text, needs_full_text
from crawlers.http import USER_AGENT, CrawlClient, HttpOptions, make_client
from crawlers.limits import HostLimiter, HostPaused
from crawlers.parsing_pool import AdaptiveParser, ParsingPool
from crawlers.robots import RobotsCache
from pipeline.crawl import decide
from pipeline.settings import BlogOptions, Settings, Source
from pipeline.store import CrawlRecord, SaveResult, SourceRow, Store

log = logging.getLogger("trendwatch")

FULL_TEXT_CONCURRENCY = 8  # article pages in flight at once (per-host limits apply too)
BLOG_CONCURRENCY = 2  # spider child processes at once
# With more feed sources with new content than this, feeds are parsed in a process pool,
# so parsing (feedparser, the sanitizer) runs beside the event loop instead of stalling
# it; the first ones are parsed inline (unless more than that many cannot answer 304:
# decide.inline_parses), and a cycle of 304s starts no process. The pool
# has a worker per CPU, at most MAX_POOL_WORKERS: the event loop (HTTP and SQLite) needs
# about a fifth of the CPU time that parsing does, so it shares a core with a worker
# rather than keeping one to itself; see bench/crawl.py.
POOL_THRESHOLD = 50
MAX_POOL_WORKERS = 4


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SourceReport:
    """What crawling one source did; ``status`` is "ok", "not modified" or "error"."""

    name: str
    status: str
    new: int = 0
    updated: int = 0
    entries: int = 0
    error: str | None = None
    warning: str | None = None
    seconds: float = 0.0
    type: str = "feed"
    known: int = 0  # alert entries already stored from another source
    full_text: int = 0  # entries whose teaser was replaced by the article page's text
    moved_to: str | None = None  # permanent redirect: the source's new URL
    gone: bool = False  # 410 Gone: the source is switched off
    retry_after: datetime | None = None  # rate limited: no poll before this
    next_poll: datetime | None = None

    @property
    def note(self) -> str:
        """One line for people: the error, else what changed about the source."""
        parts = []
        if self.gone:
            parts.append("gone (410), disabled")
        elif self.retry_after is not None:
            parts.append(f"rate limited, retry after {self.retry_after:%Y-%m-%d %H:%M} UTC")
        if self.error and not self.gone:
            parts.append(self.error)
        if self.moved_to:
            parts.append(f"moved permanently to {self.moved_to}")
        if self.warning:
            parts.append(self.warning)
        return "; ".join(parts)


def crawl(
    settings: Settings,
    store: Store,
    *,
    now: datetime | None = None,
    force: bool = False,
    names: Iterable[str] | None = None,
    on_start: Callable[[int], None] | None = None,
    on_done: Callable[[SourceReport], None] | None = None,
    parse_pool: bool | None = None,
) -> list[SourceReport]:
    """Crawl every source that is due, store new entries and each source's health.

    ``force`` crawls every enabled source whether due or not (``trendwatch crawl
    --all``); ``names`` crawls just those sources, due or not. Sources switched off
    after 410 Gone, and those asked to wait by a Retry-After, are skipped either way.
    ``on_start`` gets the number of sources about to be crawled, ``on_done`` each
    report as it comes in. ``parse_pool`` forces the process pool for feed parsing on
    or off (default: on with more than ``POOL_THRESHOLD`` feeds due, on a multi-core
    machine). Returns one report per source, by name.
    """
    return asyncio.run(
        crawl_async(
            settings,
            store,
            now=now,
            force=force,
            names=names,
            on_start=on_start,
            on_done=on_done,
            parse_pool=parse_pool,
        )
    )


async def crawl_async(
    settings: Settings,
    store: Store,
    *,
    now: datetime | None = None,
    force: bool = False,
    names: Iterable[str] | None = None,
    on_start: Callable[[int], None] | None = None,
    on_done: Callable[[SourceReport], None] | None = None,
    parse_pool: bool | None = None,
) -> list[SourceReport]:
    """:func:`crawl` for a caller that runs an event loop already (the scheduler).

    Without ``now`` each source's outcome is recorded at the time it came in (a long
    crawl spans minutes); with ``now``, the whole crawl happens at that moment: due
    sources, recorded times, next polls and the newest publication date believed."""
    clock: Callable[[], datetime] = utcnow if now is None else (lambda: now)
    now = now or utcnow()
    store.sync_sources(settings.sources, now)
    wanted = None if names is None else list(names)
    rows = store.due_sources(now, force=force or wanted is not None, names=wanted)
    if on_start:
        on_start(len(rows))
    if not rows:
        return []
    hosts = [(urlsplit(r.url).hostname or "").lower() for r in rows]
    width = decide.spread_width(settings.crawl.concurrency, settings.crawl.per_host_delay, hosts)
    rows = [rows[i] for i in decide.spread_hosts(hosts, width)]
    feeds = sum(r.type != "blog" for r in rows)
    workers = max(1, min(os.cpu_count() or 1, MAX_POOL_WORKERS))
    pool: ParsingPool | AdaptiveParser | None = None
    if parse_pool is None:  # the pool once more than POOL_THRESHOLD feeds had content
        if feeds > POOL_THRESHOLD and (os.cpu_count() or 1) > 1:
            validators = (bool(r.etag or r.last_modified) for r in rows if r.type != "blog")
            inline = decide.inline_parses(validators, POOL_THRESHOLD)
            pool = AdaptiveParser(workers, inline_limit=inline)
    elif parse_pool and feeds:
        pool = ParsingPool(workers)
    try:
        async with make_client(http_options(settings)) as client:
            parse = pool.parse if pool else parse_inline
            run = _Crawl(settings, store, client, parse, clock)
            reports = await run.all(rows, on_done)
    finally:
        if pool is not None:
            pool.close()
    reports.sort(key=lambda r: r.name)
    return reports


async def crawl_source_async(
    settings: Settings,
    store: Store,
    row: SourceRow,
    *,
    now: datetime | None = None,
    limiter: HostLimiter | None = None,
) -> SourceReport:
    """Crawl one source (a worker's fetch job, :mod:`pipeline.queue.crawl`) with the
    code of a whole crawl: fetch, parse inline, save its entries and health in one
    transaction. Its own HTTP client, whose requests take their turns from ``limiter``
    (the queue's, shared by all workers: :mod:`pipeline.queue.hosts`)."""
    clock: Callable[[], datetime] = utcnow if now is None else (lambda: now)
    async with CrawlClient(http_options(settings), limiter) as client:
        return await _Crawl(settings, store, client, parse_inline, clock).one(row)


def http_options(settings: Settings) -> HttpOptions:
    """The HTTP client's options from the ``[crawl]`` section."""
    c = settings.crawl
    return HttpOptions(
        timeout=c.timeout,
        max_bytes=c.max_bytes,
        max_connections=c.concurrency,
        per_host=c.per_host,
        per_host_delay=c.per_host_delay,
        user_agent=c.user_agent or USER_AGENT,
        allow_private_networks=settings.allow_private_networks,
    )


@dataclass
class _Result:
    """A crawl's outcome, whatever the source type: what :mod:`pipeline.crawl.decide`
    decides on (its ``Outcome``), and the entries to save."""

    entries: list[Entry] = field(default_factory=list)
    error: str | None = None
    warning: str | None = None
    status: int = 0
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    not_modified: bool = False
    cache_max_age: int | None = None
    ttl: int | None = None  # minutes
    retry_after: datetime | None = None
    moved_to: str | None = None
    gone: bool = False
    full_text: int = 0
    keep: int = 0  # entries left as stored (full-text sources do not overwrite them)

    @classmethod
    def of(cls, outcome: CrawlOutcome) -> _Result:
        f = outcome.fetch
        return cls(
            entries=list(outcome.entries),
            error=outcome.error,
            warning=outcome.warning,
            status=f.status,
            etag=f.etag,
            last_modified=f.last_modified,
            title=outcome.feed_title,
            not_modified=outcome.not_modified,
            cache_max_age=f.cache_max_age,
            ttl=outcome.ttl,
            retry_after=f.retry_after,
            moved_to=f.moved_to,
            gone=f.gone,
        )

    def bound(self) -> None:
        """Cut what the source brought in (entries, its title) to the length bounds of
        crawlers.bounds; the warning says what was cut."""
        self.entries, note = bounded(self.entries)
        if note:
            self.warning = f"{self.warning}; {note}" if self.warning else note
        if self.title:
            self.title = clip(self.title, MAX_TITLE)


class _Crawl:
    """One crawl run: the shared client, robots cache and limits."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        client: CrawlClient,
        parse: FeedParser,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.store = store
        self.client = client
        self.parse = parse
        self.sources = {s.name: s for s in settings.sources}
        self.feed_limit = asyncio.Semaphore(settings.crawl.concurrency)
        self.blog_limit = asyncio.Semaphore(BLOG_CONCURRENCY)
        self.page_limit = asyncio.Semaphore(FULL_TEXT_CONCURRENCY)
        self.robots = RobotsCache(client)

    async def all(
        self, rows: list[SourceRow], on_done: Callable[[SourceReport], None] | None
    ) -> list[SourceReport]:
        reports: list[SourceReport] = []

        async def one(row: SourceRow) -> None:
            report = await self.one(row)
            reports.append(report)
            if on_done:
                on_done(report)

        await asyncio.gather(*(one(r) for r in rows))
        return reports

    async def one(self, row: SourceRow) -> SourceReport:
        source = self.sources.get(row.name) or Source(row.name, row.type, row.url)
        started = time.monotonic()
        try:
            if row.type == "blog":
                async with self.blog_limit:
                    started = time.monotonic()
                    result = await self.blog(row, source)
            else:
                async with self.feed_limit:
                    started = time.monotonic()
                    result = await self.feed(row, source)
        except Exception as exc:  # a bug with one source must not stop the others
            log.exception("source %r: crawl failed", row.name)
            result = _Result(error=f"internal error: {type(exc).__name__}: {exc}"[:500])
        seconds = time.monotonic() - started
        result.bound()
        try:
            return self.record(row, source, result, seconds)
        except Exception as exc:  # its transaction is rolled back; the others go on
            log.exception("source %r: could not store the crawl", row.name)
            error = f"could not store the crawl: {type(exc).__name__}: {exc}"[:500]
            return SourceReport(row.name, "error", error=error, seconds=seconds, type=row.type)

    # --- feeds and alerts ------------------------------------------------------------

    async def feed(self, row: SourceRow, source: Source) -> _Result:
        state = FetchState(row.url, row.etag, row.last_modified, row.language)
        outcome = await crawl_feed(self.client, row.name, state, parse=self.parse)
        result = _Result.of(outcome)
        if source.full_text and result.entries and not result.error:
            await self.full_text(row, result)
        return result

    async def full_text(self, row: SourceRow, result: _Result) -> None:
        """Replace teasers by the article pages' text, for entries not stored yet
        (stored ones keep the text fetched before: no page is fetched twice)."""
        known = self.store.known_identities(row.id, (e.identity for e in result.entries))
        fresh = [e for e in result.entries if e.identity not in known]
        result.keep = len(result.entries) - len(fresh)
        wanted = [i for i, e in enumerate(fresh) if needs_full_text(e)]
        problems: dict[str, int] = {}

        async def page(index: int) -> None:
            entry = fresh[index]
            assert entry.url is not None  # needs_full_text wants a link
            async with self.page_limit:
                got = await fetch_full_text(
                    self.client, entry.url, self.robots.allowed, now=self.clock()
                )
            if isinstance(got, FullTextError):
                problems[got.kind] = problems.get(got.kind, 0) + 1
                log.info("source %r: no full text for %s: %s", row.name, entry.url, got.error)
                return
            fresh[index] = apply_full_text(entry, got)
            result.full_text += 1

        await asyncio.gather(*(page(i) for i in wanted))
        result.entries = fresh
        if problems:
            kinds = ", ".join(f"{kind}: {n}" for kind, n in sorted(problems.items()))
            note = f"full text: {sum(problems.values())} of {len(wanted)} pages not used ({kinds})"
            result.warning = f"{result.warning}; {note}" if result.warning else note

    # --- blogs -----------------------------------------------------------------------

    async def blog(self, row: SourceRow, source: Source) -> _Result:
        opts = source.blog or BlogOptions()
        c = self.settings.crawl
        config = BlogConfig(
            start_url=row.url,
            sitemap_url=opts.sitemap,
            allow=opts.allow,
            deny=opts.deny,
            max_pages=opts.max_pages,
            max_depth=opts.max_depth,
            name=row.name,
            language=row.language,
            delay=opts.delay,
            download_timeout=c.timeout,
            max_bytes=c.max_bytes,
            user_agent=c.user_agent or BLOG_USER_AGENT,
        )
        # a limiter shared by workers holds the blog's host for the spider's whole run
        # (the spider keeps its own delay between its requests, on that site only)
        hold = getattr(self.client.limiter, "hold", None)
        host = (urlsplit(row.url).hostname or "").lower()
        held = hold(host, opts.timeout, opts.delay) if hold else contextlib.nullcontext()
        try:
            async with held:
                found = await crawl_blog_async(
                    config,
                    timeout=opts.timeout,
                    allow_private_networks=self.settings.allow_private_networks,
                    now=self.clock(),
                )
        except HostPaused as exc:
            return _Result(error=str(exc), retry_after=exc.until)
        if found.robots_refused:
            log.info("source %r: robots.txt kept %d pages out", row.name, len(found.robots_refused))
        if found.fatal and not found.entries:
            return _Result(error=found.fatal)
        warning = found.fatal
        if warning is None and found.errors:
            more = f" (and {len(found.errors) - 1} more)" if len(found.errors) > 1 else ""
            warning = f"{found.errors[0]}{more}"
        return _Result(entries=found.entries, warning=warning, status=200)

    # --- recording -------------------------------------------------------------------

    def record(
        self, row: SourceRow, source: Source, result: _Result, seconds: float
    ) -> SourceReport:
        """Decide what the crawl leaves on the source (pure), store it (with the entries,
        in one transaction), and log it; the report says what happened."""
        now = self.clock()
        every = self.settings.schedule.crawl_every
        if result.error:
            intent = decide.after_failure(result, row, every, now, duration=seconds)
            self.store.record_crawl(row.id, now, intent)
            _log_failure(row, intent)
            gone = intent.disabled_reason is not None
            return SourceReport(
                row.name,
                "error",
                error=result.error,
                seconds=seconds,
                type=row.type,
                gone=gone,
                retry_after=intent.retry_after,
                next_poll=None if gone else intent.next_poll,
            )
        polling = decide.Polling(every, source.min_interval, source.max_interval)
        with self.store.transaction():  # the entries and the health, together or not at all
            saved = (
                self.store.save_entries(row.id, result.entries, now)
                if result.entries
                else SaveResult()
            )
            intent = decide.after_success(
                result,
                row,
                polling,
                now,
                entry_times=self.store.recent_entry_times(row.id),
                new_entries=saved.new,
                duration=seconds,
            )
            self.store.record_crawl(row.id, now, intent)
        report = SourceReport(
            row.name,
            "not modified" if result.not_modified else "ok",
            new=saved.new,
            updated=saved.updated,
            entries=len(result.entries) + result.keep,
            warning=result.warning,
            seconds=seconds,
            type=row.type,
            known=saved.known,
            full_text=result.full_text,
            moved_to=intent.moved_to,
            next_poll=intent.next_poll,
        )
        _log_success(report, row.url)
        return report


def _log_failure(row: SourceRow, intent: CrawlRecord) -> None:
    """One line about a failed crawl: gone, rate limited, or the failure count."""
    if intent.disabled_reason is not None:
        log.warning("source %r: gone (410), disabled: %s", row.name, row.url)
    elif intent.retry_after is not None:
        log.warning(
            "source %r: rate limited (%s), retry after %s",
            row.name,
            intent.error,
            f"{intent.retry_after:%Y-%m-%d %H:%M:%S} UTC",
        )
    else:
        log.warning("source %r: %s (failure %d in a row)", row.name, intent.error, intent.errors)


def _log_success(report: SourceReport, old_url: str) -> None:
    """What a successful crawl did to the source (a move, a warning) and brought in."""
    name = report.name
    if report.moved_to:
        log.warning(
            "source %r moved permanently: %s → %s (update the config when convenient)",
            name,
            old_url,
            report.moved_to,
        )
    if report.warning:
        log.warning("source %r: %s", name, report.warning)
    if report.status == "not modified":
        log.info("source %r: not modified (%.2f s)", name, report.seconds)
    else:
        log.info(
            "source %r: %d entries, %d new, %d updated%s (%.2f s)",
            name,
            report.entries,
            report.new,
            report.updated,
            f", {report.known} already stored from other sources" if report.known else "",
            report.seconds,
        )
