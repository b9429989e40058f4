"""Feed autodiscovery: links in a page, fallback paths, verification on 127.0.0.1."""

from __future__ import annotations

from pytest_httpserver import HTTPServer

from crawl_support import run_with_client
from crawlers.discover import discover_feeds, fallback_urls, find_feeds
from crawlers.http import CrawlClient

PAGE = b"""<!DOCTYPE html>
<html><head>
  <base href="https://site.test.invalid/blog/">
  <link rel="alternate" type="application/rss+xml" href="feed.rss">
  <link rel="alternate" type="application/atom+xml" href="/atom.xml">
  <link rel="Alternate" type="application/feed+json" href="https://cdn.test.invalid/feed.json">
  <link rel="alternate" type="application/rss+xml" href="feed.rss">
  <link rel="alternate" type="application/rss+xml; charset=utf-8" href="/comments.rss">
  <link rel="alternate" type="text/html" hreflang="en" href="/en/">
  <link rel="stylesheet" href="/style.css">
</head><body><a href="/rss">RSS</a></body></html>"""


def test_discover_feeds_resolves_relative_links_once_each() -> None:
    assert discover_feeds("https://site.test.invalid/", PAGE) == [
        "https://site.test.invalid/blog/feed.rss",
        "https://site.test.invalid/atom.xml",
        "https://cdn.test.invalid/feed.json",
        "https://site.test.invalid/comments.rss",
    ]


def test_fallback_urls_next_to_the_page_then_at_the_root() -> None:
    assert fallback_urls("https://site.test.invalid/") == [
        "https://site.test.invalid/feed",
        "https://site.test.invalid/rss.xml",
        "https://site.test.invalid/atom.xml",
        "https://site.test.invalid/feed.xml",
        "https://site.test.invalid/index.xml",
    ]
    nested = fallback_urls("https://site.test.invalid/blog/post")
    assert nested[0] == "https://site.test.invalid/blog/feed"
    assert nested[5] == "https://site.test.invalid/feed"


def find(server: HTTPServer, path: str) -> list[str]:
    async def work(client: CrawlClient) -> list[str]:
        return await find_feeds(client, server.url_for(path))

    return run_with_client(work)


def page_linking(*hrefs: str) -> bytes:
    links = "".join(f'<link rel="alternate" type="application/rss+xml" href="{h}">' for h in hrefs)
    return f"<!DOCTYPE html><html><head>{links}</head><body>hi</body></html>".encode()


def test_find_feeds_verifies_linked_feeds(httpserver: HTTPServer, fixture_bytes) -> None:
    httpserver.expect_request("/").respond_with_data(
        page_linking("/feed.xml", "/broken.xml", "/missing.xml"), content_type="text/html"
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        fixture_bytes("feeds", "rss2.xml"), content_type="application/rss+xml"
    )
    httpserver.expect_request("/broken.xml").respond_with_data(
        "<html><body>not a feed</body></html>", content_type="text/html"
    )
    httpserver.expect_request("/missing.xml").respond_with_data("", status=404)
    assert find(httpserver, "/") == [httpserver.url_for("/feed.xml")]


def test_find_feeds_falls_back_to_common_paths(httpserver: HTTPServer, fixture_bytes) -> None:
    httpserver.expect_request("/").respond_with_data(
        b"<!DOCTYPE html><html><head><title>No links</title></head></html>",
        content_type="text/html",
    )
    httpserver.expect_request("/atom.xml").respond_with_data(
        fixture_bytes("feeds", "atom.xml"), content_type="application/atom+xml"
    )
    httpserver.expect_request("/index.xml").respond_with_data(
        fixture_bytes("feeds", "jsonfeed.json"), content_type="application/feed+json"
    )
    assert find(httpserver, "/") == [
        httpserver.url_for("/atom.xml"),
        httpserver.url_for("/index.xml"),
    ]


def test_find_feeds_when_the_url_is_already_a_feed(httpserver: HTTPServer, fixture_bytes) -> None:
    httpserver.expect_request("/feed").respond_with_data(
        fixture_bytes("feeds", "rss2.xml"), content_type="application/rss+xml"
    )
    assert find(httpserver, "/feed") == [httpserver.url_for("/feed")]


def test_find_feeds_reports_a_moved_feed_at_its_new_url(
    httpserver: HTTPServer, fixture_bytes
) -> None:
    httpserver.expect_request("/").respond_with_data(
        page_linking("/old-feed"), content_type="text/html"
    )
    httpserver.expect_request("/old-feed").respond_with_data(
        "", status=301, headers={"Location": httpserver.url_for("/new-feed")}
    )
    httpserver.expect_request("/new-feed").respond_with_data(
        fixture_bytes("feeds", "rss2.xml"), content_type="application/rss+xml"
    )
    assert find(httpserver, "/") == [httpserver.url_for("/new-feed")]


def test_find_feeds_on_an_unreachable_site_is_empty(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/").respond_with_data("down", status=500)
    assert find(httpserver, "/") == []
