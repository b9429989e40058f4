"""The crawl job end to end: ``crawl_job.crawl`` against real, misbehaving HTTP servers on
127.0.0.1, into a real SQLite file; what the store holds and what status says."""

from __future__ import annotations

import gzip
import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import parse_qs, quote

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipeline.cli import status_data
from pipeline.crawl import job as crawl_job
from pipeline.store import Store
from postgres_support import query
from tests_support import REPO

BLOG = REPO / "tests" / "fixtures" / "blog"
PAGES = REPO / "tests" / "fixtures" / "pages"
RSS = "application/rss+xml; charset=utf-8"


# --- helpers -----------------------------------------------------------------------


def rss(items: list[dict], title: str = "Testfeed", extra: str = "") -> bytes:
    """An RSS 2.0 feed; each item: title, link, guid, age (timedelta), text."""
    now = datetime.now(UTC)
    parts = []
    for i, item in enumerate(items):
        age = item.get("age", timedelta(hours=i + 1))
        parts.append(
            "<item>"
            f"<title>{item.get('title', f'Bericht {i}')}</title>"
            f"<link>{item['link'].replace('&', '&amp;')}</link>"
            + (f"<guid isPermaLink='false'>{item['guid']}</guid>" if item.get("guid") else "")
            + f"<pubDate>{format_datetime(now - age)}</pubDate>"
            f"<description>{item.get('text', 'Een korte tekst.')}</description>"
            "</item>"
        )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>{title}</title><link>https://example.test/</link>{extra}"
        + "".join(parts)
        + "</channel></rss>"
    ).encode()


def items(prefix: str, n: int, *, every: timedelta = timedelta(hours=1)) -> list[dict]:
    return [
        {"link": f"https://{prefix}.test/{i}", "guid": f"{prefix}-{i}", "age": every * (i + 1)}
        for i in range(n)
    ]


def source(name: str, url: str, **keys: object) -> str:
    lines = ["[[sources]]", f'name = "{name}"', f'url = "{url}"']
    for key, value in keys.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int | float):
            lines.append(f"{key} = {value}")
        elif isinstance(value, list):
            lines.append(f"{key} = [" + ", ".join(f"'{v}'" for v in value) + "]")
        else:
            lines.append(f'{key} = "{value}"')
    return "\n".join(lines) + "\n"


def config(*sources: str, crawl: str = "", top: str = "") -> str:
    """Every test server is local: allowed explicitly, and no per-host pause."""
    return (
        "allow_private_networks = true\n"
        + top
        + "[crawl]\nper_host_delay = 0\n"
        + ("" if "timeout" in crawl else "timeout = 5\n")
        + crawl
        + "".join(sources)
    )


def paths(server: HTTPServer) -> list[str]:
    return [request.path for request, _ in server.log]


def ts(stamp: str | None) -> datetime:
    assert stamp is not None
    return datetime.fromisoformat(stamp)


def status_of(settings, store: Store, name: str, now: datetime | None = None) -> dict:
    data = status_data(settings, store, now or datetime.now(UTC))
    return next(s for s in data["sources"] if s["name"] == name)


@pytest.fixture
def site(threaded_server: HTTPServer) -> Iterator[HTTPServer]:
    threaded_server.clear()
    previous = threaded_server.no_handler_status_code
    threaded_server.no_handler_status_code = 404
    yield threaded_server
    threaded_server.no_handler_status_code = previous
    threaded_server.clear()


# --- redirects, 410, 429, 5xx -------------------------------------------------------


