"""Parsing in worker processes gives the same result as parsing inline."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from crawl_support import run_with_client
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


def test_adaptive_parser_starts_its_pool_only_after_the_inline_limit(fixture_bytes) -> None:
    import asyncio

    from crawlers.parsing_pool import AdaptiveParser

    content = fixture_bytes("feeds", "rss2.xml")
    expected = parse_feed(content, "https://x.test/feed.xml")
    parser = AdaptiveParser(workers=1, inline_limit=2)
    try:

        async def parse_three() -> list:
            out = []
            for _ in range(3):
                out.append(await parser.parse(content, "https://x.test/feed.xml"))
                out.append(parser.pool)  # whether a pool exists after this feed
            return out

        first, pool1, second, pool2, third, pool3 = asyncio.run(parse_three())
        assert pool1 is None and pool2 is None  # two feeds: inline, no process
        assert pool3 is not None and parser.parsed_inline == 2  # the third: in the pool
        for parsed in (first, second, third):
            assert [e.identity for e in parsed.entries] == [e.identity for e in expected.entries]
        with pytest.raises(FeedParseError):  # errors cross from the pool as before
            asyncio.run(parser.parse(b"\x00 nothing", "https://x.test.invalid/"))
    finally:
        parser.close()


def test_pool_workers_do_not_import_the_parents_main_module(fixture_bytes) -> None:
    """A spawned worker would run the parent's ``__main__`` again (the whole CLI for
    ``trendwatch crawl``); a parsing worker needs only the feed parser, and parses
    alike without it."""
    import asyncio

    content = fixture_bytes("feeds", "rss2.xml")
    with ParsingPool(workers=1) as pool:
        parsed = asyncio.run(pool.parse(content, "https://x.test/feed.xml"))
        main_file, modules = pool._executor.submit(
            eval,
            "getattr(__import__('sys').modules['__mp_main__'], '__file__', None),"
            " sorted(__import__('sys').modules)",
        ).result()
    assert parsed == parse_feed(content, "https://x.test/feed.xml")
    assert main_file is None  # here the parent's main module would be pytest's script
    assert "_pytest" not in modules and "crawlers.feeds" in modules
