"""Helpers for the store's tests: a fixed clock, config-like sources and watchlists, an
entry maker, and a database as an older trendwatch left it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from crawlers.entries import Entry
from pipeline.store import APPLICATION_ID, MIGRATIONS, Store

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


def query(store: Store, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """The rows of a query of the test's own, on either database (``?`` parameters)."""
    return [tuple(row) for row in store._x(sql, params).fetchall()]


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


# tables in an order their foreign keys accept (articles' story links come after stories)
COPIED = (
    "sources",
    "articles",
    "watchlists",
    "matches",
    "editions",
    "deliveries",
    "stories",
    "article_features",
    "trends",
    "cluster_stories",
    "subscribers",
    "subscribe_requests",
)
LATER = ("story_id", "duplicate_of")  # article columns set once the rows exist


def copy_into(source: Store, target: Store) -> None:
    """Every row of ``source`` (a SQLite store) into ``target`` (an empty PostgreSQL
    one), ids kept, and ``target``'s search index rebuilt: the same data on the other
    database, for tests that read both. (A test's helper, not ``migrate-db``.)"""
    with target.transaction():
        for table in COPIED:
            rows = source._rows(f"SELECT * FROM {table}")
            if not rows:
                continue
            if table == "articles":
                rows = [{**r, **dict.fromkeys(LATER)} for r in rows]
            names = list(rows[0])
            target._many(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                [tuple(r[n] for n in names) for r in rows],
            )
            if "id" in names:
                target._x(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                )
        target._many(
            "UPDATE articles SET story_id = ?, duplicate_of = ? WHERE id = ?",
            source._x("SELECT story_id, duplicate_of, id FROM articles").fetchall(),
        )
        for key, value in source._x("SELECT key, value FROM state").fetchall():
            target.set_state(key, value)
        target._x(
            "INSERT INTO article_search (id, title, text, lemmas, tags, language)"
            " SELECT a.id, a.title, a.text, coalesce((SELECT string_agg(t.key, ' ')"
            " FROM jsonb_object_keys(f.terms::jsonb) AS t(key)), ''),"
            " 'twsource' || a.source_id || ' twlang' || f.language, f.language"
            " FROM articles a JOIN article_features f ON f.article_id = a.id"
            " WHERE a.processed_at IS NOT NULL"
        )
