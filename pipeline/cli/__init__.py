"""The command line: ``trendwatch [--config PATH] COMMAND``.

Exit status: 0 success, 1 runtime failure, 2 bad usage or bad configuration. Every
command validates the configuration before it does anything.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
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

from digests.fsutil import create_private_file, make_private_dir
from pipeline import jobs
from pipeline.jsonl import ImportError_, iter_export, write_jsonl
from pipeline.settings import ConfigError, Settings, default_config_path, load_settings
from pipeline.store import Store, StoreError, iso

console = Console(stderr=False, highlight=False)
errors = Console(stderr=True, highlight=False)

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class Context:
    def __init__(self, config: Path | None) -> None:
        self.config_path = config

    def settings(self) -> Settings:
        path = self.config_path or default_config_path()
        return load_settings(path)


def plural(count: int, noun: str, many: str | None = None) -> str:
    """ "1 subscriber", "2 subscribers": the count with the noun in its English number
    (``many`` for an irregular plural, default noun + "s"). The CLI speaks English; the
    digests localise through digests.i18n."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def _fail_config(exc: ConfigError) -> None:
    errors.print(f"[bold red]Invalid configuration[/] ({plural(len(exc.problems), 'problem')}):")
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
    except ImportError as exc:
        _fail_import(exc)
    sys.exit(code or EXIT_OK)


def _fail_import(exc: ImportError) -> None:
    """A package this command needs is missing or broken: say which, and how to repair
    the install. Commands that do not need it (check, status, digest, archive) still work."""
    missing = f" ({exc.name})" if exc.name else ""
    errors.print(
        f"[bold red]Cannot load a package this command needs{missing}:[/] {exc}\n"
        "The installation is incomplete or broken; repair it with"
        " `pip install --force-reinstall trendwatch` (or `pip install .` in the source folder).",
        highlight=False,
        soft_wrap=True,
    )
    sys.exit(EXIT_FAILURE)


def _load_crawling() -> None:
    """Import the crawling stack (httpx, feedparser, trafilatura, Scrapy) now, so a broken
    piece stops the command at once with a clear message instead of halfway."""
    import pipeline.crawl.job  # noqa: F401


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
    # the config gets the subscribers' addresses: a new one is readable by its owner
    # only; one overwritten with --force keeps its mode
    create_private_file(target)
    target.write_text(config_file("trendwatch.example.toml").read_text("utf-8"), "utf-8")
    console.print(f"Wrote {target}. Edit it, then run: trendwatch --config {target} check")


@cli.command()
@click.pass_obj
def check(obj: Context) -> None:
    """Validate the configuration and report every problem at once."""

    def body() -> int:
        s = obj.settings()
        console.print(
            f"{s.path}: OK — {plural(len(s.sources), 'source')},"
            f" {plural(len(s.watchlists), 'watchlist')},"
            f" {plural(len(s.subscribers), 'subscriber')}; data in {s.data_dir}"
        )
        return EXIT_OK

    _run(body)


# --- jobs --------------------------------------------------------------------------


def _open(settings: Settings) -> Store:
    return Store(settings.db_path)


def _crawl_with_progress(
    settings: Settings,
    store: Store,
    *,
    force: bool = False,
    names: list[str] | None = None,
) -> list[jobs.SourceReport]:
    with Progress(
        TextColumn("[bold]Crawling"),
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

        def done(report: jobs.SourceReport) -> None:
            progress.update(task, advance=1, description=report.name)

        return jobs.crawl(settings, store, force=force, names=names, on_start=start, on_done=done)


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
            r.note,
        )
    console.print(table)
    failed = sum(r.status == "error" for r in reports)
    new = sum(r.new for r in reports)
    extra = [
        f"{n} {what}"
        for n, what in (
            (sum(r.moved_to is not None for r in reports), "moved permanently"),
            (sum(r.gone for r in reports), "gone (410) and disabled"),
            (sum(r.retry_after is not None for r in reports), "rate limited"),
        )
        if n
    ]
    console.print(
        f"{plural(len(reports), 'source')}, {plural(new, 'new article')}, {failed} failed"
        + (f" ({', '.join(extra)})" if extra else "")
        + ("; no source succeeded" if _none_succeeded(reports) else "")
        + "."
    )


