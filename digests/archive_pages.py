"""The archive's pages as text: the index, a page per year and per watchlist, feed.xml.

Pure rendering from :class:`~digests.model.ArchiveEntry` lists (every link relative,
see :mod:`digests.layout`); :mod:`digests.archive` writes the results to disk.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from digests import i18n, layout
from digests.model import ArchiveEntry
from digests.templating import environment
from digests.text import archive_url, clean_text, relative_href
from digests.views import summary


@dataclass(frozen=True)
class EntryView:
    title: str
    href: str | None
    period: str  # "Week 48 · 23–29 november 2026"
    count: str  # "12 artikelen"; on a watchlist page that watchlist's count (or "")
    language: str
    summary: str | None = None  # "5 artikelen over X, 3 over Y" when the counts are known


@dataclass(frozen=True)
class NavLink:
    title: str
    href: str
    count: str  # "3 edities"


@dataclass(frozen=True)
class WatchlistInfo:
    name: str
    title: str
    path: str  # the watchlist page, relative to the archive root


def sort_entries(entries: Sequence[ArchiveEntry]) -> list[ArchiveEntry]:
    """Newest first (by ``period_end``), then by path for a stable order."""
    by_path = sorted(entries, key=lambda e: e.path)
    return sorted(by_path, key=lambda e: e.period_end, reverse=True)


def entry_watchlists(entry: ArchiveEntry) -> list[str]:
    """The watchlists an entry covers: from its counts, else from ``watchlists``."""
    names = [s.watchlist for s in entry.sections] or list(entry.watchlists)
    return list(dict.fromkeys(n for n in names if n))


def archive_watchlists(entries: Sequence[ArchiveEntry]) -> list[WatchlistInfo]:
    """Every watchlist in ``entries``, sorted by title; the newest entry's title wins."""
    titles: dict[str, str] = {}
    for entry in sort_entries(entries):
        known = {s.watchlist: clean_text(s.title) for s in entry.sections}
        for name in entry_watchlists(entry):
            titles.setdefault(name, known.get(name) or clean_text(name) or name)
    infos = [WatchlistInfo(n, t, layout.watchlist_page_path(n)) for n, t in titles.items()]
    return sorted(infos, key=lambda w: (w.title.casefold(), w.name))


def archive_years(entries: Sequence[ArchiveEntry]) -> list[int]:
    """The years that have editions, newest first."""
    return sorted({e.year for e in entries}, reverse=True)


def _entry_view(
    entry: ArchiveEntry,
    page: str,
    lang: str,
    timezone: str | None,
    *,
    count: str | None = None,
) -> EntryView:
    rel = relative_href(entry.path)
    return EntryView(
        title=clean_text(entry.title),
        href=layout.href(page, entry.path) if rel else None,
        period=i18n.week_period(entry.week, entry.period_start, entry.period_end, lang, timezone),
        count=i18n.count_noun(lang, entry.item_count) if count is None else count,
        language=i18n.language_of(entry.language),
        summary=summary(((s.title, s.count) for s in entry.sections), lang),
    )


def _archive_context(
    page: str, lang: str, title: str, entries: Sequence[ArchiveEntry]
) -> dict[str, Any]:
    return {
        "lang": lang,
        "s": i18n.STRINGS[lang],
        "site_title": clean_text(title),
        "index_href": layout.href(page, layout.INDEX),
        "feed_href": layout.href(page, layout.FEED),
        "show_language": len({i18n.language_of(e.language) for e in entries}) > 1,
        "show_summary": True,
    }


def _edition_count(lang: str, count: int) -> str:
    return i18n.count_noun(lang, count, key="edition")


def render_index(
    entries: Sequence[ArchiveEntry],
    *,
    title: str,
    language: str = "nl",
    template_dir: Path | None = None,
    timezone: str | None = None,
    nav: bool = True,
) -> str:
    """The archive's ``index.html``: editions newest first grouped by year and, with
    ``nav``, links to the year and watchlist pages and the feed; every link relative.

    ``timezone`` (optional) is the zone the periods are shown in; default: each
    datetime's own zone. ``nav=False``: only the editions (for an archive without the
    year/watchlist pages and feed, see :func:`digests.archive.write_index`).
    """
    lang = i18n.language_of(language)
    page = layout.INDEX
    years: list[tuple[int, list[EntryView]]] = []
    for entry in sort_entries(entries):
        if not years or years[-1][0] != entry.year:
            years.append((entry.year, []))
        years[-1][1].append(_entry_view(entry, page, lang, timezone))
    year_links = [
        NavLink(
            title=str(year),
            href=layout.href(page, layout.year_index_path(year)),
            count=_edition_count(lang, len(views)),
        )
        for year, views in years
    ]
    watchlist_links = [
        NavLink(
            title=w.title,
            href=layout.href(page, w.path),
            count=_edition_count(lang, sum(1 for e in entries if w.name in entry_watchlists(e))),
        )
        for w in archive_watchlists(entries)
    ]
    context = {
        **_archive_context(page, lang, title, entries),
        "title": clean_text(title),
        "years": years,
        "year_links": year_links if nav else [],
        "watchlist_links": watchlist_links if nav else [],
        "feed_href": layout.href(page, layout.FEED) if nav else None,
    }
    return environment(template_dir).get_template("index.html.j2").render(context)


