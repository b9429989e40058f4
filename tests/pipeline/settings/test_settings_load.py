"""Tests for loading the config file: where it is, paths relative to it, and every way
the file itself can fail to be read; the shipped example and demo configs load."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.settings import (
    TOP_KEYS,
    ConfigError,
    ConfigProblem,
    default_config_path,
    load_settings,
)
from settings_support import EXAMPLE, REPO, load, only, write


def test_example_config_loads() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.path == EXAMPLE
    assert settings.data_dir == REPO / "data"
    assert settings.smtp is not None
    assert settings.sender == settings.smtp.sender
    assert settings.sources and settings.watchlists and settings.subscribers
    for subscriber in settings.subscribers:
        for name in subscriber.watchlists:
            assert settings.watchlist(name).name == name


def test_data_dir_resolved_relative_to_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    config_dir = tmp_path / "etc"
    config_dir.mkdir()
    path = write(config_dir, 'data_dir = "../var/trendwatch"\n')
    settings = load_settings(path)
    assert settings.path == path.resolve()
    assert settings.data_dir == (tmp_path / "var" / "trendwatch").resolve()
    assert settings.db_path == settings.data_dir / "trendwatch.db"
    assert settings.archive_dir == settings.data_dir / "archive"
    assert settings.outbox_dir == settings.data_dir / "outbox"


def test_data_dir_absolute_kept(tmp_path: Path) -> None:
    target = (tmp_path / "abs").resolve()
    settings = load(tmp_path, f"data_dir = '{target}'\n")
    assert settings.data_dir == target


def test_relative_config_path_reported_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    write(tmp_path / "config", "x = 1\n")
    with pytest.raises(ConfigError) as info:
        load_settings("config/trendwatch.toml")
    assert str(info.value) == (
        f"config/trendwatch.toml: x: unknown key; expected one of: {', '.join(TOP_KEYS)}"
    )
    assert TOP_KEYS[:3] == ("data_dir", "base_url", "digest_title")


def test_default_config_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRENDWATCH_CONFIG", raising=False)
    assert default_config_path() == Path("config/trendwatch.toml")
    monkeypatch.setenv("TRENDWATCH_CONFIG", "/etc/trendwatch.toml")
    assert default_config_path() == Path("/etc/trendwatch.toml")


def test_toml_syntax_error(tmp_path: Path) -> None:
    problem = only(tmp_path, 'digest_title = "Trendwatch\n[schedule]\n')
    assert problem.key == ""
    assert problem.message.startswith("invalid TOML: ")
    assert "line 1" in problem.message and "column" in problem.message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.problems == [
        ConfigProblem(str(path), "", "file not found (start from config/trendwatch.example.toml)")
    ]
    assert str(info.value).startswith(f"{path}: file not found")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    assert info.value.problems[0].message == "is a directory, expected a TOML file"


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('digest_title = "Caf\u00e9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.problems[0].message.startswith("not UTF-8 text")


def test_demo_config_validates_with_no_per_host_delay(tmp_path: Path) -> None:
    text = (REPO / "config" / "demo.toml").read_text("utf-8")
    settings = load(tmp_path, text.replace("{feeds}", "http://127.0.0.1:8123/feeds"))
    assert settings.allow_private_networks is True
    assert settings.crawl.per_host_delay == 0.0
    assert len(settings.sources) == 5
