"""Render an :class:`~digests.model.Edition` to HTML + plain text, and the archive pages.

Templates live in ``digests/templates``; a user ``template_dir`` overrides them file by
file (a user template can still extend a packaged one as ``"digests/<name>"``).
Templates get ready-made, already localised values (see :func:`edition_context`), so an
override only has to arrange them. Everything from feeds is plain text: the HTML and
XML templates autoescape, and only ``http(s)`` URLs ever become links.
"""

from __future__ import annotations

import contextvars
import functools
import math
import re
import secrets
import textwrap
import threading
import unicodedata
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
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
    TemplateNotFound,
    select_autoescape,
)
from jinja2 import meta as jinja_meta
from markupsafe import escape as markupsafe_escape

from digests import i18n, layout
from digests.model import (
    ArchiveEntry,
    DigestItem,
    DigestSection,
    Edition,
    Recipient,
    StoryRef,
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
    env.filters["wrap"] = _wrap_filter
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
    anchor: str | None = None  # the HTML id later sections' references link to


@dataclass(frozen=True)
class RefView:
    """A story shown in full in an earlier section: its title, linked to it."""

    title: str
    href: str | None  # "#<anchor>" of the full story
    where: str  # "ook onder Verzuim en burn-out"
    up: bool = True  # the full story is in an earlier section (else a later one)


@dataclass(frozen=True)
class SectionView:
    anchor: str
    title: str
    items: tuple[ItemView, ...]
    references: tuple[RefView, ...]  # one line each, after the items
    # the e-mail: "+3 meer in het archief", linked to the section on the archive page;
    # the archive page shows those stories instead (see _section_view)
    more: str | None
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
        anchor=_html_id(item.anchor),
    )


