"""The command line: ``trendwatch [--config PATH] COMMAND``.

Exit status: 0 success, 1 runtime failure, 2 bad usage or bad configuration. Every
command validates the configuration before it does anything.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline import jobs
from pipeline.jsonl import ImportError_, iter_export, write_jsonl
from pipeline.settings import ConfigError, Settings, default_config_path, load_settings
from pipeline.store import Store, StoreError

console = Console(stderr=False, highlight=False)
errors = Console(stderr=True, highlight=False)

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class Context:
    def __init__(self, config: Path | None) -> None:
        self.config_path = config

    def settings(self) -> Settings:
        path = self.config_path or default_config_path()
        return load_settings(path)


def _fail_config(exc: ConfigError) -> None:
    errors.print(f"[bold red]Invalid configuration[/] ({len(exc.problems)} problem(s)):")
    for problem in exc.problems:
        errors.print(f"  {problem}", markup=False)
    sys.exit(EXIT_USAGE)


def _run(fn: Callable[..., int | None], *args: Any, **kwargs: Any) -> None:
    """Run a command body, mapping failures to exit codes."""
    try:
        code = fn(*args, **kwargs)
    except ConfigError as exc:
        _fail_config(exc)
    except StoreError as exc:
        errors.print(f"[bold red]Database problem:[/] {exc}")
        sys.exit(EXIT_FAILURE)
    sys.exit(code or EXIT_OK)


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = RichHandler(console=errors, show_path=False, show_time=verbose > 1)
    logging.basicConfig(level=level, handlers=[handler], format="%(message)s", force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)


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
    _setup_logging(verbose)
    ctx.obj = Context(config)


# --- init / check ------------------------------------------------------------------


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--force", is_flag=True, help="Overwrite an existing trendwatch.toml.")
def init(directory: Path, force: bool) -> None:
    """Write a starter config to DIRECTORY/config/trendwatch.toml."""
    from pipeline.resources import config_file

    target = directory / "config" / "trendwatch.toml"
    if target.exists() and not force:
        errors.print(f"{target} exists already; use --force to overwrite it.")
        sys.exit(EXIT_USAGE)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(config_file("trendwatch.example.toml").read_text("utf-8"), "utf-8")
    console.print(f"Wrote {target}. Edit it, then run: trendwatch --config {target} check")


@cli.command()
@click.pass_obj
def check(obj: Context) -> None:
    """Validate the configuration and report every problem at once."""

    def body() -> int:
        s = obj.settings()
        console.print(
            f"{s.path}: OK — {len(s.sources)} sources, {len(s.watchlists)} watchlists, "
            f"{len(s.subscribers)} subscribers; data in {s.data_dir}"
        )
        return EXIT_OK

    _run(body)


# --- jobs --------------------------------------------------------------------------


def _open(settings: Settings) -> Store:
    return Store(settings.db_path)


def _crawl_with_progress(settings: Settings, store: Store) -> list[jobs.SourceReport]:
    enabled = [s for s in settings.sources if s.enabled]
    with Progress(
        TextColumn("[bold]Crawling"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    ) as progress:
        task = progress.add_task("", total=len(enabled))

        def done(report: jobs.SourceReport) -> None:
            progress.update(task, advance=1, description=report.name)

        return jobs.crawl(settings, store, on_done=done)


def _print_crawl(reports: list[jobs.SourceReport]) -> None:
    table = Table(title="Crawl", title_justify="left")
    for col in ("source", "result", "entries", "new", "updated", "seconds", "note"):
        table.add_column(col, justify="right" if col in ("entries", "new", "updated") else "left")
    for r in reports:
        colour = {"ok": "green", "not modified": "cyan", "error": "red"}[r.status]
        table.add_row(
            r.name,
            f"[{colour}]{r.status}[/]",
            str(r.entries),
            str(r.new),
            str(r.updated),
            f"{r.seconds:.2f}",
            r.error or r.warning or "",
        )
    console.print(table)
    failed = sum(r.status == "error" for r in reports)
    new = sum(r.new for r in reports)
    console.print(f"{len(reports)} sources, {new} new articles, {failed} failed.")


@cli.command()
@click.pass_obj
def crawl(obj: Context) -> None:
    """Fetch every enabled source once and store new articles."""

    def body() -> int:
        settings = obj.settings()
        with _open(settings) as store:
            _print_crawl(_crawl_with_progress(settings, store))
        return EXIT_OK

    _run(body)


@cli.command()
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
        with _open(settings) as store:
            if reprocess:
                count = store.reset_processing()
                console.print(f"Processing all {count} articles again.")
            with Progress(
                TextColumn("[bold]Processing"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=errors,
                transient=True,
            ) as progress:
                task = progress.add_task("", total=store.unprocessed_count())
                report = jobs.process(
                    settings, store, on_batch=lambda n: progress.update(task, advance=n)
                )
        _print_process(report)
        return EXIT_OK

    _run(body)


@cli.command("import")
@click.option(
    "--jsonl",
    "path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="JSON Lines file: id, title, text, url, published, optional lang and source.",
)
@click.pass_obj
def import_cmd(obj: Context, path: Path) -> None:
    """Load articles from a JSON Lines file (run `trendwatch process` next)."""

    def body() -> int:
        settings = obj.settings()
        with _open(settings) as store:
            try:
                report = jobs.import_jsonl(store, path)
            except ImportError_ as exc:
                errors.print(f"[bold red]Cannot import[/] ({len(exc.problems)} problem(s)):")
                errors.print(str(exc), markup=False)
                errors.print("Nothing was imported.")
                return EXIT_USAGE
        console.print(
            f"Read {report.articles} articles: {report.new} new, {report.updated} updated,"
            f" {report.unchanged} unchanged (sources: {', '.join(report.sources) or '-'})."
        )
        return EXIT_OK

    _run(body)


@cli.command("export")
@click.option(
    "--jsonl",
    "path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    help="Where to write the JSON Lines ('-' for standard output).",
)
@click.pass_obj
def export_cmd(obj: Context, path: Path) -> None:
    """Write every article with language, entities, keyphrases, matches, story id."""

    def body() -> int:
        settings = obj.settings()
        with _open(settings) as store:
            rows = iter_export(store.export_rows())
            if str(path) == "-":
                count = write_jsonl(rows, sys.stdout)
            else:
                tmp = path.with_name(path.name + ".part")
                with tmp.open("w", encoding="utf-8") as out:
                    count = write_jsonl(rows, out)
                tmp.replace(path)
        errors.print(f"Exported {count} articles to {path}.")
        return EXIT_OK

    _run(body)


def _print_process(report: jobs.ProcessReport) -> None:
    console.print(
        f"Processed {report.articles} articles: {report.matches} watchlist matches,"
        f" {report.duplicates} near duplicates, {report.new_stories} new stories."
    )
    if report.rematched:
        console.print(f"Re-matched changed watchlists: {', '.join(report.rematched)}")


@cli.command()
@click.option("--dry-run", is_flag=True, help="Render and write the archive; send nothing.")
@click.pass_obj
def digest(obj: Context, dry_run: bool) -> None:
    """Build this week's edition for each subscriber and deliver it (once)."""

    def body() -> int:
        settings = obj.settings()
        with _open(settings) as store:
            report = jobs.digest(settings, store, dry_run=dry_run)
        _print_digest(settings, report, dry_run)
        return EXIT_OK if report.ok else EXIT_FAILURE

    _run(body)


