"""Politeness of the crawl job with its default settings, against real HTTP servers on
127.0.0.1: the server's own count of requests in flight per host, and a Retry-After
that holds off every source of its host. Only counts and orders are asserted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from host_counter import PerHost
from pipeline.crawl import job as crawl_job
from pipeline.store import Store

RSS = "application/rss+xml; charset=utf-8"


def feed(name: str) -> bytes:
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>{name}</title><link>https://example.test/</link>"
        f"<item><title>Bericht {name}</title><link>https://example.test/{name}</link></item>"
        "</channel></rss>"
    ).encode()


def config(sources: dict[str, str], crawl: str = "") -> str:
    """The sources (name: URL) with the default [crawl] settings unless ``crawl``."""
    lines = ["allow_private_networks = true  # every test server is local", crawl]
    for name, url in sources.items():
        lines += ["[[sources]]", f'name = "{name}"', f'url = "{url}"']
    return "\n".join(lines) + "\n"


@pytest.fixture
def site(threaded_server: HTTPServer) -> Iterator[HTTPServer]:
    threaded_server.clear()
    yield threaded_server
    threaded_server.clear()


def test_default_settings_never_put_more_than_per_host_in_flight_to_a_host(
    site: HTTPServer, make_settings
) -> None:
    counter = PerHost(lambda r: Response(feed(r.path.strip("/")), content_type=RSS))
    names = [f"f{i:02d}" for i in range(16)]
    for name in names:
        site.expect_request(f"/{name}").respond_with_handler(counter.handler)
    ip = site.url_for("/")
    hosts = [ip, ip.replace("127.0.0.1", "localhost")]  # two hosts, one server
    sources = {name: f"{hosts[i % 2]}{name}" for i, name in enumerate(names)}
    settings = make_settings(config(sources))
    assert settings.crawl.per_host == 2 and settings.crawl.per_host_delay == 0.0
    with Store(settings.db_path) as store:
        reports = crawl_job.crawl(settings, store)
        assert [(r.name, r.status, r.new) for r in reports] == [(n, "ok", 1) for n in names]
    assert len(counter.peak) == 2
    assert all(1 <= peak <= 2 for peak in counter.peak.values()), counter.peak


def test_a_retry_after_holds_off_every_source_of_its_host(site: HTTPServer, make_settings) -> None:
    site.expect_request("/a").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "3600"}
    )
    for name in ("b", "c", "d"):
        site.expect_request(f"/{name}").respond_with_data(feed(name), content_type=RSS)
    ip = site.url_for("/")
    other = ip.replace("127.0.0.1", "localhost")
    sources = {"A": f"{ip}a", "B": f"{ip}b", "C": f"{ip}c", "D": f"{other}d"}
    # one request at a time per host: A's answer comes before B or C may go
    settings = make_settings(config(sources, "[crawl]\nper_host = 1"))
    with Store(settings.db_path) as store:
        reports = {r.name: r for r in crawl_job.crawl(settings, store)}
        a, b, c, d = (reports[n] for n in "ABCD")
        assert a.status == "error" and a.retry_after is not None
        for held in (b, c):  # not requested, and not polled before A's Retry-After
            assert held.status == "error" and held.retry_after == a.retry_after
            assert "asked to wait (Retry-After)" in (held.error or "")
            row = store.source(held.name)
            assert row is not None and row.retry_after == row.next_poll
        assert d.status == "ok"  # another host goes on
    assert sorted(r.path for r, _ in site.log) == ["/a", "/d"]
