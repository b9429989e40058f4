"""Crawling through a real HTTP server on 127.0.0.1 into a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipeline.crawl import job as crawl_job
from pipeline.process import job as process_job
from pipeline.store import Store, iso

ETAG = '"v1-abc"'
LAST_MODIFIED = "Wed, 25 Nov 2026 10:00:00 GMT"
# The crawls of the quiet-feed test: atom.xml's newest entry (25 November) is ten days
# old then, so nothing was published in the last week.
QUIET = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def conditional_feed(body: bytes, seen: list[dict]):
    """A handler that answers 304 when the client revalidates, like a good server."""

    def handler(request: Request) -> Response:
        seen.append(dict(request.headers))
        if request.headers.get("If-None-Match") == ETAG:
            return Response(status=304, headers={"ETag": ETAG})
        return Response(
            body,
            content_type="application/rss+xml; charset=utf-8",
            headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED},
        )

    return handler


def sources_toml(*pairs: tuple[str, str]) -> str:
    return "allow_private_networks = true\n[crawl]\nper_host_delay = 0\n" + "".join(
        f'[[sources]]\nname = "{name}"\nurl = "{url}"\n' for name, url in pairs
    )


def test_second_crawl_revalidates_and_gets_304(
    httpserver: HTTPServer, make_settings, fixture_bytes
) -> None:
    seen: list[dict] = []
    httpserver.expect_request("/feed.xml").respond_with_handler(
        conditional_feed(fixture_bytes("feeds", "rss2.xml"), seen)
    )
    settings = make_settings(sources_toml(("HR Nieuws", httpserver.url_for("/feed.xml"))))
    with Store(settings.db_path) as store:
        first = crawl_job.crawl(settings, store)
        assert [(r.status, r.new) for r in first] == [("ok", 3)]
        second = crawl_job.crawl(settings, store, force=True)
        assert [(r.status, r.new) for r in second] == [("not modified", 0)]
        assert store.article_count() == 3
        [source] = store.sources()
        assert source.etag == ETAG
        assert source.last_modified == LAST_MODIFIED
        assert source.last_success is not None and source.consecutive_errors == 0
    assert "If-None-Match" not in seen[0]
    assert seen[1]["If-None-Match"] == ETAG
    assert seen[1]["If-Modified-Since"] == LAST_MODIFIED
    assert seen[0]["User-Agent"].startswith("trendwatch/")


def test_failing_source_is_recorded_and_others_still_crawled(
    httpserver: HTTPServer, make_settings, fixture_bytes
) -> None:
    httpserver.expect_request("/good.xml").respond_with_data(
        fixture_bytes("feeds", "atom.xml"), content_type="application/atom+xml"
    )
    httpserver.expect_request("/broken.xml").respond_with_data("oops", status=500)
    httpserver.expect_request("/page.html").respond_with_data(
        fixture_bytes("feeds", "page.html"), content_type="text/html"
    )
    settings = make_settings(
        sources_toml(
            ("Broken", httpserver.url_for("/broken.xml")),
            ("Good", httpserver.url_for("/good.xml")),
            ("Page", httpserver.url_for("/page.html")),
        )
    )
    with Store(settings.db_path) as store:
        reports = {r.name: r for r in crawl_job.crawl(settings, store, now=QUIET)}
        assert reports["Good"].new == 3
        assert reports["Broken"].status == "error" and "HTTP 500" in (reports["Broken"].error or "")
        assert "HTML page instead of a feed" in (reports["Page"].error or "")
        assert httpserver.url_for("/feed.xml") in (reports["Page"].error or "")
        crawl_job.crawl(settings, store, now=QUIET + timedelta(minutes=1), force=True)
        rows = {s.name: s for s in store.sources()}
        assert rows["Broken"].consecutive_errors == 2
        assert rows["Broken"].last_error == "HTTP 500 INTERNAL SERVER ERROR"
        assert rows["Broken"].last_success is None
        assert rows["Good"].consecutive_errors == 0
        broken = rows["Broken"]
        waited = datetime.fromisoformat(broken.next_poll) - datetime.fromisoformat(
            broken.last_error_at
        )
        assert waited == timedelta(hours=1)  # backed off: 30 min x 2 after two failures
        assert rows["Good"].poll_interval == 86400  # a quiet feed: polled daily (max_interval)
        # recorded at the crawl's time, not the clock's
        assert rows["Good"].last_success == iso(QUIET + timedelta(minutes=1))
        assert store.article_count() == 3


def test_source_that_recovers_resets_its_error_count(
    httpserver: HTTPServer, make_settings, fixture_bytes
) -> None:
    httpserver.expect_oneshot_request("/feed.xml").respond_with_data("down", status=503)
    settings = make_settings(sources_toml(("Flaky", httpserver.url_for("/feed.xml"))))
    with Store(settings.db_path) as store:
        crawl_job.crawl(settings, store)
        assert store.sources()[0].consecutive_errors == 1
        httpserver.expect_request("/feed.xml").respond_with_data(
            fixture_bytes("feeds", "rss2.xml"), content_type="application/rss+xml"
        )
        [report] = crawl_job.crawl(settings, store, force=True)
        assert report.status == "ok" and report.new == 3
        [source] = store.sources()
        assert source.consecutive_errors == 0
        assert source.last_error is not None  # kept for the record


def test_malformed_feed_stores_salvaged_entries_and_warns(
    httpserver: HTTPServer, make_settings, fixture_bytes
) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        fixture_bytes("feeds", "malformed.xml"), content_type="application/rss+xml"
    )
    settings = make_settings(sources_toml(("Broken XML", httpserver.url_for("/feed.xml"))))
    with Store(settings.db_path) as store:
        [report] = crawl_job.crawl(settings, store)
        assert report.status == "ok" and report.new == 2
        [source] = store.sources()
        assert source.warning is not None and "salvaged" in source.warning


def test_changed_entry_updates_row_instead_of_adding_one(
    httpserver: HTTPServer, make_settings, fixture_bytes
) -> None:
    body = fixture_bytes("feeds", "rss2.xml")
    httpserver.expect_oneshot_request("/feed.xml").respond_with_data(body)
    settings = make_settings(sources_toml(("HR", httpserver.url_for("/feed.xml"))))
    changed = body.replace(b"Thuiswerken blijft populair", b"Thuiswerken blijft heel populair")
    with Store(settings.db_path) as store:
        crawl_job.crawl(settings, store)
        process_job.process(settings, store)
        httpserver.expect_oneshot_request("/feed.xml").respond_with_data(changed)
        [report] = crawl_job.crawl(settings, store, force=True)
        assert (report.new, report.updated) == (0, 1)
        assert store.article_count() == 3
        titles = [r.title for r in store.articles_to_process()]
        assert titles == ["Thuiswerken blijft heel populair"]  # queued for matching again


def test_private_network_guard_refuses_local_addresses_unless_allowed(
    httpserver: HTTPServer, make_settings, fixture_bytes
) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        fixture_bytes("feeds", "rss2.xml"), content_type="application/rss+xml"
    )
    url = httpserver.url_for("/feed.xml")
    guarded = make_settings(f'[[sources]]\nname = "Local"\nurl = "{url}"\n')
    assert guarded.allow_private_networks is False
    with Store(guarded.db_path) as store:
        [report] = crawl_job.crawl(guarded, store)
        assert report.status == "error"
        assert "private or local network address" in (report.error or "")
        assert store.article_count() == 0
    assert httpserver.log == []  # not even a request reached the server
    allowed = make_settings(sources_toml(("Local", url)))
    with Store(allowed.db_path) as store:
        [report] = crawl_job.crawl(allowed, store, force=True)
        assert report.status == "ok" and report.new == 3


def test_address_classification_for_the_guard() -> None:
    from crawlers.http import is_public_address

    for address in (
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.1",
        "169.254.1.1",
        "::1",
        "fe80::1",
        "224.0.0.1",
        "0.0.0.0",
        "::ffff:127.0.0.1",
        "172.16.0.1",
    ):
        assert not is_public_address(address), address
    for address in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"):
        assert is_public_address(address), address
