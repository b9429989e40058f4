"""The root of the command line (pipeline.cli): every command is registered and
documented, and an unknown one is bad usage."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests_support import trendwatch

COMMANDS = [
    *("init", "check", "demo", "crawl", "process", "digest", "archive", "status", "sources"),
    *("run", "backup", "import", "export"),
]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, tmp_path: Path) -> None:
    result = trendwatch(command, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage: trendwatch" in result.stdout
    top = trendwatch("--help", cwd=tmp_path)
    assert command in top.stdout


def test_unknown_command_is_bad_usage(tmp_path: Path) -> None:
    assert trendwatch("fly", cwd=tmp_path).returncode == 2
