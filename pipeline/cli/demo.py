"""``trendwatch demo``: the whole job offline on bundled feeds (pipeline.demo)."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.common import console, load_crawling, run_body
from pipeline.cli.crawl import crawl_with_progress


@click.command()
@click.argument(
    "directory", type=click.Path(path_type=Path, file_okay=False), default="trendwatch-demo"
)
def demo(directory: Path) -> None:
    """Run the whole job offline on bundled demo feeds, in DIRECTORY."""

    def body() -> int:
        from pipeline.demo.run import run_demo

        load_crawling()
        return run_demo(directory, console=console, crawl=crawl_with_progress)

    run_body(body)
