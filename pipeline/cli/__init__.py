"""The command line: ``trendwatch [--config PATH] COMMAND``.

This is the root: the ``trendwatch`` group with its options, and the registration of
the commands, one module each::

    init     pipeline.cli.init      write a starter config
    check    pipeline.cli.check     validate the config
    crawl    pipeline.cli.crawl     fetch the sources that are due
    process  pipeline.cli.process   analyse new articles
    import   pipeline.cli.jsonl     articles in and out as JSON Lines
    export   pipeline.cli.jsonl
    digest   pipeline.cli.digest    build and deliver the editions
    archive  pipeline.cli.archive   rewrite the archive pages
    run      pipeline.cli.run       the scheduler, until stopped (and the web, if set)
    serve    pipeline.cli.serve     the web application (web/), until stopped
    status   pipeline.cli.status    health and what comes next (pipeline.status)
    sources  pipeline.cli.sources   add, import, export, enable sources
    backup   pipeline.cli.backup    a checked copy of the database
    migrate-db pipeline.cli.migrate_db  move the SQLite database into PostgreSQL
    demo     pipeline.cli.demo      the whole job offline on bundled feeds
    worker   pipeline.cli.worker    a work-queue worker (PostgreSQL)

What they share (consoles, exit codes, running a body, logging) is pipeline.cli.common.
Exit status: 0 success, 1 runtime failure, 2 bad usage or bad configuration. Every
command validates the configuration before it does anything. No command module
imports the crawling stack at the top: the commands that crawl load it in their body.
"""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli import (
    archive,
    backup,
    check,
    crawl,
    demo,
    digest,
    init,
    jsonl,
    migrate_db,
    process,
    run,
    serve,
    sources,
    status,
    worker,
)
from pipeline.cli.common import Context, setup_logging
from pipeline.status import status_data  # its home is pipeline.status; kept importable here

__all__ = ["cli", "main", "status_data"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "-c",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Config file (default: $TRENDWATCH_CONFIG or config/trendwatch.toml).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, verbose: int) -> None:
    """Trendwatch: follow your field's news in Dutch and English and get a weekly digest."""
    setup_logging(verbose)
    ctx.obj = Context(config)


for _command in (
    init.init,
    check.check,
    crawl.crawl,
    process.process,
    jsonl.import_cmd,
    jsonl.export_cmd,
    digest.digest,
    archive.archive,
    run.run,
    serve.serve,
    status.status,
    sources.sources,
    backup.backup,
    migrate_db.migrate_db,
    demo.demo,
    worker.worker,
):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="trendwatch")