def _none_succeeded(reports: list[jobs.SourceReport]) -> bool:
    """Every source crawled failed (a 304 "not modified" is a success): exit status 1."""
    return bool(reports) and all(r.status == "error" for r in reports)


@cli.command()
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
        _load_crawling()
        known = {s.name for s in settings.sources}
        unknown = [n for n in names if n not in known]
        if unknown:
            errors.print(
                f"No source named {', '.join(repr(n) for n in unknown)}; configured:"
                f" {', '.join(sorted(known)) or 'none'}",
                markup=False,
            )
            return EXIT_USAGE
        with _open(settings) as store:
            reports = _crawl_with_progress(
                settings, store, force=crawl_all, names=list(names) if names else None
            )
            if not reports:
                upcoming = sorted(
                    r.next_poll for r in store.sources() if r.next_poll and not r.disabled_reason
                )
                tz = ZoneInfo(settings.schedule.timezone)
                first = datetime.fromisoformat(upcoming[0]).astimezone(tz) if upcoming else None
                when = f"; the next is due at {first:%Y-%m-%d %H:%M} ({tz.key})" if first else ""
                console.print(f"No source is due{when}. Use --all to crawl every source now.")
                return EXIT_OK
            _print_crawl(reports)
        return EXIT_FAILURE if _none_succeeded(reports) else EXIT_OK

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
                console.print(f"Processing all {plural(count, 'article')} again.")
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
                problems = plural(len(exc.problems), "problem")
                errors.print(f"[bold red]Cannot import[/] ({problems}):")
                errors.print(str(exc), markup=False, soft_wrap=True)
                errors.print("Nothing was imported.")
                return EXIT_USAGE
        console.print(
            f"Read {plural(report.articles, 'article')}: {report.new} new,"
            f" {report.updated} updated,"
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
        errors.print(f"Exported {plural(count, 'article')} to {path}.")
        return EXIT_OK

    _run(body)


def _print_process(report: jobs.ProcessReport) -> None:
    console.print(
        f"Processed {plural(report.articles, 'article')}:"
        f" {plural(report.matches, 'watchlist match', 'watchlist matches')},"
        f" {plural(report.duplicates, 'near duplicate')},"
        f" {plural(report.new_stories, 'new story', 'new stories')}."
    )
    if report.rematched:
        console.print(f"Re-matched changed watchlists: {', '.join(report.rematched)}")


@cli.command()
@click.option("--dry-run", is_flag=True, help="Render and write the archive; send nothing.")
@click.option(
    "--preview",
    "preview",
    metavar="SUBSCRIBER",
    help="Write the HTML and text of this subscriber's next edition; record and send nothing.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder for --preview files (default: DATA_DIR/preview).",
)
@click.option(
    "--due",
    is_flag=True,
    help="Only digests whose weekday and hour have come (within [schedule] digest_grace)"
    " and were not sent yet: for cron.",
)
@click.pass_obj
def digest(
    obj: Context, dry_run: bool, preview: str | None, out_dir: Path | None, due: bool
) -> None:
    """Build this week's edition for each subscriber and deliver it (once).

    Deliveries waiting for a retry after a temporary failure are tried at once (with
    --due they wait for their back-off)."""

    def body() -> int:
        settings = obj.settings()
        if preview:
            with _open(settings) as store:
                try:
                    html, text = jobs.preview(
                        settings, store, preview, out_dir or settings.data_dir / "preview"
                    )
                except KeyError as exc:
                    errors.print(f"[bold red]Cannot preview:[/] {exc.args[0]}")
                    return EXIT_USAGE
            console.print(f"Preview (nothing recorded or sent):\n  {html}\n  {text}")
            return EXIT_OK
        with _open(settings) as store:
            # by hand, what waits for a retry is tried now; --due (cron) keeps the back-off
            report = jobs.digest(settings, store, dry_run=dry_run, due=due, retry_now=not due)
        if due and not report.editions and not report.sent:
            console.print("No digest is due now.")
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
    for line in report.failed_before:
        console.print(f"  failed for good {line}", markup=False, highlight=False)
    for line in report.empty:
        console.print(f"  nothing new, not sent {line}")
    for line in report.deferred:
        console.print(f"  waiting to retry {line}")
    for key in report.late:
        console.print(f"  skipped {key}: due longer ago than the grace period")
    if report.busy:
        console.print("  another trendwatch run is delivering; nothing sent by this one")
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
        console.print(
            f"Wrote {plural(len(pages), 'file')}; index: {settings.archive_dir / 'index.html'}"
        )
        return EXIT_OK

    _run(body)


# --- run ---------------------------------------------------------------------------


@cli.command()
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
)
@click.pass_obj
def run(obj: Context, watch_config: bool, log_file: Path | None, log_level: str) -> None:
    """Keep everything going: crawl sources when due, process what arrives, send each
    subscriber's digest on its weekday and hour, refresh the archive. Stop with SIGTERM
    or Ctrl-C; reload the config with SIGHUP."""

    def body() -> int:
        from pipeline.schedule import runner as scheduler

        settings = obj.settings()
        _load_crawling()
        _run_logging(log_file, log_level)
        try:
            with scheduler.run_lock(settings.data_dir):
                return scheduler.Runner(settings, watch_config=watch_config).run()
        except scheduler.RunLockHeld as exc:
            errors.print(
                f"[bold red]Already running:[/] {exc.holder} holds {exc.path}; "
                "stop it first (one 'trendwatch run' per data folder)."
            )
            return EXIT_USAGE

    _run(body)


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


