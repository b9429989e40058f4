"""``trendwatch run``: the long-running scheduler (pipeline.schedule.runner), with its
plain log for journald or a private log file, and, when ``[web] listen`` is set, the
web application in a child process (pipeline.cli.web_child)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from pipeline.cli.common import Context, Exit, errors, load_crawling, run_body
from pipeline.cli.i18n import t
from pipeline.cli.logs import configure_logging, log_options
from pipeline.cli.web_child import web_process


@click.command()
@click.option(
    "--watch-config", is_flag=True, help="Reload the config when its file changes (as SIGHUP)."
)
@log_options
@click.pass_obj
def run(obj: Context, watch_config: bool, log_file: Path | None, log_level: str) -> None:
    """Keep everything going: crawl sources when due, process what arrives, send each
    subscriber's digest on its weekday and hour, refresh the archive; with [web] listen,
    serve the web pages too (`trendwatch serve` in a process of its own). Stop with
    SIGTERM or Ctrl-C; reload the config with SIGHUP."""

    def body() -> int:
        from pipeline.schedule import locks
        from pipeline.schedule import runner as scheduler

        settings = obj.settings()
        load_crawling()
        configure_logging(log_file, log_level)
        try:
            with (
                locks.run_lock(settings.data_dir),
                locks.database_lock(settings.database) as held,
                web_process(settings, log_file, log_level),
            ):
                runner = scheduler.Runner(settings, watch_config=watch_config, database_lock=held)
                return runner.run()
        except locks.RunLockHeld as exc:
            held = t(
                "run.held", holder=escape(exc.holder), path=escape(str(exc.path)), scope=exc.scope
            )
            errors.print(
                f"[bold red]{t('run.already')}[/] {held}",
                soft_wrap=True,
            )
            return Exit.USAGE

    run_body(body)
