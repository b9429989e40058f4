"""A database that an earlier trendwatch wrote opens and works: it is backed up, then
migrated from its schema version 4 to the current one, which adds tables and changes
none of the old ones; afterwards it has the schema a new database gets, and every read
the crawl, process and digest jobs make answers as it did.
``tests/fixtures/store/trendwatch-v4.db`` was made by the store before it was split into
parts (see the README beside it)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from crawlers.entries import Entry
from pipeline.store import APPLICATION_ID, SCHEMA_VERSION, ArticleInfo, CrawlRecord, Store
from store_support import NOW, Src

FIXTURE = Path(__file__).parents[2] / "fixtures" / "store" / "trendwatch-v4.db"
SEARCH_SHADOWS = ("data", "idx", "content", "docsize", "config")  # FTS5's own tables
WEEK = (NOW - timedelta(days=7), NOW)  # the fixture was written at NOW
EDITION = "2026-W48/nl-thuiswerken_banen"
FIXTURE_VERSION = 4
# what each migration after the fixture's version adds (type, name): nothing else changes
ADDED = {
    5: {
        ("table", "article_search"),
        *(("table", f"article_search_{shadow}") for shadow in SEARCH_SHADOWS),
        ("trigger", "article_search_delete"),
    },
    6: {
        ("table", "subscribers"),
        ("index", "subscribers_status"),
        ("table", "subscribe_requests"),
        ("index", "subscribe_requests_email"),
        ("index", "subscribe_requests_expires"),
    },
    7: {("table", "article_analysis")},
}


def schema(path: Path) -> list[tuple[str, str, str]]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name"
        ).fetchall()


def pragmas(path: Path) -> tuple[int, int]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return (
            conn.execute("PRAGMA user_version").fetchone()[0],
            conn.execute("PRAGMA application_id").fetchone()[0],
        )


@pytest.fixture
def old(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "trendwatch.db"
    path.parent.mkdir()
    shutil.copyfile(FIXTURE, path)
    return path


def test_once_opened_it_has_the_schema_a_new_one_gets(old: Path, tmp_path: Path) -> None:
    assert pragmas(old) == (FIXTURE_VERSION, APPLICATION_ID)
    Store(tmp_path / "new.db").close()
    Store(old).close()
    assert pragmas(old) == (SCHEMA_VERSION, APPLICATION_ID)
    assert schema(old) == schema(tmp_path / "new.db")


def test_opening_it_backs_it_up_then_only_adds_to_its_schema(old: Path) -> None:
    assert set(ADDED) == set(range(FIXTURE_VERSION + 1, SCHEMA_VERSION + 1))
    before = schema(old)
    with Store(old) as store:
        assert store.schema_version == SCHEMA_VERSION
    after = schema(old)
    assert set(before) <= set(after)  # every old table, index and trigger as it was
    added = {(kind, name) for kind, name, _ in set(after) - set(before)}
    assert added == set().union(*ADDED.values())
    # the backup, taken first, is the database as it was
    [backup] = (old.parent / "backups").iterdir()
    assert backup.name.startswith(f"trendwatch-v{FIXTURE_VERSION}-before-v{SCHEMA_VERSION}-")
    assert pragmas(backup) == (FIXTURE_VERSION, APPLICATION_ID)
    assert schema(backup) == before
    # opened again: nothing more to migrate, no second backup
    Store(old).close()
    assert schema(old) == after
    assert len(list((old.parent / "backups").iterdir())) == 1


def test_the_crawl_reads_work(old: Path) -> None:
    with Store(old) as store:
        rows = {r.name: r for r in store.sources(configured_only=False)}
        assert sorted(rows) == ["Alert", "HR Nieuws", "archief"]
        feed = rows["HR Nieuws"]
        assert (feed.url, feed.config_url, feed.moved_from) == (
            "https://hrnieuws.test.invalid/rss",
            "https://hrnieuws.test.invalid/feed.xml",
            "https://hrnieuws.test.invalid/feed.xml",
        )
        assert (feed.etag, feed.poll_interval, feed.feed_ttl, feed.article_count) == (
            '"v1"',
            3600,
            60,
            4,
        )
        alert = store.source("Alert")
        assert alert is not None
        assert (alert.consecutive_errors, alert.last_status) == (1, 503)
        assert alert.retry_after == "2026-11-26T15:00:00+00:00"
        assert [r.name for r in store.sources()] == ["Alert", "HR Nieuws"]
        assert [r.name for r in store.due_sources(NOW, force=True)] == ["HR Nieuws"]
        assert [r.name for r in store.due_sources(NOW + timedelta(hours=5))] == [
            "Alert",
            "HR Nieuws",
        ]
        assert store.next_polls() == {
            "HR Nieuws": NOW + timedelta(hours=1),
            "Alert": NOW + timedelta(hours=3),
        }
        assert store.recent_entry_times(feed.id)[0] == NOW - timedelta(days=1)
        assert store.known_identities(feed.id, ["guid:1", "guid:7"]) == {"guid:1"}


def test_the_process_reads_work(old: Path) -> None:
    with Store(old) as store:
        assert (store.article_count(), store.unprocessed_count()) == (6, 0)
        assert store.articles_to_process() == []
        assert store.max_processed_id() == 6
        assert [r.id for r in store.processed_articles(0, 6)] == [1, 2, 3, 4, 5, 6]
        assert store.watchlist_progress() == {"thuiswerken": 6, "banen": 6}
        assert isinstance(store.state("stories"), bytes)
        assert len(store.cluster_stories()) == 5
        candidates = store.dedup_candidates(NOW - timedelta(days=7))
        assert [r.id for r in candidates] == [1, 2, 3, 4, 5, 6]
        assert all(isinstance(r.minhash, bytes) for r in candidates)
        [info] = store.article_infos([2])
        assert info == ArticleInfo(
            id=2,
            duplicate_of=None,
            date=datetime.fromisoformat("2026-11-24T12:00:00+00:00"),
            source_name="HR Nieuws",
        )
        features = store.features(2)
        assert features is not None
        assert {"key": "jumbo", "label": "NAME", "text": "Jumbo"} in features.entities
        assert (store.article_story(3), store.story_count(), store.match_count()) == (2, 5, 6)
        tagged = {r.id: list(r.watchlists) for r in store.iter_tagged_articles(*WEEK)}
        assert tagged == {
            1: ["thuiswerken"],
            2: ["banen"],
            3: ["banen"],
            4: ["thuiswerken"],
            5: ["thuiswerken"],
            6: ["thuiswerken"],
        }
        assert store.has_articles_before(NOW - timedelta(days=3))
        first = store.entities_first_seen(NOW)
        assert "jumbo" in first and "nergens" not in first
        assert first["jumbo"] < NOW
        [trend] = store.trends("2026-W48")
        assert (trend["kind"], trend["story_id"], trend["this_week"]) == ("story", 2, 2)
        assert store.trends("2026-W48", "banen") == [trend]
        assert len(list(store.export_rows())) == 6


def test_the_digest_reads_work(old: Path) -> None:
    with Store(old) as store:
        matched = store.matched_articles("thuiswerken", *WEEK)
        assert [(r.id, r.source_name) for r in matched] == [
            (5, "Alert"),
            (1, "HR Nieuws"),
            (4, "HR Nieuws"),
            (6, "archief"),
        ]
        assert [r.id for r in store.period_articles(*WEEK)] == [5, 1, 2, 3, 4, 6]
        assert [(r.id, r.story_id) for r in store.story_members([2])] == [(2, 2), (3, 2)]
        assert store.stories_by_id([2])[2].label == "FNV, Jumbo, Supermarktketen Jumbo"
        [edition] = store.editions()
        assert edition.key == EDITION and edition.item_count == 5
        assert store.edition(EDITION) == edition
        assert store.editions_for(edition.slug, (NOW + timedelta(days=1)).isoformat()) == [edition]
        assert json.loads(edition.data)["key"] == EDITION
        [pending] = store.unfinished_deliveries()
        assert (pending.subscriber, pending.edition_key) == ("later@example.nl", EDITION)
        assert store.delivery_counts() == {"pending": 1, "sent": 1}
        assert store.delivered_to(edition.id) == {"sanne@example.nl", "later@example.nl"}
        assert store.next_delivery_attempt() == NOW
        assert store.state("late:fixture") == NOW.isoformat()


def test_the_jobs_can_write_to_it(old: Path) -> None:
    later = NOW + timedelta(hours=6)
    with Store(old) as store:
        store.sync_sources(
            [
                Src("HR Nieuws", "https://hrnieuws.test.invalid/feed.xml"),
                Src("Alert", "https://alerts.test.invalid/feeds/1/2", "alert", None),
            ],
            later,
        )
        feed = store.source("HR Nieuws")
        assert feed is not None and feed.url == "https://hrnieuws.test.invalid/rss"  # kept
        entry = Entry(identity="guid:5", title="Nieuw", url="https://hrnieuws.test.invalid/5")
        assert store.save_entries(feed.id, [entry], later).new == 1
        store.record_crawl(feed.id, later, CrawlRecord(ok=True, next_poll=later, status=200))
        [row] = store.articles_to_process()
        store.save_matches([], processed_ids=[row.id], progress={"banen": row.id}, now=later)
        assert store.unprocessed_count() == 0
        [pending] = store.unfinished_deliveries()
        assert store.claim_delivery(pending.id, "outbox", "<m@x>")
        store.finish_delivery(pending.id, "sent", later)
        assert store.delivery_counts() == {"sent": 2}
    with Store(old) as store:
        assert store.article_count() == 7
        assert store.schema_version == SCHEMA_VERSION
