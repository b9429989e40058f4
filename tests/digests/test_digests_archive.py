"""Archive pages and index on disk."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from digests.archive import archive_entry, write_edition_page, write_index, write_indexes
from digests.model import ArchiveEntry, DigestSection, Edition
from digests.render import render_edition

AMS = ZoneInfo("Europe/Amsterdam")


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(v or "" for k, v in attrs if k == "href")


def links(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.hrefs


def entry_for(edition: Edition) -> ArchiveEntry:
    return ArchiveEntry(
        title=edition.title,
        language=edition.language,
        year=edition.year,
        week=edition.week,
        period_start=edition.period_start,
        period_end=edition.period_end,
        path=edition.archive_path,
        item_count=edition.item_count,
        watchlists=tuple(s.watchlist for s in edition.sections),
    )


def week_edition(make_edition: Callable[..., Edition], week: int, **kw: object) -> Edition:
    monday = datetime(2026, 11, 23, tzinfo=AMS) + timedelta(weeks=week - 48)
    end = monday + timedelta(days=6, hours=23, minutes=59)
    year, iso_week, _ = end.isocalendar()
    return make_edition(period_start=monday, period_end=end, year=year, week=iso_week, **kw)


def test_edition_page_layout(make_edition: Callable[..., Edition], tmp_path: Path) -> None:
    edition = make_edition()
    path = write_edition_page(tmp_path, edition, render_edition(edition).html)
    assert path == (tmp_path / "2026" / "W48" / "nl-social-media-werk.html").resolve()
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in html
    assert '<html lang="nl">' in html
    assert "anne" not in html.lower()
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_edition_page_refuses_escaping_paths(
    make_edition: Callable[..., Edition], tmp_path: Path
) -> None:
    with pytest.raises(ValueError):
        write_edition_page(tmp_path / "archive", make_edition(slug="../../../evil"), "<p>x</p>")
    assert not (tmp_path / "evil.html").exists()


def test_index_newest_first_with_working_relative_links(
    make_edition: Callable[..., Edition], tmp_path: Path
) -> None:
    editions = [
        week_edition(make_edition, 47),
        week_edition(make_edition, 53),  # 2026-W53: 28 Dec 2026 - 3 Jan 2027
        week_edition(make_edition, 48, language="en"),
        week_edition(make_edition, 54),  # 2027-W01
    ]
    for edition in editions:
        write_edition_page(tmp_path, edition, render_edition(edition).html)
    index = write_index(
        tmp_path, [entry_for(e) for e in editions], title="Trendwatch archief", language="nl"
    )
    assert index == tmp_path / "index.html"
    html = index.read_text(encoding="utf-8")
    hrefs = links(html)
    assert hrefs == [
        "2027/W01/nl-social-media-werk.html",
        "2026/W53/nl-social-media-werk.html",
        "2026/W48/en-social-media-werk.html",
        "2026/W47/nl-social-media-werk.html",
    ]
    for href in hrefs:
        assert (tmp_path / href).is_file()
    assert "Week 53 · 28 december 2026 – 3 januari 2027" in html
    assert "Week 48 · 23–29 november 2026 · 5 artikelen" in html
    assert '<html lang="nl">' in html
    assert '<meta charset="utf-8">' in html
    assert "<h2>2027</h2>" in html
    # each page links back to the index, relative to its own folder
    page = tmp_path / hrefs[0]
    back = [h for h in links(page.read_text(encoding="utf-8")) if h.endswith("index.html")]
    assert back == ["../../index.html"]
    assert (page.parent / back[0]).resolve() == index.resolve()


def test_index_escapes_and_handles_empty(tmp_path: Path) -> None:
    path = write_index(tmp_path, [], title="<b>Archive</b>", language="en")
    html = path.read_text(encoding="utf-8")
    assert "&lt;b&gt;Archive&lt;/b&gt;" in html
    assert "There are no editions yet." in html


# --- year pages, watchlist pages, feed --------------------------------------------------

ATOM = "{http://www.w3.org/2005/Atom}"


def build_archive(
    make_edition: Callable[..., Edition], root: Path, **kw: object
) -> tuple[list[Edition], list[Path]]:
    thuis = DigestSection(
        watchlist="thuiswerken", title="Thuiswerken", items=make_edition().sections[0].items[:1]
    )
    editions = [
        week_edition(make_edition, 47, base_url=None),
        week_edition(make_edition, 48, base_url=None),
        week_edition(make_edition, 48, language="en", base_url=None),
        week_edition(make_edition, 54, base_url=None),  # 2027-W01
    ]
    # week 48 (nl): Thuiswerken has news
    editions[1] = replace(editions[1], sections=(editions[1].sections[0], thuis))
    editions = [replace(e, built_at=e.period_end + timedelta(hours=6, minutes=1)) for e in editions]
    for edition in editions:
        write_edition_page(root, edition, render_edition(edition).html)
    written = write_indexes(
        root,
        [archive_entry(e) for e in editions],
        title="Trendwatch archief",
        language="nl",
        timezone="Europe/Amsterdam",
        **kw,  # type: ignore[arg-type]
    )
    return editions, written


def test_write_indexes_layout(make_edition: Callable[..., Edition], tmp_path: Path) -> None:
    _, written = build_archive(make_edition, tmp_path)
    assert [p.relative_to(tmp_path.resolve()).as_posix() for p in written] == [
        "index.html",
        "2027/index.html",
        "2026/index.html",
        "watchlists/social-media-werk.html",
        "watchlists/thuiswerken.html",
        "feed.xml",
    ]
    # atomic writes leave no temporary files behind
    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith(".")]
    assert leftovers == []


def test_every_archive_link_resolves(make_edition: Callable[..., Edition], tmp_path: Path) -> None:
    build_archive(make_edition, tmp_path)
    pages = ["index.html", "2026/index.html", "2027/index.html", "watchlists/thuiswerken.html"]
    for page in pages:
        html = (tmp_path / page).read_text(encoding="utf-8")
        for href in links(html):
            assert not href.startswith(("/", "http:", "https:", "file:")), (page, href)
            assert (tmp_path / page).parent.joinpath(href).resolve().is_file(), (page, href)


def test_index_links_years_watchlists_and_feed(
    make_edition: Callable[..., Edition], tmp_path: Path
) -> None:
    build_archive(make_edition, tmp_path)
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    hrefs = links(html)
    assert [h for h in hrefs if h.endswith("/index.html")] == ["2027/index.html", "2026/index.html"]
    assert "watchlists/social-media-werk.html" in hrefs
    assert "watchlists/thuiswerken.html" in hrefs
    assert "feed.xml" in hrefs
    assert 'rel="alternate" type="application/atom+xml"' in html
    assert "Per jaar" in html and "Per onderwerp" in html
    assert "3 edities" in html  # 2026
    assert "5 artikelen over Social media op het werk, 1 over Thuiswerken" in html


def test_year_page(make_edition: Callable[..., Edition], tmp_path: Path) -> None:
    build_archive(make_edition, tmp_path)
    html = (tmp_path / "2026" / "index.html").read_text(encoding="utf-8")
    assert "<title>Trendwatch archief · 2026</title>" in html
    assert "Alle edities van 2026, de nieuwste bovenaan." in html
    assert links(html) == [
        "W48/en-social-media-werk.html",
        "W48/nl-social-media-werk.html",
        "W47/nl-social-media-werk.html",
        "../index.html",
    ]
    assert "W01" not in html


def test_watchlist_page(make_edition: Callable[..., Edition], tmp_path: Path) -> None:
    build_archive(make_edition, tmp_path)
    html = (tmp_path / "watchlists" / "thuiswerken.html").read_text(encoding="utf-8")
    assert "<h1>Trendwatch archief · Thuiswerken</h1>" in html
    assert links(html) == [
        "../2027/W01/nl-social-media-werk.html",
        "../2026/W48/en-social-media-werk.html",
        "../2026/W48/nl-social-media-werk.html",
        "../2026/W47/nl-social-media-werk.html",
        "../index.html",
    ]
    # this watchlist's count per edition, or "geen nieuws"
    assert "Week 48 · 23–29 november 2026 · 1 artikel" in html
    assert "Week 47 · 16–22 november 2026 · geen nieuws" in html


def test_watchlist_file_names_are_safe(
    make_edition: Callable[..., Edition], tmp_path: Path
) -> None:
    from digests.layout import watchlist_filename

    assert watchlist_filename("thuiswerken") == "thuiswerken.html"
    odd = ["../../etc/passwd", "Social Media", "social media", "", "x" * 300]
    names = [watchlist_filename(n) for n in odd]
    assert len(set(names)) == len(odd)
    for name in names:
        assert "/" not in name and not name.startswith(".") and name.endswith(".html")
        assert len(name) < 100
    edition = replace(
        make_edition(base_url=None),
        sections=(DigestSection(watchlist="../../evil", title="<i>Evil</i>"),),
    )
    written = write_indexes(tmp_path, [archive_entry(edition)], title="T")
    assert all(p.is_relative_to(tmp_path.resolve()) for p in written)
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "&lt;i&gt;Evil&lt;/i&gt;" in html


def parse_feed(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == f"{ATOM}feed"
    return root


def test_feed_is_atom_with_relative_links(
    make_edition: Callable[..., Edition], tmp_path: Path
) -> None:
    build_archive(make_edition, tmp_path)
    feed = parse_feed(tmp_path / "feed.xml")
    assert feed.findtext(f"{ATOM}title") == "Trendwatch archief"
    assert feed.findtext(f"{ATOM}id", "").startswith("urn:uuid:")
    assert feed.findtext(f"{ATOM}updated") == "2027-01-11T05:00:00Z"
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 4
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == 4 and all(i.startswith("urn:uuid:") for i in ids)
    hrefs = [e.find(f"{ATOM}link").get("href") for e in entries]
    assert hrefs[0] == "2027/W01/nl-social-media-werk.html"
    for entry, href in zip(entries, hrefs, strict=True):
        assert (tmp_path / href).is_file()
        assert entry.find(f"{ATOM}link").get("rel") == "alternate"
        assert entry.findtext(f"{ATOM}title")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry.findtext(f"{ATOM}updated"))
    summaries = [e.findtext(f"{ATOM}summary") for e in entries]
    assert summaries[2] == "Week 48 · 23–29 november 2026: " + (
        "5 artikelen over Social media op het werk, 1 over Thuiswerken."
    )
    assert summaries[1] == "Week 48 · 23–29 November 2026: 5 articles on Social media op het werk."
    assert entries[1].get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    # a rebuild gives the same ids (readers must not see the editions as new)
    first = (tmp_path / "feed.xml").read_text(encoding="utf-8")
    build_archive(make_edition, tmp_path)
    assert (tmp_path / "feed.xml").read_text(encoding="utf-8") == first


def test_feed_with_base_url_is_absolute(
    make_edition: Callable[..., Edition], tmp_path: Path
) -> None:
    build_archive(make_edition, tmp_path, base_url="https://trends.example.nl/")
    feed = parse_feed(tmp_path / "feed.xml")
    base = "https://trends.example.nl/archive/"
    assert feed.findtext(f"{ATOM}id") == base + "feed.xml"
    links_ = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links_ == {"self": base + "feed.xml", "alternate": base + "index.html"}
    entry = feed.findall(f"{ATOM}entry")[0]
    assert entry.findtext(f"{ATOM}id") == base + "2027/W01/nl-social-media-werk.html"
    assert entry.find(f"{ATOM}link").get("href") == base + "2027/W01/nl-social-media-werk.html"
    # the HTML pages stay relative
    assert "https://trends.example.nl" not in (tmp_path / "index.html").read_text("utf-8")


def test_feed_escapes_and_empty(make_edition: Callable[..., Edition], tmp_path: Path) -> None:
    evil = replace(
        make_edition(base_url=None),
        title="Digest <script>alert(1)</script> & \x00\x1b co",
        sections=(DigestSection(watchlist="x", title="X ]]> <b>", more=2),),
    )
    write_indexes(tmp_path, [archive_entry(evil)], title="A & B <i>")
    feed = parse_feed(tmp_path / "feed.xml")  # parses: escaped, no control characters
    assert feed.findtext(f"{ATOM}title") == "A & B <i>"
    assert feed.findtext(f"{ATOM}entry/{ATOM}title", "").startswith(
        "Digest <script>alert(1)</script> & co"
    )
    assert "<script>" not in (tmp_path / "feed.xml").read_text("utf-8")
    empty = tmp_path / "empty"
    write_indexes(empty, [], title="Leeg", updated=datetime(2026, 1, 1, tzinfo=UTC))
    feed = parse_feed(empty / "feed.xml")
    assert feed.findall(f"{ATOM}entry") == []
    assert feed.findtext(f"{ATOM}updated") == "2026-01-01T00:00:00Z"
    assert "Er zijn nog geen edities." in (empty / "index.html").read_text("utf-8")


def test_legacy_entries_without_counts(
    make_edition: Callable[..., Edition], tmp_path: Path
) -> None:
    """ArchiveEntry with only watchlist names (as the pipeline builds them today)."""
    edition = make_edition(base_url=None)
    write_indexes(tmp_path, [entry_for(edition)], title="T", language="en")
    html = (tmp_path / "watchlists" / "thuiswerken.html").read_text("utf-8")
    assert "<h1>T · thuiswerken</h1>" in html
    assert "Week 48 · 23–29 November 2026</span>" in html  # no count known
    assert (tmp_path / "feed.xml").is_file()
    assert (tmp_path / "2026" / "index.html").is_file()


def test_write_index_alone_writes_only_the_index(
    make_edition: Callable[..., Edition], tmp_path: Path
) -> None:
    """write_index (before write_indexes existed) links only to pages it can rely on."""
    edition = make_edition(base_url=None)
    write_edition_page(tmp_path, edition, render_edition(edition).html)
    index = write_index(tmp_path, [archive_entry(edition)], title="T")
    assert index == tmp_path / "index.html"
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.*")) == [
        "2026/W48/nl-social-media-werk.html",
        "index.html",
    ]
    html = index.read_text("utf-8")
    assert links(html) == ["2026/W48/nl-social-media-werk.html"]
    assert "feed.xml" not in html
