"""The ``articles`` table: saving crawled entries (one row per article, also across an
alert and the publisher's feed), the queue of articles to process, counts, the
articles of a period and the export."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime

from crawlers.entries import Entry
from pipeline.store.article_rows import AnalysedArticle, ArticleToProcess, ExportedArticle
from pipeline.store.connection import StoreBase
from pipeline.store.digest_rows import PeriodArticle
from pipeline.store.rows import SaveResult
from pipeline.store.values import chunks, iso, typed_row


class ArticlesMixin(StoreBase):
    """Articles: saving entries and reading them back."""

    def save_entries(self, source_id: int, entries: Iterable[Entry], now: datetime) -> SaveResult:
        """Insert new entries, update changed ones (and queue them for processing again);
        the (source, identity) pair is unique, so repeating a save adds nothing.

        One article, one row, across an alert and the publisher's own feed (their links
        are unwrapped to the same canonical URL): an alert's new entry whose URL is
        stored already, from any other source, is not stored again (``known``); a
        feed's new entry whose URL only an alert has brought in takes over that row
        (the feed's fuller copy replaces the alert's snippet, and is processed again)."""
        new = updated = unchanged = known = 0
        with self.transaction():
            kind = self._one("SELECT type FROM sources WHERE id = ?", [source_id])
            is_alert = bool(kind) and kind["type"] == "alert"
            alerts_exist = is_alert or bool(
                self._one("SELECT 1 AS x FROM sources WHERE type = 'alert' LIMIT 1")
            )
            for e in entries:
                digest = e.content_hash
                row = self._one(
                    "SELECT id, content_hash, published FROM articles"
                    " WHERE source_id = ? AND identity = ?",
                    [source_id, e.identity],
                )
                values = {
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
                    "content_hash": digest,
                }
                if row is None and e.url and alerts_exist:
                    if is_alert:
                        if self._one(
                            "SELECT id FROM articles WHERE url = ? AND source_id != ? LIMIT 1",
                            [e.url, source_id],
                        ):
                            known += 1
                            continue
                    else:
                        held = self._one(
                            "SELECT a.id FROM articles a JOIN sources s ON s.id = a.source_id"
                            " WHERE a.url = ? AND s.type = 'alert' AND NOT EXISTS (SELECT 1"
                            " FROM articles b JOIN sources t ON t.id = b.source_id"
                            " WHERE b.url = a.url AND t.type != 'alert') LIMIT 1",
                            [e.url],
                        )
                        if held:
                            self.db.execute(
                                "UPDATE articles SET source_id = :source_id,"
                                " identity = :identity, guid = :guid, url = :url,"
                                " title = :title, summary = :summary, content = :content,"
                                " text = :text, author = :author,"
                                " published = coalesce(:published, published),"
                                " language = :language, categories = :categories,"
                                " content_hash = :content_hash, updated = :now,"
                                " processed_at = NULL WHERE id = :id",
                                {
                                    **values,
                                    "source_id": source_id,
                                    "identity": e.identity,
                                    "id": held["id"],
                                    "now": iso(now),
                                },
                            )
                            new += 1
                            continue
                if row is None:
                    self.db.execute(
                        "INSERT INTO articles (source_id, identity, guid, url, title, summary,"
                        " content, text, author, published, fetched, updated, language,"
                        " categories, content_hash) VALUES (:source_id, :identity, :guid,"
                        " :url, :title, :summary, :content, :text, :author, :published,"
                        " :now, :now, :language, :categories, :content_hash)",
                        {**values, "source_id": source_id, "identity": e.identity, "now": iso(now)},
                    )
                    new += 1
                elif row["content_hash"] != digest:
                    self.db.execute(
                        "UPDATE articles SET guid = :guid, url = :url, title = :title,"
                        " summary = :summary, content = :content, text = :text,"
                        " author = :author, published = coalesce(:published, published),"
                        " language = :language, categories = :categories,"
                        " content_hash = :content_hash, updated = :now, processed_at = NULL"
                        " WHERE id = :id",
                        {**values, "id": row["id"], "now": iso(now)},
                    )
                    updated += 1
                else:
                    if values["published"] and values["published"] != row["published"]:
                        self.db.execute(
                            "UPDATE articles SET published = ? WHERE id = ?",
                            [values["published"], row["id"]],
                        )
                    unchanged += 1
        return SaveResult(new=new, updated=updated, unchanged=unchanged, known=known)

    def known_identities(self, source_id: int, identities: Iterable[str]) -> set[str]:
        """Which of ``identities`` the source has stored already."""
        wanted = sorted(set(identities))
        found: set[str] = set()
        for chunk, marks in chunks(wanted):
            rows = self.db.execute(
                f"SELECT identity FROM articles WHERE source_id = ? AND identity IN ({marks})",
                [source_id, *chunk],
            ).fetchall()
            found.update(r[0] for r in rows)
        return found

    def article_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM articles").fetchone()[0])

    def unprocessed_count(self) -> int:
        return int(
            self.db.execute("SELECT count(*) FROM articles WHERE processed_at IS NULL").fetchone()[
                0
            ]
        )

    def articles_to_process(self, limit: int = 1000, after_id: int = 0) -> list[ArticleToProcess]:
        """Articles not processed yet (new, or changed since), in id order."""
        rows = self._rows(
            "SELECT a.id, a.title, a.url, a.summary, a.content, a.text, a.language,"
            " a.published, a.fetched, a.updated, a.story_id, s.name AS source_name,"
            " s.language AS source_language FROM articles a"
            " JOIN sources s ON s.id = a.source_id"
            " WHERE a.processed_at IS NULL AND a.id > ? ORDER BY a.id LIMIT ?",
            [after_id, limit],
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
            self.db.execute(
                "SELECT count(*) FROM articles WHERE fetched >= ?", [iso(since)]
            ).fetchone()[0]
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
        while True:
            rows = self._rows(
                "SELECT a.id, a.identity, s.name AS source_name, a.url, a.title, a.published,"
                " a.fetched, a.language, f.language AS detected_language, f.entities,"
                " f.keyphrases, a.duplicate_of, a.story_id, a.processed_at,"
                " (SELECT json_group_array(json_object('watchlist', m.watchlist,"
                " 'terms', json(m.terms), 'location', m.location, 'snippet', m.snippet))"
                " FROM matches m WHERE m.article_id = a.id) AS matches"
                " FROM articles a JOIN sources s ON s.id = a.source_id"
                " LEFT JOIN article_features f ON f.article_id = a.id"
                " WHERE a.id > ? ORDER BY a.id LIMIT ?",
                [after, batch],
            )
            if not rows:
                return
            yield from (typed_row(ExportedArticle, r) for r in rows)
            after = rows[-1]["id"]
