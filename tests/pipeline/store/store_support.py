"""Helpers for the store's tests: a fixed clock, config-like sources and watchlists, an
entry maker, and a database as an older trendwatch left it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from crawlers.entries import Entry
from pipeline.store import APPLICATION_ID, MIGRATIONS, ProcessedArticle, Store

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@dataclass
class Src:
    """A configured source, as ``Store.sync_sources`` reads it."""

    name: str
    url: str
    type: str = "feed"
    language: str | None = "nl"
    enabled: bool = True


@dataclass
class Wl:
    """A configured watchlist, as ``Store.sync_watchlists`` reads it."""

    name: str
    title: str
    query: str


def entry(n: int, **kw: Any) -> Entry:
    base = {
        "identity": f"guid:{n}",
        "title": f"Artikel {n}",
        "url": f"https://x.test/{n}",
        "text": f"Tekst van artikel {n}.",
        "published": NOW - timedelta(hours=n),
    }
    base.update(kw)
    return Entry(**base)


def source_id(store: Store) -> int:
    return store.sources()[0].id


def old_database(path: Path, version: int) -> None:
    """A database as trendwatch at schema ``version`` left it, with one source."""
    db = sqlite_utils.Database(path)
    for _, migrate in MIGRATIONS[:version]:
        migrate(db)
    db.execute(
        "INSERT INTO sources (name, type, url, etag, created) VALUES (?, ?, ?, ?, ?)",
        ["Bron", "feed", "https://x.test/feed", '"e1"', NOW.isoformat()],
    )
    db.execute(f"PRAGMA user_version = {version}")
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.conn.commit()
    db.close()


def edition_row() -> dict[str, object]:
    """An edition's row as the digest job stores it."""
    return {
        "key": "2026-W48/nl-w",
        "slug": "nl-w",
        "title": "T",
        "language": "nl",
        "period_start": (NOW - timedelta(days=7)).isoformat(),
        "period_end": NOW.isoformat(),
        "year": 2026,
        "week": 48,
        "watchlists": "w",
        "item_count": 0,
        "archive_path": "2026/W48/nl-w.html",
        "data": "{}",
        "built_at": NOW.isoformat(),
    }


def processed(id_: int, story: int | None, duplicate_of: int | None = None) -> ProcessedArticle:
    """A processed article of one term (``quake``), in ``story``, a copy of
    ``duplicate_of`` when given: what the stories' and links' tests store."""
    return ProcessedArticle(
        id=id_,
        language="en",
        entities=[],
        keyphrases=[],
        terms={"quake": 1},
        numbers=[],
        links=[],
        minhash=None,
        duplicate_of=duplicate_of,
        story_id=story,
    )
