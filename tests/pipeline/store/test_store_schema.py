"""The schema's migrations on a real SQLite file: v3 keeps the sources and records the
URL each was configured with."""

from __future__ import annotations

from pathlib import Path

from pipeline.store import SCHEMA_VERSION, Store
from store_support import NOW, Src, old_database


def test_v3_migration_keeps_sources_and_records_their_config_url(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old_database(path, 2)
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION >= 3
        [row] = store.sources()
        assert (row.url, row.config_url, row.etag) == ("https://x.test/feed", row.url, '"e1"')
        assert row.disabled_reason is None and row.poll_interval is None
        # the same config again keeps the fetch state; a moved feed keeps its new URL
        store.sync_sources([Src("Bron", "https://x.test/feed")], NOW)
        assert store.sources()[0].etag == '"e1"'
