"""Fixtures for the store's tests: a new database with one configured source.

A test module marked ``pytestmark = pytest.mark.both_databases`` (its part of the store
is ported) runs each test against SQLite and PostgreSQL (``[sqlite]``/``[postgresql]``
in its id; the ``database`` fixture and PostgreSQL's come from tests/conftest.py); the
others against SQLite only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.store import Store
from store_support import NOW, Src


@pytest.fixture
def store(database: str | Path) -> Iterator[Store]:
    with Store(database) as s:
        s.sync_sources([Src("Bron", "https://x.test/feed")], NOW)
        yield s
