"""The ``stories`` and ``cluster_stories`` tables: the stories articles belong to, their
members, and the story clusterer's open stories."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pipeline.store.article_rows import StoredStory
from pipeline.store.connection import StoreBase
from pipeline.store.digest_rows import StoryMember
from pipeline.store.values import chunks, iso, typed_row


class StoriesMixin(StoreBase):
    """Stories and the clusterer's open stories."""

    def story_members(self, story_ids: Iterable[int]) -> list[StoryMember]:
        """Every article of the given stories: id, story, source, URL, title, date."""
        wanted = sorted(set(story_ids))
        rows: list[dict] = []
        for chunk, marks in chunks(wanted):
            rows += self._rows(
                "SELECT a.id, a.story_id, a.duplicate_of, a.url, a.title,"
                " coalesce(a.published, a.fetched) AS date, s.name AS source_name"
                f" FROM articles a JOIN sources s ON s.id = a.source_id"
                f" WHERE a.story_id IN ({marks}) ORDER BY a.id",
                chunk,
            )
        return [typed_row(StoryMember, r) for r in rows]

    def stories_by_id(self, ids: Iterable[int]) -> dict[int, StoredStory]:
        wanted = sorted(set(ids))
        found: dict[int, StoredStory] = {}
        for chunk, marks in chunks(wanted):
            for r in self._rows(f"SELECT * FROM stories WHERE id IN ({marks})", chunk):
                found[r["id"]] = typed_row(StoredStory, r)
        return found

    def article_story(self, article_id: int) -> int | None:
        row = self._one("SELECT story_id FROM articles WHERE id = ?", [article_id])
        return row["story_id"] if row else None

    def story_count(self, since: datetime | None = None) -> int:
        if since is None:
            return int(self._x("SELECT count(*) FROM stories").fetchone()[0])
        return int(
            self._x("SELECT count(*) FROM stories WHERE last_seen >= ?", [iso(since)]).fetchone()[0]
        )

    def cluster_stories(self) -> list[bytes]:
        """The clusterer's stored open stories, by id (see ``save_processed``)."""
        rows = self._x("SELECT state FROM cluster_stories ORDER BY id").fetchall()
        return [row[0] for row in rows]
