"""Full-text search: the ``article_search`` FTS5 table (schema version 5) and its queries.

One row per processed article, its rowid the article's id, with four columns: the
``title``, the plain ``text`` (phrases), the article's ``lemmas`` (the keys of
``article_features.terms``: its content words' lemmas, folded, as the NLP stage found
them), so that ``woning`` finds an article that only says ``woningen`` in Dutch as
``company`` finds ``companies`` in English (FTS5's porter stemmer knows only English),
and ``tags`` (``twsource<id> twlang<code>``: the source and language filters are
answered by FTS5 itself, intersecting its lists, instead of row by row). The
tokenizer folds case and diacritics (``unicode61 remove_diacritics 2``).

Kept up to date as lemon24/reader keeps its search index: incrementally.
:func:`index_articles` writes a processed batch's rows inside ``save_processed``'s
transaction (an article processed again replaces its row: a new text, source or
language); deleting an article deletes its row (a trigger); the migration indexed the
articles processed before it.

:func:`match_expression` turns a parsed query (:mod:`pipeline.search.query`) into an
FTS5 MATCH expression, quoting every word, so nothing typed reaches FTS5's syntax.

:meth:`SearchMixin.search` looks at the :data:`WINDOW` most recently stored articles
that match (and pass the filters): it ranks them by bm25 with column weights (title,
then lemmas, then text: :data:`WEIGHTS`) or by date, and counts them ("more than
2,000" beyond). Ranking every match of a word that half the archive holds would take
a tenth of a second per 50,000 articles; a window keeps a search within tens of
milliseconds however broad it is, and favours recent news, as a news search should.

On PostgreSQL the same search runs on the ``tsvector`` document of the same rows: the
parsed query becomes a ``tsquery`` under the article's language configuration, the
source is filtered on the article and the language on the row, and ``ts_rank_cd``
ranks (:mod:`pipeline.store.search_dialect`); the window, filters, orders and pages
are this module's, shared.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pipeline.process.watchlists.matching import fold
from pipeline.search.query import SearchQuery, Term
from pipeline.store import search_dialect
from pipeline.store.connection import StoreBase
from pipeline.store.values import from_iso, iso

TABLE = "article_search"
WEIGHTS = (5.0, 1.0, 2.0, 0.0)  # bm25 weights of title, text, lemmas, tags
WINDOW = 2000  # the most recently stored matches a search ranks and counts

Sort = Literal["relevance", "newest"]
_CODE = re.compile(r"[a-z]{2,8}")


class SearchError(ValueError):
    """The index could not answer the query (the page says so; never a server error)."""


@dataclass(frozen=True)
class SearchFilters:
    """What narrows a search: a watchlist's matches, a source (by name), a language
    (detected by the NLP stage), a date range [start, end) on the publication date,
    else the date first seen."""

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
    total: int  # at most WINDOW
    more: bool  # more than WINDOW matches: only the most recent WINDOW were looked at


def lemma_text(terms: Iterable[str]) -> str:
    """The ``lemmas`` column of an article: its terms' lemmas, sorted, space-separated
    (as the migration reads them from ``article_features.terms``, which keeps them
    sorted)."""
    return " ".join(sorted(terms))


def source_tag(source_id: int) -> str:
    return f"twsource{source_id}"


def language_tag(language: str) -> str:
    return f"twlang{language}"


def index_articles(db: StoreBase, articles: Iterable[tuple[int, str, str]]) -> None:
    """Index (or index again) processed articles, given as (id, language, lemmas:
    :func:`lemma_text`), inside the caller's transaction (``save_processed``): each row
    is replaced with the article's title, text and source as stored now, its lemmas and
    its language. (On PostgreSQL the row has the language too, which picks the
    ``tsvector``'s configuration.)"""
    articles = list(articles)
    if db.dialect.name == "postgresql":
        db._many(f"DELETE FROM {TABLE} WHERE id = ?", [(i,) for i, _, _ in articles])
        db._many(
            f"INSERT INTO {TABLE} (id, title, text, lemmas, tags, language)"
            " SELECT id, title, text, ?, 'twsource' || source_id || ' ' || ?, ? FROM articles"
            " WHERE id = ?",
            [(lemmas, language_tag(lang), lang, i) for i, lang, lemmas in articles],
        )
        return
    db._many(f"DELETE FROM {TABLE} WHERE rowid = ?", [(i,) for i, _, _ in articles])
    db._many(
        f"INSERT INTO {TABLE} (rowid, title, text, lemmas, tags)"
        " SELECT id, title, text, ?, 'twsource' || source_id || ' ' || ? FROM articles"
        " WHERE id = ?",
        [(lemmas, language_tag(lang), i) for i, lang, lemmas in articles],
    )


def _quoted(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _term_expression(term: Term) -> str:
    """One term. A word or prefix in any column (the lemmas hold a word's folded form
    too), plus a word's other lemmas in the lemma column; a phrase in the title or
    text. Column filters cost a look at the positions, so words go without."""
    quoted = _quoted(" ".join(term.words))
    if term.phrase:
        return "({title text} : " + quoted + ")"
    if term.prefix:
        return quoted + " *"
    others = sorted(term.lemmas - {fold(term.words[0])})
    if not others:
        return quoted
    return f"({quoted} OR lemmas : ({' OR '.join(map(_quoted, others))}))"


def match_expression(query: SearchQuery, tags: Iterable[str] = ()) -> str:
    """The FTS5 MATCH expression of ``query`` (not empty): every group (any of its terms),
    all of ``tags``, and none of the excluded terms. Words are quoted; the precedence
    is spelled out."""
    if query.empty:
        raise ValueError("an empty query has no match expression")
    parts = ["(" + " OR ".join(map(_term_expression, g)) + ")" for g in query.groups]
    parts += [f"tags : {_quoted(tag)}" for tag in tags]
    found = " AND ".join(parts)
    if not query.excluded:
        return found
    return f"({found}) NOT ({' OR '.join(map(_term_expression, query.excluded))})"


def _where(filters: SearchFilters, key: str) -> tuple[str, list[Any], bool]:
    """The filters the index cannot answer, as SQL: the watchlist's matches as one list
    the database makes once (on SQLite the ``+`` keeps it from being handed to FTS5
    rowid by rowid, which is slow), the dates on ``articles a``; and whether they need
    that join. ``key`` is the index's article id column."""
    clauses: list[str] = []
    params: list[Any] = []
    if filters.watchlist:
        clauses.append(f"+{key} IN (SELECT article_id FROM matches WHERE watchlist = ?)")
        params.append(filters.watchlist)
    if filters.start:
        clauses.append("coalesce(a.published, a.fetched) >= ?")
        params.append(iso(filters.start))
    if filters.end:
        clauses.append("coalesce(a.published, a.fetched) < ?")
        params.append(iso(filters.end))
    joined = bool(filters.start or filters.end)
    return "".join(f" AND {c}" for c in clauses), params, joined


@dataclass(frozen=True)
class _Match:
    """How one database finds a query's rows: the index's id column, the condition
    (with the source and language filters) and its parameters, whether it needs
    ``articles a``, and the best-first order and its parameters."""

    key: str
    condition: str
    params: list[Any]
    joined: bool
    best: str
    best_params: list[Any]


def _refusals(dialect: str) -> tuple[type[Exception], ...]:
    """The errors of a query the index refuses: FTS5's, or a tsquery's syntax or data."""
    if dialect != "postgresql":
        return (sqlite3.OperationalError,)
    from psycopg import errors  # only with PostgreSQL

    return (errors.SyntaxError, errors.DataError)


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
        among the :data:`WINDOW` most recently stored ones: best first (bm25 on SQLite:
        title > lemmas > text; ts_rank_cd on PostgreSQL: title and lemmas > text) or
        newest first, and how many there are. :class:`SearchError` if the index refuses
        the query (it should not: every word is quoted or passed as plain text)."""
        filters = filters or SearchFilters()
        found = (
            self._tsquery_match(query, filters)
            if self.dialect.name == "postgresql"
            else self._fts5_match(query, filters)
        )
        if found is None:  # a source or language no article has
            return SearchPage((), 0, False)
        key = found.key
        where, params, joined = _where(filters, key)
        joined = found.joined or joined or sort == "newest"
        tables = f"FROM {TABLE}" + (f" JOIN articles a ON a.id = {key}" if joined else "")
        try:
            window = self._x(
                f"SELECT {key} {tables} WHERE {found.condition}{where} ORDER BY {key} DESC LIMIT ?",
                [*found.params, *params, WINDOW + 1],
            ).fetchall()
            if not window:
                return SearchPage((), 0, False)
            lowest = window[min(len(window), WINDOW) - 1][0]
            if sort == "relevance":
                order, order_params = f"{found.best}, {key} DESC", found.best_params
            else:
                order, order_params = "coalesce(a.published, a.fetched) DESC, a.id DESC", []
            ranked = self._x(
                f"SELECT {key} {tables} WHERE {found.condition} AND {key} >= ?{where}"
                f" ORDER BY {order} LIMIT ? OFFSET ?",
                [*found.params, lowest, *params, *order_params, limit, offset],
            ).fetchall()
        except _refusals(self.dialect.name) as exc:  # a syntax error, should one slip by
            raise SearchError(str(exc)) from exc
        hits = self._search_hits([row[0] for row in ranked])
        return SearchPage(hits, min(len(window), WINDOW), len(window) > WINDOW)

    def _fts5_match(self, query: SearchQuery, filters: SearchFilters) -> _Match | None:
        """SQLite: FTS5's MATCH, the source and language as tags; bm25 with weights."""
        tags = self._filter_tags(filters)
        if tags is None:
            return None
        key = f"{TABLE}.rowid"
        best = f"bm25({TABLE}, {', '.join(map(str, WEIGHTS))})"
        return _Match(key, f"{TABLE} MATCH ?", [match_expression(query, tags)], False, best, [])

    def _tsquery_match(self, query: SearchQuery, filters: SearchFilters) -> _Match | None:
        """PostgreSQL: the document against the tsquery under the article's language's
        configuration (:mod:`pipeline.store.search_dialect`), the source on the
        article, the language on the row; ts_rank, best first."""
        if filters.language and not _CODE.fullmatch(filters.language):
            return None
        condition, params = search_dialect.match_sql(query, TABLE, filters.language)
        joined = False
        if filters.source:
            row = self._x("SELECT id FROM sources WHERE name = ?", [filters.source]).fetchone()
            if row is None:
                return None
            condition += " AND a.source_id = ?"
            params.append(row[0])
            joined = True
        rank, rank_params = search_dialect.rank_sql(query, TABLE)
        return _Match(f"{TABLE}.id", condition, params, joined, f"{rank} DESC", rank_params)

    def _filter_tags(self, filters: SearchFilters) -> list[str] | None:
        """The tags of the source and language filters; None when nothing can match."""
        tags = []
        if filters.source:
            row = self._x("SELECT id FROM sources WHERE name = ?", [filters.source]).fetchone()
            if row is None:
                return None
            tags.append(source_tag(row[0]))
        if filters.language:
            if not _CODE.fullmatch(filters.language):
                return None
            tags.append(language_tag(filters.language))
        return tags

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
            for r in self._x(
                "SELECT name FROM sources s WHERE EXISTS"
                " (SELECT 1 FROM articles a WHERE a.source_id = s.id) ORDER BY name"
            ).fetchall()
        ]
