"""Crawl one feed source: fetch with its stored state, parse, return entries."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import httpx

from crawlers.entries import Entry
from crawlers.feeds import FeedParseError, parse_feed
from crawlers.http import DEFAULT_MAX_BYTES, FetchResult, fetch


@dataclass(frozen=True)
class FetchState:
    """What the store remembers between crawls of one source."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class CrawlOutcome:
    """The result of crawling one source; ``error`` means nothing usable arrived."""

    source: str
    fetch: FetchResult
    entries: list[Entry] = field(default_factory=list)
    error: str | None = None
    warning: str | None = None
    feed_title: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.fetch.not_modified


async def crawl_feed(
    client: httpx.AsyncClient,
    source: str,
    state: FetchState,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> CrawlOutcome:
    result = await fetch(
        client, state.url, etag=state.etag, last_modified=state.last_modified, max_bytes=max_bytes
    )
    if result.error:
        return CrawlOutcome(source=source, fetch=result, error=result.error)
    if result.not_modified or result.content is None:
        return CrawlOutcome(source=source, fetch=result)
    try:
        parsed = parse_feed(
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
    )


def _with_language(entry: Entry, language: str) -> Entry:
    return replace(entry, language=language)
