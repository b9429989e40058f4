"""The static archive in a real browser: Debian's Chromium, driven by Playwright.

The archive is built from hand-made editions, some with hostile feed text (script tags,
``onerror=`` attributes, ``javascript:`` links). Chromium opens ``index.html`` straight
from disk (``file://``) and from a web server under a sub-path, follows every link of
the index, year and watchlist pages, opens the edition pages, and checks that every
link resolves, nothing logged an error and no script from the feeds ran.

No browser is downloaded: Playwright launches ``/usr/bin/chromium`` (Debian's package;
``.ci/run`` installs it). Without it these tests fail, they are not skipped.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest

from digests.archive import archive_entry, write_edition_page, write_indexes
from digests.model import (
    DigestItem,
    DigestSection,
    Edition,
    Recipient,
    RelatedLink,
    SourceLink,
    TrendItem,
)
from digests.render import render_edition

AMS = ZoneInfo("Europe/Amsterdam")
PWN = "window.__pwned=(window.__pwned||0)+1;alert(document.domain)"
SCRIPT = f"<script>{PWN}</script>"
IMG = f'<img src=x onerror="{PWN}">'
SVG = f"<svg onload={PWN}>"
JS_URL = f"javascript:{PWN}"
SERVER_PATH = "/some/where/trendwatch/archive/"  # the archive need not be at the root


# --- the archive ---------------------------------------------------------------------


def xss_items(published: datetime) -> tuple[DigestItem, ...]:
    return (
        DigestItem(
            title=f"Lead {SCRIPT} {IMG}",
            url=JS_URL,
            source=f"Bron {SVG}",
            published=published,
            teaser=f'Teaser {SCRIPT} "><a href="{JS_URL}">klik</a> {IMG}',
            matched=(f"<b onmouseover={PWN}>x</b>",),
            also_in=(
                SourceLink(f"NOS {IMG}", JS_URL),
                SourceLink("RTL", "  JaVaScRiPt:" + PWN),
                SourceLink(f"Echt {SCRIPT}", "https://example.com/echt?a=1&b=<2>"),
            ),
            related=(
                RelatedLink(f"Gerelateerd {SCRIPT}", "java\tscript:" + PWN, SVG),
                RelatedLink("Data", "data:text/html,<script>alert(1)</script>", "x"),
            ),
            story_id=1,
            story_size=3,
        ),
        DigestItem(
            title=f'"><script>{PWN}</script>',
            url="https://example.com/b",
            source="S",
            published=published,
            teaser="",
        ),
    )


def week(n: int, language: str = "nl", *, hostile: bool = False) -> Edition:
    monday = datetime(2026, 11, 23, tzinfo=AMS) + timedelta(weeks=n - 48)
    end = monday + timedelta(days=6, hours=23, minutes=59)
    year, iso_week, _ = end.isocalendar()
    published = monday + timedelta(days=2, hours=10)
    plain = DigestItem(
        title="Thuiswerken blijft populair",
        url="https://news.example.nl/thuiswerken",
        source="NU.nl",
        published=published,
        teaser="Werknemers willen twee dagen per week thuiswerken.",
        matched=("thuiswerken",),
    )
    sections = (
        DigestSection(
            watchlist="social-media-werk",
            title=f"Social media {SCRIPT}" if hostile else "Social media op het werk",
            items=xss_items(published) if hostile else (),
            more=3 if hostile else 0,
        ),
        DigestSection(watchlist="thuiswerken", title="Thuiswerken", items=(plain,)),
    )
    if hostile:
        sections += (DigestSection(watchlist=f"<i>{IMG}</i>", title=f"Raar {IMG}"),)
    trends = (
        TrendItem(f"term {SCRIPT}", 12, ratio=3.2),
        TrendItem(f"{IMG}", 3, kind="entity", new=True, watchlist="thuiswerken"),
    )
    slug = f"{language}-{'hostile' if hostile else 'werk'}"
    return Edition(
        key=f"{year}-W{iso_week:02d}/{slug}",
        slug=slug,
        title=f"Trendwatch {SVG}" if hostile else "Trendwatch Werk en Leven",
        language=language,
        timezone="Europe/Amsterdam",
        period_start=monday,
        period_end=end,
        year=year,
        week=iso_week,
        sections=sections,
        built_at=end + timedelta(hours=6),
        base_url=None,  # the archive page links only within the archive
        trends=trends if hostile else (),
    )


def build_archive(root: Path) -> list[Edition]:
    editions = [week(47), week(48, hostile=True), week(48, "en"), week(54), week(54, hostile=True)]
    for edition in editions:
        write_edition_page(root, edition, render_edition(edition).html)
    write_indexes(
        root,
        [archive_entry(e) for e in editions],
        title=f"Archief {SCRIPT}",
        language="nl",
        timezone="Europe/Amsterdam",
    )
    return editions


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Edition]]:
    root = tmp_path_factory.mktemp("archive")
    return root, build_archive(root)


# --- the browser ---------------------------------------------------------------------


@dataclass
class Watch:
    """What happened in a page that should not have."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.dialogs == [], "a script from feed content ran (dialog)"
        assert self.page_errors == []
        assert self.console_errors == []
        assert self.foreign_requests == [], "the archive loaded something from elsewhere"


