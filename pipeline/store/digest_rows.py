"""The rows the store hands to the digest job: the articles an edition is built from
(each story's members, the period's articles, a watchlist's matches: each of these
rows is the one before with more), and editions and deliveries as stored.

Each is built from a SQL row whose columns are named after its fields
(:func:`pipeline.store.values.typed_row`): times are ``datetime``, JSON is decoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pipeline.store.article_rows import Entities


@dataclass(frozen=True, slots=True)
class StoryMember:
    """An article of a story; see ``Store.story_members``."""

    id: int
    story_id: int | None
    duplicate_of: int | None
    url: str | None
    title: str
    date: datetime  # publication, else first seen
    source_name: str


@dataclass(frozen=True, slots=True)
class PeriodArticle(StoryMember):
    """A canonical processed article of a period with its tags, a candidate for "Lees
    ook"; see ``Store.period_articles``."""

    entities: Entities
    keyphrases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MatchedArticle(PeriodArticle):
    """An article a watchlist matched, with why; see ``Store.matched_articles``."""

    summary: str | None
    text: str | None
    published: datetime | None
    fetched: datetime
    language: str | None
    terms: tuple[str, ...]  # the matched words as they stand
    location: str  # "title", "body" or "title+body"
    snippet: str


@dataclass(frozen=True, slots=True)
class EditionRow:
    """A built edition, frozen: ``data`` is the edition itself as JSON
    (``pipeline.digest.editions.edition_from_json`` reads it); see ``Store.edition``."""

    id: int
    key: str  # "2026-W48/nl-thuiswerken"
    slug: str
    title: str
    language: str
    period_start: datetime
    period_end: datetime
    year: int
    week: int
    watchlists: str  # comma-separated names
    item_count: int
    archive_path: str
    data: str = field(repr=False)
    built_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """One edition to one subscriber; the row is the lock that makes sending happen
    once. See ``Store.ensure_delivery``."""

    id: int
    edition_id: int
    subscriber: str
    status: str  # "pending", "sending", "sent" or "failed"
    transport: str | None
    attempts: int
    message_id: str | None
    last_error: str | None
    next_attempt: datetime | None
    created: datetime
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class UnfinishedDelivery(DeliveryRow):
    """A delivery still pending or left 'sending', with its edition; see
    ``Store.unfinished_deliveries``."""

    edition_key: str
    built_at: datetime
    data: str = field(repr=False)
