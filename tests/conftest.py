"""Shared test helpers: fixture files and small config writers."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixture_bytes():
    def read(*parts: str) -> bytes:
        return FIXTURES.joinpath(*parts).read_bytes()

    return read


def write_config(directory: Path, body: str) -> Path:
    """Write a trendwatch.toml into ``directory`` and return its path."""
    path = directory / "trendwatch.toml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.fixture
def make_settings(tmp_path: Path):
    """Build validated Settings from TOML text, with data_dir inside tmp_path."""
    from pipeline.settings import load_settings

    def make(body: str):
        return load_settings(write_config(tmp_path, 'data_dir = "data"\n' + body))

    return make
