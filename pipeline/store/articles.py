"""The ``articles`` table: saving crawled entries (one row per article, also across an
alert and the publisher's feed), the queue of articles to process, counts, the
articles of a period and the export."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from crawlers.entries import Entry
from pipeline.crawl.ownership import Action, Holder, claim, must_look_up
from pipeline.store.article_rows import AnalysedArticle, ArticleToProcess, ExportedArticle
from pipeline.store.connection import StoreBase
from pipeline.store.digest_rows import PeriodArticle
from pipeline.store.rows import SaveResult
from pipeline.store.values import chunks, iso, typed_row

# the columns an entry sets on its article's row when it is stored again or taken over
_CONTENT = (
    "guid = :guid, url = :url, title = :title, summary = :summary, content = :content,"
    " text = :text, author = :author, published = coalesce(:published, published),"
    " language = :language, categories = :categories, content_hash = :content_hash,"
    " updated = :now"
)

# an article as the process job takes it (ArticleToProcess)
_TO_PROCESS = (
    "SELECT a.id, a.title, a.url, a.summary, a.content, a.text, a.language,"
    " a.published, a.fetched, a.updated, a.story_id, s.name AS source_name,"
    " s.language AS source_language FROM articles a JOIN sources s ON s.id = a.source_id"
)


def _article_values(e: Entry) -> dict[str, Any]:
    """An entry's columns, as the articles table keeps them."""
    return {
        "guid": e.guid,
        "url": e.url,
        "title": e.title,
        "summary": e.summary,
        "content": e.content,
        "text": e.text,
        "author": e.author,
        "published": iso(e.published),
        "language": e.language,
        "categories": json.dumps(list(e.categories), ensure_ascii=False),
        "content_hash": e.content_hash,
    }