# --- status ------------------------------------------------------------------------


def _health(row: Any, now: datetime) -> str:
    if row.disabled_reason:
        return "gone, disabled"
    if not row.enabled:
        return "disabled in config"
    if row.last_success is None and row.last_error is None:
        return "never fetched"
    if row.consecutive_errors and row.retry_after and row.retry_after > iso(now):
        return "rate limited"
    if row.consecutive_errors:
        return f"failing ({row.consecutive_errors}x)"
    if row.warning:
        return "ok, with warning"
    return "ok"


def _source_notes(row: Any, now: datetime) -> list[str]:
    """What else a person should know about a source, one short phrase each."""
    notes = []
    if row.disabled_reason:
        notes.append(
            f"{row.disabled_reason}; not polled any more. Change its url in the config or"
            f" run `trendwatch sources enable {row.name!r}`"
        )
    if row.retry_after and row.retry_after > iso(now):
        notes.append(f"rate limited: no poll before {row.retry_after}")
    if row.moved_from:
        notes.append(
            f"moved permanently on {(row.url_changed_at or '')[:10]} from {row.moved_from};"
            f" now polled at {row.url} (the config still says {row.config_url})"
        )
    if row.warning:
        notes.append(row.warning)
    return notes


def status_data(settings: Settings, store: Store, now: datetime) -> dict[str, Any]:
    from pipeline.schedule.decide import next_slot
    from pipeline.schedule.runner import lock_holder

    week_ago = now - timedelta(days=7)
    polls = list(store.next_polls().values())
    next_crawl = min((t or now for t in polls), default=None)
    return {
        "config": str(settings.path),
        "database": str(settings.db_path),
        "schema_version": store.schema_version,
        "scheduler": lock_holder(settings.data_dir),
        "next_crawl": iso(max(next_crawl, now)) if next_crawl else None,
        "next_digests": [
            {
                "edition": a.slug,
                "subscribers": list(a.emails),
                "at": iso(next_slot(now, a.when)),
                "timezone": a.when.timezone,
            }
            for a in jobs.digest_audiences(settings)
        ],
        "next_retry": iso(store.next_delivery_attempt()),
        "articles": store.article_count(),
        "articles_this_week": store.article_count_since(week_ago),
        "matches_this_week": store.match_count(week_ago),
        "stories_this_week": store.story_count(week_ago),
        "sources": [
            {
                "name": r.name,
                "type": r.type,
                "url": r.url,
                "config_url": r.config_url,
                "enabled": r.enabled,
                "health": _health(r, now),
                "articles": r.article_count,
                "last_success": r.last_success,
                "last_error": r.last_error,
                "last_error_at": r.last_error_at,
                "last_status": r.last_status,
                "consecutive_errors": r.consecutive_errors,
                "warning": r.warning,
                "next_poll": None if r.disabled_reason else r.next_poll,
                "poll_interval": r.poll_interval,
                "retry_after": r.retry_after,
                "moved_from": r.moved_from,
                "url_changed_at": r.url_changed_at,
                "disabled_reason": r.disabled_reason,
                "disabled_at": r.disabled_at,
                "notes": _source_notes(r, now),
            }
            for r in store.sources()
        ],
        "editions": [_edition_status(store, e) for e in store.editions()[:10]],
        "deliveries": store.delivery_counts(),
    }


