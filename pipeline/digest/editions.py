"""Building editions: who gets which digest for which period, from stored matches.

Pure functions: rows in (the store's typed rows: matched articles, story members, the
period's articles), :class:`digests.model.Edition` out. The store supplies the rows and
keeps the built edition frozen, so a re-run delivers exactly what was built.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from digests.model import (
    DigestItem,
    DigestSection,
    Edition,
    RelatedLink,
    SourceLink,
    StoryRef,
    TrendItem,
)
from pipeline.digest.stories import (
    Matched,
    RelatedPool,
    anchor,
    related,
    related_pool,
    stories_of,
)
from pipeline.store import MatchedArticle, PeriodArticle, StoryMember

DEFAULT_PERIOD = timedelta(days=7)
SECTION_QUOTA = 5
MAX_ALSO_IN = 5
TEASER_CHARS = 320
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[A-Z0-9À-Ý\"'‘“(])")


@dataclass(frozen=True)
class Audience:
    """Subscribers who share a language, the same watchlists and the same delivery
    moment (weekday, time and time zone) share one edition."""

    language: str
    watchlists: tuple[str, ...]
    emails: tuple[str, ...]
    when: Any = None  # pipeline.schedule.decide.DigestTime; None: the config's default
    variant: str = ""  # names a delivery moment other than the default, e.g. "fri-1600"

    @property
    def slug(self) -> str:
        slug = f"{self.language}-{'_'.join(self.watchlists)}"
        if len(slug) > 80:
            digest = hashlib.sha1("_".join(self.watchlists).encode()).hexdigest()[:10]
            slug = (
                f"{self.language}-{self.watchlists[0][:40]}-and-{len(self.watchlists) - 1}-{digest}"
            )
        return f"{slug}--{self.variant}" if self.variant else slug


_WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def moment_variant(when: Any, default: Any) -> str:
    """The slug part that tells a delivery moment apart from the default one: the
    weekday and time and/or the time zone that differ ("" when none does)."""
    if when is None or default is None or when == default:
        return ""
    parts = []
    if (when.weekday, when.at) != (default.weekday, default.at):
        parts.append(f"{_WEEKDAY_NAMES[when.weekday]}-{when.at:%H%M}")
    if when.timezone != default.timezone:
        parts.append(re.sub(r"[^a-z0-9]+", "-", when.timezone.lower()).strip("-"))
    return "-".join(parts)


def audiences(
    subscribers: Iterable[Any],
    when_for: Callable[[Any], Any] | None = None,
    default: Any = None,
) -> list[Audience]:
    """Group subscribers by (language, watchlists, delivery moment), keeping config
    order; ``when_for`` gives a subscriber's moment, ``default`` the config's."""
    groups: dict[tuple[str, tuple[str, ...], Any], list[str]] = {}
    for s in subscribers:
        when = when_for(s) if when_for else None
        groups.setdefault((s.language, tuple(s.watchlists), when), []).append(s.email)
    return [
        Audience(lang, wls, tuple(emails), when, moment_variant(when, default))
        for (lang, wls, when), emails in groups.items()
    ]


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    year: int
    week: int

    def key(self, slug: str) -> str:
        return f"{self.year}-W{self.week:02d}/{slug}"


def period_ending(now: datetime, timezone: str, length: timedelta = DEFAULT_PERIOD) -> Period:
    """The period of an edition built at ``now``: the ``length`` up to now, named after
    the ISO week ``now`` falls in, in the digest's time zone."""
    local = now.astimezone(ZoneInfo(timezone))
    year, week, _ = local.isocalendar()
    return Period(start=now - length, end=now, year=year, week=week)


def teaser(text: str, max_sentences: int = 3, max_chars: int = TEASER_CHARS) -> str:
    """The first two or three sentences of a plain text, cut at a word near max_chars."""
    flat = " ".join(_head(text, max_chars).split())
    sentences = _SENTENCE_END.split(flat)
    out = ""
    for s in sentences[:max_sentences]:
        candidate = f"{out} {s}".strip()
        if len(candidate) > max_chars and out:
            break
        out = candidate
    if len(out) > max_chars:
        cut = out.rfind(" ", 0, max_chars)
        out = out[: cut if cut > 0 else max_chars].rstrip(",;:") + " …"
    return out


def _head(text: str, max_chars: int) -> str:
    """The start of ``text`` that decides its teaser: what follows the first word that
    starts after ``max_chars + 1`` characters of the flattened text (the teaser's cut,
    and the character after a sentence end that tells it is one) changes nothing. The
    whole text when it is short, or when no such word is found in the first part."""
    size = 4 * (max_chars + 2)
    if len(text) <= size:
        return text
    head = text[:size]
    # the flattened head's last word may be cut short; safe when it starts late enough
    flat = " ".join(head.split())
    return head if flat.rfind(" ") > max_chars + 2 else text


