"""``trendwatch demo``: the whole job, offline, on bundled feeds.

Starts a local HTTP server with the demo feeds (dated relative to now), writes a config
pointing at it, and runs crawl → process → digest → archive through the same job
functions real sources use. Running it again in the same folder duplicates nothing. Its
last line is the command that serves the result (``trendwatch serve``).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from pipeline.crawl import job as crawl_job
from pipeline.demo.server import DemoServer
from pipeline.digest import job as digest_job
from pipeline.process import job as process_job
from pipeline.resources import config_file
from pipeline.settings import DEFAULT_LISTEN, Settings, load_settings
from pipeline.store import Store

CONFIG_NAME = "trendwatch.toml"


def write_demo_config(directory: Path, feeds_url: str) -> Path:
    """The demo's config with the feed URLs of this run's local server."""
    template = config_file("demo.toml").read_text("utf-8")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CONFIG_NAME
    path.write_text(template.replace("{feeds}", feeds_url), "utf-8")
    return path


def run_demo(
    directory: Path,
    *,
    console: Console,
    crawl: Callable[[Settings, Store], list[crawl_job.SourceReport]] | None = None,
    now: datetime | None = None,
) -> int:
    now = now or datetime.now(UTC)
    with DemoServer(now=now) as server:
        config = write_demo_config(directory, server.feeds_url)
        settings = load_settings(config)
        console.print(f"Demo feeds served at {server.base_url}; config: {config}")
        with Store(settings.db_path) as store:
            reports = crawl(settings, store) if crawl else crawl_job.crawl(settings, store, now=now)
        new = sum(r.new for r in reports)
        failed = [r for r in reports if r.status == "error"]
        console.print(f"Crawled {len(reports)} feeds: {new} new articles, {len(failed)} failed.")
        for r in failed:
            console.print(f"  [red]{r.name}[/]: {r.error}")
    with Store(settings.db_path) as store:
        processed = process_job.process(settings, store, now=now)
        console.print(
            f"Processed {processed.articles} articles: {processed.matches} watchlist matches,"
            f" {processed.duplicates} near duplicates, {processed.new_stories} stories."
        )
        report = digest_job.digest(settings, store, now=now)
        total = store.article_count()
    for key in report.editions:
        console.print(f"Edition {key}" + (" (new)" if key in report.built else " (existing)"))
    console.print(
        f"Delivered {len(report.sent)} digests"
        + (f", {len(report.skipped)} already delivered earlier" if report.skipped else "")
        + "."
    )
    console.print()
    console.print("[bold]Where to look[/]")
    console.print(f"  database:  {settings.db_path}  ({total} articles)")
    console.print(f"  outbox:    {settings.outbox_dir}  (.eml files, open with any mail client)")
    console.print(f"  archive:   {(settings.archive_dir / 'index.html').as_uri()}")
    console.print(f"  status:    trendwatch --config {config} status")
    console.print()
    console.print(f"Browse it on http://{DEFAULT_LISTEN}/ (Ctrl-C stops it):")
    console.print(serve_command(config), markup=False, highlight=False, soft_wrap=True)
    return 0 if report.ok and not failed else 1


def serve_command(config: Path) -> str:
    """The one command that serves the demo's data (the demo's last line)."""
    return f"trendwatch --config {shlex.quote(str(config))} serve"