class ArticlesMixin(StoreBase):
    """Articles: saving entries and reading them back."""

    def save_entries(self, source_id: int, entries: Iterable[Entry], now: datetime) -> SaveResult:
        """Insert new entries, update changed ones (and queue them for processing again);
        the (source, identity) pair is unique, so repeating a save adds nothing.

        One article, one row, across an alert and the publisher's own feed (their links
        are unwrapped to the same canonical URL): for each new entry, the crawl stage's
        :func:`pipeline.crawl.ownership.claim` says whether it is stored already from
        another source (``known``: an alert's copy), takes over an alert's row (a feed's
        fuller copy, processed again), or gets a row of its own.

        The source's stored rows of these entries are read in one query and the new rows
        written in one batch (an entry only ever shares its row with another source's)."""
        entries = list(entries)
        new = updated = unchanged = known = 0
        if not entries:
            return SaveResult()
        at = iso(now)
        with self.transaction():
            kind = self._one("SELECT type FROM sources WHERE id = ?", [source_id])
            from_alert = bool(kind) and kind["type"] == "alert"
            alerts_exist = from_alert or bool(
                self._one("SELECT 1 AS x FROM sources WHERE type = 'alert' LIMIT 1")
            )
            stored = self._stored(source_id, [e.identity for e in entries])
            inserts: dict[str, dict[str, Any]] = {}
            for e in entries:
                values = _article_values(e)
                if e.identity in inserts:  # a repeat within the batch: as if stored
                    self._insert(list(inserts.values()))
                    inserts.clear()
                    stored |= self._stored(source_id, [e.identity])
                row = stored.get(e.identity)
                if row is not None:
                    if self._refresh_article(row, values, now):
                        updated += 1
                    else:
                        unchanged += 1
                    stored[e.identity] = {  # as the row is now, should the entry repeat
                        "id": row["id"],
                        "content_hash": values["content_hash"],
                        "published": values["published"] or row["published"],
                    }
                    continue
                look = must_look_up(e.url, from_alert, alerts_exist)
                owner = claim(source_id, from_alert, self._url_holders(e.url) if look else [])
                if owner.action is Action.KNOWN:
                    known += 1
                    continue
                values |= {"source_id": source_id, "identity": e.identity, "now": at}
                if owner.action is Action.TAKE_OVER:
                    self._x(
                        "UPDATE articles SET source_id = :source_id, identity = :identity,"
                        f" {_CONTENT}, processed_at = NULL WHERE id = :id",
                        {**values, "id": owner.article_id},
                    )
                else:
                    inserts[e.identity] = values
                new += 1
            self._insert(list(inserts.values()))
        return SaveResult(new=new, updated=updated, unchanged=unchanged, known=known)

    def _stored(self, source_id: int, identities: list[str]) -> dict[str, dict[str, Any]]:
        """The source's stored rows (id, content hash, publication date) of ``identities``."""
        found: dict[str, dict[str, Any]] = {}
        for chunk, marks in chunks(sorted(set(identities))):
            cursor = self._x(
                "SELECT identity, id, content_hash, published FROM articles"
                f" WHERE source_id = ? AND identity IN ({marks})",
                [source_id, *chunk],
            )
            for identity, article_id, content_hash, published in cursor:
                found[identity] = {
                    "id": article_id,
                    "content_hash": content_hash,
                    "published": published,
                }
        return found

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self._many(
                "INSERT INTO articles (source_id, identity, guid, url, title, summary,"
                " content, text, author, published, fetched, updated, language,"
                " categories, content_hash) VALUES (:source_id, :identity, :guid,"
                " :url, :title, :summary, :content, :text, :author, :published,"
                " :now, :now, :language, :categories, :content_hash)",
                rows,
            )

    def _url_holders(self, url: str | None) -> list[Holder]:
        """The articles stored under ``url``, oldest first, and whether an alert holds each."""
        rows = self._x(
            "SELECT a.id, a.source_id, s.type = 'alert' FROM articles a"
            " JOIN sources s ON s.id = a.source_id WHERE a.url = ? ORDER BY a.id",
            [url],
        ).fetchall()
        return [Holder(article_id, source, bool(alert)) for article_id, source, alert in rows]

    def _refresh_article(self, row: dict, values: dict[str, Any], now: datetime) -> bool:
        """Store a known entry again: a changed one (by content hash) is updated and
        queued for processing again (True); an unchanged one only takes a new
        publication date, if it has one."""
        if row["content_hash"] != values["content_hash"]:
            self._x(
                f"UPDATE articles SET {_CONTENT}, processed_at = NULL WHERE id = :id",
                {**values, "id": row["id"], "now": iso(now)},
            )
            return True
        if values["published"] and values["published"] != row["published"]:
            self._x(
                "UPDATE articles SET published = ? WHERE id = ?", [values["published"], row["id"]]
            )
        return False

    def known_identities(self, source_id: int, identities: Iterable[str]) -> set[str]:
        """Which of ``identities`` the source has stored already."""
        wanted = sorted(set(identities))
        found: set[str] = set()
        for chunk, marks in chunks(wanted):
            rows = self._x(
                f"SELECT identity FROM articles WHERE source_id = ? AND identity IN ({marks})",
                [source_id, *chunk],
            ).fetchall()
            found.update(r[0] for r in rows)
        return found

    def article_count(self) -> int:
        return int(self._x("SELECT count(*) FROM articles").fetchone()[0])

    def unprocessed_count(self) -> int:
        return int(
            self._x("SELECT count(*) FROM articles WHERE processed_at IS NULL").fetchone()[0]
        )

    def articles_to_process(self, limit: int = 1000, after_id: int = 0) -> list[ArticleToProcess]:
        """Articles not processed yet (new, or changed since), in id order."""
        rows = self._rows(
            f"{_TO_PROCESS} WHERE a.processed_at IS NULL AND a.id > ? ORDER BY a.id LIMIT ?",
            [after_id, limit],
        )
        return [typed_row(ArticleToProcess, r) for r in rows]

    def articles_to_process_by_id(self, ids: Sequence[int]) -> list[ArticleToProcess]:
        """Those of ``ids`` not processed yet, in id order."""
        rows: list[dict] = []
        for chunk, marks in chunks(sorted(set(ids))):
            rows += self._rows(
                f"{_TO_PROCESS} WHERE a.processed_at IS NULL AND a.id IN ({marks}) ORDER BY a.id",
                chunk,
            )
        return [typed_row(ArticleToProcess, r) for r in rows]

    def processed_articles(
        self, after_id: int, through_id: int, limit: int = 1000
    ) -> list[AnalysedArticle]:
        """Processed articles with after_id < id <= through_id, in id order."""
        rows = self._rows(
            "SELECT a.id, a.title, a.url, a.text, a.language,"
            " f.language AS detected_language, f.entities FROM articles a"
            " JOIN sources s ON s.id = a.source_id"
            " LEFT JOIN article_features f ON f.article_id = a.id WHERE a.id > ? AND a.id <= ?"
            " AND a.processed_at IS NOT NULL ORDER BY a.id LIMIT ?",
            [after_id, through_id, limit],
        )
        return [typed_row(AnalysedArticle, r) for r in rows]

    def article_count_since(self, since: datetime) -> int:
        """Articles first seen since ``since``."""
        return int(
            self._x("SELECT count(*) FROM articles WHERE fetched >= ?", [iso(since)]).fetchone()[0]
        )

    def period_articles(
        self, start: datetime, end: datetime, limit: int = 2000
    ) -> list[PeriodArticle]:
        """Canonical processed articles dated in [start, end), newest first, with their
        entities and keyphrases (candidates for "Lees ook")."""
        rows = self._rows(
            "SELECT a.id, a.title, a.url, a.story_id, a.duplicate_of, s.name AS source_name,"
            " coalesce(a.published, a.fetched) AS date, f.entities, f.keyphrases"
            " FROM articles a JOIN sources s ON s.id = a.source_id"
            " JOIN article_features f ON f.article_id = a.id"
            " WHERE a.duplicate_of IS NULL AND coalesce(a.published, a.fetched) >= ?"
            " AND coalesce(a.published, a.fetched) < ? ORDER BY date DESC, a.id DESC LIMIT ?",
            [iso(start), iso(end), limit],
        )
        return [typed_row(PeriodArticle, r) for r in rows]

    def export_rows(self, batch: int = 1000) -> Iterator[ExportedArticle]:
        """Every article with its source, features and matches, in id order."""
        after = 0
        json = self.dialect
        match = json.json_object(
            ("watchlist", "m.watchlist"),
            ("terms", json.json_value("m.terms")),
            ("location", "m.location"),
            ("snippet", "m.snippet"),
        )
        matches = json.json_group_array(match, order="m.watchlist")
        while True:
            rows = self._rows(
                "SELECT a.id, a.identity, s.name AS source_name, a.url, a.title, a.published,"
                " a.fetched, a.language, f.language AS detected_language, f.entities,"
                " f.keyphrases, a.duplicate_of, a.story_id, a.processed_at,"
                f" (SELECT {matches} FROM matches m WHERE m.article_id = a.id) AS matches"
                " FROM articles a JOIN sources s ON s.id = a.source_id"
                " LEFT JOIN article_features f ON f.article_id = a.id"
                " WHERE a.id > ? ORDER BY a.id LIMIT ?",
                [after, batch],
            )
            if not rows:
                return
            yield from (typed_row(ExportedArticle, r) for r in rows)
            after = rows[-1]["id"]
