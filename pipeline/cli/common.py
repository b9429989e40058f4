"""What every command shares: the consoles, the exit codes, the :class:`Context` that
carries ``--config`` and ``--lang``, running a command body with failures mapped to
exit codes, and the logging set-up. What they print is in Dutch or English
(:mod:`pipeline.cli.i18n`).

A command puts its work in a ``body()`` that returns the exit status (:class:`Exit`)
and hands it to :func:`run_body`, which turns a bad configuration, a database problem
or a broken install into a message and the right status instead of a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from enum import IntEnum
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pipeline.cli.i18n import choose_language, count, t, use_language
from pipeline.settings import (
    ConfigError,
    ConfigProblem,
    Settings,
    default_config_path,
    load_settings,
)
from pipeline.store import Store, StoreError

console = Console(stderr=False, highlight=False)
errors = Console(stderr=True, highlight=False)


def progress_bar(label: str) -> Progress:
    """A long command's progress bar on stderr (gone when done): ``label`` in bold, then
    the task's description, the bar, done of total and the time taken."""
    return Progress(
        TextColumn(f"[bold]{label}[/] {{task.description}}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    )


class Exit(IntEnum):
    """The exit status of every command."""

    OK = 0
    FAILURE = 1  # a runtime failure
    USAGE = 2  # bad usage or bad configuration


class Context:
    """The root group's options, passed to every command (``click.pass_obj``)."""

    def __init__(self, config: Path | None, lang: str | None = None) -> None:
        self.config_path = config
        self.lang = lang

    def settings(self) -> Settings:
        """The validated config; from now on the CLI speaks its ``language`` unless
        ``--lang`` or $TRENDWATCH_LANG say otherwise (pipeline.cli.i18n)."""
        path = self.config_path or default_config_path()
        settings = load_settings(path)
        use_language(choose_language(self.lang, os.environ, settings.language))
        return settings


def open_store(settings: Settings) -> Store:
    """The store the config names: the SQLite file, or PostgreSQL (``database_url``)."""
    return Store(settings.database)


def sqlite_only(settings: Settings, command: str) -> None:
    """Refuse a command not yet ported to PostgreSQL when the config names one (exit
    status 2, naming the file and the key)."""
    if not isinstance(settings.database, Path):
        raise ConfigError(
            [
                ConfigProblem(
                    str(settings.path),
                    "database_url",
                    f"`trendwatch {command}` works with SQLite only so far (PostgreSQL"
                    " support is in progress); leave database_url and"
                    " $TRENDWATCH_DATABASE_URL out, or name a sqlite:/// file",
                )
            ]
        )


def fail_config(exc: ConfigError) -> None:
    errors.print(f"[bold red]{t('config.invalid')}[/] ({count(len(exc.problems), 'problem')}):")
    for problem in exc.problems:
        errors.print(f"  {problem}", markup=False)
    sys.exit(Exit.USAGE)


def run_body(fn: Callable[..., int | None], *args: Any, **kwargs: Any) -> None:
    """Run a command body, mapping failures to exit codes."""
    try:
        code = fn(*args, **kwargs)
    except ConfigError as exc:
        fail_config(exc)
    except StoreError as exc:
        errors.print(f"[bold red]{t('db.problem')}[/] {exc}")
        sys.exit(Exit.FAILURE)
    except ImportError as exc:
        fail_import(exc)
    sys.exit(code or Exit.OK)


def fail_import(exc: ImportError) -> None:
    """A package this command needs is missing or broken: say which, and how to repair
    the install. Commands that do not need it (check, status, digest, archive) still work."""
    missing = f" ({exc.name})" if exc.name else ""
    errors.print(
        f"[bold red]{t('install.broken', missing=missing)}[/] {exc}\n{t('install.repair')}",
        highlight=False,
        soft_wrap=True,
    )
    sys.exit(Exit.FAILURE)


def load_crawling() -> None:
    """Import the crawling stack (httpx, feedparser, trafilatura, Scrapy) now, so a broken
    piece stops the command at once with a clear message instead of halfway.

    Only the commands that crawl call it, in their body: the command modules import
    nothing of that stack at the top, so check, status, digest, archive and --help start
    without it (tests/test_install.py)."""
    import pipeline.crawl.job  # noqa: F401


def setup_logging(verbose: int) -> None:
    """The log of an interactive command: warnings (-v info, -vv debug) on standard error."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = RichHandler(console=errors, show_path=False, show_time=verbose > 1)
    logging.basicConfig(level=level, handlers=[handler], format="%(message)s", force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)
