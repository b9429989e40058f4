"""``trendwatch process``: analyse the new articles, with a progress bar."""

from __future__ import annotations

import click

from pipeline.cli.common import Context, Exit, console, open_store, plural, progress_bar, run_body
from pipeline.process import job as process_job


@click.command()
@click.option(
    "--reprocess",
    is_flag=True,
    help="Forget all NLP results (tags, matches, duplicates, stories, trends) and start over.",
)
@click.pass_obj
def process(obj: Context, reprocess: bool) -> None:
    """Analyse new articles: language, tags, watchlist matches, duplicates, stories, trends."""

    def body() -> int:
        settings = obj.settings()
        with open_store(settings) as store:
            if reprocess:
                count = store.reset_processing()
                console.print(f"Processing all {plural(count, 'article')} again.")
            with progress_bar("Processing") as progress:
                task = progress.add_task("", total=store.unprocessed_count())
                report = process_job.process(
                    settings, store, on_batch=lambda n: progress.update(task, advance=n)
                )
        _print_process(report)
        return Exit.OK

    run_body(body)


def _print_process(report: process_job.ProcessReport) -> None:
    console.print(
        f"Processed {plural(report.articles, 'article')}:"
        f" {plural(report.matches, 'watchlist match', 'watchlist matches')},"
        f" {plural(report.duplicates, 'near duplicate')},"
        f" {plural(report.new_stories, 'new story', 'new stories')}."
    )
    if report.rematched:
        console.print(f"Re-matched changed watchlists: {', '.join(report.rematched)}")
