"""The rows the store hands to its callers and takes from them: a source with its fetch
state, what one crawl leaves on it (:class:`CrawlRecord`, defined by the crawl stage's
decisions in :mod:`pipeline.crawl.decide`), the result of saving entries, and one processed
article and story as the process job stores them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from pipeline.crawl.decide import CrawlRecord as CrawlRecord  # re-exported: record_crawl takes it


@dataclass(frozen=True)
class SourceRow:
    id: int
    name: str
    type: str
    url: str
    language: str | None
    enabled: bool
    etag: str | None
    last_modified: str | None
    last_success: str | None
    last_error: str | None
    last_error_at: str | None
    consecutive_errors: int
    warning: str | None
    next_poll: str | None
    in_config: bool
    article_count: int = 0
    title: str | None = None
    last_fetched: str | None = None
    config_url: str | None = None
    moved_from: str | None = None
    url_changed_at: str | None = None
    disabled_reason: str | None = None
    disabled_at: str | None = None
    retry_after: str | None = None
    cache_max_age: int | None = None
    feed_ttl: int | None = None
    poll_interval: int | None = None
    last_status: int | None = None
    last_duration: float | None = None


class FeatureText(NamedTuple):
    """An article's features as ``article_features`` keeps them (JSON text) and the
    ``lemmas`` of its search row, made once where the article was analysed
    (:mod:`pipeline.store.prepared`). A tuple: cheap to hand back from a worker."""

    entities: str
    keyphrases: str
    terms: str
    numbers: str
    links: str
    lemmas: str


# One watchlist's match of one article as ``matches`` keeps it: (article id, watchlist,
# the matched terms as JSON text, location, snippet); see pipeline.store.prepared
MatchRow = tuple[int, str, str, str, str]


@dataclass(frozen=True)
class ProcessedArticle:
    """One article's NLP results, as ``save_processed`` stores them. ``text``: the same
    features as the store writes them, when the caller made them already (else the store
    makes them)."""

    id: int
    language: str
    entities: list[dict[str, str]]
    keyphrases: list[str]
    terms: dict[str, int]
    numbers: list[str]
    links: list[str]
    minhash: bytes | None
    duplicate_of: int | None
    story_id: int | None  # None keeps the story the article already has
    text: FeatureText | None = None


@dataclass(frozen=True)
class StoryRow:
    id: int
    label: str
    representative_id: int
    first: datetime | None
    last: datetime | None
    size: int


@dataclass(frozen=True)
class SaveResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    known: int = 0  # an alert's entries already stored from another source: not stored again


def source_row(r: dict) -> SourceRow:
    """A ``sources`` row (with its ``article_count``, where the query adds it)."""
    return SourceRow(
        id=r["id"],
        name=r["name"],
        type=r["type"],
        url=r["url"],
        language=r["language"],
        enabled=bool(r["enabled"]),
        etag=r["etag"],
        last_modified=r["last_modified"],
        last_success=r["last_success"],
        last_error=r["last_error"],
        last_error_at=r["last_error_at"],
        consecutive_errors=r["consecutive_errors"],
        warning=r["warning"],
        next_poll=r["next_poll"],
        in_config=bool(r["in_config"]),
        article_count=r.get("article_count", 0),
        title=r.get("title"),
        last_fetched=r.get("last_fetched"),
        config_url=r.get("config_url"),
        moved_from=r.get("moved_from"),
        url_changed_at=r.get("url_changed_at"),
        disabled_reason=r.get("disabled_reason"),
        disabled_at=r.get("disabled_at"),
        retry_after=r.get("retry_after"),
        cache_max_age=r.get("cache_max_age"),
        feed_ttl=r.get("feed_ttl"),
        poll_interval=r.get("poll_interval"),
        last_status=r.get("last_status"),
        last_duration=r.get("last_duration"),
    )