def _print_digest(settings: Settings, report: jobs.DigestReport, dry_run: bool) -> None:
    for key in report.editions:
        state = "built" if key in report.built else "existing"
        console.print(f"Edition {key} ({state})")
    if dry_run:
        console.print("Dry run: nothing sent.")
    for line in report.sent:
        console.print(f"  sent {line}")
    for line in report.skipped:
        console.print(f"  already delivered {line}")
    for line in report.failed:
        errors.print(f"  [red]failed[/] {line}")
    if report.outbox and report.sent:
        console.print(f"Mail written to {report.outbox}")
    console.print(f"Archive: {settings.archive_dir / 'index.html'}")


@cli.command()
@click.pass_obj
def archive(obj: Context) -> None:
    """Rewrite every archive page and the archive index from the store."""

    def body() -> int:
        settings = obj.settings()
        with _open(settings) as store:
            pages = jobs.rebuild_archive(settings, store)
        console.print(f"Wrote {len(pages)} files; index: {settings.archive_dir / 'index.html'}")
        return EXIT_OK

    _run(body)


# --- status ------------------------------------------------------------------------


def _health(row: Any) -> str:
    if row.last_success is None and row.last_error is None:
        return "never fetched"
    if row.consecutive_errors:
        return f"failing ({row.consecutive_errors}x)"
    if row.warning:
        return "ok, with warning"
    return "ok"


