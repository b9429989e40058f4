"""Full-text search: the ``article_search`` FTS5 table (schema version 5) and its queries.

One row per processed article, its rowid the article's id, with three columns: the
``title``, the plain ``text`` (phrases) and the article's ``lemmas`` (the keys of
``article_features.terms``: its content words' lemmas, folded, as the NLP stage found
them), so that ``woning`` finds an article that only says ``woningen`` in Dutch as
``company`` finds ``companies`` in English; FTS5's porter stemmer knows only English.
The tokenizer folds case and diacritics (``unicode61 remove_diacritics 2``).

Kept up to date as lemon24/reader keeps its search index: incrementally.
:func:`index_articles` writes a processed batch's rows inside ``save_processed``'s
transaction (an article processed again replaces its row); deleting an article deletes
its row (a trigger); the migration indexed the articles processed before it.

:func:`match_expression` turns a parsed query (:mod:`pipeline.search.query`) into an
FTS5 MATCH expression, quoting every word, so nothing typed reaches FTS5's syntax.
:meth:`SearchMixin.search` ranks by bm25 with column weights (title, then lemmas, then
text: :data:`WEIGHTS`) or by date, with filters, a page at a time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlite_utils

from pipeline.search.query import SearchQuery, Term
from pipeline.store.connection import StoreBase
from pipeline.store.rows import ProcessedArticle
from pipeline.store.values import from_iso, iso

TABLE = "article_search"
WEIGHTS = (5.0, 1.0, 2.0)  # bm25 weights of title, text, lemmas (the columns' order)
COUNT_LIMIT = 1000  # results counted at most: beyond, the count says "more than"

Sort = Literal["relevance", "newest"]


class SearchError(ValueError):
    """The index could not answer the query (the page says so; never a server error)."""


@dataclass(frozen=True)
class SearchFilters:
    """What narrows a search: a watchlist's matches, a source, a language (detected by
    the NLP stage), a date range [start, end) on the publication date, else first seen."""

    watchlist: str | None = None
    source: str | None = None
    language: str | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class SearchHit:
    id: int
    title: str
    url: str | None
    text: str
    source: str
    date: datetime
    language: str | None
    story_id: int | None
    duplicate_of: int | None


@dataclass(frozen=True)
class SearchPage:
    hits: tuple[SearchHit, ...]
    total: int  # at most COUNT_LIMIT
    more: bool  # more than COUNT_LIMIT results


def lemma_text(terms: Iterable[str]) -> str:
    """The ``lemmas`` column of an article: its terms' lemmas, sorted, space-separated
    (as the migration reads them from ``article_features.terms``, which keeps them
    sorted)."""
    return " ".join(sorted(terms))


def index_articles(db: sqlite_utils.Database, articles: Iterable[ProcessedArticle]) -> None:
    """Index (or index again) processed articles, inside the caller's transaction
    (``save_processed``): each row is replaced with the article's title and text as
    stored now and the lemmas of its terms."""
    rows = [(a.id, lemma_text(a.terms)) for a in articles]
    db.conn.executemany(f"DELETE FROM {TABLE} WHERE rowid = ?", [(i,) for i, _ in rows])
    db.conn.executemany(
        f"INSERT INTO {TABLE} (rowid, title, text, lemmas)"
        " SELECT id, title, text, ? FROM articles WHERE id = ?",
        [(lemmas, i) for i, lemmas in rows],
    )


def _quoted(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _term_expression(term: Term) -> str:
    """One term: its words in the title or text, and a single word's lemmas too."""
    phrase = _quoted(" ".join(term.words)) + (" *" if term.prefix else "")
    plain = "{title text} : " + phrase
    if term.prefix:
        return f"({plain} OR lemmas : {phrase})"
    if term.lemmas and not term.phrase:
        lemmas = " OR ".join(_quoted(x) for x in sorted(term.lemmas))
        return f"({plain} OR lemmas : ({lemmas}))"
    return f"({plain})"


