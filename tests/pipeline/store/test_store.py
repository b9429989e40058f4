"""The store on real SQLite files: pragmas, migrations, idempotent writes."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawlers.entries import Entry
from pipeline.store import SCHEMA_VERSION, Store, StoreError

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@dataclass
class Src:
    name: str
    url: str
    type: str = "feed"
    language: str | None = "nl"
    enabled: bool = True


@dataclass
class Wl:
    name: str
    title: str
    query: str


def entry(n: int, **kw) -> Entry:
    base = {
        "identity": f"guid:{n}",
        "title": f"Artikel {n}",
        "url": f"https://x.test/{n}",
        "text": f"Tekst van artikel {n}.",
        "published": NOW - timedelta(hours=n),
    }
    base.update(kw)
    return Entry(**base)


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "tw.db") as s:
        s.sync_sources([Src("Bron", "https://x.test/feed")], NOW)
        yield s


def source_id(store: Store) -> int:
    return store.sources()[0].id


def test_new_database_is_wal_with_foreign_keys_and_current_schema(tmp_path: Path) -> None:
    with Store(tmp_path / "tw.db") as store:
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
        assert store.schema_version == SCHEMA_VERSION
    # reopening does not migrate again or lose anything
    with Store(tmp_path / "tw.db") as store:
        assert store.schema_version == SCHEMA_VERSION
        assert {"sources", "articles", "matches", "editions", "deliveries"} <= set(
            store.db.table_names()
        )


def test_refuses_foreign_and_newer_databases(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not a trendwatch database"):
        Store(other)
    newer = tmp_path / "newer.db"
    Store(newer).close()
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="Upgrade trendwatch"):
        Store(newer)


def test_saving_the_same_entries_twice_adds_no_rows(store: Store) -> None:
    entries = [entry(1), entry(2), entry(3)]
    first = store.save_entries(source_id(store), entries, NOW)
    again = store.save_entries(source_id(store), entries, NOW + timedelta(minutes=30))
    assert (first.new, again.new, again.unchanged) == (3, 0, 3)
    assert store.article_count() == 3


def test_changed_entry_is_updated_and_reprocessed_but_keeps_first_seen(store: Store) -> None:
    sid = source_id(store)
    store.save_entries(sid, [entry(1)], NOW)
    ids = [r["id"] for r in store.articles_to_process()]
    store.save_matches([], processed_ids=ids, now=NOW)
    assert store.articles_to_process() == []
    later = NOW + timedelta(hours=2)
    result = store.save_entries(sid, [entry(1, title="Artikel 1 (bijgewerkt)")], later)
    assert result.updated == 1
    [row] = store.articles_to_process()
    assert row["title"] == "Artikel 1 (bijgewerkt)"
    assert row["fetched"] == NOW.isoformat()
    assert row["updated"] == later.isoformat()


def test_a_failed_transaction_leaves_nothing_behind(store: Store) -> None:
    class Boom(Exception):
        pass

    def entries():
        yield entry(1)
        yield entry(2)
        raise Boom

    with pytest.raises(Boom):
        store.save_entries(source_id(store), entries(), NOW)
    assert store.article_count() == 0


def test_sources_follow_the_config(store: Store) -> None:
    store.sync_sources(
        [Src("Bron", "https://x.test/new-feed"), Src("Nieuw", "https://y.test")], NOW
    )
    rows = {r.name: r for r in store.sources()}
    assert rows["Bron"].url == "https://x.test/new-feed"
    store.sync_sources([Src("Nieuw", "https://y.test")], NOW)
    assert [r.name for r in store.sources()] == ["Nieuw"]
    gone = store.source("Bron")
    assert gone is not None and not gone.in_config  # history kept


def test_changed_watchlist_query_drops_old_matches(store: Store) -> None:
    sid = source_id(store)
    store.save_entries(sid, [entry(1)], NOW)
    store.sync_watchlists([Wl("w", "W", "artikel")])
    [row] = store.articles_to_process()
    store.save_matches(
        [(row["id"], "w", {"terms": ["Artikel"], "location": "title", "snippet": ""})],
        processed_ids=[row["id"]],
        progress={"w": row["id"]},
        now=NOW,
    )
    assert store.match_count() == 1
    assert store.sync_watchlists([Wl("w", "W", "artikel")]) == []
    assert store.sync_watchlists([Wl("w", "W", "tekst")]) == ["w"]
    assert store.match_count() == 0


def test_edition_key_is_unique_and_delivery_claimed_once(store: Store) -> None:
    row = {
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
    first = store.add_edition(row)
    assert store.add_edition({**row, "title": "other"}) == first
    assert len(store.editions()) == 1
    d = store.ensure_delivery(first, "a@example.org", NOW)
    assert store.ensure_delivery(first, "a@example.org", NOW)["id"] == d["id"]
    assert store.claim_delivery(d["id"], "outbox", "<m@x>") is True
    assert store.claim_delivery(d["id"], "outbox", "<m@x>") is False  # second runner loses
    store.finish_delivery(d["id"], "sent", NOW)
    assert store.delivery(d["id"])["status"] == "sent"
    assert store.delivery_counts() == {"sent": 1}


def test_v3_migration_keeps_sources_and_records_their_config_url(tmp_path: Path) -> None:
    import sqlite_utils

    from pipeline.store import APPLICATION_ID, MIGRATIONS

    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    for _, migrate in MIGRATIONS[:2]:
        migrate(db)
    db.execute(
        "INSERT INTO sources (name, type, url, etag, created) VALUES (?, ?, ?, ?, ?)",
        ["Bron", "feed", "https://x.test/feed", '"e1"', NOW.isoformat()],
    )
    db.execute("PRAGMA user_version = 2")
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.conn.commit()
    db.close()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION >= 3
        [row] = store.sources()
        assert (row.url, row.config_url, row.etag) == ("https://x.test/feed", row.url, '"e1"')
        assert row.disabled_reason is None and row.poll_interval is None
        # the same config again keeps the fetch state; a moved feed keeps its new URL
        store.sync_sources([Src("Bron", "https://x.test/feed")], NOW)
        assert store.sources()[0].etag == '"e1"'


def test_an_alert_never_stores_an_article_twice(tmp_path: Path) -> None:
    with Store(tmp_path / "tw.db") as store:
        store.sync_sources(
            [Src("Uitgever", "https://x.test/feed"), Src("Alert", "https://a.test/", "alert")], NOW
        )
        ids = {r.name: r.id for r in store.sources()}
        alert_first = entry(1, identity="guid:alert-1", text="Kort.")
        saved = store.save_entries(ids["Alert"], [alert_first, entry(2, identity="a-2")], NOW)
        assert (saved.new, saved.known) == (2, 0)
        # the publisher's copy of article 1 takes over the alert's row
        saved = store.save_entries(ids["Uitgever"], [entry(1, text="Het hele verhaal.")], NOW)
        assert saved.new == 1 and store.article_count() == 2
        [row] = store.db.execute(
            "SELECT source_id, text FROM articles WHERE url = 'https://x.test/1'"
        ).fetchall()
        assert row == (ids["Uitgever"], "Het hele verhaal.")
        # the alert brings it again: known, not stored
        again = store.save_entries(ids["Alert"], [alert_first], NOW)
        assert (again.new, again.known) == (0, 1) and store.article_count() == 2
