"""Plain data that ``pipeline`` prepares and ``digests`` renders and delivers.

Nothing here does I/O. Datetimes are timezone-aware. Text fields are plain text
(never HTML): the templates escape them. Every field is a str, int, float, bool,
datetime, None or a tuple of these dataclasses, so ``dataclasses.asdict`` + JSON
round-trips an :class:`Edition` (see ``pipeline/editions.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class SourceLink:
    """Another source that carries the same story ("ook bij" / "also in")."""

    source: str  # the source's name, e.g. "NOS"
    url: str  # that source's article


@dataclass(frozen=True)
class RelatedLink:
    """A related article ("Lees ook" / "Read also")."""

    title: str
    url: str
    source: str = ""


@dataclass(frozen=True)
class DigestItem:
    """One article shown in a section (the lead article of its story)."""

    title: str
    url: str
    source: str
    published: datetime
    teaser: str
    matched: tuple[str, ...] = ()  # the words that made the watchlist match, as in the text
    also_in: tuple[SourceLink, ...] = ()  # other sources of the same story
    related: tuple[RelatedLink, ...] = ()  # a few related items
    story_id: int | None = None  # the story cluster this article leads, if any
    story_size: int = 1  # articles in that story (this one included)
    # set when a later section refers to this story (see StoryRef): names it in the edition
    anchor: str = ""


@dataclass(frozen=True)
class StoryRef:
    """A story of this section that is shown in full in an earlier section of the same
    edition: one line, "ook onder <that section>" / "also under <that section>"."""

    title: str  # the full story's title
    watchlist: str  # the section that shows it in full
    anchor: str  # the full story's DigestItem.anchor


@dataclass(frozen=True)
class DigestSection:
    """One watchlist's part of an edition."""

    watchlist: str  # the watchlist's name (slug-like key from the config)
    title: str  # the watchlist's human title
    items: tuple[DigestItem, ...] = ()  # the stories shown in full here
    more: int = 0  # matched items left out of the e-mail by the per-section quota
    references: tuple[StoryRef, ...] = ()  # stories shown in full in an earlier section
    # The stories counted in ``more``, for the edition's archive page (the e-mail shows
    # only ``items`` and ``references``): in full, or as a reference when the edition
    # shows the story in full in another section. An edition stored before these were
    # kept has neither (see ``more_missing``).
    more_items: tuple[DigestItem, ...] = ()
    more_references: tuple[StoryRef, ...] = ()

    @property
    def count(self) -> int:
        """Matched items in the period: shown in full, referred to, and left out."""
        return len(self.items) + len(self.references) + self.more

    @property
    def more_missing(self) -> int:
        """How many of the ``more`` stories the edition does not hold (all of them in an
        edition stored before they were kept; none in one built since)."""
        return max(0, self.more - len(self.more_items) - len(self.more_references))

    @property
    def quiet(self) -> bool:
        """Nothing new this week: the section says so in one line."""
        return self.count == 0


@dataclass(frozen=True)
class TrendItem:
    """A term or entity that rose this week ("Stijgend deze week" / "Rising this week")."""

    term: str  # as shown, e.g. "thuiswerken"
    count: int  # articles this period that mention it
    kind: str = "term"  # "term" or "entity"
    ratio: float | None = None  # times its usual rate (3.2 = 3.2× as often); None: unknown
    new: bool = False  # not seen in the baseline period at all
    watchlist: str | None = None  # the watchlist it rose in; None: across everything


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
    trends: tuple[TrendItem, ...] = ()  # "Rising this week", strongest first

    @property
    def archive_path(self) -> str:
        """Path of the edition's page relative to the archive root."""
        return f"{self.year}/W{self.week:02d}/{self.slug}.html"

    @property
    def item_count(self) -> int:
        """The stories of the edition, each once: a story that belongs to several
        sections is shown in full in one and referred to in the others."""
        return sum(len(s.items) + len(s.more_items) + s.more_missing for s in self.sections)


@dataclass(frozen=True)
class Recipient:
    """A subscriber as the mail needs them.

    The links are personal (they carry a signed token): they go into the e-mail only,
    never into the archive page. See :func:`digests.tokens.with_links`.
    """

    email: str
    name: str
    language: str
    watchlists: tuple[str, ...] = ()
    manage_url: str | None = None  # <base_url>/manage/<token>
    unsubscribe_url: str | None = None  # <base_url>/unsubscribe/<token> (one-click POST)
    unsubscribe_mailto: str | None = None  # an address that unsubscribes the sender


@dataclass(frozen=True)
class SectionCount:
    """How many items one watchlist had in an archived edition."""

    watchlist: str
    title: str
    count: int


@dataclass(frozen=True)
class ArchiveEntry:
    """One edition as listed on the archive index pages and in the feed.

    :func:`digests.archive.archive_entry` makes one from an :class:`Edition`.
    """

    title: str
    language: str
    year: int
    week: int
    period_start: datetime
    period_end: datetime
    path: str  # relative to the archive root, as Edition.archive_path
    item_count: int
    watchlists: tuple[str, ...] = field(default_factory=tuple)
    sections: tuple[SectionCount, ...] = ()  # per watchlist, in the edition's order
    built_at: datetime | None = None  # the feed's <updated>; default: period_end
