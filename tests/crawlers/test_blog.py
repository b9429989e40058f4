"""Blog crawling: a real Scrapy spider in a child process against a fixture blog on
127.0.0.1. Each spider run costs about 1.5 s of child start-up, so the runs are few
and each test checks several things."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from crawlers.blog import BlogConfig, BlogResult, crawl_blog, crawl_blog_async, items_to_entries
from crawlers.blog.spider import parse_sitemap
from tests_support import REPO

BLOG = REPO / "tests" / "fixtures" / "blog"
ROUTES = {
    "/": "index.html",
    "/page/2/": "page-2.html",
    "/tag/hybride-werken/": "tag-hybride-werken.html",
    "/over/": "over.html",
    "/robots.txt": "robots.txt",
    "/sitemap.xml": "sitemap.xml",
    "/2026/10/thuiswerken-na-de-pandemie/": "article-thuiswerken.html",
    "/2026/10/vier-dagen-werkweek-proef/": "article-vierdagen.html",
    "/2026/09/burn-out-voorkomen/": "article-burnout.html",
    "/2026/08/remote-onboarding/": "article-remote.html",
    "/2026/07/verlofregels-2027/": "article-verlof.html",  # only in the sitemap
    "/prive/concept-salarisbeleid/": "article-prive.html",  # robots.txt: Disallow: /prive/
}
TYPES = {"txt": "text/plain; charset=utf-8", "xml": "application/xml", "html": "text/html"}
# The crawl's time: the pages' dates (the newest is 12 October 2026) are before it, so
# they count whatever the day the tests run (no date after the crawl's day is believed).
CRAWLED = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def local_server() -> Iterator[HTTPServer]:
    """An HTTP server on 127.0.0.1 (not "localhost": the crawlers see an IPv4 address)."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


@pytest.fixture
def blog(local_server: HTTPServer) -> Iterator[HTTPServer]:
    """The fixture blog on 127.0.0.1; unknown paths answer 404 like a real site."""
    server = local_server
    server.clear()  # handlers and log of the previous test
    base = server.url_for("/").rstrip("/")
    for path, name in ROUTES.items():
        body = (BLOG / name).read_text("utf-8").replace("{{BASE}}", base)
        ctype = TYPES[name.rsplit(".", 1)[1]]
        if ctype == "text/html":
            ctype += "; charset=utf-8"
        server.expect_request(path).respond_with_data(body.encode(), content_type=ctype)
    previous = server.no_handler_status_code
    server.no_handler_status_code = 404
    yield server
    server.no_handler_status_code = previous


def requested(server: HTTPServer) -> list[str]:
    return [request.path for request, _ in server.log]


def by_path(result: BlogResult) -> dict[str, object]:
    return {urlsplit(e.url or "").path: e for e in result.entries}


def test_crawl_blog_finds_articles_and_obeys_robots(blog: HTTPServer) -> None:
    base = blog.url_for("/").rstrip("/")
    blog.expect_request("/home").respond_with_data("", status=301, headers={"Location": "/"})
    config = BlogConfig(
        name="De Werkvloer",
        start_url=base + "/home",  # redirects to /
        sitemap_url=base + "/sitemap.xml",
        delay=0,
    )
    result = crawl_blog(config, timeout=60, allow_private_networks=True, now=CRAWLED)
    assert result.ok, result.errors
    assert result.finish_reason == "finished"
    articles = by_path(result)
    assert sorted(articles) == [
        "/2026/07/verlofregels-2027/",  # reached through the sitemap only
        "/2026/08/remote-onboarding/",  # reached through /page/2/ (depth 2)
        "/2026/09/burn-out-voorkomen/",
        "/2026/10/thuiswerken-na-de-pandemie/",
        "/2026/10/vier-dagen-werkweek-proef/",
    ]
    assert result.articles == 5

    home_post = articles["/2026/10/thuiswerken-na-de-pandemie/"]
    assert home_post.identity == f"link:{base}/2026/10/thuiswerken-na-de-pandemie/"
    assert home_post.title == "Thuiswerken na de pandemie: wat blijft er over?"
    assert home_post.author == "Anne de Vries"
    assert home_post.published == datetime(2026, 10, 12, 7, 30, tzinfo=UTC)
    assert home_post.language == "nl"
    assert home_post.text.startswith("Drie jaar na de laatste lockdown")
    assert "Herkenbaar verhaal" not in home_post.text  # a comment
    assert "Lees ook" not in home_post.text  # related posts
    assert "Nieuwsbrief" not in home_post.text  # sidebar
    assert home_post.content.startswith("<p>")
    assert home_post.summary.startswith("Drie jaar na de laatste lockdown")

    json_ld_only = articles["/2026/10/vier-dagen-werkweek-proef/"]
    assert json_ld_only.author == "Pieter Jansen"
    assert json_ld_only.published == datetime(2026, 10, 5, 12, 0, tzinfo=UTC)
    no_metadata = articles["/2026/09/burn-out-voorkomen/"]
    assert no_metadata.published == datetime(2026, 9, 21, 6, 0, tzinfo=UTC)
    assert articles["/2026/08/remote-onboarding/"].language == "en"
    assert articles["/2026/07/verlofregels-2027/"].author == "Anne de Vries"

    paths = requested(blog)
    # listing pages were crawled for their links, not returned as articles
    for listing in ("/", "/page/2/", "/tag/hybride-werken/", "/over/"):
        assert listing in paths
        assert listing not in articles
    # robots.txt first, the disallowed page never asked for, but reported
    assert paths[:2] == ["/robots.txt", "/home"]
    assert not any(p.startswith("/prive/") for p in paths)
    assert result.robots_refused == [f"{base}/prive/concept-salarisbeleid/"]
    assert len(paths) == len(set(paths))  # nothing fetched twice
    # broken links on the site (/contact/, /privacy/...) are reported, not fatal
    assert result.errors and all("HTTP 404" in e for e in result.errors)
    pages = [p for p in paths if p not in ("/robots.txt", "/sitemap.xml", "/home")]
    assert result.pages_seen == len(pages) - len(result.errors)
    headers = [request.headers for request, _ in blog.log]
    assert all(h["User-Agent"].startswith("trendwatch/0") for h in headers)
    assert all("Cookie" not in h for h in headers)