@pytest.mark.both_databases
def test_301_updates_the_stored_url_and_the_next_crawl_goes_there(
    site: HTTPServer, make_settings, caplog, configured_database: str
) -> None:
    site.expect_request("/old.xml").respond_with_data(
        "", status=301, headers={"Location": site.url_for("/new.xml")}
    )
    site.expect_request("/new.xml").respond_with_data(rss(items("moved", 3)), content_type=RSS)
    settings = make_settings(config(source("Verhuisd", site.url_for("/old.xml"))))
    with Store(settings.database) as store, caplog.at_level(logging.INFO, "trendwatch"):
        [report] = crawl_job.crawl(settings, store)
        assert (report.status, report.new) == ("ok", 3)
        assert report.moved_to == site.url_for("/new.xml")
        assert "moved permanently to " + site.url_for("/new.xml") in report.note
        row = store.source("Verhuisd")
        assert row is not None
        assert row.url == site.url_for("/new.xml")
        assert row.config_url == site.url_for("/old.xml")
        assert row.moved_from == site.url_for("/old.xml")
        assert row.url_changed_at is not None
        assert any(
            "moved permanently" in r.getMessage() and "/old.xml → " in r.getMessage()
            for r in caplog.records
        )
        # the config still names the old URL: the next crawl goes to the new one anyway
        [again] = crawl_job.crawl(settings, store, force=True)
        assert again.status == "ok" and again.moved_to is None
        assert paths(site) == ["/old.xml", "/new.xml", "/new.xml"]
        assert store.source("Verhuisd").url == site.url_for("/new.xml")  # type: ignore[union-attr]
        info = status_of(settings, store, "Verhuisd")
        assert info["health"] == "ok" and info["moved_from"] == site.url_for("/old.xml")
        assert any("moved permanently" in n for n in info["notes"])
    # changing the URL in the config is what resets it
    moved = make_settings(config(source("Verhuisd", site.url_for("/new.xml"))))
    with Store(moved.database) as store:
        store.sync_sources(moved.sources, datetime.now(UTC))
        row = store.source("Verhuisd")
        assert row is not None and row.moved_from is None
        assert row.url == row.config_url == site.url_for("/new.xml")


def test_302_is_followed_but_the_stored_url_stays(site: HTTPServer, make_settings) -> None:
    site.expect_request("/temp.xml").respond_with_data(
        "", status=302, headers={"Location": site.url_for("/today.xml")}
    )
    site.expect_request("/today.xml").respond_with_data(rss(items("tmp", 2)), content_type=RSS)
    settings = make_settings(config(source("Tijdelijk", site.url_for("/temp.xml"))))
    with Store(settings.db_path) as store:
        [report] = crawl_job.crawl(settings, store)
        assert (report.status, report.new, report.moved_to) == ("ok", 2, None)
        crawl_job.crawl(settings, store, force=True)
        assert paths(site) == ["/temp.xml", "/today.xml", "/temp.xml", "/today.xml"]
        row = store.source("Tijdelijk")
        assert row is not None and row.url == site.url_for("/temp.xml") and row.moved_from is None


def test_410_disables_the_source_until_reenabled_or_its_url_changes(
    site: HTTPServer, make_settings
) -> None:
    site.expect_request("/gone.xml").respond_with_data("weg", status=410)
    site.expect_request("/other.xml").respond_with_data(rss(items("other", 1)), content_type=RSS)
    settings = make_settings(
        config(
            source("Weg", site.url_for("/gone.xml")), source("Ander", site.url_for("/other.xml"))
        )
    )
    # the crawls happen at a set time (the reason names the day), a minute apart
    now = datetime(2026, 11, 26, 23, 59, tzinfo=UTC)
    with Store(settings.db_path) as store:
        reports = {r.name: r for r in crawl_job.crawl(settings, store, now=now)}
        assert reports["Weg"].gone and reports["Weg"].status == "error"
        assert "gone (410), disabled" in reports["Weg"].note
        assert reports["Ander"].new == 1
        row = store.source("Weg")
        assert row is not None
        assert row.disabled_reason == "410 Gone on 2026-11-26"
        info = status_of(settings, store, "Weg", now)
        assert info["health"] == "gone, disabled"
        assert info["next_poll"] is None
        assert "410 Gone on" in info["notes"][0] and "sources enable" in info["notes"][0]
        # not polled again, not even with --all
        now += timedelta(minutes=1)
        assert [r.name for r in crawl_job.crawl(settings, store, now=now, force=True)] == ["Ander"]
        assert paths(site).count("/gone.xml") == 1
        # `trendwatch sources enable Weg` switches it back on
        assert store.enable_source("Weg")
        now += timedelta(minutes=1)
        assert [r.name for r in crawl_job.crawl(settings, store, now=now)] == ["Weg"]
        assert paths(site).count("/gone.xml") == 2
    site.expect_request("/found.xml").respond_with_data(rss(items("found", 1)), content_type=RSS)
    changed = make_settings(
        config(
            source("Weg", site.url_for("/found.xml")), source("Ander", site.url_for("/other.xml"))
        )
    )
    with Store(changed.db_path) as store:
        # a new URL in the config: due and enabled
        [report] = crawl_job.crawl(changed, store, now=now + timedelta(minutes=1))
        assert (report.name, report.status, report.new) == ("Weg", "ok", 1)
        assert store.source("Weg").disabled_reason is None  # type: ignore[union-attr]