def match_expression(query: SearchQuery) -> str:
    """The FTS5 MATCH expression of ``query`` (not empty): every group (any of its terms),
    and none of the excluded terms. Words are quoted; precedence is spelled out."""
    if query.empty:
        raise ValueError("an empty query has no match expression")
    groups = ["(" + " OR ".join(map(_term_expression, g)) + ")" for g in query.groups]
    found = " AND ".join(groups)
    if not query.excluded:
        return found
    return f"({found}) NOT ({' OR '.join(map(_term_expression, query.excluded))})"


def _where(filters: SearchFilters) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if filters.watchlist:
        clauses.append(
            "EXISTS (SELECT 1 FROM matches m WHERE m.article_id = a.id AND m.watchlist = ?)"
        )
        params.append(filters.watchlist)
    if filters.source:
        clauses.append("a.source_id = (SELECT id FROM sources WHERE name = ?)")
        params.append(filters.source)
    if filters.language:
        clauses.append("(SELECT language FROM article_features WHERE article_id = a.id) = ?")
        params.append(filters.language)
    if filters.start:
        clauses.append("coalesce(a.published, a.fetched) >= ?")
        params.append(iso(filters.start))
    if filters.end:
        clauses.append("coalesce(a.published, a.fetched) < ?")
        params.append(iso(filters.end))
    return "".join(f" AND {c}" for c in clauses), params


def _hit(row: dict[str, Any]) -> SearchHit:
    date = from_iso(row["date"])
    assert date is not None  # first seen is always set
    return SearchHit(**{**row, "date": date})


class SearchMixin(StoreBase):
    """Searching the articles (the index is written by ``save_processed``)."""

    def search(
        self,
        query: SearchQuery,
        filters: SearchFilters | None = None,
        *,
        sort: Sort = "relevance",
        limit: int = 20,
        offset: int = 0,
    ) -> SearchPage:
        """One page of the articles that match ``query`` (not empty) and ``filters``,
        best first (bm25, title > lemmas > text) or newest first, and how many there are
        (counted up to :data:`COUNT_LIMIT`). :class:`SearchError` if the index refuses
        the query (it should not: every word is quoted)."""
        where, params = _where(filters or SearchFilters())
        source = (
            f"FROM {TABLE} JOIN articles a ON a.id = {TABLE}.rowid WHERE {TABLE} MATCH ?{where}"
        )
        params = [match_expression(query), *params]
        order = (
            "score, a.id DESC"
            if sort == "relevance"
            else "coalesce(a.published, a.fetched) DESC, a.id DESC"
        )
        weights = ", ".join(map(str, WEIGHTS))
        try:
            ranked = self.db.execute(
                f"SELECT a.id, bm25({TABLE}, {weights}) AS score {source}"
                f" ORDER BY {order} LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
            total = self.db.execute(
                f"SELECT count(*) FROM (SELECT 1 {source} LIMIT ?)", [*params, COUNT_LIMIT + 1]
            ).fetchone()[0]
        except sqlite3.OperationalError as exc:  # an FTS5 syntax error, should one slip by
            raise SearchError(str(exc)) from exc
        hits = self._search_hits([row[0] for row in ranked])
        return SearchPage(hits, min(total, COUNT_LIMIT), total > COUNT_LIMIT)

    def _search_hits(self, ids: list[int]) -> tuple[SearchHit, ...]:
        if not ids:
            return ()
        marks = ",".join("?" * len(ids))
        rows = {
            r["id"]: r
            for r in self._rows(
                "SELECT a.id, a.title, a.url, a.text, s.name AS source,"
                " coalesce(a.published, a.fetched) AS date,"
                " coalesce(f.language, a.language) AS language, a.story_id, a.duplicate_of"
                " FROM articles a JOIN sources s ON s.id = a.source_id"
                f" LEFT JOIN article_features f ON f.article_id = a.id WHERE a.id IN ({marks})",
                ids,
            )
        }
        return tuple(_hit(rows[i]) for i in ids if i in rows)

    def source_names(self) -> list[str]:
        """The names of the sources that have articles, for the search form."""
        return [
            r[0]
            for r in self.db.execute(
                "SELECT name FROM sources s WHERE EXISTS"
                " (SELECT 1 FROM articles a WHERE a.source_id = s.id) ORDER BY name"
            ).fetchall()
        ]