@dataclass(frozen=True)
class EditionData:
    """What the store supplies for one edition (see ``pipeline.digest.job``)."""

    rows_for: Callable[[str], Sequence[MatchedArticle]]  # matched rows per watchlist
    members_for: Callable[[Iterable[int]], Sequence[StoryMember]]  # story members
    sent_before: dict[int, int] = field(default_factory=dict)  # story id -> size when sent
    trends: tuple[TrendItem, ...] = ()
    # canonical articles of the period (any watchlist or none), for "Lees ook"; as a
    # RelatedPool when several editions of the period share it
    related_pool: Sequence[PeriodArticle] | RelatedPool = ()
    # each story's item without its "Lees ook" (which depends on what the edition shows
    # in full), by its group: made once for every build with this data (the size check
    # builds an edition again with smaller quotas), or for the run when shared
    items: dict[int, tuple[Matched, DigestItem]] = field(default_factory=dict)


def build_edition(
    audience: Audience,
    period: Period,
    *,
    title: str,
    timezone: str,
    watchlist_titles: dict[str, str],
    data: EditionData,
    built_at: datetime,
    base_url: str | None = None,
    quota: int | Mapping[str, int] = SECTION_QUOTA,
) -> Edition:
    """Assemble an edition. Per watchlist, matched articles are grouped into stories;
    each story is shown once, led by its canonical article, with the other sources that
    carried it ("ook bij") and a few related stories ("Lees ook"). Stories sent in an
    earlier edition of this audience come back only if they grew since.

    A story that matches several watchlists is shown in full once: in the first section
    (in the audience's order) where it makes the quota. Every later section that has it
    shows a one-line reference to it instead (``DigestSection.references``), which
    counts for that section but takes no quota place: the quota (top ``quota``, then "+N
    more") counts the stories shown in full. A story left out by the quota of an earlier
    section is shown in full in the first later section where it makes the quota.

    The stories a section's quota leaves out are kept too (``more_items`` and
    ``more_references``), for the edition's archive page, which shows every story of
    the period; the e-mail shows the quota. They follow the same rule: a story is shown
    in full once in the edition. One that makes a quota somewhere stays in full there
    (the others refer to it, also from an earlier section); one that makes no quota is
    shown in full in the first section that has it, and referred to from later ones.

    ``quota`` is one for every section, or per watchlist (:mod:`pipeline.digest.fit`
    lowers some to keep the e-mail under the size at which mail programs clip it)."""
    groups = {name: stories_of(data.rows_for(name)) for name in audience.watchlists}
    story_ids = {g.story_id for gs in groups.values() for g in gs if g.story_id is not None}
    members: dict[int | None, list[StoryMember]] = {}
    for m in data.members_for(story_ids) if story_ids else ():
        members.setdefault(m.story_id, []).append(m)
    full: dict[Any, tuple[str, Matched]] = {}  # story key -> where it is shown in full
    chosen: dict[str, tuple[list[Matched], list[Matched], list[Matched]]] = {}
    for name in audience.watchlists:
        fresh = [
            g
            for g in groups[name]
            if g.story_id is None
            or data.sent_before.get(g.story_id, 0) < len(members.get(g.story_id, [g.lead]))
        ]
        # bigger stories first; otherwise the store's order (newest first)
        fresh.sort(key=lambda g: -len(members.get(g.story_id, [g.lead])))
        leads: list[Matched] = []
        refs: list[Matched] = []
        left: list[Matched] = []  # left out by the quota: "+N more"
        places = quota if isinstance(quota, int) else quota.get(name, SECTION_QUOTA)
        for g in fresh:
            if g.key in full:
                refs.append(g)
            elif len(leads) < places:
                leads.append(g)
                full[g.key] = (name, g)
            else:
                left.append(g)
        chosen[name] = (leads, refs, left)
    # "Lees ook" links to stories of the period that the e-mail does not show in full
    pool = related_pool(data.related_pool)
    shown = set(full)
    # the stories no quota took: in full in the first section that has them
    left_full: dict[str, list[Matched]] = {}
    left_refs: dict[str, list[Matched]] = {}
    for name in audience.watchlists:
        for g in chosen[name][2]:
            if g.key in full:
                left_refs.setdefault(name, []).append(g)
            else:
                full[g.key] = (name, g)
                left_full.setdefault(name, []).append(g)
    referred = {g.key for _, refs, _ in chosen.values() for g in refs}
    referred |= {g.key for refs in left_refs.values() for g in refs}
    items: dict[Any, DigestItem] = {}
    for key, (_, g) in full.items():
        made = data.items.get(id(g))
        if made is None or made[0] is not g:  # (the group is kept: its id is not reused)
            made = data.items[id(g)] = (g, _item(g, members.get(g.story_id, []), ()))
        changes: dict[str, Any] = {"related": related(g, pool, shown)}
        if key in referred:
            changes["anchor"] = anchor(g)
        items[key] = dataclasses.replace(made[1], **changes)

    def references(groups: list[Matched]) -> tuple[StoryRef, ...]:
        return tuple(
            StoryRef(title=items[g.key].title, watchlist=full[g.key][0], anchor=anchor(g))
            for g in groups
        )

    sections = []
    for name in audience.watchlists:
        leads, refs, left = chosen[name]
        sections.append(
            DigestSection(
                watchlist=name,
                title=watchlist_titles.get(name, name),
                items=tuple(items[g.key] for g in leads),
                more=len(left),
                references=references(refs),
                more_items=tuple(items[g.key] for g in left_full.get(name, [])),
                more_references=references(left_refs.get(name, [])),
            )
        )
    return Edition(
        key=period.key(audience.slug),
        slug=audience.slug,
        title=title,
        language=audience.language,
        timezone=timezone,
        period_start=period.start,
        period_end=period.end,
        year=period.year,
        week=period.week,
        sections=tuple(sections),
        built_at=built_at,
        base_url=base_url,
        trends=data.trends,
    )


