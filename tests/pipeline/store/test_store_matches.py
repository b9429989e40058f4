"""Watchlists and matches on SQLite and PostgreSQL: a changed query is matched again."""

from __future__ import annotations

import pytest

from pipeline.store import Store
from store_support import NOW, Wl, entry, source_id

pytestmark = pytest.mark.both_databases


def test_changed_watchlist_query_drops_old_matches(store: Store) -> None:
    sid = source_id(store)
    store.save_entries(sid, [entry(1)], NOW)
    store.sync_watchlists([Wl("w", "W", "artikel")])
    [row] = store.articles_to_process()
    store.save_matches(
        [(row.id, "w", {"terms": ["Artikel"], "location": "title", "snippet": ""})],
        processed_ids=[row.id],
        progress={"w": row.id},
        now=NOW,
    )
    assert store.match_count() == 1
    assert store.sync_watchlists([Wl("w", "W", "artikel")]) == []
    assert store.sync_watchlists([Wl("w", "W", "tekst")]) == ["w"]
    assert store.match_count() == 0
