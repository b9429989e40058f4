"""``trendwatch run``: the long-running scheduler (pipeline.schedule.runner), with its
plain log for journald or a private log file, and, when ``[web] listen`` is set, the
web application in a child process (pipeline.cli.serve.web_process)."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path
from typing import Any

import click

from digests.fsutil import create_private_file, make_private_dir
from pipeline.cli.common import Context, Exit, errors, load_crawling, run_body
from pipeline.cli.serve import web_process


@click.command()
@click.option(
    "--watch-config", is_flag=True, help="Reload the config when its file changes (as SIGHUP)."
)
@click.option(
    "--log-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Append the log to this file (default: standard error).",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default="info",
    show_default=True,
    help="Log events of this level and above.",
)
@click.pass_obj
def run(obj: Context, watch_config: bool, log_file: Path | None, log_level: str) -> None:
    """Keep everything going: crawl sources when due, process what arrives, send each
    subscriber's digest on its weekday and hour, refresh the archive; with [web] listen,
    serve the web pages too (`trendwatch serve` in a process of its own). Stop with
    SIGTERM or Ctrl-C; reload the config with SIGHUP."""

    def body() -> int:
        from pipeline.schedule import runner as scheduler

        settings = obj.settings()
        load_crawling()
        _run_logging(log_file, log_level)
        try:
            with scheduler.run_lock(settings.data_dir), web_process(settings):
                return scheduler.Runner(settings, watch_config=watch_config).run()
        except scheduler.RunLockHeld as exc:
            errors.print(
                f"[bold red]Already running:[/] {exc.holder} holds {exc.path}; "
                "stop it first (one 'trendwatch run' per data folder)."
            )
            return Exit.USAGE

    run_body(body)


class _PrivateLogHandler(logging.handlers.WatchedFileHandler):
    """A WatchedFileHandler whose file, when it creates it (also after log rotation),
    has mode 0600: delivery lines name subscribers."""

    def _open(self) -> Any:
        create_private_file(Path(self.baseFilename))
        return super()._open()


def _run_logging(log_file: Path | None, level: str) -> None:
    """One plain line per event, with time and level: for journald or a log file."""
    if log_file is not None:
        make_private_dir(log_file.parent)
        handler: logging.Handler = _PrivateLogHandler(log_file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%Y-%m-%d %H:%M:%S%z")
    )
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    for noisy in ("httpx", "httpcore", "apscheduler", "scrapy", "spacy"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