def test_without_a_configured_sitemap_the_ones_robots_txt_lists_on_the_site_are_read(
    blog: HTTPServer,
) -> None:
    base = blog.url_for("/").rstrip("/")
    robots = (BLOG / "robots.txt").read_text("utf-8").replace("{{BASE}}", base)
    # a robots.txt may name sitemaps anywhere: one on another site is not ours to read
    robots += "Sitemap: https://elders.example/sitemap.xml\nSitemap: not a url\n"
    for _ in range(2):  # Scrapy's robots.txt handling asks for it, and so do we
        blog.expect_oneshot_request("/robots.txt").respond_with_data(
            robots, content_type="text/plain"
        )
    result = crawl_blog(
        BlogConfig(start_url=base + "/", delay=0),
        timeout=60,
        allow_private_networks=True,
        now=CRAWLED,
    )
    assert "/2026/07/verlofregels-2027/" in by_path(result)  # linked from the sitemap only
    paths = requested(blog)
    assert paths.count("/sitemap.xml") == 1
    assert not any("elders.example" in e or "not a url" in e for e in result.errors)
    assert all("HTTP 404" in e for e in result.errors)  # only the site's broken links


def test_a_site_without_robots_txt_is_crawled_without_a_sitemap(blog: HTTPServer) -> None:
    base = blog.url_for("/").rstrip("/")
    for _ in range(2):
        blog.expect_oneshot_request("/robots.txt").respond_with_data("", status=404)
    result = crawl_blog(
        BlogConfig(start_url=base + "/", delay=0),
        timeout=60,
        allow_private_networks=True,
        now=CRAWLED,
    )
    assert result.ok, result.errors
    assert "/2026/07/verlofregels-2027/" not in by_path(result)
    assert "/2026/10/thuiswerken-na-de-pandemie/" in by_path(result)
    assert "/sitemap.xml" not in requested(blog)
    assert not any("robots.txt" in e for e in result.errors)


def test_second_crawl_in_the_same_process_with_deny_and_max_pages(blog: HTTPServer) -> None:
    base = blog.url_for("/").rstrip("/")
    config = BlogConfig(
        start_url=base + "/",
        allow=(r"/20\d\d/", r"/page/"),
        deny=(r"/2026/09/",),
        max_pages=3,
        delay=0,
    )
    first = crawl_blog(config, timeout=60, allow_private_networks=True, now=CRAWLED)
    first_paths = requested(blog)
    blog.clear_log()
    # Scrapy's reactor cannot restart in one process: a second crawl, here through the
    # asyncio entry point, must work all the same.
    second = asyncio.run(
        crawl_blog_async(config, timeout=60, allow_private_networks=True, now=CRAWLED)
    )
    for result, paths in ((first, first_paths), (second, requested(blog))):
        assert result.ok, result.errors
        pages = sorted(p for p in paths if p not in ("/robots.txt", "/sitemap.xml"))
        assert pages == [
            "/",
            "/2026/10/thuiswerken-na-de-pandemie/",
            "/2026/10/vier-dagen-werkweek-proef/",
        ]  # max_pages = 3; the denied post and /page/2/ (over budget) never asked for
        assert sorted(by_path(result)) == [
            "/2026/10/thuiswerken-na-de-pandemie/",
            "/2026/10/vier-dagen-werkweek-proef/",
        ]
    assert sorted(e.identity for e in first.entries) == sorted(e.identity for e in second.entries)