def render_year_index(
    entries: Sequence[ArchiveEntry],
    year: int,
    *,
    title: str,
    language: str = "nl",
    template_dir: Path | None = None,
    timezone: str | None = None,
) -> str:
    """``<year>/index.html``: that year's editions, newest first."""
    lang = i18n.language_of(language)
    page = layout.year_index_path(year)
    chosen = [e for e in sort_entries(entries) if e.year == year]
    context = {
        **_archive_context(page, lang, title, chosen),
        "title": i18n.t(lang, "year.title", title=clean_text(title), year=year),
        "intro": i18n.t(lang, "year.intro", year=year),
        "entries": [_entry_view(e, page, lang, timezone) for e in chosen],
    }
    return environment(template_dir).get_template("year.html.j2").render(context)


def render_watchlist_index(
    entries: Sequence[ArchiveEntry],
    watchlist: str,
    *,
    title: str,
    language: str = "nl",
    template_dir: Path | None = None,
    timezone: str | None = None,
) -> str:
    """``watchlists/<name>.html``: the editions that cover ``watchlist``, newest first,
    each with that watchlist's count (or the quiet-week line)."""
    lang = i18n.language_of(language)
    page = layout.watchlist_page_path(watchlist)
    info = next((w for w in archive_watchlists(entries) if w.name == watchlist), None)
    watchlist_title = info.title if info else (clean_text(watchlist) or watchlist)
    views = []
    chosen = [e for e in sort_entries(entries) if watchlist in entry_watchlists(e)]
    for entry in chosen:
        counts = {s.watchlist: s.count for s in entry.sections}
        if watchlist in counts:
            n = counts[watchlist]
            count = i18n.count_noun(lang, n) if n else i18n.t(lang, "watchlist.quiet")
        else:
            count = ""  # only the names are known
        views.append(_entry_view(entry, page, lang, timezone, count=count))
    context = {
        **_archive_context(page, lang, title, chosen),
        "title": i18n.t(
            lang, "watchlist.title", title=clean_text(title), watchlist=watchlist_title
        ),
        "intro": i18n.t(lang, "watchlist.intro", watchlist=watchlist_title),
        "watchlist_title": watchlist_title,
        "entries": views,
        "show_summary": False,  # the count is this watchlist's
    }
    return environment(template_dir).get_template("watchlist.html.j2").render(context)


# --- Atom feed -----------------------------------------------------------------------


@dataclass(frozen=True)
class FeedEntryView:
    id: str
    title: str
    href: str
    updated: str
    published: str
    summary: str
    language: str


def rfc3339(moment: datetime) -> str:
    """``2026-11-30T06:00:00Z`` (UTC; naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _urn(*parts: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, "trendwatch-archive:" + "\0".join(parts)).urn


def render_feed(
    entries: Sequence[ArchiveEntry],
    *,
    title: str,
    language: str = "nl",
    base_url: str | None = None,
    template_dir: Path | None = None,
    timezone: str | None = None,
    updated: datetime | None = None,
) -> str:
    """``feed.xml``: an Atom feed of the editions, newest first.

    With ``base_url`` the ids and links are the pages' absolute URLs
    (``{base_url}/archive/...``); without it the links are relative to the feed and the
    ids are ``urn:uuid:`` names derived from the page paths.
    ``updated``: the feed's ``<updated>`` when there are no entries (default: now).
    """
    lang = i18n.language_of(language)
    feed_url = archive_url(base_url, layout.FEED)
    index_url = archive_url(base_url, layout.INDEX)
    views: list[FeedEntryView] = []
    for entry in sort_entries(entries):
        rel = relative_href(entry.path)
        if rel is None:
            continue
        entry_lang = i18n.language_of(entry.language)
        absolute = archive_url(base_url, entry.path)
        parts = summary(((s.title, s.count) for s in entry.sections), entry_lang)
        period = i18n.week_period(
            entry.week, entry.period_start, entry.period_end, entry_lang, timezone
        )
        count = i18n.count_noun(entry_lang, entry.item_count)
        views.append(
            FeedEntryView(
                id=absolute or _urn(entry.path),
                title=f"{clean_text(entry.title)} · {period}",
                href=absolute or rel,
                updated=rfc3339(entry.built_at or entry.period_end),
                published=rfc3339(entry.built_at or entry.period_end),
                summary=f"{period}: {parts}." if parts else f"{period}: {count}.",
                language=entry_lang,
            )
        )
    stamps = [e.built_at or e.period_end for e in entries]
    newest = max(stamps) if stamps else (updated or datetime.now(UTC))
    context = {
        "lang": lang,
        "title": clean_text(title),
        "id": feed_url or _urn("feed", clean_text(title)),
        "self_href": feed_url,
        "index_href": index_url or layout.INDEX,
        "updated": rfc3339(newest),
        "entries": views,
    }
    return environment(template_dir).get_template("feed.xml.j2").render(context)
