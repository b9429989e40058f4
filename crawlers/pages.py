"""Fetching web pages (not feeds): robots.txt first, then the page."""

from __future__ import annotations

import httpx

from crawlers.http import ACCEPT_PAGES, FetchResult, PrivateAddressRefused, fetch
from crawlers.robots import RobotsCache


async def fetch_page(
    client: httpx.AsyncClient,
    url: str,
    robots: RobotsCache | None,
    *,
    max_bytes: int | None = None,
    accept: str = ACCEPT_PAGES,
) -> FetchResult:
    """GET a page the user did not configure (an article, a blog page) if robots.txt
    allows it, for the page's URL and, after redirects, for the final URL too.

    A refusal is a result with ``blocked_by_robots=True`` and ``error`` set; nothing
    is fetched then. ``robots=None`` skips the check (for URLs the user configured).
    A host the private-network guard refuses gives ``refused_private=True`` instead.
    """
    try:
        if robots is not None and not await robots.allowed(url):
            return FetchResult(url=url, error="disallowed by robots.txt", blocked_by_robots=True)
        result = await fetch(client, url, max_bytes=max_bytes, accept=accept)
        redirected = robots is not None and result.ok and result.url != url
        if redirected and robots is not None and not await robots.allowed(result.url):
            return FetchResult(
                url=result.url,
                status=result.status,
                error=f"redirected to {result.url}, disallowed by robots.txt",
                blocked_by_robots=True,
            )
    except PrivateAddressRefused as exc:
        return FetchResult(url=url, error=str(exc), refused_private=True)
    return result
