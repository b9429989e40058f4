"""Write the web archive as static files: one page per edition, index pages, a feed.

Layout under the archive root (see :mod:`digests.layout`)::

    index.html                    all editions, newest first; links to everything below
    2026/index.html               the editions of one year
    2026/W48/<slug>.html          an edition's web version (no personal data)
    watchlists/<watchlist>.html   the editions that cover one watchlist, with its counts
    feed.xml                      Atom feed of the editions

Every link is relative, so the folder opens from disk and under any web server path.
Every file is written atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from digests import layout
from digests.archive_pages import (
    archive_watchlists,
    archive_years,
    render_feed,
    render_index,
    render_watchlist_index,
    render_year_index,
)
from digests.fsutil import atomic_write_text
from digests.model import ArchiveEntry, Edition, SectionCount


def archive_entry(edition: Edition) -> ArchiveEntry:
    """The edition as the index pages and the feed list it."""
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
        sections=tuple(SectionCount(s.watchlist, s.title, s.count) for s in edition.sections),
        built_at=edition.built_at,
    )


def _inside(archive_root: Path, relative: str) -> Path:
    root = Path(archive_root).resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or path == root:
        raise ValueError(f"archive path escapes the archive root: {relative!r}")
    return path


def edition_page_path(archive_root: Path, edition: Edition) -> Path:
    """``archive_root / edition.archive_path``, refusing paths that leave the root."""
    return _inside(archive_root, edition.archive_path)


def write_edition_page(archive_root: Path, edition: Edition, html: str) -> Path:
    """Write the edition's web version (``render_edition(edition).html``); return its path."""
    path = edition_page_path(archive_root, edition)
    atomic_write_text(path, html)
    return path


def write_indexes(
    archive_root: Path,
    entries: Sequence[ArchiveEntry],
    *,
    title: str,
    language: str = "nl",
    base_url: str | None = None,
    template_dir: Path | None = None,
    timezone: str | None = None,
    updated: datetime | None = None,
) -> list[Path]:
    """Write every index of the archive from ``entries`` (all editions, any order):
    ``index.html``, ``<year>/index.html`` per year, ``watchlists/<name>.html`` per
    watchlist and ``feed.xml``. Returns the paths written, ``index.html`` first.

    ``base_url``: where the site is published (the archive is at ``{base_url}/archive/``);
    the feed's ids and links are absolute with it, relative without it. The HTML pages
    always link relatively. ``timezone``: the zone periods are shown in.
    ``updated``: the feed's ``<updated>`` when there are no entries (default: now).
    """
    common = {"title": title, "language": language, "template_dir": template_dir}
    pages: list[tuple[str, str]] = [
        (layout.INDEX, render_index(entries, timezone=timezone, **common))
    ]
    for year in archive_years(entries):
        html = render_year_index(entries, year, timezone=timezone, **common)
        pages.append((layout.year_index_path(year), html))
    for watchlist in archive_watchlists(entries):
        html = render_watchlist_index(entries, watchlist.name, timezone=timezone, **common)
        pages.append((watchlist.path, html))
    feed = render_feed(entries, base_url=base_url, timezone=timezone, updated=updated, **common)
    pages.append((layout.FEED, feed))
    written = []
    for relative, text in pages:
        path = _inside(archive_root, relative)
        atomic_write_text(path, text)
        written.append(path)
    return written


def write_index(
    archive_root: Path,
    entries: Sequence[ArchiveEntry],
    *,
    title: str,
    language: str = "nl",
    template_dir: Path | None = None,
    timezone: str | None = None,
) -> Path:
    """Write only ``archive_root/index.html`` (editions newest first, relative links,
    no links to year/watchlist pages or the feed): the archive as it was before
    :func:`write_indexes`, which writes all of it and should be used instead."""
    html = render_index(
        entries,
        title=title,
        language=language,
        template_dir=template_dir,
        timezone=timezone,
        nav=False,
    )
    path = Path(archive_root) / layout.INDEX
    atomic_write_text(path, html)
    return path
