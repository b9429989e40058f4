"""Plain data that ``pipeline`` prepares and ``digests`` renders and delivers.

Nothing here does I/O. Datetimes are timezone-aware. Text fields are plain text
(never HTML): the templates escape them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class DigestItem:
    """One article shown in a section."""

    title: str
    url: str
    source: str
    published: datetime
    teaser: str
    matched: tuple[str, ...] = ()  # the words that made the watchlist match, as in the text


@dataclass(frozen=True)
class DigestSection:
    """One watchlist's part of an edition."""

    watchlist: str  # the watchlist's name (slug-like key from the config)
    title: str  # the watchlist's human title
    items: tuple[DigestItem, ...] = ()
    more: int = 0  # matched items left out of the e-mail by the per-section quota


@dataclass(frozen=True)
class Edition:
    """One edition of a digest for one audience (language + set of watchlists).

    Several subscribers with the same language and watchlists share an edition; the
    edition itself holds no personal data, so its archive page is safe to publish.
    """

    key: str  # unique, e.g. "2026-W48/nl-social-media-werk"
    slug: str  # file-name-safe audience name, e.g. "nl-social-media-werk"
    title: str  # the digest's name, e.g. "Trendwatch Werk en Leven"
    language: str  # "nl" or "en"
    timezone: str  # IANA name the period is shown in
    period_start: datetime
    period_end: datetime
    year: int  # ISO year of period_end
    week: int  # ISO week of period_end
    sections: tuple[DigestSection, ...] = ()
    built_at: datetime | None = None
    base_url: str | None = None  # where the archive is published, if anywhere

    @property
    def archive_path(self) -> str:
        """Path of the edition's page relative to the archive root."""
        return f"{self.year}/W{self.week:02d}/{self.slug}.html"

    @property
    def item_count(self) -> int:
        return sum(len(s.items) + s.more for s in self.sections)


@dataclass(frozen=True)
class Recipient:
    """A subscriber as the mail needs them."""

    email: str
    name: str
    language: str
    watchlists: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArchiveEntry:
    """One edition as listed on the archive index."""

    title: str
    language: str
    year: int
    week: int
    period_start: datetime
    period_end: datetime
    path: str  # relative to the archive root, as Edition.archive_path
    item_count: int
    watchlists: tuple[str, ...] = field(default_factory=tuple)
