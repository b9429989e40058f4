"""Parsing in worker processes gives the same result as parsing inline."""

from __future__ import annotations

import pytest
from crawl_support import run_with_client
from pytest_httpserver import HTTPServer

from crawlers.feed_crawler import CrawlOutcome, FetchState, crawl_feed
from crawlers.feeds import FeedParseError, parse_feed
from crawlers.http import CrawlClient
from crawlers.parsing_pool import ParsingPool


def test_pool_parses_like_parse_feed_and_carries_errors(
    httpserver: HTTPServer, fixture_bytes
) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        fixture_bytes("feeds", "rss2.xml"), content_type="application/rss+xml"
    )
    httpserver.expect_request("/page.html").respond_with_data(
        fixture_bytes("feeds", "page.html"), content_type="text/html"
    )
    with ParsingPool(workers=1) as pool:

        async def work(client: CrawlClient) -> list[CrawlOutcome]:
            return [
                await crawl_feed(
                    client, "F", FetchState(httpserver.url_for(p), language="nl"), parse=pool.parse
                )
                for p in ("/feed.xml", "/page.html")
            ]

        feed, page = run_with_client(work)
    expected = parse_feed(fixture_bytes("feeds", "rss2.xml"), httpserver.url_for("/feed.xml"))
    assert feed.error is None
    assert [e.identity for e in feed.entries] == [e.identity for e in expected.entries]
    assert feed.entries[0] == expected.entries[0]
    assert page.error is not None and "HTML page instead of a feed" in page.error


def test_pool_raises_feed_parse_error_across_processes() -> None:
    import asyncio

    with ParsingPool(workers=1) as pool, pytest.raises(FeedParseError):
        asyncio.run(pool.parse(b"\x00 nothing", "https://x.test.invalid/"))
