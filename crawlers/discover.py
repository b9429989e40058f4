"""Feed autodiscovery: the feeds a site offers, verified by fetching and parsing them."""

from __future__ import annotations

import asyncio
from urllib.parse import urljoin, urlsplit

import httpx

from crawlers.feeds import FeedParseError, parse_feed
from crawlers.html_links import FEED_TYPES, discover_feed_links, looks_like_html
from crawlers.http import ACCEPT_FEEDS, PrivateAddressRefused, fetch

__all__ = [
    "FALLBACK_PATHS",
    "FEED_TYPES",
    "discover_feed_links",
    "discover_feeds",
    "find_feeds",
    "looks_like_html",
]

FALLBACK_PATHS = ("/feed", "/rss.xml", "/atom.xml", "/feed.xml", "/index.xml")
ACCEPT_PAGE_OR_FEED = "text/html;q=0.9, " + ACCEPT_FEEDS


def discover_feeds(page_url: str, html: bytes | str) -> list[str]:
    """Absolute URLs of the feeds an HTML page announces (``<link rel=alternate>`` with
    an RSS, Atom, RDF or JSON Feed type; relative hrefs resolved, ``<base>`` honoured)."""
    return discover_feed_links(html, page_url)


def fallback_urls(site_url: str) -> list[str]:
    """Where feeds usually live when a page announces none: next to the page, then at
    the site's root."""
    parts = urlsplit(site_url)
    root = f"{parts.scheme}://{parts.netloc}"
    directory = parts.path if parts.path.endswith("/") else parts.path.rsplit("/", 1)[0] + "/"
    out: list[str] = []
    for base in ([root + directory] if directory != "/" else []) + [root + "/"]:
        for path in FALLBACK_PATHS:
            url = urljoin(base, path.lstrip("/"))
            if url not in out:
                out.append(url)
    return out


async def find_feeds(client: httpx.AsyncClient, site_url: str) -> list[str]:
    """Verified feed URLs for a site: the URL itself if it is a feed, else the feeds its
    page links to, else the common fallback paths. A URL counts only if it fetches and
    parses as a feed. A permanently moved feed is returned at its new URL.

    Raises PrivateAddressRefused when the private-network guard refuses the site (or
    where it redirects to), so the caller can say so instead of "no feed found"."""
    page = await fetch(client, site_url, accept=ACCEPT_PAGE_OR_FEED)
    if page.refused_private:
        raise PrivateAddressRefused(page.error)
    if page.error or page.content is None:
        return []
    if _parses(page.content, page.url, page.content_type):
        return [page.moved_to or site_url]
    candidates = discover_feeds(page.url, page.content) if looks_like_html(page.content) else []
    found = await _verified(client, candidates)
    if found:
        return found
    return await _verified(client, [u for u in fallback_urls(page.url) if u not in candidates])


async def _verified(client: httpx.AsyncClient, urls: list[str]) -> list[str]:
    async def check(url: str) -> str | None:
        result = await fetch(client, url)
        if result.error or result.content is None:
            return None
        if not _parses(result.content, url, result.content_type):
            return None
        return result.moved_to or url

    results = await asyncio.gather(*(check(u) for u in urls))
    return list(dict.fromkeys(u for u in results if u))


def _parses(content: bytes, url: str, content_type: str | None) -> bool:
    try:
        feed = parse_feed(content, url, content_type=content_type)
    except FeedParseError:
        return False
    return bool(feed.entries) or bool(feed.title)