def test_429_retry_after_sets_the_next_poll(site: HTTPServer, make_settings) -> None:
    site.expect_request("/busy.xml").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "7200"}
    )
    far = format_datetime(datetime.now(UTC) + timedelta(days=30), usegmt=True)
    site.expect_request("/down.xml").respond_with_data(
        "maintenance", status=503, headers={"Retry-After": far}
    )
    # two hosts (one server): a Retry-After holds off its whole host (see below)
    down = site.url_for("/down.xml").replace("127.0.0.1", "localhost")
    settings = make_settings(
        config(source("Druk", site.url_for("/busy.xml")), source("Plat", down))
    )
    with Store(settings.db_path) as store:
        before = datetime.now(UTC)
        reports = {r.name: r for r in crawl_job.crawl(settings, store)}
        busy = reports["Druk"]
        assert busy.status == "error" and busy.retry_after is not None
        assert "rate limited, retry after" in busy.note
        row = store.source("Druk")
        assert row is not None
        wait = ts(row.next_poll) - before
        assert timedelta(hours=2) - timedelta(seconds=5) <= wait <= timedelta(hours=2, seconds=5)
        assert row.retry_after == row.next_poll
        down = store.source("Plat")
        assert down is not None  # a month ahead is clamped to 7 days
        assert abs(ts(down.next_poll) - (before + timedelta(days=7))) < timedelta(seconds=5)
        info = status_of(settings, store, "Druk")
        assert info["health"] == "rate limited"
        assert info["notes"] == [f"rate limited: no poll before {row.retry_after}"]
        # a forced crawl still waits for the server
        assert crawl_job.crawl(settings, store, force=True) == []
        assert paths(site) == ["/busy.xml", "/down.xml"] or paths(site) == [
            "/down.xml",
            "/busy.xml",
        ]


@pytest.mark.both_databases
def test_server_errors_back_off_exponentially_and_recovery_resets(
    site: HTTPServer, make_settings, configured_database: str
) -> None:
    site.expect_ordered_request("/flaky.xml").respond_with_data("oops", status=500)
    site.expect_ordered_request("/flaky.xml").respond_with_data("oops", status=500)
    site.expect_ordered_request("/flaky.xml").respond_with_data("oops", status=502)
    site.expect_ordered_request("/flaky.xml").respond_with_data(
        rss(items("flaky", 4)), content_type=RSS
    )
    settings = make_settings(
        config(
            source("Wankel", site.url_for("/flaky.xml")), top='[schedule]\ncrawl_every = "10m"\n'
        )
    )
    with Store(settings.database) as store:
        waits = []
        for _ in range(3):
            [report] = crawl_job.crawl(settings, store, force=True)
            assert report.status == "error"
            row = store.source("Wankel")
            assert row is not None
            waits.append(ts(row.next_poll) - ts(row.last_error_at))
        assert waits == [timedelta(minutes=10), timedelta(minutes=20), timedelta(minutes=40)]
        assert row.consecutive_errors == 3 and row.last_status == 502
        assert status_of(settings, store, "Wankel")["health"] == "failing (3x)"
        [report] = crawl_job.crawl(settings, store, force=True)
        assert (report.status, report.new) == ("ok", 4)
        row = store.source("Wankel")
        assert row is not None and row.consecutive_errors == 0
        # new entries: crawl_every, but never below min_interval (default 15m)
        assert ts(row.next_poll) - ts(row.last_success) == timedelta(minutes=15)
        assert status_of(settings, store, "Wankel")["health"] == "ok"


