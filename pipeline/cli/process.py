"""``trendwatch process``: analyse the new articles, with a progress bar."""

from __future__ import annotations

import click

from pipeline.cli.common import Context, Exit, console, open_store, progress_bar, run_body
from pipeline.cli.i18n import count, t
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
                again = store.reset_processing()
                console.print(t("process.again", articles=count(again, "article")))
            with progress_bar(t("process.progress")) as progress:
                task = progress.add_task("", total=store.unprocessed_count())
                report = process_job.process(
                    settings, store, on_batch=lambda n: progress.update(task, advance=n)
                )
        _print_process(report)
        return Exit.OK

    run_body(body)


def _print_process(report: process_job.ProcessReport) -> None:
    console.print(
        t(
            "process.done",
            articles=count(report.articles, "article"),
            matches=count(report.matches, "watchlist_match"),
            duplicates=count(report.duplicates, "near_duplicate"),
            stories=count(report.new_stories, "new_story"),
        )
    )
    if report.rematched:
        console.print(t("process.rematched", names=", ".join(report.rematched)))
