"""The ``trends`` table and the reads the trend job makes: tagged articles of a week,
whether there is history before it, and which entities were seen before."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from pipeline.store.article_rows import TaggedArticle
from pipeline.store.connection import StoreBase
from pipeline.store.values import iso, json_text, typed_row


class TrendsMixin(StoreBase):
    """Trends per week and scope, and what they are computed from."""

    def iter_tagged_articles(self, start: datetime, end: datetime) -> Iterator[TaggedArticle]:
        """Canonical (non-duplicate) processed articles dated in [start, end), with their
        keyphrases, entities and the watchlists they matched; one at a time, read as
        they are taken (the caller keeps what it needs of each, not every decoded row
        at once)."""
        watchlists = self.dialect.json_group_array("m.watchlist", order="m.watchlist")
        rows = self._iter_rows(
            "SELECT a.id, a.story_id, f.keyphrases, f.entities,"
            " coalesce(a.published, a.fetched) AS date,"
            f" (SELECT {watchlists} FROM matches m WHERE m.article_id = a.id)"
            " AS watchlists FROM articles a JOIN article_features f ON f.article_id = a.id"
            " WHERE a.duplicate_of IS NULL AND coalesce(a.published, a.fetched) >= ?"
            " AND coalesce(a.published, a.fetched) < ?",
            [iso(start), iso(end)],
        )
        return (typed_row(TaggedArticle, r) for r in rows)

    def has_articles_before(self, when: datetime) -> bool:
        row = self._one(
            "SELECT 1 AS x FROM articles WHERE coalesce(published, fetched) < ? LIMIT 1",
            [iso(when)],
        )
        return row is not None

    def entities_first_seen(
        self, before: datetime, *, copies_from: datetime | None = None
    ) -> dict[str, datetime]:
        """Every entity key of the articles dated before ``before``, with the date of the
        first article it occurs in. One pass over the articles for any number of keys
        and weeks: a key was seen before a week when its date is earlier than the
        week's start. With ``copies_from``, of the articles dated from then on only the
        near-duplicate copies are read: the caller has the others
        (:meth:`iter_tagged_articles`)."""
        elements = self.dialect.json_array_elements("f.entities", "e")
        key = self.dialect.json_field("e", "key")
        date = "coalesce(a.published, a.fetched)"
        where, params = f"{date} < ?", [iso(before)]
        if copies_from is not None:
            where += f" AND ({date} < ? OR a.duplicate_of IS NOT NULL)"
            params.append(iso(copies_from))
        rows = self._rows(
            f"SELECT {key} AS key, min({date}) AS first"
            f" FROM articles a JOIN article_features f ON f.article_id = a.id, {elements}"
            f" WHERE {where} GROUP BY {key}",
            params,
        )
        return {r["key"]: datetime.fromisoformat(r["first"]) for r in rows if r["key"] is not None}

    def save_trends(self, week: str, scope: str, trends: Iterable[dict[str, Any]]) -> None:
        with self.transaction():
            self._x("DELETE FROM trends WHERE week = ? AND scope = ?", [week, scope])
            for rank, t in enumerate(trends):
                self._x(
                    "INSERT INTO trends (week, scope, kind, term, rank, data)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [week, scope, t["kind"], t["term"], rank, json_text(t)],
                )

    def trends(self, week: str, scope: str = "*") -> list[dict[str, Any]]:
        """A week's trends in one scope, each the document ``save_trends`` took (its
        fields are ``pipeline.process.trends``'s and differ per kind), in kind and rank
        order."""
        rows = self._rows(
            "SELECT data FROM trends WHERE week = ? AND scope = ? ORDER BY kind, rank",
            [week, scope],
        )
        return [json.loads(r["data"]) for r in rows]