def test_timeout_gzip_bomb_and_html_fail_alone(site: HTTPServer, make_settings) -> None:
    release = threading.Event()
    answered = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(60)  # held until the crawl is over (the 60 s only guard a hang)
        answered.set()
        return Response(rss(items("slow", 1)), content_type=RSS)

    site.expect_request("/slow.xml").respond_with_handler(slow)
    bomb = gzip.compress(b"<rss>" + b" " * (8 * 1024 * 1024), compresslevel=9)
    site.expect_request("/bomb.xml").respond_with_data(
        bomb, content_type=RSS, headers={"Content-Encoding": "gzip"}
    )
    site.expect_request("/page.html").respond_with_data(
        (REPO / "tests" / "fixtures" / "feeds" / "page.html").read_bytes(),
        content_type="text/html",
    )
    site.expect_request("/good.xml").respond_with_data(rss(items("good", 5)), content_type=RSS)
    settings = make_settings(
        config(
            source("Traag", site.url_for("/slow.xml")),
            source("Bom", site.url_for("/bomb.xml")),
            source("Pagina", site.url_for("/page.html")),
            source("Goed", site.url_for("/good.xml")),
            crawl='timeout = 0.5\nmax_bytes = "1MiB"\n',
        )
    )
    assert len(bomb) < 64 * 1024
    with Store(settings.db_path) as store:
        try:
            reports = {r.name: r for r in crawl_job.crawl(settings, store)}
            assert not answered.is_set()  # the crawl did not wait for the slow server
        finally:
            release.set()
            # the module's server is shared: let the slow answer land in this test's log,
            # not in the next test's (its handler thread logs it after it returns)
            deadline = time.monotonic() + 30
            while not any(r.path == "/slow.xml" for r, _ in site.log):
                assert time.monotonic() < deadline, "the slow handler never finished"
                time.sleep(0.01)
        assert reports["Goed"].new == 5 and store.article_count() == 5
        assert "timed out" in (reports["Traag"].error or "")
        assert "larger than 1048576 bytes" in (reports["Bom"].error or "")
        assert "HTML page instead of a feed" in (reports["Pagina"].error or "")
        assert site.url_for("/feed.xml") in (reports["Pagina"].error or "")
        health = {s["name"]: s for s in status_data(settings, store, datetime.now(UTC))["sources"]}
        for name in ("Traag", "Bom", "Pagina"):
            assert health[name]["health"] == "failing (1x)"
            assert health[name]["last_error"] == reports[name].error
        assert health["Goed"]["health"] == "ok"


# --- polling -----------------------------------------------------------------------


def test_only_due_sources_are_crawled_unless_forced(site: HTTPServer, make_settings) -> None:
    site.expect_request("/a.xml").respond_with_data(rss(items("a", 2)), content_type=RSS)
    site.expect_request("/b.xml").respond_with_data(rss(items("b", 2)), content_type=RSS)
    settings = make_settings(
        config(source("A", site.url_for("/a.xml")), source("B", site.url_for("/b.xml")))
    )
    with Store(settings.db_path) as store:
        assert [r.name for r in crawl_job.crawl(settings, store)] == ["A", "B"]
        assert crawl_job.crawl(settings, store) == []  # polled just now: not due
        assert len(site.log) == 2
        assert [r.name for r in crawl_job.crawl(settings, store, names=["B"])] == ["B"]
        assert [r.name for r in crawl_job.crawl(settings, store, force=True)] == ["A", "B"]
        later = datetime.now(UTC) + timedelta(days=2)
        assert [r.name for r in crawl_job.crawl(settings, store, now=later)] == ["A", "B"]
        assert len(site.log) == 7