def test_private_networks_refused_unless_allowed(blog: HTTPServer) -> None:
    base = blog.url_for("/").rstrip("/")
    config = BlogConfig(start_url=base + "/", sitemap_url=base + "/sitemap.xml", delay=0)
    result = crawl_blog(config, timeout=60, allow_private_networks=False)
    assert not result.ok
    assert result.fatal and "private or local network" in result.fatal
    assert result.entries == []
    assert blog.log == []  # not even robots.txt


def test_a_start_page_that_redirects_to_another_site_fails_and_says_where(
    local_server: HTTPServer,
) -> None:
    # 127.0.0.1 redirects to localhost: another site, which the crawl does not follow;
    # without the note this looked like a blog without articles ("ok, 0 entries")
    local_server.clear()
    port = urlsplit(local_server.url_for("/")).port
    moved = f"http://localhost:{port}/blog/"
    local_server.expect_request("/").respond_with_response(
        Response(status=301, headers={"Location": moved})
    )
    config = BlogConfig(start_url=local_server.url_for("/"), delay=0)
    result = crawl_blog(config, timeout=60, allow_private_networks=True, now=CRAWLED)
    assert not result.ok and result.entries == []
    assert result.fatal and f"redirects to {moved}, another site: not followed" in result.fatal
    assert "set the source's url to the new address" in result.fatal
    assert "/blog/" not in requested(local_server)


# The child as crawl_blog starts it, but with a guard that saw a public address for
# every host: what a host that rebinds its DNS name between two lookups achieves.
REBOUND_CHILD = """
import crawlers.blog.spider as spider

async def fooled(self, request, spider=None):
    return None

spider.PrivateNetworkGuard.process_request = fooled
from crawlers.blog.child import main
raise SystemExit(main())
"""


def test_connections_to_private_addresses_are_refused_even_past_the_guard(
    blog: HTTPServer,
) -> None:
    base = blog.url_for("/").rstrip("/")
    config = BlogConfig(start_url=base + "/", sitemap_url=base + "/sitemap.xml", delay=0)
    command = [sys.executable, "-c", REBOUND_CHILD]
    result = crawl_blog(config, timeout=60, allow_private_networks=False, command=command)
    assert not result.ok and result.entries == []
    assert blog.log == []  # the connection itself was never made
    messages = [result.fatal or "", *result.errors]
    assert any("refused 127.0.0.1" in m and "private or local network" in m for m in messages)


def test_the_public_address_resolver_checks_cached_answers_too() -> None:
    from scrapy.resolver import dnscache

    from crawlers.blog.spider import PublicAddressResolver

    resolver = PublicAddressResolver(None, cache_size=10, timeout=1.0)  # type: ignore[arg-type]
    dnscache["rebound.example"] = "10.0.0.7"
    dnscache["open.example"] = "93.184.216.34"
    try:
        outcomes: dict[str, object] = {}
        for name in ("rebound.example", "open.example"):
            found = resolver.getHostByName(name)
            found.addCallbacks(
                lambda address, name=name: outcomes.__setitem__(name, address),
                lambda failure, name=name: outcomes.__setitem__(name, failure.value),
            )
    finally:
        del dnscache["rebound.example"], dnscache["open.example"]
    assert outcomes["open.example"] == "93.184.216.34"
    assert "refused rebound.example (10.0.0.7)" in str(outcomes["rebound.example"])


def test_child_timeout_kills_the_crawl(blog: HTTPServer) -> None:
    """A page that never finishes: the child is killed at the time limit, it does not
    wait for the page or for the child to finish by itself."""
    release = threading.Event()
    answered = threading.Event()

    def stuck(request: Request) -> Response:
        release.wait(60)  # only against a hang
        answered.set()
        return Response("te laat", status=503)

    blog.expect_oneshot_request("/page/2/").respond_with_handler(stuck)  # wins over the fixture's
    base = blog.url_for("/").rstrip("/")
    config = BlogConfig(start_url=base + "/", allow=(r"/page/",), delay=0)
    try:
        result = crawl_blog(config, timeout=4, allow_private_networks=True)
        still_stuck = not answered.is_set()
    finally:
        release.set()
    assert result.timed_out and not result.ok
    assert result.fatal == "timed out after 4 s; crawler process killed"
    # killed: the child never reported the end of its crawl (a child left to finish
    # does, once the page fails), and the page was still unanswered at the return
    assert result.finish_reason is None
    assert still_stuck