def _edition_status(store: Store, edition: dict) -> dict[str, Any]:
    rows = store.deliveries(edition["id"])
    return {
        "key": edition["key"],
        "items": edition["item_count"],
        "built_at": edition["built_at"],
        "deliveries": _count_status(rows),
        "problems": _delivery_problems(rows),
    }


def _delivery_problems(rows: list[dict]) -> list[dict[str, Any]]:
    """The deliveries that failed for good, and those waiting to be retried after an
    error: who, how often it was tried, the server's last answer, the next attempt."""
    return [
        {
            "subscriber": r["subscriber"],
            "status": "failed" if r["status"] == "failed" else "retrying",
            "attempts": r["attempts"],
            "last_error": r["last_error"] or "",
            "next_attempt": r["next_attempt"] if r["status"] != "failed" else None,
        }
        for r in rows
        if r["status"] == "failed" or (r["status"] in ("pending", "sending") and r["last_error"])
    ]


def _count_status(rows: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r["status"]] = out.get(r["status"], 0) + 1
    return out


def print_status(out: Console, data: dict[str, Any], *, timezone: str, now: datetime) -> None:
    """``trendwatch status`` as text, laid out for the width of ``out``: the sources
    (see pipeline.cli.status_view), then the counts, what comes next and the editions."""
    from pipeline.cli.status_view import short_time, source_lines

    tz = ZoneInfo(timezone)

    def local(stamp: str | None) -> str:
        return short_time(stamp, tz, now)

    out.print(f"Sources (times in {tz.key})", style="bold", markup=False, highlight=False)
    for line in source_lines(data["sources"], width=out.width, timezone=timezone, now=now):
        out.print(line, soft_wrap=True, markup=False, highlight=False)
    if any(s["disabled_reason"] for s in data["sources"]):
        out.print(
            "A gone source is polled again once its url in the config changes, or after"
            " `trendwatch sources enable NAME`.",
            markup=False,
            highlight=False,
        )
    out.print()
    out.print(
        f"{plural(data['articles'], 'article')}; this week"
        f" {plural(data['articles_this_week'], 'new article')},"
        f" {plural(data['matches_this_week'], 'match', 'matches')} and"
        f" {plural(data['stories_this_week'], 'story', 'stories')}.",
        highlight=False,
    )
    out.print(
        f"Scheduler: {data['scheduler'] or 'not running (start it with: trendwatch run)'}",
        markup=False,
        highlight=False,
    )
    out.print(f"Next crawl: {local(data['next_crawl'])}", highlight=False)
    for d in data["next_digests"]:
        when = datetime.fromisoformat(d["at"]).astimezone(ZoneInfo(d["timezone"]))
        out.print(
            f"Next digest {d['edition']}: {when:%a %Y-%m-%d %H:%M} {d['timezone']}"
            f" ({plural(len(d['subscribers']), 'subscriber')})",
            markup=False,
            highlight=False,
        )
    if data["next_retry"]:
        out.print(f"Next delivery retry: {local(data['next_retry'])}", highlight=False)
    for e in data["editions"]:
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(e["deliveries"].items())) or "none"
        out.print(
            f"Edition {e['key']}: {plural(e['items'], 'item')}; deliveries {counts}",
            markup=False,
            highlight=False,
        )
        for p in e["problems"]:
            tries = plural(p["attempts"], "attempt")
            if p["next_attempt"]:
                tries += f", next {local(p['next_attempt'])}"
            out.print(
                f"  {p['status']} {p['subscriber']} ({tries}): {p['last_error'] or '-'}",
                markup=False,
                highlight=False,
            )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