def test_adaptive_interval_follows_the_feed_and_the_server(site: HTTPServer, make_settings) -> None:
    busy = rss(items("busy", 24, every=timedelta(minutes=55)))
    quiet = rss(items("quiet", 3, every=timedelta(days=10)))
    site.expect_request("/busy.xml").respond_with_data(busy, content_type=RSS)
    site.expect_request("/quiet.xml").respond_with_data(quiet, content_type=RSS)
    site.expect_request("/cached.xml").respond_with_data(
        busy, content_type=RSS, headers={"Cache-Control": "public, max-age=7200"}
    )
    site.expect_request("/ttl.xml").respond_with_data(
        rss(items("ttl", 24, every=timedelta(minutes=55)), extra="<ttl>180</ttl>"),
        content_type=RSS,
    )
    settings = make_settings(
        config(
            source("Druk", site.url_for("/busy.xml")),
            source("Stil", site.url_for("/quiet.xml"), max_interval="6h"),
            source("Cache", site.url_for("/cached.xml")),
            source("TTL", site.url_for("/ttl.xml")),
        )
    )
    with Store(settings.db_path) as store:
        first = {r.name: r for r in crawl_job.crawl(settings, store)}
        # new entries keep the next poll at most crawl_every (30m) away...
        assert all(r.new > 0 for r in first.values())
        polled = {r.name: r.poll_interval for r in store.sources()}
        assert polled["Druk"] == polled["Stil"] == 1800
        assert polled["Cache"] == 7200 and polled["TTL"] == 180 * 60  # ...unless the server says
        crawl_job.crawl(settings, store, force=True)
        polled = {r.name: r.poll_interval for r in store.sources()}
        assert 3000 <= (polled["Druk"] or 0) <= 3600  # about one entry an hour
        assert polled["Stil"] == 6 * 3600  # nothing this week: max_interval
        assert polled["Cache"] == 7200 and polled["TTL"] == 180 * 60


# --- alerts ------------------------------------------------------------------------


@pytest.mark.both_databases
def test_alert_from_a_watchlist_and_the_same_article_stored_once(
    site: HTTPServer, make_settings, configured_database: str
) -> None:
    article = site.url_for("/nieuws/thuiswerken-blijft")
    only_in_alert = site.url_for("/nieuws/alleen-in-alert")

    def wrapped(url: str) -> str:
        return f"https://www.google.com/url?rct=j&sa=t&url={quote(url, safe='')}&ct=ga&cd=1"

    alert = rss(
        [
            {"link": wrapped(article + "?utm_source=alert"), "guid": "tag:google.com,1:a"},
            {"link": wrapped(only_in_alert), "guid": "tag:google.com,1:b"},
        ],
        title="Google News: thuiswerken",
    )
    asked: list[dict] = []

    def search(request: Request) -> Response:
        asked.append(parse_qs(request.query_string.decode()))
        return Response(alert, content_type=RSS)

    site.expect_request("/rss/search").respond_with_handler(search)
    publisher = rss(
        [
            {
                "link": article,
                "guid": "pub-1",
                "text": "Het volledige artikel over thuiswerken, veel langer dan een alert.",
            },
            {"link": site.url_for("/nieuws/ander"), "guid": "pub-2"},
        ],
        title="De uitgever",
    )
    site.expect_request("/uitgever.xml").respond_with_data(publisher, content_type=RSS)
    watchlist = '[[watchlists]]\nname = "thuiswerken"\ntitle = "Thuiswerken"\n'
    watchlist += "query = 'thuiswerken OR \"hybride werken\"'\n"
    settings = make_settings(
        config(
            source(
                "Nieuws: thuiswerken",
                "",
                type="alert",
                watchlist="thuiswerken",
                provider="google-news",
                language="nl",
                region="NL",
                endpoint=site.url_for("/rss/search"),
            ).replace('url = ""\n', ""),
            source("Uitgever", site.url_for("/uitgever.xml")),
        )
        + watchlist
    )
    [alert_source] = [s for s in settings.sources if s.type == "alert"]
    assert alert_source.url.startswith(site.url_for("/rss/search") + "?q=")
    with Store(settings.database) as store:
        reports = {r.name: r for r in crawl_job.crawl(settings, store)}
        assert reports["Nieuws: thuiswerken"].status == "ok"
        assert asked == [
            {
                "q": ['thuiswerken OR "hybride werken"'],
                "hl": ["nl"],
                "gl": ["NL"],
                "ceid": ["NL:nl"],
            }
        ]
        rows = query(
            store,
            "SELECT a.url, s.name, a.text FROM articles a JOIN sources s ON s.id = a.source_id"
            " ORDER BY a.url",
        )
        by_url = {}
        for url, name, text in rows:
            by_url.setdefault(url, []).append((name, text))
        # the alert's wrapped link, unwrapped and without tracking: one row, the publisher's
        assert by_url[article] == [
            (
                "Uitgever",
                "Het volledige artikel over thuiswerken, veel langer dan een alert.",
            )
        ]
        assert [name for name, _ in by_url[only_in_alert]] == ["Nieuws: thuiswerken"]
        assert store.article_count() == 3
        # crawling both again changes nothing
        crawl_job.crawl(settings, store, force=True)
        assert store.article_count() == 3


