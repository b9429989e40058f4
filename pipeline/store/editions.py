"""The ``editions`` table: each period's edition of each audience, built once and frozen
(a re-run sends what was built). Their deliveries are in ``deliveries``."""

from __future__ import annotations

from typing import Any

from pipeline.store.connection import StoreBase
from pipeline.store.digest_rows import EditionRow
from pipeline.store.values import typed_row


class EditionsMixin(StoreBase):
    """Editions, one per period and audience."""

    def edition(self, key: str) -> EditionRow | None:
        row = self._one("SELECT * FROM editions WHERE key = ?", [key])
        return typed_row(EditionRow, row) if row else None

    def add_edition(self, row: dict[str, Any]) -> int:
        """Insert an edition unless one with the same key exists; returns its id either
        way (the first build of a period wins, so a re-run sends the same content)."""
        with self.transaction():
            existing = self._one("SELECT id FROM editions WHERE key = ?", [row["key"]])
            if existing:
                return int(existing["id"])
            cursor = self._x(
                "INSERT INTO editions (key, slug, title, language, period_start, period_end,"
                " year, week, watchlists, item_count, archive_path, data, built_at) VALUES"
                " (:key, :slug, :title, :language, :period_start, :period_end, :year, :week,"
                " :watchlists, :item_count, :archive_path, :data, :built_at) RETURNING id",
                row,
            )
            return int(cursor.fetchone()[0])

    def editions_for(self, slug: str, before: str) -> list[EditionRow]:
        """Earlier editions of one audience (by slug), built before ``before`` (ISO)."""
        rows = self._rows(
            "SELECT * FROM editions WHERE slug = ? AND built_at < ? ORDER BY built_at",
            [slug, before],
        )
        return [typed_row(EditionRow, r) for r in rows]

    def editions(self) -> list[EditionRow]:
        """Every edition, the latest period first."""
        rows = self._rows("SELECT * FROM editions ORDER BY period_end DESC, key")
        return [typed_row(EditionRow, r) for r in rows]
