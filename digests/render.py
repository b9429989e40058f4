"""Render an :class:`~digests.model.Edition` to HTML + plain text, and the archive index.

Templates live in ``digests/templates``; a user ``template_dir`` overrides them file by
file. Templates get ready-made, already localised values (see :func:`edition_context`),
so an override only has to arrange them. Everything from feeds is plain text: the HTML
templates autoescape, and only ``http(s)`` URLs ever become links.
"""

from __future__ import annotations

import functools
import re
import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import css_inline
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    select_autoescape,
)

from digests import i18n
from digests.model import ArchiveEntry, DigestItem, DigestSection, Edition, Recipient

PACKAGED_TEMPLATES = Path(__file__).parent / "templates"
SAFE_SCHEMES = frozenset({"http", "https"})
TEXT_WIDTH = 72
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_URL_SAFE = "%!#$&'()*+,/:;=?@[]~-._"

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


def relative_href(path: str) -> str | None:
    """A link to ``path`` relative to the archive root, or None if it is not such a path."""
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or path.startswith(("/", "\\")) or ".." in path.split("/"):
        return None
    return quote(path, safe="/-._~")


def web_url(edition: Edition) -> str | None:
    """Where the edition's web version lives: ``{base_url}/archive/{archive_path}``."""
    base = safe_url(edition.base_url)
    if base is None:
        return None
    return f"{base.rstrip('/')}/archive/{quote(edition.archive_path, safe='/-._~')}"


def anchor(watchlist: str) -> str:
    return "s-" + (re.sub(r"[^a-z0-9]+", "-", watchlist.lower()).strip("-") or "x")


def section_count(section: DigestSection) -> int:
    return len(section.items) + section.more


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


def intro(edition: Edition) -> str:
    """ "Deze week: 5 artikelen over X, 3 over Y." (sections without news are left out)."""
    lang = i18n.language_of(edition.language)
    parts: list[str] = []
    for section in edition.sections:
        count = section_count(section)
        if not count:
            continue
        key = "intro.next" if parts else "intro.first"
        parts.append(
            i18n.t(
                lang,
                key,
                count=i18n.number(count, lang),
                noun=i18n.plural(lang, "article", count),
                title=clean_text(section.title),
            )
        )
    if not parts:
        return i18n.t(lang, "intro.none")
    return i18n.t(lang, "intro", parts=", ".join(parts))


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
    loaders = [FileSystemLoader(template_dir)] if template_dir else []
    loaders.append(FileSystemLoader(PACKAGED_TEMPLATES))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(
            enabled_extensions=("html", "htm", "xml", "html.j2"),
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
class ItemView:
    title: str
    href: str | None  # None: not a safe link, show the title unlinked
    source: str
    date: str
    teaser: str
    matched: str | None


@dataclass(frozen=True)
class SectionView:
    anchor: str
    title: str
    items: tuple[ItemView, ...]
    more: str | None  # "+3 meer in het archief"
    more_href: str | None
    quiet: str | None  # set when the section has nothing at all


def _item_view(item: DigestItem, lang: str, timezone: str) -> ItemView:
    words = [w for w in (clean_text(m) for m in item.matched) if w]
    return ItemView(
        title=clean_text(item.title) or (safe_url(item.url) or ""),
        href=safe_url(item.url),
        source=clean_text(item.source),
        date=i18n.format_day(item.published, lang, timezone),
        teaser=clean_text(item.teaser),
        matched=i18n.t(lang, "matched", words=", ".join(words)) if words else None,
    )


def _section_view(
    section: DigestSection, lang: str, timezone: str, online: str | None
) -> SectionView:
    title = clean_text(section.title)
    sid = anchor(section.watchlist)
    quiet = None
    if not section.items and not section.more:
        quiet = i18n.t(lang, "quiet", title=title)
    return SectionView(
        anchor=sid,
        title=title,
        items=tuple(_item_view(item, lang, timezone) for item in section.items),
        more=i18n.t(lang, "more", count=i18n.number(section.more, lang)) if section.more else None,
        more_href=f"{online}#{sid}" if online and section.more else None,
        quiet=quiet,
    )


def _watchlist_titles(edition: Edition, recipient: Recipient | None) -> list[str]:
    titles = {s.watchlist: clean_text(s.title) for s in edition.sections}
    if recipient is not None and recipient.watchlists:
        return [titles.get(name, clean_text(name)) for name in recipient.watchlists]
    return list(titles.values())


def edition_context(
    edition: Edition, recipient: Recipient | None = None, *, sender: str = ""
) -> dict[str, Any]:
    """Everything the edition templates use. ``recipient`` None: the web version."""
    lang = i18n.language_of(edition.language)
    online = web_url(edition)
    is_web = recipient is None
    watchlists = i18n.join_list(_watchlist_titles(edition, recipient), lang)
    if is_web:
        reason = i18n.t(lang, "footer.web", watchlists=watchlists)
    else:
        reason = i18n.t(
            lang, "footer.reason", email=clean_text(recipient.email), watchlists=watchlists
        )
    sender_address = clean_text(parseaddr(sender)[1] or sender)
    sent_by = i18n.t(lang, "footer.sent_by", sender=sender_address) if sender_address else None
    return {
        "lang": lang,
        "s": i18n.STRINGS[lang],
        "is_web": is_web,
        "edition": edition,
        "recipient": recipient,
        "title": clean_text(edition.title),
        "subject": make_subject(edition),
        "heading": i18n.week_period(
            edition.week, edition.period_start, edition.period_end, lang, edition.timezone
        ),
        "intro": intro(edition),
        "sections": [_section_view(s, lang, edition.timezone, online) for s in edition.sections],
        "web_url": None if is_web else online,
        "view_online": i18n.t(lang, "footer.view_online"),
        "index_href": "../../index.html" if is_web else None,
        "index_label": i18n.t(lang, "archive.all"),
        "reason": reason,
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


# --- archive index -------------------------------------------------------------------


@dataclass(frozen=True)
class EntryView:
    title: str
    href: str | None
    period: str  # "Week 48 · 23–29 november 2026"
    count: str  # "12 artikelen"
    language: str


def sort_entries(entries: Sequence[ArchiveEntry]) -> list[ArchiveEntry]:
    """Newest first (by ``period_end``), then by path for a stable order."""
    by_path = sorted(entries, key=lambda e: e.path)
    return sorted(by_path, key=lambda e: e.period_end, reverse=True)


def render_index(
    entries: Sequence[ArchiveEntry],
    *,
    title: str,
    language: str = "nl",
    template_dir: Path | None = None,
    timezone: str | None = None,
) -> str:
    """The archive's index page: editions newest first, relative links.

    ``timezone`` (optional) is the zone the periods are shown in; default: each
    datetime's own zone.
    """
    lang = i18n.language_of(language)
    years: list[tuple[int, list[EntryView]]] = []
    for entry in sort_entries(entries):
        entry_lang = i18n.language_of(entry.language)
        view = EntryView(
            title=clean_text(entry.title),
            href=relative_href(entry.path),
            period=i18n.week_period(
                entry.week, entry.period_start, entry.period_end, lang, timezone
            ),
            count=i18n.count_noun(lang, entry.item_count),
            language=entry_lang,
        )
        if not years or years[-1][0] != entry.year:
            years.append((entry.year, []))
        years[-1][1].append(view)
    context = {
        "lang": lang,
        "s": i18n.STRINGS[lang],
        "title": clean_text(title),
        "years": years,
        "show_language": len({v.language for _, vs in years for v in vs}) > 1,
    }
    return environment(template_dir).get_template("index.html.j2").render(context)
