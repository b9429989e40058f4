"""Fixtures for the store's tests: a new database with one configured source.

A test module marked ``pytestmark = pytest.mark.both_databases`` (its part of the store
is ported) runs each test against SQLite and PostgreSQL (``[sqlite]``/``[postgresql]``
in its id; PostgreSQL from ``$TRENDWATCH_TEST_POSTGRES_URL``, see tests/conftest.py);
the others against SQLite only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.store import Store
from store_support import NOW, Src

BOTH = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("both_databases") is not None
        metafunc.parametrize("backend", BOTH if both else BOTH[:1])


@pytest.fixture
def database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str | Path:
    """What ``Store`` opens: a new SQLite file, or a new PostgreSQL database's URL."""
    if backend == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return tmp_path / "tw.db"


@pytest.fixture
def store(database: str | Path) -> Iterator[Store]:
    with Store(database) as s:
        s.sync_sources([Src("Bron", "https://x.test/feed")], NOW)
        yield s