# --- full text ---------------------------------------------------------------------


def test_full_text_source_fetches_article_pages_and_honours_robots(
    site: HTTPServer, make_settings
) -> None:
    site.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nDisallow: /prive/\n", content_type="text/plain"
    )
    site.expect_request("/nieuws/thuiswerkvergoeding").respond_with_data(
        (PAGES / "nieuws-nl.html").read_bytes(), content_type="text/html; charset=utf-8"
    )
    teasers = [
        {
            "link": site.url_for("/nieuws/thuiswerkvergoeding"),
            "guid": "n-1",
            "text": "De helft van de werkgevers betaalt … Lees verder",
        },
        {"link": site.url_for("/prive/intern-bericht"), "guid": "n-2", "text": "Intern …"},
    ]
    site.expect_request("/teasers.xml").respond_with_data(rss(teasers), content_type=RSS)
    settings = make_settings(
        config(source("Teasers", site.url_for("/teasers.xml"), full_text=True, language="nl"))
    )
    with Store(settings.db_path) as store:
        [report] = crawl_job.crawl(settings, store)
        assert (report.status, report.new, report.full_text) == ("ok", 2, 1)
        assert report.warning == "full text: 1 of 2 pages not used (robots: 1)"
        texts = dict(store.db.execute("SELECT guid, text FROM articles").fetchall())
        assert texts["n-1"].startswith("De helft van de werkgevers betaalt thuiswerkers")
        assert len(texts["n-1"].split()) > 200
        assert texts["n-2"] == "Intern …"  # the teaser stays
        assert "/prive/intern-bericht" not in paths(site)  # robots.txt said no
        assert paths(site).count("/nieuws/thuiswerkvergoeding") == 1
        # the next crawl fetches no page twice, and keeps the full text
        [again] = crawl_job.crawl(settings, store, force=True)
        assert (again.new, again.updated, again.full_text) == (0, 0, 0)
        assert paths(site).count("/nieuws/thuiswerkvergoeding") == 1
        assert len(dict(store.db.execute("SELECT guid, text FROM articles"))["n-1"]) > 1000


# --- blogs -------------------------------------------------------------------------

BLOG_ROUTES = {
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
    "/2026/07/verlofregels-2027/": "article-verlof.html",
    "/prive/concept-salarisbeleid/": "article-prive.html",
}


