"""The rows the store hands to the process job, the trend job and the export: articles
to analyse, analysed articles with their NLP results, what the near-duplicate index and
the trends are computed from, and stories as stored.

Each is built from a SQL row whose columns are named after its fields
(:func:`pipeline.store.values.typed_row`): times are ``datetime``, JSON is decoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Entities = tuple[dict[str, str], ...]  # each {"text", "key", "label"}, as stored


@dataclass(frozen=True, slots=True)
class ArticleToProcess:
    """An article waiting for the process job (new, or changed since it was analysed),
    with its source's name and language; see ``Store.articles_to_process``."""

    id: int
    title: str
    url: str | None
    summary: str | None
    content: str | None
    text: str | None
    language: str | None  # the feed's, if it said
    published: datetime | None
    fetched: datetime
    updated: datetime
    story_id: int | None
    source_name: str
    source_language: str | None


@dataclass(frozen=True, slots=True)
class AnalysedArticle:
    """A processed article with what matching it again needs; see
    ``Store.processed_articles``."""

    id: int
    title: str
    url: str | None
    text: str | None
    language: str | None  # the feed's, if it said
    detected_language: str | None  # the analysis's (None: no features stored)
    entities: Entities


@dataclass(frozen=True, slots=True)
class ArticleInfo:
    """What the near-duplicate decision knows of an article; see ``Store.article_infos``."""

    id: int
    duplicate_of: int | None
    date: datetime  # publication, else first seen
    source_name: str


@dataclass(frozen=True, slots=True)
class DedupCandidate(ArticleInfo):
    """A recent processed article with its MinHash signature; see
    ``Store.dedup_candidates``."""

    story_id: int | None
    minhash: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class StoredFeatures:
    """One article's stored NLP results; see ``Store.features``."""

    article_id: int
    language: str
    entities: Entities
    keyphrases: tuple[str, ...]
    terms: dict[str, int]
    numbers: tuple[str, ...]
    links: tuple[str, ...]
    minhash: bytes | None = field(repr=False)
    analysed_at: datetime


@dataclass(frozen=True, slots=True)
class TaggedArticle:
    """A canonical article's tags, for the trends; see ``Store.iter_tagged_articles``."""

    id: int
    date: datetime  # publication, else first seen
    keyphrases: tuple[str, ...]
    entities: Entities
    watchlists: tuple[str, ...]  # the watchlists it matched
    story_id: int | None


@dataclass(frozen=True, slots=True)
class StoredStory:
    """A story as stored; see ``Store.stories_by_id``."""

    id: int
    label: str
    representative_id: int | None
    first_seen: datetime | None
    last_seen: datetime | None
    size: int
    updated: datetime


@dataclass(frozen=True, slots=True)
class ExportedArticle:
    """An article with its source, features and matches, for the JSON Lines export; see
    ``Store.export_rows``. Its times are the stored text, which the export writes as
    it is."""

    id: int
    identity: str | None
    source_name: str
    url: str | None
    title: str
    published: str | None
    fetched: str
    language: str | None  # the feed's, if it said
    detected_language: str | None  # the analysis's (None: not analysed)
    entities: Entities
    keyphrases: tuple[str, ...]
    matches: tuple[dict[str, Any], ...]  # each {"watchlist", "terms", "location", "snippet"}
    duplicate_of: int | None
    story_id: int | None
    processed_at: str | None