def status_data(settings: Settings, store: Store, now: datetime) -> dict[str, Any]:
    week_ago = now - timedelta(days=7)
    return {
        "config": str(settings.path),
        "database": str(settings.db_path),
        "schema_version": store.schema_version,
        "articles": store.article_count(),
        "matches_this_week": store.match_count(week_ago),
        "stories_this_week": store.story_count(week_ago),
        "sources": [
            {
                "name": r.name,
                "url": r.url,
                "enabled": r.enabled,
                "health": _health(r),
                "articles": r.article_count,
                "last_success": r.last_success,
                "last_error": r.last_error,
                "last_error_at": r.last_error_at,
                "consecutive_errors": r.consecutive_errors,
                "warning": r.warning,
                "next_poll": r.next_poll,
            }
            for r in store.sources()
        ],
        "editions": [
            {
                "key": e["key"],
                "items": e["item_count"],
                "built_at": e["built_at"],
                "deliveries": _count_status(store.deliveries(e["id"])),
            }
            for e in store.editions()[:10]
        ],
        "deliveries": store.delivery_counts(),
    }


def _count_status(rows: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r["status"]] = out.get(r["status"], 0) + 1
    return out


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
def status(obj: Context, as_json: bool) -> None:
    """Show each source's health, recent editions and delivery counts."""

    def body() -> int:
        settings = obj.settings()
        with _open(settings) as store:
            store.sync_sources(settings.sources, datetime.now(UTC))
            data = status_data(settings, store, datetime.now(UTC))
        if as_json:
            click.echo(json.dumps(data, indent=2, ensure_ascii=False))
            return EXIT_OK
        tz = ZoneInfo(settings.schedule.timezone)

        def local(stamp: str | None) -> str:
            if not stamp:
                return "-"
            return datetime.fromisoformat(stamp).astimezone(tz).strftime("%Y-%m-%d %H:%M")

        table = Table(title=f"Sources (times in {tz.key})", title_justify="left")
        for col in ("source", "health", "articles", "last success", "last error", "next poll"):
            table.add_column(col, overflow="fold")
        for s in data["sources"]:
            error = f"{local(s['last_error_at'])} {s['last_error']}" if s["last_error"] else "-"
            table.add_row(
                s["name"],
                s["health"],
                str(s["articles"]),
                local(s["last_success"]),
                error,
                local(s["next_poll"]),
            )
        console.print(table)
        console.print(
            f"{data['articles']} articles; {data['matches_this_week']} matches and"
            f" {data['stories_this_week']} stories this week."
        )
        for e in data["editions"]:
            counts = ", ".join(f"{k}: {v}" for k, v in sorted(e["deliveries"].items())) or "none"
            console.print(f"Edition {e['key']}: {e['items']} items; deliveries {counts}")
        return EXIT_OK

    _run(body)


# --- demo --------------------------------------------------------------------------


@cli.command()
@click.argument(
    "directory", type=click.Path(path_type=Path, file_okay=False), default="trendwatch-demo"
)
def demo(directory: Path) -> None:
    """Run the whole job offline on bundled demo feeds, in DIRECTORY."""
    from pipeline.demo.run import run_demo

    def body() -> int:
        return run_demo(directory, console=console, crawl=_crawl_with_progress)

    _run(body)


def main() -> None:
    cli(prog_name="trendwatch")
