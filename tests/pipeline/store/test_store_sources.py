"""Sources on SQLite and PostgreSQL: the table follows the config, and history is kept."""

from __future__ import annotations

import pytest

from pipeline.store import Store
from store_support import NOW, Src

pytestmark = pytest.mark.both_databases


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
