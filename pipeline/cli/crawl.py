"""``trendwatch crawl``: fetch the sources that are due, with a progress bar and a
table of what each source brought in.

The crawling stack is loaded in the command's body (:func:`load_crawling`), never when
this module is imported.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline.cli.common import (
    Context,
    Exit,
    console,
    errors,
    load_crawling,
    open_store,
    run_body,
)
from pipeline.cli.i18n import count, decimal, t
from pipeline.settings import Settings
from pipeline.store import Store

if TYPE_CHECKING:
    from pipeline.crawl.job import SourceReport


def crawl_with_progress(
    settings: Settings,
    store: Store,
    *,
    force: bool = False,
    names: list[str] | None = None,
) -> list[SourceReport]:
    """Run the crawl job with a progress bar on standard error (also for the demo)."""
    from pipeline.crawl.job import crawl

    with Progress(
        TextColumn(f"[bold]{t('crawl.progress')}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    ) as progress:
        task = progress.add_task("", total=None)

        def start(total: int) -> None:
            progress.update(task, total=total)

        def done(report: SourceReport) -> None:
            progress.update(task, advance=1, description=report.name)

        return crawl(settings, store, force=force, names=names, on_start=start, on_done=done)


def _print_crawl(reports: list[SourceReport]) -> None:
    table = Table(title=t("crawl.title"), title_justify="left")
    for col in ("source", "result", "entries", "new", "updated", "seconds", "note"):
        table.add_column(
            t(f"crawl.col.{col}"),
            justify="right" if col in ("entries", "new", "updated") else "left",
        )
    for r in reports:
        colour = {"ok": "green", "not modified": "cyan", "error": "red"}[r.status]
        table.add_row(
            r.name,
            f"[{colour}]{t(f'crawl.status.{r.status}')}[/]",
            str(r.entries),
            str(r.new),
            str(r.updated),
            decimal(r.seconds, 2),
            r.note,
        )
    console.print(table)
    failed = sum(r.status == "error" for r in reports)
    new = sum(r.new for r in reports)
    extra = [
        t(key, count=n)
        for n, key in (
            (sum(r.moved_to is not None for r in reports), "crawl.moved"),
            (sum(r.gone for r in reports), "crawl.gone"),
            (sum(r.retry_after is not None for r in reports), "crawl.rate_limited"),
        )
        if n
    ]
    console.print(
        t(
            "crawl.summary",
            sources=count(len(reports), "source"),
            new=count(new, "new_article"),
            failed=failed,
        )
        + (f" ({', '.join(extra)})" if extra else "")
        + (t("crawl.none_succeeded") if _none_succeeded(reports) else "")
        + "."
    )


def _none_succeeded(reports: list[SourceReport]) -> bool:
    """Every source crawled failed (a 304 "not modified" is a success): exit status 1."""
    return bool(reports) and all(r.status == "error" for r in reports)


def _print_none_due(settings: Settings, store: Store) -> None:
    upcoming = sorted(r.next_poll for r in store.sources() if r.next_poll and not r.disabled_reason)
    tz = ZoneInfo(settings.schedule.timezone)
    first = datetime.fromisoformat(upcoming[0]).astimezone(tz) if upcoming else None
    when = t("crawl.next_due", when=f"{first:%Y-%m-%d %H:%M}", timezone=tz.key) if first else ""
    console.print(t("crawl.none_due", when=when))


@click.command()
@click.option(
    "--all",
    "crawl_all",
    is_flag=True,
    help="Crawl every enabled source now, also those not due yet (sources disabled after"
    " 410 Gone, or asked to wait by Retry-After, are still skipped).",
)
@click.option(
    "--source",
    "names",
    metavar="NAME",
    multiple=True,
    help="Crawl only this source, due or not (repeatable).",
)
@click.pass_obj
def crawl(obj: Context, crawl_all: bool, names: tuple[str, ...]) -> None:
    """Fetch every source that is due and store new articles; exit status 1 when
    no source succeeded and at least one failed."""

    def body() -> int:
        settings = obj.settings()
        load_crawling()
        known = {s.name for s in settings.sources}
        unknown = [n for n in names if n not in known]
        if unknown:
            errors.print(
                t(
                    "crawl.unknown",
                    names=", ".join(repr(n) for n in unknown),
                    known=", ".join(sorted(known)) or t("none"),
                ),
                markup=False,
            )
            return Exit.USAGE
        with open_store(settings) as store:
            reports = crawl_with_progress(
                settings, store, force=crawl_all, names=list(names) if names else None
            )
            if not reports:
                _print_none_due(settings, store)
                return Exit.OK
            _print_crawl(reports)
        return Exit.FAILURE if _none_succeeded(reports) else Exit.OK

    run_body(body)
