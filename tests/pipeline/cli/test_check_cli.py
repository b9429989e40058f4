"""`trendwatch check`, and the configuration check every command starts with, as a
user runs them (child processes, real files)."""

from __future__ import annotations

from pathlib import Path

from tests_support import trendwatch


def test_check_reports_every_problem_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        """
colour = "blue"
[schedule]
timezone = "Europe/Amsterdan"
[[sources]]
name = "A"
url = "ftp://example.org/feed"
[[watchlists]]
name = "w"
title = "W"
query = '"unbalanced'
[[subscribers]]
email = "not-an-address"
watchlists = ["missing"]
""",
        encoding="utf-8",
    )
    result = trendwatch("--config", str(config), "check", cwd=tmp_path)
    assert result.returncode == 2
    out = result.stderr
    for key in (
        "colour",
        "schedule.timezone",
        "sources[0].url",
        "watchlists[0].query",
        "subscribers[0].email",
        "subscribers[0].watchlists[0]",
    ):
        assert f"bad.toml: {key}:" in out, (key, out)
    # every other command refuses to start on the same config
    for command in ("crawl", "process", "digest", "archive", "status"):
        assert trendwatch("--config", str(config), command, cwd=tmp_path).returncode == 2


def test_a_bad_digest_processes_names_file_key_and_what_is_expected(tmp_path: Path) -> None:
    config = tmp_path / "trendwatch.toml"
    config.write_text("[digest]\nprocesses = 0\n", encoding="utf-8")
    result = trendwatch("--config", str(config), "digest", cwd=tmp_path)
    assert result.returncode == 2
    assert (
        "trendwatch.toml: digest.processes: expected a whole number from 1 to 2, got integer 0"
        in result.stderr
    ), result.stderr


def test_missing_config_is_a_config_error(tmp_path: Path) -> None:
    result = trendwatch("check", cwd=tmp_path)
    assert result.returncode == 2
    assert "config/trendwatch.toml" in result.stderr
