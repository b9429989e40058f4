"""robots.txt: cached per origin, applied to page fetches only, Crawl-delay honoured."""

from __future__ import annotations

import asyncio
import socket

from pytest_httpserver import HTTPServer

from crawl_support import run_with_client
from crawlers.feed_crawler import FetchState, crawl_feed
from crawlers.http import CrawlClient
from crawlers.pages import fetch_page
from crawlers.robots import RobotsCache

ROBOTS = b"""User-agent: *
Disallow: /private/
Crawl-delay: 3

User-agent: trendwatch
Disallow: /no-trendwatch/
Crawl-delay: 0.5
"""


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def robots_requests(server: HTTPServer) -> int:
    return sum(1 for request, _ in server.log if request.path == "/robots.txt")


def test_rules_apply_per_user_agent_and_the_file_is_fetched_once(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data(ROBOTS, content_type="text/plain")

    async def work(client: CrawlClient) -> tuple[list[bool], float | None, float | None]:
        robots = RobotsCache(client)
        answers = await asyncio.gather(
            robots.allowed(httpserver.url_for("/article")),
            robots.allowed(httpserver.url_for("/no-trendwatch/x")),
            robots.allowed(httpserver.url_for("/private/x")),  # our group replaces '*'
            robots.allowed(httpserver.url_for("/private/x"), "SomeOtherBot/1.0"),
            robots.allowed("ftp://example.test/file"),
        )
        return (
            answers,
            await robots.crawl_delay(httpserver.url_for("/")),
            client.limiter.delay_for(httpserver.host),
        )

    answers, delay, limiter_delay = run_with_client(work)
    assert answers == [True, False, True, False, False]
    assert delay == 0.5
    assert limiter_delay == 0.5  # fed into the per-host politeness delay
    assert robots_requests(httpserver) == 1


def test_missing_robots_allows_everything(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("nope", status=404)

    async def work(client: CrawlClient) -> bool:
        return await RobotsCache(client).allowed(httpserver.url_for("/private/x"))

    assert run_with_client(work) is True


def test_server_errors_disallow_for_a_while_then_ask_again(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/robots.txt").respond_with_data("down", status=503)
    clock = Clock()

    async def work(client: CrawlClient) -> list[bool]:
        robots = RobotsCache(client, error_ttl=600, clock=clock)
        first = await robots.allowed(httpserver.url_for("/article"))
        httpserver.expect_request("/robots.txt").respond_with_data(ROBOTS)
        clock.now += 300
        still_cached = await robots.allowed(httpserver.url_for("/article"))
        clock.now += 301
        asked_again = await robots.allowed(httpserver.url_for("/article"))
        return [first, still_cached, asked_again]

    assert run_with_client(work) == [False, False, True]
    assert robots_requests(httpserver) == 2


def test_unreachable_host_disallows() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def work(client: CrawlClient) -> tuple[bool, str | None]:
        robots = RobotsCache(client)
        allowed = await robots.allowed(f"http://127.0.0.1:{port}/article")
        return allowed, (await robots.rules(f"http://127.0.0.1:{port}/")).problem

    allowed, problem = run_with_client(work, timeout=2.0)
    assert allowed is False and problem


def test_cached_rules_expire_after_the_ttl(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data(ROBOTS)
    clock = Clock()

    async def work(client: CrawlClient) -> None:
        robots = RobotsCache(client, ttl=3600, clock=clock)
        await robots.allowed(httpserver.url_for("/a"))
        clock.now += 3599
        await robots.allowed(httpserver.url_for("/b"))
        clock.now += 2
        await robots.allowed(httpserver.url_for("/c"))

    run_with_client(work)
    assert robots_requests(httpserver) == 2


def test_page_fetches_respect_robots(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data(
        b"User-agent: trendwatch\nDisallow: /no-trendwatch/\n"
    )
    httpserver.expect_request("/article").respond_with_data("<html>ok</html>")
    httpserver.expect_request("/hop").respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/no-trendwatch/page")}
    )
    httpserver.expect_request("/no-trendwatch/page").respond_with_data("<html>no</html>")

    async def work(client: CrawlClient) -> list:
        robots = RobotsCache(client)
        return [
            await fetch_page(client, httpserver.url_for("/article"), robots),
            await fetch_page(client, httpserver.url_for("/no-trendwatch/x"), robots),
            await fetch_page(client, httpserver.url_for("/hop"), robots),
        ]

    ok, blocked, redirected = run_with_client(work)
    assert ok.error is None and ok.content == b"<html>ok</html>"
    assert blocked.blocked_by_robots and blocked.error == "disallowed by robots.txt"
    assert redirected.blocked_by_robots and "redirected to" in (redirected.error or "")
    paths = [request.path for request, _ in httpserver.log]
    assert "/no-trendwatch/x" not in paths  # never requested


def test_configured_feeds_ignore_robots(httpserver: HTTPServer, fixture_bytes) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data(b"User-agent: *\nDisallow: /\n")
    httpserver.expect_request("/feed.xml").respond_with_data(
        fixture_bytes("feeds", "rss2.xml"), content_type="application/rss+xml"
    )

    async def work(client: CrawlClient):
        return await crawl_feed(client, "Feed", FetchState(httpserver.url_for("/feed.xml")))

    outcome = run_with_client(work)
    assert outcome.error is None and len(outcome.entries) == 3
    assert robots_requests(httpserver) == 0