@pytest.fixture
def blog_site(site: HTTPServer) -> HTTPServer:
    """The blog fixture's pages on the ``site`` server (404 for anything else)."""
    base = site.url_for("/").rstrip("/")
    for path, name in BLOG_ROUTES.items():
        body = (BLOG / name).read_text("utf-8").replace("{{BASE}}", base)
        kind = {"txt": "text/plain", "xml": "application/xml", "html": "text/html"}
        site.expect_request(path).respond_with_data(
            body.encode(), content_type=kind[name.rsplit(".", 1)[1]] + "; charset=utf-8"
        )
    return site


def test_blog_source_is_crawled_by_the_spider_and_stored(
    blog_site: HTTPServer, make_settings
) -> None:
    settings = make_settings(
        config(
            source(
                "Werkvloer blog",
                blog_site.url_for("/"),
                type="blog",
                sitemap=blog_site.url_for("/sitemap.xml"),
                language="nl",
                delay=0,
                timeout=60,
                deny=["/over/"],
            )
        )
    )
    with Store(settings.db_path) as store:
        [report] = crawl_job.crawl(settings, store)
        assert report.status == "ok", report.error
        assert report.type == "blog"
        rows = store.db.execute("SELECT url, title, language, text FROM articles").fetchall()
        urls = sorted(url.removeprefix(blog_site.url_for("/").rstrip("/")) for url, *_ in rows)
        assert urls == [
            "/2026/07/verlofregels-2027/",
            "/2026/08/remote-onboarding/",
            "/2026/09/burn-out-voorkomen/",
            "/2026/10/thuiswerken-na-de-pandemie/",
            "/2026/10/vier-dagen-werkweek-proef/",
        ]
        assert report.new == 5
        assert all(language == "nl" and len(text.split()) > 100 for _, _, language, text in rows)
        assert "/prive/concept-salarisbeleid/" not in paths(blog_site)  # robots.txt
        assert "/over/" not in paths(blog_site)  # deny
        row = store.source("Werkvloer blog")
        assert row is not None and row.last_success and row.consecutive_errors == 0
        assert row.poll_interval is not None and row.poll_interval >= 2 * 3600  # blog minimum


def test_feeds_parsed_in_the_process_pool_are_stored_alike(site: HTTPServer, make_settings) -> None:
    for name in ("p1", "p2", "p3"):
        site.expect_request(f"/{name}.xml").respond_with_data(rss(items(name, 4)), content_type=RSS)
    settings = make_settings(
        config(*(source(n, site.url_for(f"/{n}.xml")) for n in ("p1", "p2", "p3")))
    )
    with Store(settings.db_path) as store:
        reports = crawl_job.crawl(settings, store, parse_pool=True)
        assert [(r.name, r.status, r.new) for r in reports] == [
            ("p1", "ok", 4),
            ("p2", "ok", 4),
            ("p3", "ok", 4),
        ]
        inline = crawl_job.crawl(settings, store, force=True, parse_pool=False)
        assert [(r.status, r.new, r.updated) for r in inline] == [("ok", 0, 0)] * 3