def status(obj: Context, as_json: bool) -> None:
    """Show each source's health, recent editions and delivery counts."""

    def body() -> int:
        settings = obj.settings()
        now = datetime.now(UTC)
        with _open(settings) as store:
            store.sync_sources(settings.sources, now)
            data = status_data(settings, store, now)
        if as_json:
            click.echo(json.dumps(data, indent=2, ensure_ascii=False))
            return EXIT_OK
        print_status(console, data, timezone=settings.schedule.timezone, now=now)
        return EXIT_OK

    _run(body)


# --- sources -----------------------------------------------------------------------


@cli.group()
def sources() -> None:
    """Add sources to the config (site URL or OPML), export them as OPML, re-enable one."""


@sources.command("add")
@click.argument("url")
@click.option("--name", default=None, help="The source's name (default: the feed's title).")
@click.option("--language", default=None, help="2-letter language code, such as nl or en.")
@click.option("--category", "categories", multiple=True, help="A category (repeatable).")
@click.option("--full-text", is_flag=True, help="Fetch article pages for teaser-only entries.")
@click.pass_obj
def sources_add(
    obj: Context,
    url: str,
    name: str | None,
    language: str | None,
    categories: tuple[str, ...],
    full_text: bool,
) -> None:
    """Find the feed of the site at URL and append it to the config as a source."""

    def body() -> int:
        from pipeline.settings.edit import SourceConfigError, add_source

        settings = obj.settings()
        if language is not None and not re.fullmatch(r"[a-z]{2}", language):
            errors.print(f"--language: expected a 2-letter code such as nl, got {language!r}")
            return EXIT_USAGE
        try:
            new, found = add_source(
                settings,
                url,
                name=name,
                language=language,
                categories=categories,
                full_text=full_text,
            )
        except SourceConfigError as exc:
            errors.print(f"Not added: {exc}", markup=False)
            return EXIT_USAGE
        console.print(f"Added to {settings.path}:", markup=False)
        console.print(new.toml(), markup=False, end="")
        if found.others:
            console.print("The site offers more feeds; add one with `trendwatch sources add URL`:")
            for other in found.others:
                console.print(f"  {other}", markup=False)
        return EXIT_OK

    _run(body)


@sources.command("import")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.pass_obj
def sources_import(obj: Context, path: Path) -> None:
    """Append every feed of an OPML file to the config (categories kept, duplicates skipped)."""

    def body() -> int:
        from crawlers.opml import OpmlError
        from pipeline.settings.edit import import_opml

        settings = obj.settings()
        try:
            result = import_opml(settings, path.read_bytes(), path.name)
        except OpmlError as exc:
            errors.print(f"Cannot import {path}: {exc}", markup=False)
            return EXIT_USAGE
        for new in result.added:
            cats = f" [{', '.join(new.categories)}]" if new.categories else ""
            console.print(f"  added {new.name}: {new.url}{cats}", markup=False)
        for url, why in result.skipped:
            console.print(f"  skipped {url}: {why}", markup=False)
        for name, what in result.warnings:
            errors.print(f"  warning: {name}: {what}", markup=False)
        console.print(
            f"Imported {plural(len(result.added), 'source')} from {path} into {settings.path};"
            f" skipped {len(result.skipped)}.",
            markup=False,
        )
        return EXIT_OK

    _run(body)


