"""The crawl queue's tick at scale: with an unchanged config it writes nothing to the
sources (no re-sync of every source every minute), a changed config is synced, and the
due sources come from an indexed query with the crawl's own due decision."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.crawl.decide import is_due, sources_digest
from pipeline.queue.crawl import due_rows
from pipeline.settings import Source
from pipeline.store import Store
from pipeline.store.values import from_iso
from postgres_support import query

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def row_versions(store: Store) -> list[tuple]:
    """Each source row's id and the transaction that wrote it last."""
    return query(store, "SELECT id, CAST(xmin AS text) FROM sources ORDER BY id")


def test_an_unchanged_config_writes_nothing_to_the_sources_on_a_tick(
    make_settings, postgres_url: str, monkeypatch
) -> None:
    monkeypatch.setenv("TRENDWATCH_DATABASE_URL", postgres_url)
    body = "".join(
        f"[[sources]]\nname = 's{i}'\nurl = 'https://h{i % 3}.test/feed{i}'\n" for i in range(6)
    )
    settings = make_settings(body)
    with Store(postgres_url) as store:
        assert len(due_rows(settings, store, NOW)) == 6  # synced: every source new
        before = row_versions(store)
        assert len(due_rows(settings, store, NOW + timedelta(minutes=1))) == 6
        assert row_versions(store) == before  # a tick later: not one row written

        # a changed config is synced on the next tick: a new source, a moved URL, one
        # switched off, one gone from the config
        sources = list(settings.sources)
        sources[0] = replace(sources[0], url="https://elsewhere.test/feed")
        sources[1] = replace(sources[1], enabled=False)
        changed = replace(
            settings, sources=(*sources[:5], Source("new", "feed", "https://n.test/"))
        )
        names = {r.name for r in due_rows(changed, store, NOW + timedelta(minutes=2))}
        assert names == {"s0", "s2", "s3", "s4", "new"}
        assert store.source("s0").url == "https://elsewhere.test/feed"
        assert not store.source("s5").in_config
        after = dict(row_versions(store))
        assert [i for i, v in before if after[i] == v] == [  # untouched: s2, s3, s4
            store.source(n).id for n in ("s2", "s3", "s4")
        ]


def test_the_sources_digest_follows_what_the_table_follows() -> None:
    a = [Source("a", "feed", "https://a.test/"), Source("b", "feed", "https://b.test/")]
    assert sources_digest(a) == sources_digest(list(a))
    assert sources_digest(a) != sources_digest(a[::-1])
    assert sources_digest(a) != sources_digest([a[0], replace(a[1], language="nl")])
    assert sources_digest(a) != sources_digest([a[0], replace(a[1], enabled=False)])
    assert sources_digest(a) != sources_digest([a[0], replace(a[1], url="https://c.test/")])


@pytest.mark.both_databases
def test_the_due_query_equals_the_crawls_due_decision(database) -> None:
    polls = [None, NOW - timedelta(seconds=1), NOW, NOW + timedelta(seconds=1)]
    waits = [None, NOW - timedelta(minutes=1), NOW, NOW + timedelta(minutes=1)]
    sources = [
        Source(f"s{i}{j}", "feed", f"https://h.test/{i}{j}") for i in range(4) for j in range(4)
    ]
    with Store(database) as store:
        store.sync_sources(sources, NOW)
        for i, poll in enumerate(polls):
            for j, wait in enumerate(waits):
                query(
                    store,
                    "UPDATE sources SET next_poll = ?, retry_after = ? WHERE name = ?",
                    [poll and poll.isoformat(), wait and wait.isoformat(), f"s{i}{j}"],
                )
        for force in (False, True):
            got = [r.name for r in store.due_sources(NOW, force=force)]
            rows = store.sources()
            want = [
                r.name
                for r in rows
                if is_due(from_iso(r.next_poll), from_iso(r.retry_after), NOW, force=force)
            ]
            assert got == sorted(want) and 0 < len(got) < len(rows), force
