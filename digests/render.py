"""Render an :class:`~digests.model.Edition` to HTML + plain text, and the archive pages.

Templates live in ``digests/templates``; a user ``template_dir`` overrides them file by
file (a user template can still extend a packaged one as ``"digests/<name>"``).
Templates get ready-made, already localised values (see :func:`edition_context`), so an
override only has to arrange them. Everything from feeds is plain text: the HTML and
XML templates autoescape, and only ``http(s)`` URLs ever become links.
"""

from __future__ import annotations

import functools
import math
import re
import textwrap
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import css_inline
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    select_autoescape,
)

from digests import i18n, layout
from digests.model import (
    ArchiveEntry,
    DigestItem,
    DigestSection,
    Edition,
    Recipient,
    TrendItem,
)

PACKAGED_TEMPLATES = Path(__file__).parent / "templates"
PACKAGED_PREFIX = "digests"  # {% extends "digests/edition.html.j2" %} from an override
SAFE_SCHEMES = frozenset({"http", "https"})
TEXT_WIDTH = 72
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_URL_SAFE = "%!#$&'()*+,/:;=?@[]~-._"
_ADDRESS = re.compile(r"[^\s<>()\[\]\\,;:@\"]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")

_INLINER = css_inline.CSSInliner(
    keep_style_tags=False, keep_at_rules=True, load_remote_stylesheets=False
)


@dataclass(frozen=True)
class Rendered:
    html: str
    text: str


# --- small helpers -------------------------------------------------------------------


def clean_text(value: str | None) -> str:
    """Feed text as one tidy line: control characters dropped, whitespace collapsed."""
    if not value:
        return ""
    chars = (" " if ch.isspace() else ch for ch in value if ch.isspace() or _printable(ch))
    return " ".join("".join(chars).split())


def _printable(ch: str) -> bool:
    # drops controls and invisible format characters (bidi overrides...), keeps the
    # zero-width (non-)joiners that emoji and some scripts need
    return ch in "\u200c\u200d" or unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn"}


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL, else None (``javascript:``, ``data:``...).

    The result is percent-encoded where needed, so it is the same in HTML and text.
    """
    if not url:
        return None
    # Browsers drop ASCII tab/newline anywhere and strip C0 controls + space at the ends.
    candidate = re.sub(r"[\t\n\r]", "", url).strip(_C0_AND_SPACE)
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES or not parts.netloc:
        return None
    # Percent-encode what does not belong in a URI (spaces, quotes, <>, non-ASCII).
    return quote(candidate, safe=_URL_SAFE)


def unsubscribe_mailto(address: str | None) -> str | None:
    """``mailto:<address>?subject=unsubscribe`` for a plain ``local@domain`` address
    (``Name <a@b>`` is accepted too), else None."""
    addr = parseaddr(address or "")[1].strip()
    if not _ADDRESS.fullmatch(addr):
        return None
    return f"mailto:{quote(addr, safe='@.+-_~!$*')}?subject=unsubscribe"


def relative_href(path: str) -> str | None:
    """A link to ``path`` relative to the archive root, or None if it is not such a path."""
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or path.startswith(("/", "\\")) or ".." in path.split("/"):
        return None
    return quote(path, safe="/-._~")


def archive_url(base_url: str | None, path: str) -> str | None:
    """The absolute URL of ``path`` (relative to the archive root) under ``base_url``:
    ``{base_url}/archive/{path}``; None without a usable base URL."""
    base = safe_url(base_url)
    rel = relative_href(path)
    if base is None or rel is None:
        return None
    return f"{base.rstrip('/')}/archive/{rel}"


def web_url(edition: Edition) -> str | None:
    """Where the edition's web version lives: ``{base_url}/archive/{archive_path}``."""
    return archive_url(edition.base_url, edition.archive_path)


def anchor(watchlist: str) -> str:
    return "s-" + (re.sub(r"[^a-z0-9]+", "-", watchlist.lower()).strip("-") or "x")


def section_count(section: DigestSection) -> int:
    return section.count


def make_subject(edition: Edition) -> str:
    """ "Trendwatch · week 48: 12 artikelen" in the edition's language."""
    lang = i18n.language_of(edition.language)
    count = edition.item_count
    return i18n.t(
        lang,
        "subject",
        title=clean_text(edition.title),
        week=edition.week,
        count=i18n.number(count, lang),
        noun=i18n.plural(lang, "article", count),
    )


