"""Crawl one feed source: fetch with its stored state, parse, return entries."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

import httpx

from crawlers.entries import Entry
from crawlers.feeds import FeedParseError, ParsedFeed, parse_feed
from crawlers.http import FetchResult, fetch


@dataclass(frozen=True)
class FetchState:
    """What the store remembers between crawls of one source."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class CrawlOutcome:
    """The result of crawling one source; ``error`` means nothing usable arrived.

    What the store acts on besides the entries: ``moved_to`` (update the source URL and
    log it), ``gone`` (disable the source), ``retry_after`` (no poll before it),
    ``cache_max_age`` and ``ttl`` (inputs to :func:`pipeline.crawl.decide.next_interval`),
    ``fetch.etag``/``fetch.last_modified`` (the next conditional GET), ``warning``.
    """

    source: str
    fetch: FetchResult
    entries: list[Entry] = field(default_factory=list)
    error: str | None = None
    warning: str | None = None
    feed_title: str | None = None
    ttl: int | None = None  # minutes, from the feed's <ttl> or sy:updatePeriod

    @property
    def not_modified(self) -> bool:
        return self.fetch.not_modified

    @property
    def moved_to(self) -> str | None:
        return self.fetch.moved_to

    @property
    def gone(self) -> bool:
        return self.fetch.gone

    @property
    def retry_after(self) -> datetime | None:
        return self.fetch.retry_after

    @property
    def cache_max_age(self) -> int | None:
        return self.fetch.cache_max_age


class FeedParser(Protocol):
    """How :func:`crawl_feed` parses: in the event loop, or in a process pool
    (:class:`crawlers.parsing_pool.ParsingPool`)."""

    def __call__(
        self,
        content: bytes,
        url: str,
        *,
        content_type: str | None = None,
        default_language: str | None = None,
    ) -> Awaitable[ParsedFeed]: ...


async def parse_inline(
    content: bytes,
    url: str,
    *,
    content_type: str | None = None,
    default_language: str | None = None,
) -> ParsedFeed:
    """The default parser: :func:`crawlers.feeds.parse_feed`, right here."""
    return parse_feed(content, url, content_type=content_type, default_language=default_language)


async def crawl_feed(
    client: httpx.AsyncClient,
    source: str,
    state: FetchState,
    *,
    max_bytes: int | None = None,
    parse: FeedParser = parse_inline,
) -> CrawlOutcome:
    result = await fetch(
        client, state.url, etag=state.etag, last_modified=state.last_modified, max_bytes=max_bytes
    )
    if result.error:
        return CrawlOutcome(source=source, fetch=result, error=result.error)
    if result.not_modified or result.content is None:
        return CrawlOutcome(source=source, fetch=result)
    try:
        parsed = await parse(
            result.content,
            result.url,
            content_type=result.content_type,
            default_language=state.language,
        )
    except FeedParseError as exc:
        return CrawlOutcome(source=source, fetch=result, error=str(exc))
    entries = parsed.entries
    if state.language:  # the configured language wins over what the feed claims
        entries = [_with_language(e, state.language) for e in entries]
    return CrawlOutcome(
        source=source,
        fetch=result,
        entries=entries,
        warning=parsed.warning,
        feed_title=parsed.title or None,
        ttl=parsed.ttl,
    )


def _with_language(entry: Entry, language: str) -> Entry:
    return replace(entry, language=language)
