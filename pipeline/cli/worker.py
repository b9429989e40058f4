"""``trendwatch worker``: a work-queue worker on the configured PostgreSQL
(:mod:`pipeline.queue.worker`), until SIGTERM or Ctrl-C. Start as many as wanted, on as
many machines; SQLite has no queue (exit status 2)."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.common import Context, Exit, errors, load_crawling, run_body
from pipeline.cli.logs import configure_logging, log_options
from pipeline.settings import ConfigError, ConfigProblem


@click.command()
@click.option(
    "--queues",
    default="crawl,process,digest",
    show_default=True,
    help="The queues this worker takes jobs from, comma-separated.",
)
@click.option(
    "--concurrency", type=click.IntRange(1, 64), default=1, show_default=True,
    help="Jobs this worker runs at once.",
)  # fmt: skip
@click.option(
    "--heartbeat", type=click.FloatRange(0.5, 300), default=10.0, show_default=True,
    help="Seconds between heartbeats; silent for three, a worker is taken for dead and"
    " its jobs go back to the queue.",
)  # fmt: skip
@click.option(
    "--poll", type=click.FloatRange(0.05, 60), default=1.0, show_default=True,
    help="Seconds between an idle worker's looks for jobs freed by their lock.",
)  # fmt: skip
@click.option(
    "--sends", type=click.IntRange(1, 64), default=4, show_default=True,
    help="Digest messages this worker sends at once at most (one SMTP connection each,"
    " kept open across jobs).",
)  # fmt: skip
@click.option(
    "--batch", type=click.IntRange(1, 100_000), default=None,
    help="Articles per analysis job this worker defers (process queue; default 200).",
)  # fmt: skip
@log_options
@click.pass_obj
def worker(
    obj: Context,
    queues: str,
    concurrency: int,
    heartbeat: float,
    poll: float,
    sends: int,
    batch: int | None,
    log_file: Path | None,
    log_level: str,
) -> None:
    """Take jobs from the work queue on PostgreSQL (database_url): fetch the due
    sources (crawl), analyse what arrived in parallel batches and cluster it in order
    (process), build the due digests and mail them, one job per reader (digest). Stop
    with SIGTERM or Ctrl-C: the jobs in hand are finished first."""

    def body() -> int:
        from pipeline.queue.decide import UnknownQueue, parse_queues

        settings = obj.settings()
        if isinstance(settings.database, Path):
            raise ConfigError(
                [
                    ConfigProblem(
                        str(settings.path),
                        "database_url",
                        "`trendwatch worker` needs PostgreSQL (the work queue lives"
                        " there); set database_url or $TRENDWATCH_DATABASE_URL to a"
                        " postgresql:// URL. With SQLite, `trendwatch run` does all the"
                        " work in one process",
                    )
                ]
            )
        try:
            names = parse_queues(queues)
        except UnknownQueue as exc:
            errors.print(f"[bold red]--queues:[/] {exc}", markup=True, highlight=False)
            return Exit.USAGE
        load_crawling()
        from pipeline.queue import worker as queue_worker

        configure_logging(log_file, log_level)
        options = queue_worker.WorkerOptions(
            concurrency=concurrency,
            heartbeat=heartbeat,
            poll=poll,
            sends=sends,
            analysis_batch=batch,
        )
        queue_worker.run(settings, names, options)
        return Exit.OK

    run_body(body)
