"""The store's reads for the story and watchlist pages (pipeline/store/pages.py) on a real
SQLite file filled by the real crawl and process jobs: the typed rows they return (also
on PostgreSQL, the same rows copied there), a query plan without a full scan of a big
table for each, and the cache kept until the database changes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from pages_support import NOW, seeded, story_of
from pipeline.settings import load_settings
from pipeline.store import Store, StoredTrend, StoryArticle, StorySource, WatchlistStory, page_cache
from postgres_support import as_on
from web.routes.watchlists import recent_weeks

BIG_TABLES = {"articles", "matches", "trends", "stories", "article_features", "sources"}
ALIASES = {"a": "articles", "r": "articles", "m": "matches", "f": "article_features"}

pytestmark = pytest.mark.both_databases  # the tests of read_store


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seeded(tmp_path_factory.mktemp("store"))


@pytest.fixture
def store(config: Path):
    with Store(load_settings(config).database) as opened:
        yield opened


@pytest.fixture
def read_store(store: Store, database: str | Path) -> Iterator[Store]:
    """The filled store, or on PostgreSQL a database with its rows copied there."""
    with as_on(store, database) as either:
        yield either


def weeks():
    return recent_weeks(NOW, "Europe/Amsterdam")


def test_a_storys_articles_oldest_first_with_source_language_and_tags(
    read_store: Store, config: Path
) -> None:
    store = read_store
    story = story_of(config, "https://nos.example/jumbo")
    rows = store.story_articles(story)
    assert all(isinstance(r, StoryArticle) for r in rows)
    assert [(r.source_name, r.language) for r in rows] == [
        ("NOS", "nl"),
        ("Regio", "nl"),
        ("Wire", "en"),
    ]
    nos, regio, wire = rows
    assert regio.duplicate_of == nos.id and nos.duplicate_of is None
    assert nos.date == NOW - timedelta(days=1) and nos.url == "https://nos.example/jumbo"
    assert nos.excerpt.startswith("Supermarktketen Jumbo schrapt") and len(nos.excerpt) <= 600
    assert "jumbo" in {e["key"] for e in wire.entities} and isinstance(nos.keyphrases, tuple)
    assert store.story_articles(story, limit=1) == [nos]
    assert store.story_watchlists(story) == ["jumbo"]
    assert store.story_articles(10**6) == [] and store.story_watchlists(10**6) == []
    sources = store.story_sources([story])
    assert all(isinstance(s, StorySource) for s in sources)
    assert [(s.source_name, s.url) for s in sources] == [
        ("NOS", "https://nos.example/jumbo"),
        ("Regio", "https://regio.example/jumbo-banen"),
        ("Wire", "https://wire.example/jumbo"),
    ]  # in the order they carried it (the crawl stores them in any order); each once


def test_a_watchlists_counts_per_week_trends_and_stories(read_store: Store) -> None:
    store = read_store
    counts = store.watchlist_week_counts("thuiswerken", weeks())
    assert list(counts) == [key for key, _, _ in weeks()]
    assert {k: n for k, n in counts.items() if n} == {
        "2026-W28": 1, "2026-W39": 1, "2026-W44": 1, "2026-W46": 1, "2026-W47": 1, "2026-W48": 3,
    }  # fmt: skip
    assert store.watchlist_week_counts("jumbo", weeks())["2026-W48"] == 2  # the copy once
    assert store.watchlist_week_counts("thuiswerken", []) == {}
    this_week = weeks()[-1]
    assert store.watchlist_counts(this_week[1], this_week[2]) == {"thuiswerken": 3, "jumbo": 2}
    stories = store.watchlist_stories("thuiswerken", limit=3)
    assert all(isinstance(s, WatchlistStory) for s in stories)
    assert [s.latest for s in stories] == sorted((s.latest for s in stories), reverse=True)
    assert [s.size for s in stories] == [1, 1, 1] and stories[0].updated == NOW
    (jumbo,) = store.watchlist_stories("jumbo")
    assert (jumbo.title, jumbo.source_name, jumbo.size) == (
        "Jumbo schrapt 300 banen in Veghel",
        "NOS",
        3,
    )
    assert jumbo.latest == NOW - timedelta(days=1) + timedelta(hours=4)  # the English report
    assert store.watchlist_stories("stil") == []
    trends = store.watchlist_trends("jumbo", [key for key, _, _ in weeks()])
    assert trends and all(isinstance(t, StoredTrend) and t.week == "2026-W48" for t in trends)
    assert {t.kind for t in trends} >= {"entity"} and isinstance(trends[0].data, dict)


def plans(store: Store, read: Callable[[], Any]) -> list[tuple[str, list[str]]]:
    """The query plan of every SELECT ``read`` runs."""
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    try:
        read()
    finally:
        store.db.conn.set_trace_callback(None)
    found = []
    for sql in statements:
        if sql.lstrip().upper().startswith(("SELECT", "WITH")):
            rows = store.db.conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
            found.append((sql, [row[3] for row in rows]))
    return found


READS: dict[str, Callable[[Store], Any]] = {
    "story_articles": lambda s: s.story_articles(1),
    "story_watchlists": lambda s: s.story_watchlists(1),
    "story_sources": lambda s: s.story_sources([1, 2, 3]),
    "watchlist_week_counts": lambda s: s.watchlist_week_counts("thuiswerken", weeks()),
    "watchlist_counts": lambda s: s.watchlist_counts(weeks()[-1][1], weeks()[-1][2]),
    "watchlist_trends": lambda s: s.watchlist_trends("jumbo", [k for k, _, _ in weeks()]),
    "watchlist_stories": lambda s: s.watchlist_stories("thuiswerken", 30),
    "stories_by_id": lambda s: s.stories_by_id([1]),
}


@pytest.mark.parametrize("name", sorted(READS))
def test_every_read_searches_an_index_and_scans_no_big_table(store: Store, name: str) -> None:
    found = plans(store, lambda: READS[name](store))
    assert found, name
    for sql, plan in found:
        for step in plan:
            scanned = re.match(r"SCAN (\w+)", step)
            table = ALIASES.get(scanned.group(1), scanned.group(1)) if scanned else None
            assert table not in BIG_TABLES, (name, step, sql)
        assert any(step.startswith("SEARCH") for step in plan), (name, plan)


def test_the_page_cache_holds_until_the_database_changes(store: Store, config: Path) -> None:
    calls: list[int] = []

    def read() -> int:
        calls.append(1)
        return len(calls)

    assert store.page_cached(("k",), read) == 1
    assert store.page_cached(("k",), read) == 1  # kept
    store.watchlist_stories("thuiswerken")  # reading changes nothing
    assert store.page_cached(("k",), read) == 1
    with Store(load_settings(config).database) as other:  # another connection commits
        other.db.execute("INSERT INTO state (key, value) VALUES ('x', 'y')")
        other.db.conn.commit()
    assert store.page_cached(("k",), read) == 2
    store.db.execute("DELETE FROM state WHERE key = 'x'")  # this connection writes
    store.db.conn.commit()
    assert store.page_cached(("k",), read) == 3
    assert store.page_cached(("other key",), read) == 4


def test_the_page_cache_is_bounded(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(page_cache, "MAX_CACHED", 3)
    store.page_cached(("start",), lambda: 0)  # this connection's first look empties it
    for n in range(5):
        store.page_cached(("n", n), lambda n=n: n)
    kept = page_cache.shared_cache(store.path).values
    assert list(kept) == [("n", 2), ("n", 3), ("n", 4)]
    assert store.page_cached(("n", 2), lambda: -1) == 2  # kept, and now used last
    store.page_cached(("n", 5), lambda: 5)
    assert list(kept) == [("n", 4), ("n", 2), ("n", 5)]

    def fails() -> int:
        raise LookupError("no such story")

    with pytest.raises(LookupError):
        store.page_cached(("n", 6), fails)
    assert ("n", 6) not in kept


def test_the_connections_of_a_process_share_the_cache(store: Store, config: Path) -> None:
    """The web's threads each have a connection: a page read by one is kept for all,
    and a change that any of them sees empties it for all."""
    calls: list[str] = []

    def read(who: str) -> Callable[[], str]:
        return lambda: calls.append(who) or who

    with Store(load_settings(config).database) as other:
        other.page_cached(("first look",), lambda: "")  # a new connection cannot tell
        # what changed before it: its first look empties the cache (once a thread)
        assert store.page_cached(("shared",), read("store")) == "store"
        assert other.page_cached(("shared",), read("other")) == "store"  # a hit
        other.db.execute("INSERT INTO state (key, value) VALUES ('x', 'y')")
        other.db.conn.commit()  # the writer's next look empties it
        assert other.page_cached(("shared",), read("other")) == "other"
        assert store.page_cached(("shared",), read("store")) == "store"  # sees it too
        assert store.page_cached(("shared",), read("x")) == "store"
        other.db.execute("DELETE FROM state WHERE key = 'x'")
        other.db.conn.commit()
    assert calls == ["store", "other", "store"]


def test_a_value_read_across_a_change_is_not_kept(store: Store, config: Path) -> None:
    """A read that began before another connection noticed a change may predate it:
    it is answered, but not kept."""
    with Store(load_settings(config).database) as other:
        store.page_cached(("k",), lambda: "before")
        other.page_cached(("k",), lambda: "before")

        def read_while_it_changes() -> str:
            other.db.execute("INSERT INTO state (key, value) VALUES ('y', 'z')")
            other.db.conn.commit()
            other.page_cached(("unrelated",), lambda: "")  # notices: empties the cache
            return "stale"

        assert store.page_cached(("new",), read_while_it_changes) == "stale"
        assert other.page_cached(("new",), lambda: "fresh") == "fresh"
        other.db.execute("DELETE FROM state WHERE key = 'y'")
        other.db.conn.commit()
