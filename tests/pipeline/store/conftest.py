"""Fixtures for the store's tests: a new database with one configured source."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.store import Store
from store_support import NOW, Src


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "tw.db") as s:
        s.sync_sources([Src("Bron", "https://x.test/feed")], NOW)
        yield s