def summary(counts: Iterable[tuple[str, int]], language: str) -> str | None:
    """ "5 artikelen over X, 3 over Y" from (title, count) pairs; zero counts are left
    out; None when nothing is left."""
    lang = i18n.language_of(language)
    parts: list[str] = []
    for title, count in counts:
        if count <= 0:
            continue
        key = "intro.next" if parts else "intro.first"
        parts.append(
            i18n.t(
                lang,
                key,
                count=i18n.number(count, lang),
                noun=i18n.plural(lang, "article", count),
                title=clean_text(title),
            )
        )
    return ", ".join(parts) or None


def intro(edition: Edition) -> str:
    """ "Deze week: 5 artikelen over X, 3 over Y." (sections without news are left out)."""
    lang = i18n.language_of(edition.language)
    parts = summary(((s.title, s.count) for s in edition.sections), lang)
    if parts is None:
        return i18n.t(lang, "intro.none")
    return i18n.t(lang, "intro", parts=parts)


def wrap(text: str, width: int = TEXT_WIDTH, indent: str = "", first: str | None = None) -> str:
    """Wrap plain text for the text part; URLs and long words are never broken."""
    return textwrap.fill(
        text,
        width=width,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


# --- environment ---------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _environment(template_dir: str | None) -> Environment:
    """User templates first, then the packaged ones (also as ``digests/<name>``)."""
    packaged = FileSystemLoader(PACKAGED_TEMPLATES)
    loaders: list[Any] = [FileSystemLoader(template_dir)] if template_dir else []
    loaders += [packaged, PrefixLoader({PACKAGED_PREFIX: packaged})]
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(
            enabled_extensions=("html", "htm", "xml", "html.j2", "htm.j2", "xml.j2"),
            default_for_string=True,
            default=False,
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["wrap"] = wrap
    env.filters["underline"] = lambda text, char="=": char * len(text)
    return env


def environment(template_dir: Path | None = None) -> Environment:
    return _environment(str(Path(template_dir).resolve()) if template_dir else None)


# --- edition -------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkView:
    title: str
    href: str | None  # None: not a safe link, show the title unlinked
    source: str = ""


@dataclass(frozen=True)
class ItemView:
    title: str
    href: str | None  # None: not a safe link, show the title unlinked
    source: str
    date: str
    teaser: str
    matched: str | None
    lead: bool = False  # the section's first (lead) article
    also_in: tuple[LinkView, ...] = ()  # "Ook bij": other sources of the story
    related: tuple[LinkView, ...] = ()  # "Lees ook"


@dataclass(frozen=True)
class SectionView:
    anchor: str
    title: str
    items: tuple[ItemView, ...]
    more: str | None  # "+3 meer in het archief"
    more_href: str | None
    quiet: str | None  # set when the section has nothing at all


@dataclass(frozen=True)
class TrendView:
    term: str
    kind: str  # "term" or "entity"
    detail: str  # "12 artikelen, 3,2× zo vaak als gewoonlijk"
    new: str | None  # "nieuw"
    where: str | None  # "in Thuiswerken" for a watchlist's trend


def _link_views(links: Iterable[tuple[str, str, str]]) -> tuple[LinkView, ...]:
    """(title, url, source) triples as views; entries with nothing to show are dropped."""
    views = []
    for title, url, source in links:
        href = safe_url(url)
        text = clean_text(title) or (href or "")
        if text:
            views.append(LinkView(title=text, href=href, source=clean_text(source)))
    return tuple(views)


def _item_view(item: DigestItem, lang: str, timezone: str, *, lead: bool = False) -> ItemView:
    words = [w for w in (clean_text(m) for m in item.matched) if w]
    return ItemView(
        title=clean_text(item.title) or (safe_url(item.url) or ""),
        href=safe_url(item.url),
        source=clean_text(item.source),
        date=i18n.format_day(item.published, lang, timezone),
        teaser=clean_text(item.teaser),
        matched=i18n.t(lang, "matched", words=", ".join(words)) if words else None,
        lead=lead,
        also_in=_link_views((s.source, s.url, "") for s in item.also_in),
        related=_link_views((r.title, r.url, r.source) for r in item.related),
    )


def _section_view(
    section: DigestSection, lang: str, timezone: str, online: str | None
) -> SectionView:
    title = clean_text(section.title)
    sid = anchor(section.watchlist)
    quiet = i18n.t(lang, "quiet", title=title) if section.quiet else None
    return SectionView(
        anchor=sid,
        title=title,
        items=tuple(
            _item_view(item, lang, timezone, lead=n == 0) for n, item in enumerate(section.items)
        ),
        more=i18n.t(lang, "more", count=i18n.number(section.more, lang)) if section.more else None,
        more_href=f"{online}#{sid}" if online and section.more else None,
        quiet=quiet,
    )


def _trend_view(trend: TrendItem, lang: str, titles: dict[str, str]) -> TrendView | None:
    term = clean_text(trend.term)
    if not term:
        return None
    parts = [i18n.count_noun(lang, max(0, trend.count))]
    ratio = trend.ratio
    if not trend.new and ratio is not None and math.isfinite(ratio) and ratio > 0:
        parts.append(i18n.t(lang, "trends.ratio", ratio=i18n.ratio(ratio, lang)))
    where = None
    if trend.watchlist:
        title = titles.get(trend.watchlist) or clean_text(trend.watchlist)
        where = i18n.t(lang, "trends.in", title=title) if title else None
    return TrendView(
        term=term,
        kind="entity" if trend.kind == "entity" else "term",
        detail=", ".join(parts),
        new=i18n.t(lang, "trends.new") if trend.new else None,
        where=where,
    )


def _watchlist_titles(edition: Edition, recipient: Recipient | None) -> list[str]:
    titles = {s.watchlist: clean_text(s.title) for s in edition.sections}
    if recipient is not None and recipient.watchlists:
        return [titles.get(name, clean_text(name)) for name in recipient.watchlists]
    return list(titles.values())


def edition_context(
    edition: Edition, recipient: Recipient | None = None, *, sender: str = ""
) -> dict[str, Any]:
    """Everything the edition templates use. ``recipient`` None: the web version, which
    has no personal data (no address, no manage or unsubscribe links)."""
    lang = i18n.language_of(edition.language)
    online = web_url(edition)
    watchlists = i18n.join_list(_watchlist_titles(edition, recipient), lang)
    title = clean_text(edition.title)
    manage_href = unsubscribe_href = mailto = mailto_text = None
    if recipient is None:
        reason = i18n.t(lang, "footer.web", watchlists=watchlists)
    else:
        reason = i18n.t(
            lang,
            "footer.reason",
            digest=title,
            email=clean_text(recipient.email),
            watchlists=watchlists,
        )
        manage_href = safe_url(recipient.manage_url)
        unsubscribe_href = safe_url(recipient.unsubscribe_url)
        mailto = unsubscribe_mailto(recipient.unsubscribe_mailto)
        if mailto and not unsubscribe_href:
            address = parseaddr(recipient.unsubscribe_mailto or "")[1]
            mailto_text = i18n.t(lang, "footer.unsubscribe_mailto", address=address)
    sender_address = clean_text(parseaddr(sender)[1] or sender)
    sent_by = i18n.t(lang, "footer.sent_by", sender=sender_address) if sender_address else None
    section_titles = {s.watchlist: clean_text(s.title) for s in edition.sections}
    trends = [_trend_view(t, lang, section_titles) for t in edition.trends]
    return {
        "lang": lang,
        "s": i18n.STRINGS[lang],
        "is_web": recipient is None,
        "edition": edition,
        "recipient": recipient,
        "title": title,
        "subject": make_subject(edition),
        "heading": i18n.week_period(
            edition.week, edition.period_start, edition.period_end, lang, edition.timezone
        ),
        "intro": intro(edition),
        "sections": [_section_view(s, lang, edition.timezone, online) for s in edition.sections],
        "trends": [t for t in trends if t is not None],
        "web_url": None if recipient is None else online,
        "view_online": i18n.t(lang, "footer.view_online"),
        "index_href": "../../index.html" if recipient is None else None,
        "index_label": i18n.t(lang, "archive.all"),
        "reason": reason,
        "manage_href": manage_href,
        "unsubscribe_href": unsubscribe_href,
        "unsubscribe_mailto": mailto if not unsubscribe_href else None,
        "unsubscribe_mailto_text": mailto_text,
        "sent_by": sent_by,
    }


def render_edition(
    edition: Edition,
    recipient: Recipient | None = None,
    *,
    template_dir: Path | None = None,
    sender: str = "",
) -> Rendered:
    """HTML (CSS inlined) and plain text of ``edition``; ``recipient`` None: web version."""
    env = environment(template_dir)
    context = edition_context(edition, recipient, sender=sender)
    html = env.get_template("edition.html.j2").render(context)
    text = env.get_template("edition.txt.j2").render(context)
    return Rendered(html=_INLINER.inline(html), text=_tidy_text(text))


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


# --- archive pages -------------------------------------------------------------------


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
