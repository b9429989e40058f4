"""The ``watchlists`` and ``matches`` tables: the configured watchlists with how far each
has been matched, the matches with their explanation, and the matched articles a digest
reads."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pipeline.store.connection import StoreBase
from pipeline.store.digest_rows import MatchedArticle
from pipeline.store.prepared import match_row
from pipeline.store.rows import MatchRow
from pipeline.store.values import chunks, decoders, iso


class MatchesMixin(StoreBase):
    """Watchlists and their matches."""

    def sync_watchlists(self, watchlists: Iterable[Any]) -> list[str]:
        """Store the configured watchlists; a new or changed query drops its old matches
        so stored articles are matched again. Returns the names that need (re)matching."""
        stale: list[str] = []
        names: list[str] = []
        with self.transaction():
            for w in watchlists:
                names.append(w.name)
                row = self._one("SELECT query FROM watchlists WHERE name = ?", [w.name])
                if row is None:
                    self._x(
                        "INSERT INTO watchlists (name, title, query) VALUES (?, ?, ?)",
                        [w.name, w.title, w.query],
                    )
                elif row["query"] != w.query:
                    self._x("DELETE FROM matches WHERE watchlist = ?", [w.name])
                    self._x(
                        "UPDATE watchlists SET title = ?, query = ?, matched_through = 0"
                        " WHERE name = ?",
                        [w.title, w.query, w.name],
                    )
                else:
                    self._x("UPDATE watchlists SET title = ? WHERE name = ?", [w.title, w.name])
            placeholders = ",".join("?" * len(names)) or "''"
            self._x(f"DELETE FROM watchlists WHERE name NOT IN ({placeholders})", names)
            top = self.max_processed_id()
            for row in self._rows("SELECT name, matched_through FROM watchlists"):
                if row["matched_through"] < top:
                    stale.append(row["name"])
        return stale

    def watchlist_progress(self) -> dict[str, int]:
        return {r["name"]: r["matched_through"] for r in self._rows("SELECT * FROM watchlists")}

    def max_processed_id(self) -> int:
        return int(
            self._x(
                "SELECT coalesce(max(id), 0) FROM articles WHERE processed_at IS NOT NULL"
            ).fetchone()[0]
        )

    def save_matches(
        self,
        results: Iterable[tuple[int, str, dict[str, Any] | None]],
        *,
        processed_ids: Iterable[int] = (),
        progress: dict[str, int] | None = None,
        now: datetime,
    ) -> int:
        """Store match results ``(article_id, watchlist, explanation or None)`` in one
        transaction, mark articles processed and advance each watchlist's progress."""
        with self.transaction():
            count = write_matches(self, results, now)
            mark_processed(self, list(processed_ids), progress or {}, now)
        return count

    def matched_articles(
        self,
        watchlist: str,
        start: datetime,
        end: datetime,
        *,
        max_backdate_days: int = 30,
        known: dict[int, dict[str, Any]] | None = None,
    ) -> list[MatchedArticle]:
        """Articles matched by ``watchlist`` whose date (publication, else first seen)
        falls in [start, end); entries published more than ``max_backdate_days`` before
        they were first seen are left out. Newest first.

        ``known``: the caller's article columns, decoded, by article id, kept across
        calls (and filled in here): an article many watchlists matched is then read and
        decoded once, not once per watchlist. The rows are the same either way."""
        matches = self._x(
            "SELECT a.id, m.terms, m.location, m.snippet"
            " FROM matches m JOIN articles a ON a.id = m.article_id"
            " JOIN sources s ON s.id = a.source_id"
            " WHERE m.watchlist = ? AND coalesce(a.published, a.fetched) >= ?"
            " AND coalesce(a.published, a.fetched) < ?"
            " AND (a.published IS NULL OR"
            f" {self.dialect.days_between('a.fetched', 'a.published')} <= ?)"
            " ORDER BY coalesce(a.published, a.fetched) DESC, a.id DESC",
            [watchlist, iso(start), iso(end), max_backdate_days],
        ).fetchall()
        articles = {} if known is None else known
        self._read_matched_articles([i for i, *_ in matches if i not in articles], articles)
        terms = _MATCH_DECODERS["terms"]
        return [
            MatchedArticle(**articles[i], terms=terms(t), location=loc, snippet=snip)
            for i, t, loc, snip in matches
        ]

    def period_matches(
        self,
        start: datetime,
        end: datetime,
        *,
        max_backdate_days: int = 30,
        known: dict[int, dict[str, Any]] | None = None,
    ) -> dict[str, list[MatchedArticle]]:
        """:meth:`matched_articles` of every watchlist at once, by watchlist name (one
        with no match in the period is left out): the period's articles are found
        through the date indexes and their matches by article, instead of each
        watchlist's matches of every period being joined with their articles.
        ``known`` as there."""
        dated = self._x(
            "SELECT a.id, a.published AS date FROM articles a"
            " WHERE a.published >= ? AND a.published < ?"
            f" AND {self.dialect.days_between('a.fetched', 'a.published')} <= ?"
            " UNION ALL SELECT a.id, a.fetched FROM articles a"
            " WHERE a.published IS NULL AND a.fetched >= ? AND a.fetched < ?",
            [iso(start), iso(end), max_backdate_days, iso(start), iso(end)],
        ).fetchall()
        # newest first, then the highest id, as matched_articles orders them
        order = {
            i: n for n, (i, _) in enumerate(sorted(dated, key=lambda r: (r[1], r[0]), reverse=True))
        }
        articles = {} if known is None else known
        self._read_matched_articles([i for i in order if i not in articles], articles)
        terms = _MATCH_DECODERS["terms"]
        found: dict[str, list[tuple[int, MatchedArticle]]] = {}
        for chunk, marks in chunks(list(order)):
            cursor = self._x(
                "SELECT article_id, watchlist, terms, location, snippet FROM matches"
                f" WHERE article_id IN ({marks})",
                chunk,
            )
            for i, watchlist, t, loc, snip in cursor:
                if i in articles:  # (an article without its source is not matched_articles')
                    row = MatchedArticle(**articles[i], terms=terms(t), location=loc, snippet=snip)
                    found.setdefault(watchlist, []).append((order[i], row))
        return {name: [row for _, row in sorted(rows, key=_first)] for name, rows in found.items()}

    def _read_matched_articles(self, ids: list[int], into: dict[int, dict[str, Any]]) -> None:
        """The article columns of a :class:`MatchedArticle` of each of ``ids``, decoded."""
        decoders = [(name, _MATCH_DECODERS[name]) for name in _ARTICLE_COLUMNS]
        for chunk, marks in chunks(ids):
            cursor = self._x(
                "SELECT a.id, a.title, a.url, a.summary, a.text, a.published, a.fetched,"
                " a.language, a.story_id, a.duplicate_of, s.name AS source_name,"
                " coalesce(a.published, a.fetched) AS date, f.entities, f.keyphrases"
                " FROM articles a JOIN sources s ON s.id = a.source_id"
                " LEFT JOIN article_features f ON f.article_id = a.id"
                f" WHERE a.id IN ({marks})",
                chunk,
            )
            for row in cursor:
                into[row[0]] = {
                    name: decode(value) for (name, decode), value in zip(decoders, row, strict=True)
                }

    def match_count(self, since: datetime | None = None) -> int:
        if since is None:
            return int(self._x("SELECT count(*) FROM matches").fetchone()[0])
        return int(
            self._x("SELECT count(*) FROM matches WHERE created >= ?", [iso(since)]).fetchone()[0]
        )