def test_a_parsing_pool_starts_only_when_many_feeds_have_content(
    site: HTTPServer, make_settings, monkeypatch
) -> None:
    """More than POOL_THRESHOLD feeds due. A first crawl (no feed can answer 304) parses
    every feed in a worker process from the start: parsed inline, the first answers
    would hold up every answer in flight. A cycle in which every feed answers 304
    starts no process at all. A cycle in which more than POOL_THRESHOLD revalidated
    feeds changed parses the first POOL_THRESHOLD inline and the rest in the pool."""
    from pipeline.crawl import job as crawl_job

    n = crawl_job.POOL_THRESHOLD + 10
    names = [f"f{i:02d}" for i in range(n)]
    version = {"v": "1"}
    bodies = {name: rss(items(name, 2)) for name in names}

    def feed(request: Request) -> Response:
        name = request.path.strip("/").removesuffix(".xml")
        tag = f'"{name}-{version["v"]}"'
        if request.headers.get("If-None-Match") == tag:
            return Response(status=304, headers={"ETag": tag})
        return Response(bodies[name], content_type=RSS, headers={"ETag": tag})

    for name in names:
        site.expect_request(f"/{name}.xml").respond_with_handler(feed)
    parsers: list = []

    class Recorded(crawl_job.AdaptiveParser):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            parsers.append(self)

    monkeypatch.setattr(crawl_job, "AdaptiveParser", Recorded)
    monkeypatch.setattr(crawl_job.os, "cpu_count", lambda: 2)
    settings = make_settings(config(*(source(m, site.url_for(f"/{m}.xml")) for m in names)))
    with Store(settings.db_path) as store:
        fresh = crawl_job.crawl(settings, store)
        assert [(r.status, r.new) for r in fresh] == [("ok", 2)] * n  # none lost either way
        assert parsers[0].parsed_inline == 0 and parsers[0].pool is not None
        revalidated = crawl_job.crawl(settings, store, force=True)
        assert {r.status for r in revalidated} == {"not modified"}
        assert parsers[1].parsed_inline == 0 and parsers[1].pool is None  # no process
        version["v"] = "2"
        bodies.update({name: rss(items(name, 3)) for name in names})
        changed = crawl_job.crawl(settings, store, force=True)
        assert [(r.status, r.new) for r in changed] == [("ok", 1)] * n
        assert parsers[2].parsed_inline == crawl_job.POOL_THRESHOLD
        assert parsers[2].pool is not None  # the other 10 went to the worker
        assert store.article_count() == 3 * n


def test_a_crash_in_one_source_rolls_it_back_and_spares_the_others(
    site: HTTPServer, make_settings, monkeypatch
) -> None:
    from crawlers import feed_crawler
    from pipeline.crawl import job as crawl_job

    for name in ("goed", "stuk", "kapot"):
        site.expect_request(f"/{name}.xml").respond_with_data(rss(items(name, 3)), content_type=RSS)
    settings = make_settings(
        config(*(source(n, site.url_for(f"/{n}.xml")) for n in ("goed", "stuk", "kapot")))
    )
    real_times = Store.recent_entry_times
    real_crawl = feed_crawler.crawl_feed

    def failing_times(self: Store, source_id: int, limit: int = 100):
        if source_id == broken_id:  # after its entries were saved, in the same transaction
            raise RuntimeError("disk on fire")
        return real_times(self, source_id, limit)

    async def failing_crawl(client, name, state, **kw):
        if name == "kapot":
            raise ValueError("a bug in a parser")
        return await real_crawl(client, name, state, **kw)

    with Store(settings.db_path) as store:
        store.sync_sources(settings.sources, datetime.now(UTC))
        broken_id = store.source("stuk").id  # type: ignore[union-attr]
        monkeypatch.setattr(Store, "recent_entry_times", failing_times)
        monkeypatch.setattr(crawl_job, "crawl_feed", failing_crawl)
        reports = {r.name: r for r in crawl_job.crawl(settings, store)}
        assert (reports["goed"].status, reports["goed"].new) == ("ok", 3)
        assert reports["stuk"].error == "could not store the crawl: RuntimeError: disk on fire"
        assert reports["kapot"].error == "internal error: ValueError: a bug in a parser"
        counts = dict(
            store.db.execute(
                "SELECT s.name, count(a.id) FROM sources s LEFT JOIN articles a"
                " ON a.source_id = s.id GROUP BY s.name"
            ).fetchall()
        )
        assert counts == {"goed": 3, "stuk": 0, "kapot": 0}  # nothing half-stored
        stuk = store.source("stuk")
        assert stuk is not None and stuk.last_success is None and stuk.next_poll is None
        kapot = store.source("kapot")
        assert kapot is not None and kapot.consecutive_errors == 1
        # the next crawl, without the faults, stores what was rolled back
        monkeypatch.undo()
        [again] = crawl_job.crawl(settings, store)  # nothing was recorded: still due
        assert (again.name, again.new) == ("stuk", 3)
        [later] = crawl_job.crawl(settings, store, names=["kapot"])  # backed off: ask for it
        assert later.new == 3
