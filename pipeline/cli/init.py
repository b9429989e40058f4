"""``trendwatch init``: write a starter config."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from digests.fsutil import create_private_file
from pipeline.cli.common import Exit, console, errors
from pipeline.cli.i18n import t


@click.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--force", is_flag=True, help="Overwrite an existing trendwatch.toml.")
def init(directory: Path, force: bool) -> None:
    """Write a starter config to DIRECTORY/config/trendwatch.toml."""
    from pipeline.resources import config_file

    target = directory / "config" / "trendwatch.toml"
    if target.exists() and not force:
        errors.print(t("init.exists", target=target))
        sys.exit(Exit.USAGE)
    target.parent.mkdir(parents=True, exist_ok=True)
    # the config gets the subscribers' addresses: a new one is readable by its owner
    # only; one overwritten with --force keeps its mode
    create_private_file(target)
    target.write_text(config_file("trendwatch.example.toml").read_text("utf-8"), "utf-8")
    console.print(t("init.wrote", target=target))
