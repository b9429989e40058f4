"""Building editions: who gets which digest for which period, from stored matches.

Pure functions: rows in, :class:`digests.model.Edition` out. The store supplies the rows
and keeps the built edition frozen, so a re-run delivers exactly what was built.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from digests.model import DigestItem, DigestSection, Edition

DEFAULT_PERIOD = timedelta(days=7)
SECTION_QUOTA = 5
TEASER_CHARS = 320
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[A-Z0-9À-Ý\"'‘“(])")


@dataclass(frozen=True)
class Audience:
    """Subscribers who share a language and the same watchlists share one edition."""

    language: str
    watchlists: tuple[str, ...]
    emails: tuple[str, ...]

    @property
    def slug(self) -> str:
        slug = f"{self.language}-{'_'.join(self.watchlists)}"
        if len(slug) > 80:
            digest = hashlib.sha1("_".join(self.watchlists).encode()).hexdigest()[:10]
            slug = (
                f"{self.language}-{self.watchlists[0][:40]}-and-{len(self.watchlists) - 1}-{digest}"
            )
        return slug


def audiences(subscribers: Iterable[Any]) -> list[Audience]:
    """Group subscribers by (language, watchlists), keeping config order."""
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for s in subscribers:
        groups.setdefault((s.language, tuple(s.watchlists)), []).append(s.email)
    return [Audience(lang, wls, tuple(emails)) for (lang, wls), emails in groups.items()]


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
    flat = " ".join(text.split())
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


def build_edition(
    audience: Audience,
    period: Period,
    *,
    title: str,
    timezone: str,
    watchlist_titles: dict[str, str],
    rows_for: Callable[[str], Sequence[dict[str, Any]]],
    built_at: datetime,
    base_url: str | None = None,
    quota: int = SECTION_QUOTA,
) -> Edition:
    """Assemble an edition; ``rows_for(watchlist)`` gives that watchlist's matched
    article rows for the period, newest first (see ``Store.matched_articles``)."""
    sections = []
    for name in audience.watchlists:
        rows = list(rows_for(name))
        items = tuple(_item(r) for r in rows[:quota])
        sections.append(
            DigestSection(
                watchlist=name,
                title=watchlist_titles.get(name, name),
                items=items,
                more=max(0, len(rows) - quota),
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
    )


def _item(row: dict[str, Any]) -> DigestItem:
    terms = row.get("terms") or "[]"
    matched = tuple(json.loads(terms) if isinstance(terms, str) else terms)
    return DigestItem(
        title=row["title"],
        url=row.get("url") or "",
        source=row["source_name"],
        published=datetime.fromisoformat(row["date"]),
        teaser=teaser(row.get("summary") or row.get("text") or ""),
        matched=matched,
    )


# --- freezing an edition in the store --------------------------------------------


def edition_to_json(edition: Edition) -> str:
    return json.dumps(asdict(edition), default=_default, ensure_ascii=False, sort_keys=True)


def edition_from_json(text: str) -> Edition:
    d = json.loads(text)
    sections = tuple(
        DigestSection(
            watchlist=s["watchlist"],
            title=s["title"],
            more=s["more"],
            items=tuple(
                DigestItem(
                    title=i["title"],
                    url=i["url"],
                    source=i["source"],
                    published=datetime.fromisoformat(i["published"]),
                    teaser=i["teaser"],
                    matched=tuple(i["matched"]),
                )
                for i in s["items"]
            ),
        )
        for s in d["sections"]
    )
    return Edition(
        key=d["key"],
        slug=d["slug"],
        title=d["title"],
        language=d["language"],
        timezone=d["timezone"],
        period_start=datetime.fromisoformat(d["period_start"]),
        period_end=datetime.fromisoformat(d["period_end"]),
        year=d["year"],
        week=d["week"],
        sections=sections,
        built_at=datetime.fromisoformat(d["built_at"]) if d.get("built_at") else None,
        base_url=d.get("base_url"),
    )


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value))
