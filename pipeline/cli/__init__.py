"""The command line: ``trendwatch [--config PATH] [--lang nl|en] COMMAND``.

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

What they share (consoles, exit codes, running a body, logging) is pipeline.cli.common;
what they print is Dutch or English (pipeline.cli.i18n, strings in pipeline.cli.strings).
Exit status: 0 success, 1 runtime failure, 2 bad usage or bad configuration. Every
command validates the configuration before it does anything. No command module
imports the crawling stack at the top: the commands that crawl load it in their body.
"""

from __future__ import annotations

import os
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
from pipeline.cli.i18n import LANGUAGES, choose_language, reset_language, use_language
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
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    default=None,
    help="Language of the output (default: $TRENDWATCH_LANG, the config's language,"
    " the locale, else en).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, lang: str | None, verbose: int) -> None:
    """Trendwatch: follow your field's news in Dutch and English and get a weekly digest."""
    setup_logging(verbose)
    try:
        # until the config is read (Context.settings): without its language
        language = choose_language(lang, os.environ)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    token = use_language(language)
    ctx.call_on_close(lambda: reset_language(token))
    ctx.obj = Context(config, lang)


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