def _html_id(anchor: str) -> str | None:
    """An anchor as an HTML id (letters, digits, '-' and '_'), None when there is none."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", anchor).strip("-")
    return cleaned or None


def _ref_view(
    ref: StoryRef, lang: str, titles: dict[str, str], later: frozenset[str] = frozenset()
) -> RefView:
    html_id = _html_id(ref.anchor)
    where = titles.get(ref.watchlist) or clean_text(ref.watchlist)
    return RefView(
        title=clean_text(ref.title),
        href=f"#{html_id}" if html_id else None,
        where=i18n.t(lang, "also_under", title=where),
        up=ref.watchlist not in later,
    )


def _section_view(
    section: DigestSection,
    lang: str,
    timezone: str,
    online: str | None,
    titles: dict[str, str] | None = None,
    *,
    web: bool = False,
    later: frozenset[str] = frozenset(),
) -> SectionView:
    """The section in the e-mail (its top stories, then "+N more in the archive" linked
    to the section on the edition's archive page, ``online``) or, with ``web``, on
    that page (every story the edition holds, no "+N more"). An edition stored before
    the left-out stories were kept does not hold them: then "+N more this week", linked
    nowhere. ``later``: the watchlists of the sections after this one."""
    title = clean_text(section.title)
    sid = anchor(section.watchlist)
    quiet = i18n.t(lang, "quiet", title=title) if section.quiet else None
    items, refs = section.items, section.references
    if web:
        items, refs = items + section.more_items, refs + section.more_references
    more = more_href = None
    if section.more_missing:  # not in the edition: say how many, link nowhere
        count = section.more_missing if web else section.more
        more = i18n.t(lang, "more.not_kept", count=i18n.number(count, lang))
    elif section.more and not web:
        more = i18n.t(lang, "more", count=i18n.number(section.more, lang))
        more_href = f"{online}#{sid}" if online else None
    return SectionView(
        anchor=sid,
        title=title,
        items=tuple(_item_view(item, lang, timezone, lead=n == 0) for n, item in enumerate(items)),
        references=tuple(_ref_view(r, lang, titles or {}, later) for r in refs),
        more=more,
        more_href=more_href,
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


class _IdentityCache:
    """A small LRU of values made from an object, keyed by the object's identity (plus
    ``extra``). An entry keeps its object alive, so the id cannot be reused while cached.

    For frozen objects only (an :class:`Edition`): a value is never recomputed while
    its entry lives.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[int, Any], tuple[object, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, obj: object, extra: Any, make: Callable[[], Any]) -> Any:
        key = (id(obj), extra)
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] is obj:
                self._entries.move_to_end(key)
                return hit[1]
        value = make()
        with self._lock:
            self._entries[key] = (obj, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value


class _EditionViews:
    """The recipient-independent part of an edition's template context (every
    article's view, heading, intro, trends...), built once per edition."""

    def __init__(self, edition: Edition) -> None:
        lang = i18n.language_of(edition.language)
        online = web_url(edition)
        self.edition = edition
        self.lang = lang
        self.online = online
        self.title = clean_text(edition.title)
        self.subject = make_subject(edition)
        self.heading = i18n.week_period(
            edition.week, edition.period_start, edition.period_end, lang, edition.timezone
        )
        self.intro = intro(edition)
        self.section_titles = {s.watchlist: clean_text(s.title) for s in edition.sections}
        names = [s.watchlist for s in edition.sections]
        # the e-mail shows each section's quota; the web version every story it holds
        self.sections, self.web_sections = (
            tuple(
                _section_view(
                    s,
                    lang,
                    edition.timezone,
                    online,
                    self.section_titles,
                    web=web,
                    later=frozenset(names[n + 1 :]),
                )
                for n, s in enumerate(edition.sections)
            )
            for web in (False, True)
        )
        trends = (_trend_view(t, lang, self.section_titles) for t in edition.trends)
        self.trends = tuple(t for t in trends if t is not None)
        self._watchlists: dict[tuple[str, ...] | None, str] = {}

    def watchlists(self, recipient: Recipient | None) -> str:
        """ "A, B en C": the recipient's watchlists; all the edition's sections without a
        recipient (or without watchlists)."""
        key = None
        if recipient is not None and recipient.watchlists:
            key = tuple(recipient.watchlists)
        joined = self._watchlists.get(key)
        if joined is None:
            if key is None:
                titles = list(self.section_titles.values())
            else:
                titles = [self.section_titles.get(name, clean_text(name)) for name in key]
            joined = i18n.join_list(titles, self.lang)
            if len(self._watchlists) >= 256:
                self._watchlists.clear()
            self._watchlists[key] = joined
        return joined


_VIEWS = _IdentityCache(8)


def _views(edition: Edition) -> _EditionViews:
    return _VIEWS.get(edition, None, lambda: _EditionViews(edition))


# The context values that differ per recipient (all str or None). Everything else in
# the context is the same for every recipient of an edition (see edition_context).
_PERSONAL_TEXT = ("reason", "unsubscribe_mailto_text")  # shown as text
_PERSONAL_ATTR = ("manage_href", "unsubscribe_href", "unsubscribe_mailto")  # href values
_PERSONAL = _PERSONAL_TEXT + _PERSONAL_ATTR


def _personal(views: _EditionViews, recipient: Recipient | None) -> dict[str, str | None]:
    lang = views.lang
    watchlists = views.watchlists(recipient)
    if recipient is None:
        return {
            **dict.fromkeys(_PERSONAL),
            "reason": i18n.t(lang, "footer.web", watchlists=watchlists),
        }
    reason = i18n.t(
        lang,
        "footer.reason",
        digest=views.title,
        email=clean_text(recipient.email),
        watchlists=watchlists,
    )
    manage_href = safe_url(recipient.manage_url)
    unsubscribe_href = safe_url(recipient.unsubscribe_url)
    mailto = unsubscribe_mailto(recipient.unsubscribe_mailto)
    mailto_text = None
    if mailto and not unsubscribe_href:
        address = parseaddr(recipient.unsubscribe_mailto or "")[1]
        mailto_text = i18n.t(lang, "footer.unsubscribe_mailto", address=address)
    return {
        "reason": reason,
        "manage_href": manage_href,
        "unsubscribe_href": unsubscribe_href,
        "unsubscribe_mailto": mailto if not unsubscribe_href else None,
        "unsubscribe_mailto_text": mailto_text,
    }


def _sent_by(lang: str, sender: str) -> str | None:
    sender_address = clean_text(parseaddr(sender)[1] or sender)
    return i18n.t(lang, "footer.sent_by", sender=sender_address) if sender_address else None


def _context(
    views: _EditionViews,
    recipient: Recipient | None,
    sent_by: str | None,
    personal: dict[str, str | None],
) -> dict[str, Any]:
    lang = views.lang
    return {
        "lang": lang,
        "s": i18n.STRINGS[lang],
        "is_web": recipient is None,
        "edition": views.edition,
        "recipient": recipient,
        "title": views.title,
        "subject": views.subject,
        "heading": views.heading,
        "intro": views.intro,
        "sections": list(views.web_sections if recipient is None else views.sections),
        "trends": list(views.trends),
        "web_url": None if recipient is None else views.online,
        "view_online": i18n.t(lang, "footer.view_online"),
        "index_href": "../../index.html" if recipient is None else None,
        "index_label": i18n.t(lang, "archive.all"),
        **personal,
        "sent_by": sent_by,
    }


def edition_context(
    edition: Edition, recipient: Recipient | None = None, *, sender: str = ""
) -> dict[str, Any]:
    """Everything the edition templates use. ``recipient`` None: the web version, which
    has no personal data (no address, no manage or unsubscribe links).

    Only the values named in ``_PERSONAL`` (and ``recipient``) depend on the recipient;
    the rest is built once per edition and shared (see :class:`EditionRenderer`).
    """
    views = _views(edition)
    return _context(views, recipient, _sent_by(views.lang, sender), _personal(views, recipient))


def render_edition(
    edition: Edition,
    recipient: Recipient | None = None,
    *,
    template_dir: Path | None = None,
    sender: str = "",
) -> Rendered:
    """HTML (CSS inlined) and plain text of ``edition``; ``recipient`` None: web version.

    The same as ``EditionRenderer(edition, template_dir=..., sender=...).render(recipient)``;
    the renderer of the last few (edition, template_dir, sender) is kept, so rendering
    one edition for many recipients in a row does the edition's work once.
    """
    renderer = _RENDERERS.get(
        edition,
        (_template_key(template_dir), sender),
        lambda: EditionRenderer(edition, template_dir=template_dir, sender=sender),
    )
    return renderer.render(recipient)


def _template_key(template_dir: Path | None) -> str | None:
    return str(Path(template_dir).resolve()) if template_dir else None


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


def _render_context(env: Environment, context: dict[str, Any]) -> Rendered:
    """The straightforward rendering: both templates with ``context``, CSS inlined."""
    html = env.get_template(EDITION_HTML).render(context)
    text = env.get_template(EDITION_TEXT).render(context)
    return Rendered(html=_INLINER.inline(html), text=_tidy_text(text))


# --- one edition, many recipients ----------------------------------------------------
#
# A recipient's e-mail differs from the next one's only in the footer (``_PERSONAL``).
# So the edition is rendered (and its CSS inlined) once per "shape" (which personal
# values are set) with a unique placeholder token for each personal value; per recipient
# the tokens are replaced by the values, escaped as the inliner's HTML serialiser would
# have written them (text or attribute value). Only for the packaged edition templates:
# with an override of any template the edition uses, every recipient is rendered in
# full (the edition-level views are still shared). The result is byte-identical to the
# full rendering (tests/digests/test_digests_render_cache.py).

EDITION_HTML = "edition.html.j2"
EDITION_TEXT = "edition.txt.j2"
_MARK, _END = "\ue000", "\ue001"  # private use: clean_text drops these from feed text
# Characters a personal value must not contain for the token route: controls (the HTML
# parser drops or rewrites some, the text part's line handling others), line separators,
# surrogates, private use (the tokens) and non-characters. Such a recipient is rendered
# in full.
_NOT_SUBSTITUTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ue000-\uf8ff\ufdd0-\ufdef\ufffe\uffff"
    + "".join(f"{chr(p << 16 | 0xFFFE)}{chr(p << 16 | 0xFFFF)}" for p in range(1, 17))
    + "\U000f0000-\U0010ffff]"
)
# Inside these elements text is written unescaped: no personal text may go there.
_RAW_TEXT_ELEMENTS = ("style", "script", "xmp", "iframe", "noembed", "noframes", "noscript")