def _item(
    group: Matched, members: Sequence[StoryMember], links: tuple[RelatedLink, ...]
) -> DigestItem:
    lead = group.lead
    also: dict[str, SourceLink] = {}
    rows: Sequence[StoryMember] = members or group.rows
    for m in sorted(rows, key=lambda m: (m.date, m.id)):
        source = m.source_name
        if m.id != lead.id and source != lead.source_name and source not in also:
            also[source] = SourceLink(source, m.url or "")
    return DigestItem(
        title=lead.title,
        url=lead.url or "",
        source=lead.source_name,
        published=lead.date,
        teaser=teaser(lead.summary or lead.text or ""),
        matched=lead.terms,
        also_in=tuple(list(also.values())[:MAX_ALSO_IN]),
        related=links,
        story_id=group.story_id,
        story_size=max(1, len(members) or len(group.rows)),
    )


def trend_items(
    overall: Sequence[dict[str, Any]],
    per_watchlist: dict[str, Sequence[dict[str, Any]]],
    *,
    top: int = 6,
    per_list: int = 3,
) -> tuple[TrendItem, ...]:
    """ "Rising this week" from the stored trends: the strongest overall, then the
    strongest per watchlist that are not already shown."""
    items: list[TrendItem] = []
    shown: set[tuple[str, str]] = set()

    def add(rows: Sequence[dict[str, Any]], limit: int, watchlist: str | None) -> None:
        count = 0
        for t in rows:
            if t.get("kind") not in ("term", "entity") or (t["kind"], t["term"]) in shown:
                continue
            if not t.get("new") and float(t.get("score") or 0) <= 0:
                continue  # no baseline: nothing to say it rose
            shown.add((t["kind"], t["term"]))
            ratio = None if t.get("new") else round(float(t["ratio"]), 1)
            items.append(
                TrendItem(
                    term=t.get("label") or t["term"],
                    count=int(t["count"]),
                    kind=t["kind"],
                    ratio=ratio,
                    new=bool(t.get("new")),
                    watchlist=watchlist,
                )
            )
            count += 1
            if count == limit:
                return

    add(_ranked(overall), top, None)
    for name, rows in per_watchlist.items():
        add(_ranked(rows), per_list, name)
    return tuple(items)


def _ranked(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    words = [t for t in rows if t.get("kind") in ("term", "entity")]
    return sorted(words, key=lambda t: (-float(t.get("score") or 0), -int(t["count"]), t["term"]))


def sent_story_sizes(editions: Iterable[Edition]) -> dict[int, int]:
    """Story id -> the largest size at which an earlier edition showed it in the e-mail
    (its ``items``; the stories kept only for its archive page were not sent)."""
    sizes: dict[int, int] = {}
    for edition in editions:
        for section in edition.sections:
            for item in section.items:
                if item.story_id is not None:
                    sizes[item.story_id] = max(sizes.get(item.story_id, 0), item.story_size)
    return sizes
