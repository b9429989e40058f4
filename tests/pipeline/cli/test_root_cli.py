"""The root of the command line (pipeline.cli): every command is registered and
documented (each command, subcommand and option says what it is for, as datasette's
tests demand), and an unknown one is bad usage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from pipeline.cli import cli
from tests_support import trendwatch

COMMANDS = [
    *("init", "check", "demo", "crawl", "process", "digest", "archive", "status", "sources"),
    *("run", "backup", "import", "export", "serve", "worker", "migrate-db"),
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


def commands(group: click.Group, path: str = "trendwatch") -> Iterator[tuple[str, click.Command]]:
    """Every command under ``group``, subcommands too, with its full name."""
    for name, command in sorted(group.commands.items()):
        yield f"{path} {name}", command
        if isinstance(command, click.Group):
            yield from commands(command, f"{path} {name}")


def test_the_root_registers_every_command() -> None:
    assert sorted(cli.commands) == sorted(COMMANDS)


def test_every_command_subcommand_and_option_has_help_text() -> None:
    undocumented = [name for name, command in commands(cli) if not (command.help or "").strip()]
    undocumented += [
        f"{name} {option.opts[0]}"
        for name, command in [("trendwatch", cli), *commands(cli)]
        for option in command.params
        if isinstance(option, click.Option) and not (option.help or "").strip()
    ]
    assert undocumented == []