def _escape_html_text(value: str) -> str:
    """``value`` as css_inline (html5ever's serialiser) writes it in a text node."""
    return (
        value.replace("&", "&amp;")
        .replace("\xa0", "&nbsp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def _escape_html_attr(value: str) -> str:
    """``value`` as css_inline (html5ever's serialiser) writes it in a quoted attribute."""
    return value.replace("&", "&amp;").replace("\xa0", "&nbsp;").replace('"', "&quot;")


_ESCAPE: dict[str, Callable[[str], str]] = {
    "text": _escape_html_text,
    "attr": _escape_html_attr,
    "raw": str,
}


@functools.cache
def _escapes_match_inliner() -> bool:
    """Whether the inliner serialises text and attribute values as the two functions
    above do (checked once, so a css_inline upgrade cannot silently change the output:
    the token route is then simply not used)."""
    probe = "<b>\"&'\xa0 &lt;é€ ><"
    escaped = str(markupsafe_escape(probe))
    page = (
        '<!DOCTYPE html><html><head><title>t</title></head><body><p class="x">'
        f'{escaped}</p><a href="{escaped}">x</a></body></html>'
    )
    out = _INLINER.inline(page)
    return (
        f'<p class="x">{_escape_html_text(probe)}</p>' in out
        and f'<a href="{_escape_html_attr(probe)}">' in out
    )


@functools.lru_cache(maxsize=32)
def _packaged_template_info(filename: str) -> tuple[tuple[str | None, ...], frozenset[str]]:
    """(templates it includes/extends/imports, variables it reads) of a packaged file."""
    source = Path(filename).read_text(encoding="utf-8")
    ast = _environment(None).parse(source)
    refs = tuple(jinja_meta.find_referenced_templates(ast))
    return refs, frozenset(jinja_meta.find_undeclared_variables(ast))


def _uses_packaged_edition_templates(env: Environment) -> bool:
    """True when every template the edition is rendered with is a packaged one (no
    override in template_dir) and none reads ``recipient`` itself."""
    if not _escapes_match_inliner():
        return False
    seen: set[str] = set()
    todo = [EDITION_HTML, EDITION_TEXT]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            template = env.get_template(name)
        except TemplateNotFound:
            return False
        if template.filename is None or Path(template.filename).resolve().parent != _PACKAGED:
            return False
        refs, names = _packaged_template_info(template.filename)
        if None in refs or "recipient" in names:
            return False
        todo.extend(ref for ref in refs if ref is not None)
    return True


_PACKAGED = PACKAGED_TEMPLATES.resolve()


class _Deferred:
    """While a skeleton is rendered: ``wrap`` calls on text that holds a token, kept to
    be done per recipient (the wrapping depends on the value's length)."""

    def __init__(self, nonce: str) -> None:
        self.nonce = nonce
        self.wraps: list[tuple[str, int, str, str | None]] = []

    def add(self, text: str, width: int, indent: str, first: str | None) -> str:
        self.wraps.append((text, width, indent, first))
        return f"{_MARK}{self.nonce}:wrap{len(self.wraps) - 1}{_END}"


_DEFERRED: contextvars.ContextVar[_Deferred | None] = contextvars.ContextVar(
    "trendwatch_deferred_wraps", default=None
)


def _wrap_filter(
    text: str, width: int = TEXT_WIDTH, indent: str = "", first: str | None = None
) -> str:
    """The templates' ``wrap`` filter (see :func:`wrap`)."""
    deferred = _DEFERRED.get()
    if deferred is not None and isinstance(text, str) and _MARK in text:
        return deferred.add(text, width, indent, first)
    return wrap(text, width, indent, first)


_Segments = tuple[str | tuple[str, str], ...]  # literal text or (field, escaping)


class _Skeleton:
    """An edition rendered with tokens for the personal values; ``fill`` makes one
    recipient's :class:`Rendered` from it."""

    def __init__(
        self,
        html: _Segments,
        text: _Segments,
        wraps: tuple[tuple[_Segments, int, str, str | None], ...],
    ) -> None:
        self._html = html
        self._text = text
        self._wraps = wraps

    @classmethod
    def build(
        cls, nonce: str, html: str, text: str, deferred: _Deferred, fields: set[str]
    ) -> _Skeleton | None:
        """None if a token is where it cannot be filled in exactly (then the edition's
        recipients are rendered in full)."""
        token = re.compile(rf"{_MARK}{re.escape(nonce)}:(\w+){_END}")
        wrap_fields = {f"wrap{n}" for n in range(len(deferred.wraps))}

        def split(source: str, kind: Callable[[str, int, int], str | None]) -> _Segments | None:
            segments: list[str | tuple[str, str]] = []
            pos = 0
            for match in token.finditer(source):
                escaping = kind(match.group(1), match.start(), match.end())
                if escaping is None:
                    return None
                segments += [source[pos : match.start()], (match.group(1), escaping)]
                pos = match.end()
            segments.append(source[pos:])
            literals = (s for s in segments if isinstance(s, str))
            if any(_MARK in s or _END in s for s in literals):
                return None  # a token was changed (a filter touched it)
            return tuple(s for s in segments if s != "")

        def in_html(field: str, start: int, end: int) -> str | None:
            if field in _PERSONAL_ATTR and field in fields:
                # the whole value of a double-quoted attribute, inside a start tag
                inside_tag = html.rfind("<", 0, start) > html.rfind(">", 0, start)
                whole = html.endswith('="', 0, start) and html.startswith('"', end)
                return "attr" if inside_tag and whole else None
            if field in _PERSONAL_TEXT and field in fields:
                in_text = html.rfind(">", 0, start) > html.rfind("<", 0, start)
                lower = html[:start].lower()
                raw = any(
                    lower.rfind(f"<{name}") > lower.rfind(f"</{name}")
                    for name in _RAW_TEXT_ELEMENTS
                )
                comment = lower.rfind("<!--") > lower.rfind("-->")
                return "text" if in_text and not raw and not comment else None
            return None

        def in_text(field: str, start: int, end: int) -> str | None:
            return "raw" if field in fields or field in wrap_fields else None

        def in_wrap(field: str, start: int, end: int) -> str | None:
            return "raw" if field in fields else None

        html_segments = split(html, in_html)
        text_segments = split(text, in_text)
        wraps = []
        for source, width, indent, first in deferred.wraps:
            segments = split(source, in_wrap)
            if segments is None:
                return None
            wraps.append((segments, width, indent, first))
        if html_segments is None or text_segments is None:
            return None
        return cls(html_segments, text_segments, tuple(wraps))

    def fill(self, values: dict[str, str | None]) -> Rendered:
        """One recipient's rendering; ``values``: its personal values (see _personal)."""
        html = _join(self._html, values, _ESCAPE)
        if self._wraps:
            values = dict(values)
            for n, (segments, width, indent, first) in enumerate(self._wraps):
                values[f"wrap{n}"] = wrap(_join(segments, values, _ESCAPE), width, indent, first)
        return Rendered(html=html, text=_tidy_text(_join(self._text, values, _ESCAPE)))


def _join(
    segments: _Segments,
    values: dict[str, str | None],
    escape: dict[str, Callable[[str], str]],
) -> str:
    parts = []
    for segment in segments:
        if isinstance(segment, str):
            parts.append(segment)
        else:
            field, escaping = segment
            parts.append(escape[escaping](values[field] or ""))
    return "".join(parts)


class EditionRenderer:
    """Renders one edition for many recipients; what does not depend on the recipient
    is done once. ``render(recipient)`` returns exactly what :func:`render_edition`
    would (``recipient`` None: the web version)::

        renderer = EditionRenderer(edition, template_dir=template_dir, sender=sender)
        for recipient in recipients:
            rendered = renderer.render(recipient)

    It keeps the edition's rendered skeleton: use one per edition (and drop it after).
    """

    def __init__(
        self, edition: Edition, *, template_dir: Path | None = None, sender: str = ""
    ) -> None:
        self.edition = edition
        self.sender = sender
        self._env = environment(template_dir)
        self._views = _views(edition)
        self._sent_by = _sent_by(self._views.lang, sender)
        self._tokens = _uses_packaged_edition_templates(self._env)
        self._web: Rendered | None = None
        self._skeletons: dict[tuple[Any, ...], _Skeleton | None] = {}
        self._lock = threading.Lock()

    def context(self, recipient: Recipient | None) -> dict[str, Any]:
        """The template context for ``recipient`` (see :func:`edition_context`)."""
        return _context(self._views, recipient, self._sent_by, _personal(self._views, recipient))

    def render(self, recipient: Recipient | None = None) -> Rendered:
        if recipient is None:  # nothing personal: the same for every call
            if self._web is None:
                self._web = _render_context(self._env, self.context(None))
            return self._web
        personal = _personal(self._views, recipient)
        if self._tokens and not any(v and _NOT_SUBSTITUTABLE.search(v) for v in personal.values()):
            skeleton = self._skeleton(personal)
            if skeleton is not None:
                return skeleton.fill(personal)
        return _render_context(self._env, _context(self._views, recipient, self._sent_by, personal))

    def _skeleton(self, personal: dict[str, str | None]) -> _Skeleton | None:
        # which values are set (and the unset ones' values) decides the markup
        shape = tuple((k, v if not v else True) for k, v in personal.items())
        with self._lock:
            if shape in self._skeletons:
                return self._skeletons[shape]
        nonce = secrets.token_hex(8)
        tokens = {k: f"{_MARK}{nonce}:{k}{_END}" if v else v for k, v in personal.items()}
        context = _context(self._views, _NOBODY, self._sent_by, tokens)
        deferred = _Deferred(nonce)
        reset = _DEFERRED.set(deferred)
        try:
            html = self._env.get_template(EDITION_HTML).render(context)
            text = self._env.get_template(EDITION_TEXT).render(context)
        finally:
            _DEFERRED.reset(reset)
        fields = {k for k, v in personal.items() if v}
        skeleton = _Skeleton.build(nonce, _INLINER.inline(html), text, deferred, fields)
        with self._lock:
            self._skeletons[shape] = skeleton
        return skeleton


_RENDERERS = _IdentityCache(8)
_NOBODY = Recipient(email="", name="", language="")  # the skeleton's (unused) recipient


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
