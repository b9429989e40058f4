"""An edition as the templates see it: ready-made, already localised view data.

:func:`edition_context` is everything the edition templates use: the heading and
intro, each section's items (the lead first, "also in", "read also"), its one-line
references to stories shown in full elsewhere and its "+N more" line, the trends and
the footer. The e-mail shows each section's quota and links "+N more" to the archive
page; the web version (no recipient) shows every story the edition holds and has no
personal data. So a template override only has to arrange these values.

What does not depend on the recipient is built once per edition
(:func:`edition_views`); only the values named in :data:`PERSONAL` differ per reader.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from digests import i18n
from digests.cache import IdentityCache
from digests.model import DigestItem, DigestSection, Edition, Recipient, StoryRef, TrendItem
from digests.text import archive_url, clean_text, safe_url, unsubscribe_mailto

# --- small helpers -------------------------------------------------------------------


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


# --- views ---------------------------------------------------------------------------


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
    item_view: Callable[[DigestItem, bool], ItemView] | None = None,
) -> SectionView:
    """The section in the e-mail (its top stories, then "+N more in the archive" linked
    to the section on the edition's archive page, ``online``) or, with ``web``, on
    that page (every story the edition holds, no "+N more"). An edition stored before
    the left-out stories were kept does not hold them: then "+N more this week", linked
    nowhere. ``later``: the watchlists of the sections after this one."""

    def make(item: DigestItem, lead: bool) -> ItemView:
        if item_view is not None:
            return item_view(item, lead)
        return _item_view(item, lang, timezone, lead=lead)

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
        items=tuple(make(item, n == 0) for n, item in enumerate(items)),
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


class EditionViews:
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
        trends = (_trend_view(t, lang, self.section_titles) for t in edition.trends)
        self.trends = tuple(t for t in trends if t is not None)
        self._watchlists: dict[tuple[str, ...] | None, str] = {}
        self._item_views: dict[tuple[int, bool], ItemView] = {}

    @functools.cached_property
    def sections(self) -> tuple[SectionView, ...]:
        """The e-mail's sections: each section's quota, "+N more" linked to the web version."""
        return self._sections(web=False)

    @functools.cached_property
    def web_sections(self) -> tuple[SectionView, ...]:
        """The web version's sections: every story the edition holds."""
        return self._sections(web=True)

    def _sections(self, *, web: bool) -> tuple[SectionView, ...]:
        edition = self.edition
        names = [s.watchlist for s in edition.sections]
        return tuple(
            _section_view(
                s,
                self.lang,
                edition.timezone,
                self.online,
                self.section_titles,
                web=web,
                later=frozenset(names[n + 1 :]),
                item_view=self._item_view,
            )
            for n, s in enumerate(edition.sections)
        )

    def _item_view(self, item: DigestItem, lead: bool) -> ItemView:
        """An item's view, made once for the e-mail and the web version both."""
        key = (id(item), lead)  # the edition (frozen) keeps its items alive
        view = self._item_views.get(key)
        if view is None:
            view = _item_view(item, self.lang, self.edition.timezone, lead=lead)
            self._item_views[key] = view
        return view

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


_VIEWS = IdentityCache(8)


def edition_views(edition: Edition) -> EditionViews:
    """The edition's :class:`EditionViews`, built once for the last few editions."""
    return _VIEWS.get(edition, None, lambda: EditionViews(edition))


# The context values that differ per recipient (all str or None). Everything else in
# the context is the same for every recipient of an edition (see edition_context).
PERSONAL_TEXT = ("reason", "unsubscribe_mailto_text")  # shown as text
PERSONAL_ATTR = ("manage_href", "unsubscribe_href", "unsubscribe_mailto")  # href values
PERSONAL = PERSONAL_TEXT + PERSONAL_ATTR


def personal_values(views: EditionViews, recipient: Recipient | None) -> dict[str, str | None]:
    """The :data:`PERSONAL` values for ``recipient`` (None: the web version's)."""
    lang = views.lang
    watchlists = views.watchlists(recipient)
    if recipient is None:
        return {
            **dict.fromkeys(PERSONAL),
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


def sent_by_line(lang: str, sender: str) -> str | None:
    """The footer's "sent by <address>" line; None without a sender."""
    sender_address = clean_text(parseaddr(sender)[1] or sender)
    return i18n.t(lang, "footer.sent_by", sender=sender_address) if sender_address else None


def template_context(
    views: EditionViews,
    recipient: Recipient | None,
    sent_by: str | None,
    personal: dict[str, str | None],
) -> dict[str, Any]:
    """The template context from the edition's shared views and the personal values."""
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

    Only the values named in ``PERSONAL`` (and ``recipient``) depend on the recipient;
    the rest is built once per edition and shared (see
    :class:`digests.personalise.EditionRenderer`).
    """
    views = edition_views(edition)
    personal = personal_values(views, recipient)
    return template_context(views, recipient, sent_by_line(views.lang, sender), personal)