@sources.command("export")
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    default=None,
    help="Where to write the OPML (default: standard output).",
)
@click.pass_obj
def sources_export(obj: Context, output: Path | None) -> None:
    """Write the feed and alert sources as OPML 2.0, with their categories."""

    def body() -> int:
        from pipeline.settings.edit import export_opml

        settings = obj.settings()
        doc, left_out = export_opml(settings)
        if output is None or str(output) == "-":
            sys.stdout.buffer.write(doc)
            sys.stdout.flush()
        else:
            tmp = output.with_name(output.name + ".part")
            tmp.write_bytes(doc)
            tmp.replace(output)
            exported = plural(len(settings.sources) - len(left_out), "source")
            errors.print(f"Exported {exported} to {output}.")
        if left_out:
            names = ", ".join(s.name for s in left_out)
            errors.print(f"Left out (blogs have no feed to subscribe to): {names}", markup=False)
        return EXIT_OK

    _run(body)


@sources.command("enable")
@click.argument("name")
@click.pass_obj
def sources_enable(obj: Context, name: str) -> None:
    """Poll a source again that was disabled after 410 Gone (or is rate limited)."""

    def body() -> int:
        settings = obj.settings()
        if name not in {s.name for s in settings.sources}:
            errors.print(f"No source named {name!r} in {settings.path}.", markup=False)
            return EXIT_USAGE
        with _open(settings) as store:
            store.sync_sources(settings.sources, datetime.now(UTC))
            store.enable_source(name)
        console.print(f"Source {name!r} is enabled and due at the next crawl.", markup=False)
        return EXIT_OK

    _run(body)


# --- backup ------------------------------------------------------------------------


@cli.command()
@click.argument("path", type=click.Path(path_type=Path), required=False, default=None)
@click.pass_obj
def backup(obj: Context, path: Path | None) -> None:
    """Copy the database safely, also while `trendwatch run` is writing to it.

    PATH is a file or an existing folder (default: DATA_DIR/backups/, as
    trendwatch-YYYYMMDD-HHMMSS.db in UTC). The copy is checked with PRAGMA
    integrity_check before it gets its name; an existing file at PATH is replaced only
    then.
    """
    from pipeline.store import backup_file_name

    def body() -> int:
        settings = obj.settings()
        if not settings.db_path.is_file():
            errors.print(f"No database at {settings.db_path}; nothing to back up.", markup=False)
            return EXIT_FAILURE
        name = backup_file_name(datetime.now(UTC))
        if path is None:
            target = settings.data_dir / "backups" / name
        elif path.is_dir():
            target = path / name
        else:
            target = path
        with _open(settings) as store:
            try:
                written = store.backup(target)
            except ValueError as exc:
                errors.print(f"Not backed up: {exc}", markup=False)
                return EXIT_USAGE
            except (OSError, StoreError) as exc:
                errors.print(f"Backup to {target} failed: {exc}", markup=False)
                return EXIT_FAILURE
            version = store.schema_version
        size = written.stat().st_size / 1_000_000
        console.print(
            f"Backed up {settings.db_path} to {written} ({size:.1f} MB, schema version"
            f" {version}, integrity check ok).",
            markup=False,
            soft_wrap=True,
        )
        return EXIT_OK

    _run(body)


# --- demo --------------------------------------------------------------------------


@cli.command()
@click.argument(
    "directory", type=click.Path(path_type=Path, file_okay=False), default="trendwatch-demo"
)
def demo(directory: Path) -> None:
    """Run the whole job offline on bundled demo feeds, in DIRECTORY."""

    def body() -> int:
        from pipeline.demo.run import run_demo

        _load_crawling()
        return run_demo(directory, console=console, crawl=_crawl_with_progress)

    _run(body)


def main() -> None:
    cli(prog_name="trendwatch")
