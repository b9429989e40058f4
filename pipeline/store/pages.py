"""The reads of the web's story and watchlist pages (:mod:`web.routes.stories`,
:mod:`web.routes.watchlists`): a story's articles, a watchlist's matches counted per
week, its trends, its newest stories, and the count of each watchlist in one period.

Every query starts from an index: a story's articles from ``articles_story``, a
watchlist's matches from ``matches_watchlist`` (then each article by its id), the
trends of a scope from the ``trends`` primary key, one period's articles from
``articles_source_date`` (one range per source). A watchlist's aggregates read every
match of the watchlist once, so they are kept, shared by the process's connections,
until the database changes (:meth:`PagesMixin.page_cached`, :mod:`.page_cache`):
``PRAGMA data_version`` moves when another connection commits, ``total_changes`` when
this one writes; on PostgreSQL, the change counter every write transaction bumps
(:mod:`.changes`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pipeline.store import page_cache
from pipeline.store.article_rows import Entities
from pipeline.store.changes import ChangesMixin
from pipeline.store.page_cache import shared_cache
from pipeline.store.values import chunks, iso, typed_row

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StoryArticle:
    """An article of a story, for its timeline; see ``Store.story_articles``."""

    id: int
    duplicate_of: int | None
    url: str | None
    title: str
    date: datetime  # publication, else first seen
    source_name: str
    language: str | None  # the analysis's, else the feed's
    excerpt: str  # the start of its plain text
    entities: Entities
    keyphrases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WatchlistStory:
    """One of a watchlist's newest stories: the story's representative article (or the
    matched article itself when it belongs to no story); see
    ``Store.watchlist_stories``."""

    story_id: int | None
    article_id: int  # the representative article
    title: str
    url: str | None
    source_name: str
    date: datetime  # the representative's publication, else first seen
    latest: datetime  # the newest matched article's date
    first_seen: datetime | None
    updated: datetime  # when the story (else the article) last changed in the store
    size: int  # articles in the story


@dataclass(frozen=True, slots=True)
class StoredTrend:
    """A stored trend of one week and scope; ``data`` is the document the trend job
    stored (``pipeline.process.trends``: count, ratio, score, new, label...)."""

    week: str
    kind: str  # "term", "entity" or "story"
    term: str
    rank: int
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StorySource:
    """Where a story was carried: a source and its article's link; see
    ``Store.story_sources``."""

    story_id: int
    source_name: str
    url: str | None
    article_id: int


class PagesMixin(ChangesMixin):
    """The reads of the story and watchlist pages."""

    # --- stories -------------------------------------------------------------------

    def story_articles(self, story_id: int, limit: int = 1000) -> list[StoryArticle]:
        """The articles of a story, oldest first (at most ``limit``), with their
        source, language, the start of their text and their tags."""
        rows = self._rows(
            "SELECT a.id, a.duplicate_of, a.url, a.title,"
            " coalesce(a.published, a.fetched) AS date, s.name AS source_name,"
            " coalesce(f.language, a.language) AS language,"
            " substr(a.text, 1, 600) AS excerpt, f.entities, f.keyphrases"
            " FROM articles a JOIN sources s ON s.id = a.source_id"
            " LEFT JOIN article_features f ON f.article_id = a.id"
            " WHERE a.story_id = ? ORDER BY date, a.id LIMIT ?",
            [story_id, limit],
        )
        return [typed_row(StoryArticle, r) for r in rows]

    def story_watchlists(self, story_id: int) -> list[str]:
        """The watchlists any article of the story matched, by name."""
        rows = self._rows(
            "SELECT DISTINCT m.watchlist FROM articles a JOIN matches m ON m.article_id = a.id"
            " WHERE a.story_id = ? ORDER BY m.watchlist",
            [story_id],
        )
        return [r["watchlist"] for r in rows]

    def story_sources(self, story_ids: Sequence[int]) -> list[StorySource]:
        """The sources that carried each story, each once with its first article (by
        date): canonical copies before duplicates; in the order they carried it (the
        date of that article, then its id)."""
        found: list[StorySource] = []
        for chunk, marks in chunks(sorted(set(story_ids))):
            rows = self._rows(
                "SELECT story_id, source_name, url, article_id FROM ("
                " SELECT a.story_id, s.name AS source_name, a.url, a.id AS article_id,"
                " coalesce(a.published, a.fetched) AS date,"
                " row_number() OVER (PARTITION BY a.story_id, a.source_id ORDER BY"
                " a.duplicate_of IS NOT NULL, coalesce(a.published, a.fetched), a.id) AS n"
                " FROM articles a JOIN sources s ON s.id = a.source_id"
                f" WHERE a.story_id IN ({marks})) AS ranked WHERE n = 1"
                " ORDER BY story_id, date, article_id",
                chunk,
            )
            found += [typed_row(StorySource, r) for r in rows]
        return found

    # --- watchlists ----------------------------------------------------------------

    def watchlist_week_counts(
        self, watchlist: str, weeks: Sequence[tuple[str, datetime, datetime]]
    ) -> dict[str, int]:
        """Matched articles per week, a copy and its canonical article counted once:
        ``weeks`` are (key, start, end) with end exclusive, in order and adjoining.
        Weeks without a match are 0. One pass over the watchlist's matches: each date
        is put in its week by a ``CASE`` over the weeks' starts."""
        counts = dict.fromkeys((key for key, _, _ in weeks), 0)
        if not weeks:
            return counts
        case = " ".join("WHEN d < ? THEN ?" for _ in weeks[1:])
        # before the start of week i + 1: week i
        buckets = [v for i in range(1, len(weeks)) for v in (iso(weeks[i][1]), weeks[i - 1][0])]
        rows = self._rows(
            f"SELECT CASE {case} ELSE ? END AS week, count(DISTINCT canonical) AS n FROM"
            " (SELECT coalesce(a.published, a.fetched) AS d,"
            " coalesce(a.duplicate_of, a.id) AS canonical"
            " FROM matches m JOIN articles a ON a.id = m.article_id"
            " WHERE m.watchlist = ? AND coalesce(a.published, a.fetched) >= ?"
            " AND coalesce(a.published, a.fetched) < ?) AS dated GROUP BY week",
            [*buckets, weeks[-1][0], watchlist, iso(weeks[0][1]), iso(weeks[-1][2])],
        )
        for r in rows:
            counts[r["week"]] = r["n"]
        return counts

    def watchlist_counts(self, start: datetime, end: datetime) -> dict[str, int]:
        """Per watchlist, its matched articles dated in [start, end) (a copy and its
        canonical article counted once). Watchlists without any are left out."""
        rows = self._rows(
            "SELECT m.watchlist, count(DISTINCT coalesce(a.duplicate_of, a.id)) AS n"
            " FROM articles a JOIN matches m ON m.article_id = a.id"
            " WHERE a.source_id IN (SELECT id FROM sources)"
            " AND coalesce(a.published, a.fetched) >= ? AND coalesce(a.published, a.fetched) < ?"
            " GROUP BY m.watchlist",
            [iso(start), iso(end)],
        )
        return {r["watchlist"]: r["n"] for r in rows}

    def watchlist_trends(self, watchlist: str, weeks: Sequence[str]) -> list[StoredTrend]:
        """The stored trends of a watchlist in the given ISO weeks ("2026-W48"), by week,
        kind and rank (a primary-key lookup per week)."""
        found: list[StoredTrend] = []
        for chunk, marks in chunks(sorted(set(weeks))):
            rows = self._rows(
                "SELECT week, kind, term, rank, data FROM trends"
                f" WHERE week IN ({marks}) AND scope = ? ORDER BY week, kind, rank",
                [*chunk, watchlist],
            )
            found += [typed_row(StoredTrend, r) for r in rows]
        return found

    def watchlist_stories(self, watchlist: str, limit: int = 20) -> list[WatchlistStory]:
        """The stories a watchlist matched, the one with the newest matched article
        first (at most ``limit``); an article without a story counts as one."""
        rows = self._rows(
            "WITH hits AS (SELECT a.story_id, max(a.id) AS newest_id,"
            " max(coalesce(a.published, a.fetched)) AS latest"
            " FROM matches m JOIN articles a ON a.id = m.article_id WHERE m.watchlist = ?"
            " GROUP BY coalesce(a.story_id, -a.id), a.story_id"
            " ORDER BY latest DESC, newest_id DESC"
            " LIMIT ?)"
            " SELECT h.story_id, r.id AS article_id, r.title, r.url, src.name AS source_name,"
            " coalesce(r.published, r.fetched) AS date, h.latest, s.first_seen,"
            " coalesce(s.updated, r.updated) AS updated, coalesce(s.size, 1) AS size"
            " FROM hits h LEFT JOIN stories s ON s.id = h.story_id"
            " JOIN articles r ON r.id = coalesce(s.representative_id, h.newest_id)"
            " JOIN sources src ON src.id = r.source_id"
            " ORDER BY h.latest DESC, h.newest_id DESC",
            [watchlist, limit],
        )
        return [typed_row(WatchlistStory, r) for r in rows]

    # --- a cache until the database changes ------------------------------------------

    def page_cached(self, key: tuple[Any, ...], read: Callable[[], T]) -> T:
        """``read()``, kept under ``key`` for every connection of this process to this
        database until the database changes (a commit by any connection), at most
        ``MAX_CACHED`` values (the least recently used go first). For aggregates that
        read many rows, and pages drawn from them. What ``read`` raises is not kept."""
        cache = getattr(self, "_page_cache", None)
        if cache is None:  # resolved once a connection (a path lookup costs a request)
            cache = self._page_cache = shared_cache(self.path or self.database)
        if self.path is None:  # PostgreSQL: the database's change counter
            cache.advance(self.change_stamp())
            return cache.get(key, read, page_cache.MAX_CACHED)
        stamp = (
            self._x("PRAGMA data_version").fetchone()[0],
            self._dbapi.total_changes,
        )
        if getattr(self, "_page_stamp", None) != stamp:  # a change this connection sees
            cache.changed()
            self._page_stamp = stamp
        return cache.get(key, read, page_cache.MAX_CACHED)
