"""The ``watchlists`` and ``matches`` tables: the configured watchlists with how far each
has been matched, the matches with their explanation, and the matched articles a digest
reads."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pipeline.store.connection import StoreBase
from pipeline.store.digest_rows import MatchedArticle
from pipeline.store.values import chunks, iso, typed_row


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
        self, watchlist: str, start: datetime, end: datetime, *, max_backdate_days: int = 30
    ) -> list[MatchedArticle]:
        """Articles matched by ``watchlist`` whose date (publication, else first seen)
        falls in [start, end); entries published more than ``max_backdate_days`` before
        they were first seen are left out. Newest first."""
        rows = self._rows(
            "SELECT a.id, a.title, a.url, a.summary, a.text, a.published, a.fetched,"
            " a.language, a.story_id, a.duplicate_of, s.name AS source_name, m.terms,"
            " m.location, m.snippet, coalesce(a.published, a.fetched) AS date,"
            " f.entities, f.keyphrases"
            " FROM matches m JOIN articles a ON a.id = m.article_id"
            " JOIN sources s ON s.id = a.source_id"
            " LEFT JOIN article_features f ON f.article_id = a.id"
            " WHERE m.watchlist = ? AND coalesce(a.published, a.fetched) >= ?"
            " AND coalesce(a.published, a.fetched) < ?"
            " AND (a.published IS NULL OR"
            f" {self.dialect.days_between('a.fetched', 'a.published')} <= ?)"
            " ORDER BY date DESC, a.id DESC",
            [watchlist, iso(start), iso(end), max_backdate_days],
        )
        return [typed_row(MatchedArticle, r) for r in rows]

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
    caller's transaction (``save_matches``, ``save_processed``); the number stored."""
    # the last result per article and watchlist counts; then one statement each way
    latest = {(article_id, watchlist): why for article_id, watchlist, why in results}
    created = iso(now)
    gone = [key for key, why in latest.items() if why is None]
    found = [
        (
            article_id,
            watchlist,
            json.dumps(why.get("terms", []), ensure_ascii=False),
            why.get("location", ""),
            why.get("snippet", ""),
            created,
        )
        for (article_id, watchlist), why in latest.items()
        if why is not None
    ]
    if gone:
        db._many("DELETE FROM matches WHERE article_id = ? AND watchlist = ?", gone)
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
