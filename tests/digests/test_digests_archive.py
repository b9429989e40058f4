"""Archive pages and index on disk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from digests.archive import write_edition_page, write_index
from digests.model import ArchiveEntry, Edition
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
