"""Helpers for the settings tests: write a config file, load it, collect its problems."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pipeline.settings import ConfigError, ConfigProblem, Settings, load_settings

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "config" / "trendwatch.example.toml"


BASE = """
[[sources]]
name = "Werk en Leven"
url = "https://example.org/feed.xml"

[[watchlists]]
name = "social-media-werk"
title = "Social media op het werk"
query = '"social media" werk'

[[watchlists]]
name = "thuiswerken"
title = "Thuiswerken"
query = "thuiswerken"

[[subscribers]]
email = "lezer@example.org"
watchlists = ["social-media-werk"]
"""


def write(tmp_path: Path, text: str, name: str = "trendwatch.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> Settings:
    return load_settings(write(tmp_path, text))


def problems(tmp_path: Path, text: str) -> list[ConfigProblem]:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert all(p.file == str(path) for p in info.value.problems)
    return info.value.problems


def only(tmp_path: Path, text: str) -> ConfigProblem:
    found = problems(tmp_path, text)
    assert len(found) == 1, found
    return found[0]


def by_key(found: list[ConfigProblem]) -> dict[str, str]:
    return {p.key: p.message for p in found}