def test_child_crash_is_an_error_not_an_exception() -> None:
    item = {
        "kind": "article",
        "url": "https://werkvloer.example/2026/10/a/",
        "title": "Een artikel",
        "content": "<p>Tekst van het artikel.</p>",
        "published": "2026-10-01T08:00:00+02:00",
    }
    script = (
        "import sys\n"
        f"print({json.dumps(json.dumps(item))}, flush=True)\n"
        "sys.stderr.write('Traceback (most recent call last):\\nRuntimeError: boom\\n')\n"
        "sys.exit(3)\n"
    )
    config = BlogConfig(start_url="https://werkvloer.example/")
    result = crawl_blog(
        config, timeout=30, allow_private_networks=False, command=[sys.executable, "-c", script]
    )
    assert result.fatal == "crawler process failed (exit status 3): RuntimeError: boom"
    assert result.errors[0] == result.fatal
    [entry] = result.entries  # what arrived before the crash is kept
    assert entry.identity == "link:https://werkvloer.example/2026/10/a/"
    assert entry.published == datetime(2026, 10, 1, 6, 0, tzinfo=UTC)


# A child that hangs for a minute, then leaves a mark: it is killed if the mark is missing.
HANGING_CHILD = "import pathlib, sys, time; time.sleep(60); pathlib.Path(sys.argv[1]).touch()"


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_hanging_child_is_killed(use_async: bool, tmp_path: Path) -> None:
    config = BlogConfig(start_url="https://werkvloer.example/")
    finished = tmp_path / "finished"
    command = [sys.executable, "-c", HANGING_CHILD, str(finished)]
    kwargs = {"timeout": 1.0, "allow_private_networks": False, "command": command}
    if use_async:
        result = asyncio.run(crawl_blog_async(config, **kwargs))
    else:
        result = crawl_blog(config, **kwargs)
    assert result.timed_out and result.fatal == "timed out after 1 s; crawler process killed"
    assert not finished.exists()  # returned without waiting for the child to end


def test_items_to_entries_dedupes_and_applies_the_source_language() -> None:
    items = [
        {"url": "https://b.example/a?utm_source=x", "title": "<b>A</b>", "content": "<p>x</p>"},
        {"url": "https://b.example/a", "title": "A again", "content": "<p>y</p>"},
        {"url": "not a url", "title": "B"},
        {
            "url": "https://b.example/c",
            "title": "C",
            "content": '<p onclick="x()">Een.</p><script>alert(1)</script><p>Twee.</p>',
            "language": "en",
            "description": "Korte  inleiding.",
        },
    ]
    a, c = items_to_entries(items, language="nl")
    assert (a.identity, a.title, a.text) == ("link:https://b.example/a", "A", "x")
    assert c.content == "<p>Een.</p><p>Twee.</p>"
    assert c.text == "Een.\n\nTwee."
    assert c.summary == "Korte inleiding."
    assert (a.language, c.language) == ("nl", "nl")


def test_blog_config_validation() -> None:
    with pytest.raises(ValueError) as info:
        BlogConfig(start_url="ftp://x", allow=("(",), max_pages=0, sitemap_url="/sitemap.xml")
    message = str(info.value)
    for key in ("url:", "sitemap:", "allow[0]:", "max_pages:"):
        assert key in message
    config = BlogConfig(start_url="https://b.example/", deny=["/tag/"])  # lists from TOML
    assert config.deny == ("/tag/",)
    assert BlogConfig.from_dict({**config.to_dict(), "unknown": 1}) == config
    assert (config.max_pages, config.max_depth) == (50, 2)


def test_parse_sitemap_and_index() -> None:
    kind, entries = parse_sitemap((BLOG / "sitemap.xml").read_bytes())
    assert kind == "urlset"
    assert entries[1] == (
        "{{BASE}}/2026/10/thuiswerken-na-de-pandemie/",
        "2026-10-12T00:00:00+00:00",
    )
    index = (
        b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>https://b.example/posts.xml</loc><lastmod>2026-11-01T10:00:00+01:00"
        b"</lastmod></sitemap></sitemapindex>"
    )
    assert parse_sitemap(index) == (
        "sitemapindex",
        [("https://b.example/posts.xml", "2026-11-01T09:00:00+00:00")],
    )
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<urlset><url><loc>&e;</loc></url></urlset>"
    )
    assert all("root:" not in loc for loc, _ in parse_sitemap(evil)[1])  # no external entities
    assert parse_sitemap(b"<html><body>no</body></html>")[0] == "html"
    assert parse_sitemap(b"")[0] == ""