@pytest.fixture
def page(browser: Any) -> Iterator[tuple[Any, Watch]]:
    context = browser.new_context(java_script_enabled=True)
    watch = Watch()
    context.on("dialog", lambda d: (watch.dialogs.append(d.message), d.dismiss()))
    page = context.new_page()
    page.on(
        "console",
        lambda m: (
            watch.console_errors.append(f"{m.location.get('url')}: {m.text}")
            if m.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda e: watch.page_errors.append(str(e)))
    try:
        yield page, watch
    finally:
        context.close()


def block_foreign(page: Any, watch: Watch, allowed_prefix: str) -> None:
    """Abort (and record) every request that is not for the archive itself."""

    def handle(route: Any) -> None:
        if urlsplit(route.request.url).path != "/favicon.ico":  # the browser's own request
            watch.foreign_requests.append(route.request.url)
        route.abort()

    page.context.route(lambda url: not url.startswith(allowed_prefix), handle)


# --- serving the archive under a sub-path --------------------------------------------


class SubPathHandler(SimpleHTTPRequestHandler):
    """Serves ``directory`` at SERVER_PATH only; everything else is a 404."""

    def translate_path(self, path: str) -> str:
        clean = unquote(urlsplit(path).path)
        if not clean.startswith(SERVER_PATH):
            return str(Path(self.directory) / ".not-there")
        return super().translate_path("/" + clean[len(SERVER_PATH) :])

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server(archive: tuple[Path, list[Edition]]) -> Iterator[str]:
    root, _ = archive
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(SubPathHandler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}{SERVER_PATH}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


# --- the checks ----------------------------------------------------------------------


def load(page: Any, url: str) -> None:
    """Navigate; fail on a missing file (ERR_FILE_NOT_FOUND) or an HTTP error."""
    from playwright.sync_api import Error

    try:
        response = page.goto(url, wait_until="load")
    except Error as exc:
        pytest.fail(f"{url} did not load: {exc}", pytrace=False)
    assert response is not None, url
    assert response.ok, f"{url}: HTTP {response.status}"


def no_script_ran(page: Any) -> None:
    assert page.evaluate("() => window.__pwned === undefined"), page.url
    assert page.evaluate("() => document.scripts.length") == 0, page.url
    assert page.locator("[onerror], [onload], [onmouseover], img, svg, iframe").count() == 0
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    for href in hrefs:
        assert not href.strip().lower().startswith(("javascript:", "data:", "vbscript:")), href


def crawl(page: Any, start: str, base: str) -> dict[str, list[str]]:
    """Open ``start``; follow every link of every index page (index, year, watchlist
    pages) inside ``base``; return {index page: its links}. Edition pages are opened
    (each link they hold inside the archive is checked too) but not crawled further."""
    seen: dict[str, list[str]] = {}
    queue, opened = [start], set()
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        load(page, url)
        no_script_ran(page)
        links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        seen[url] = links
        for link in links:
            target = link.split("#", 1)[0]
            assert target.startswith(base), f"{url} links outside the archive: {link}"
            if target in opened or target in seen:
                continue
            if is_index_page(target, base):
                queue.append(target)
                continue
            opened.add(target)
            load(page, target)
            if target.endswith(".html"):  # an edition page
                no_script_ran(page)
                inner = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
                for link_in_page in inner:
                    if link_in_page.startswith(base):
                        load(page, link_in_page.split("#", 1)[0])
    return seen


def is_index_page(url: str, base: str) -> bool:
    rel = url[len(base) :]
    return (
        rel == "index.html"
        or rel.startswith("watchlists/")
        or (rel.endswith("/index.html") and rel.count("/") == 1)
    )


def expected_index_pages(base: str) -> set[str]:
    return {
        base + "index.html",
        base + "2026/index.html",
        base + "2027/index.html",
        base + "watchlists/social-media-werk.html",
        base + "watchlists/thuiswerken.html",
    }


def check_archive(page: Any, watch: Watch, base: str, editions: list[Edition]) -> None:
    seen = crawl(page, base + "index.html", base)
    assert expected_index_pages(base) <= set(seen)
    every_link = {link.split("#", 1)[0] for links in seen.values() for link in links}
    for edition in editions:  # every edition is reachable from the index pages
        assert base + edition.archive_path in every_link
    assert base + "feed.xml" in every_link
    watch.assert_clean()


def test_archive_from_disk(archive: tuple[Path, list[Edition]], page: tuple[Any, Watch]) -> None:
    root, editions = archive
    browser_page, watch = page
    base = root.resolve().as_uri() + "/"
    block_foreign(browser_page, watch, "file://")
    check_archive(browser_page, watch, base, editions)


def test_archive_under_a_web_server_path(
    archive: tuple[Path, list[Edition]], page: tuple[Any, Watch], server: str
) -> None:
    _, editions = archive
    browser_page, watch = page
    block_foreign(browser_page, watch, server)
    check_archive(browser_page, watch, server, editions)
    # and a wrong path really is an error (the crawl would have noticed one)
    response = browser_page.goto(server + "2026/W99/none.html")
    assert response is not None and response.status == 404


def test_hostile_edition_page_shows_text_and_runs_nothing(
    archive: tuple[Path, list[Edition]], page: tuple[Any, Watch]
) -> None:
    root, editions = archive
    browser_page, watch = page
    block_foreign(browser_page, watch, "file://")
    hostile = next(e for e in editions if e.slug == "nl-hostile")
    load(browser_page, (root / hostile.archive_path).resolve().as_uri())
    no_script_ran(browser_page)
    body = browser_page.inner_text("body")
    assert SCRIPT in body  # shown as text
    assert IMG in body
    assert "Geen nieuws over Raar" in body  # the quiet-week line
    assert "Stijgend deze week" in body
    # the javascript: links were not made into links; the https one was
    assert browser_page.get_by_role("link", name="Lead").count() == 0
    echt = browser_page.get_by_role("link", name=f"Echt {SCRIPT}")
    assert echt.get_attribute("href") == "https://example.com/echt?a=1&b=%3C2%3E"
    # hovering and clicking the hostile text does not run anything either
    browser_page.locator("p.matched").first.hover()
    browser_page.locator("h3").first.click()
    no_script_ran(browser_page)
    watch.assert_clean()


def test_xss_payload_would_be_detected(page: tuple[Any, Watch], tmp_path: Path) -> None:
    """The checks above can fail: an unescaped payload in a page is caught."""
    browser_page, watch = page
    bad = tmp_path / "bad.html"
    bad.write_text(f"<!DOCTYPE html><title>x</title><p>{SCRIPT}</p>", encoding="utf-8")
    browser_page.goto(bad.as_uri())
    assert watch.dialogs, "the dialog handler did not see the alert"
    assert browser_page.evaluate("() => window.__pwned") == 1


def test_missing_page_is_reported(page: tuple[Any, Watch], tmp_path: Path) -> None:
    """A link to a file that does not exist fails the crawl (not silently ignored)."""
    browser_page, _ = page
    root = tmp_path.resolve()
    editions = build_archive(root)
    (root / editions[0].archive_path).unlink()
    with pytest.raises(pytest.fail.Exception, match="ERR_FILE_NOT_FOUND"):
        crawl(browser_page, (root / "index.html").as_uri(), root.as_uri() + "/")


def test_edition_without_hostile_text_reads_well(
    archive: tuple[Path, list[Edition]], page: tuple[Any, Watch]
) -> None:
    root, editions = archive
    browser_page, watch = page
    load(browser_page, (root / editions[0].archive_path).resolve().as_uri())
    assert "Week 47 · 16–22 november 2026" in browser_page.inner_text("h1")
    assert browser_page.get_by_role("link", name="Alle edities").get_attribute("href") == (
        "../../index.html"
    )
    assert browser_page.evaluate("() => document.documentElement.scrollWidth") <= 1280
    watch.assert_clean()


# --- from the mail to the stories beyond its quota -----------------------------------


def test_the_mails_more_link_opens_the_section_on_the_archive_page(
    page: tuple[Any, Watch], tmp_path: Path
) -> None:
    """The mail (opened from disk) shows a section's top stories and "+2 meer in het
    archief"; following that link opens the edition's page on the web server at that
    section, which shows the two the mail left out."""
    root = tmp_path / "archive"
    root.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(SubPathHandler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        site = f"http://127.0.0.1:{httpd.server_address[1]}{SERVER_PATH.removesuffix('/archive/')}"
        plain = week(48)
        shown = plain.sections[1].items[0]
        left = tuple(
            replace(shown, title=f"Verhaal {n} over thuiswerken", url=f"https://e.example/{n}")
            for n in (2, 3)
        )
        thuiswerken = replace(plain.sections[1], more=2, more_items=left)
        edition = replace(plain, sections=(plain.sections[0], thuiswerken), base_url=site)
        write_edition_page(root, edition, render_edition(edition).html)
        mail = tmp_path / "mail.html"
        reader = Recipient("anne@example.nl", "Anne", "nl", ("social-media-werk", "thuiswerken"))
        mail.write_text(render_edition(edition, reader).html, encoding="utf-8")

        browser_page, watch = page
        load(browser_page, mail.as_uri())
        assert browser_page.locator("#s-thuiswerken h3").all_inner_texts() == [shown.title]
        with browser_page.expect_navigation(wait_until="load"):
            browser_page.get_by_role("link", name="+2 meer in het archief").click()
        assert browser_page.url == f"{site}/archive/{edition.archive_path}#s-thuiswerken"
        assert browser_page.evaluate("() => document.querySelector(':target').id") == (
            "s-thuiswerken"
        )
        titles = browser_page.locator("#s-thuiswerken h3").all_inner_texts()
        assert titles == [shown.title, "Verhaal 2 over thuiswerken", "Verhaal 3 over thuiswerken"]
        assert browser_page.get_by_text("meer in het archief").count() == 0
        no_script_ran(browser_page)
        watch.assert_clean()
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