def write_matches(
    db: StoreBase,
    results: Iterable[tuple[int, str, dict[str, Any] | None]],
    now: datetime,
) -> int:
    """Store match results ``(article_id, watchlist, explanation or None)`` inside the
    caller's transaction (``save_matches``); the number stored."""
    # the last result per article and watchlist counts; then one statement each way
    latest = {(article_id, watchlist): why for article_id, watchlist, why in results}
    gone = [key for key, why in latest.items() if why is None]
    if gone:
        db._many("DELETE FROM matches WHERE article_id = ? AND watchlist = ?", gone)
    return write_match_rows(
        db, [match_row(a, w, why) for (a, w), why in latest.items() if why is not None], now
    )


def write_match_rows(db: StoreBase, rows: Iterable[MatchRow], now: datetime) -> int:
    """Store matches as rows (:func:`~pipeline.store.prepared.match_row`; one per
    article and watchlist) inside the caller's transaction; the number stored."""
    created = iso(now)
    found = [(*row, created) for row in rows]
    if found:
        db._many(
            "INSERT INTO matches (article_id, watchlist, terms, location, snippet,"
            " created) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (article_id, watchlist)"
            " DO UPDATE SET terms = excluded.terms, location = excluded.location,"
            " snippet = excluded.snippet",
            found,
        )
    return len(found)


def mark_processed(db: StoreBase, ids: list[int], progress: dict[str, int], now: datetime) -> None:
    """Mark articles processed and advance each watchlist's progress, inside the caller's
    transaction."""
    for chunk, marks in chunks(ids):
        db._x(
            f"UPDATE articles SET processed_at = ? WHERE id IN ({marks})",
            [iso(now), *chunk],
        )
    highest = db.dialect.greatest("matched_through", "?")
    for name, through in progress.items():
        db._x(
            f"UPDATE watchlists SET matched_through = {highest} WHERE name = ?",
            [through, name],
        )


# the columns of a MatchedArticle that are the article's (the rest are the match's), in
# the order _read_matched_articles selects them, and each field's decoder
_ARTICLE_COLUMNS = (
    "id",
    "title",
    "url",
    "summary",
    "text",
    "published",
    "fetched",
    "language",
    "story_id",
    "duplicate_of",
    "source_name",
    "date",
    "entities",
    "keyphrases",
)
_MATCH_DECODERS = dict(decoders(MatchedArticle))


def _first(pair: tuple[int, MatchedArticle]) -> int:
    return pair[0]
