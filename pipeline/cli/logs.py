"""The plain log of the long-running commands (``run``, and ``serve`` as its child):
one line per event with time and level, to standard error (journald) or to a private
log file that follows rotation (``--log-file``)."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path
from typing import Any, TypeVar

import click

from digests.fsutil import create_private_file, make_private_dir

LEVELS = ("debug", "info", "warning", "error")
QUIET = ("httpx", "httpcore", "apscheduler", "scrapy", "spacy")  # warnings and up only

F = TypeVar("F", bound=Any)


def log_options(command: F) -> F:
    """``--log-file`` and ``--log-level``, as the long-running commands take them."""
    command = click.option(
        "--log-level",
        type=click.Choice(LEVELS, case_sensitive=False),
        default="info",
        show_default=True,
        help="Log events of this level and above.",
    )(command)
    return click.option(
        "--log-file",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Append the log to this file (default: standard error).",
    )(command)


class PrivateLogHandler(logging.handlers.WatchedFileHandler):
    """A WatchedFileHandler whose file, when it creates it (also after log rotation),
    has mode 0600: delivery lines name subscribers."""

    def _open(self) -> Any:
        create_private_file(Path(self.baseFilename))
        return super()._open()


def configure_logging(log_file: Path | None, level: str) -> None:
    """Send every logger's events of ``level`` and up to ``log_file`` (appended; 0600;
    reopened after rotation), or to standard error without one."""
    if log_file is not None:
        make_private_dir(log_file.parent)
        handler: logging.Handler = PrivateLogHandler(log_file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%Y-%m-%d %H:%M:%S%z")
    )
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    for noisy in QUIET:
        logging.getLogger(noisy).setLevel(logging.WARNING)
