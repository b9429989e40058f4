"""``trendwatch demo``: the whole job, offline, on bundled feeds.

Starts a local HTTP server with the demo feeds (dated relative to now), writes a config
pointing at it, and runs crawl → process → digest → archive through the same job
functions real sources use. Running it again in the same folder duplicates nothing. Its
last line is the command that serves the result (``trendwatch serve``). What it prints
is in the command line's language (pipeline.cli.i18n).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from pipeline.cli.i18n import count, t
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
        console.print(t("demo.served", url=server.base_url, config=config))
        with Store(settings.db_path) as store:
            reports = crawl(settings, store) if crawl else crawl_job.crawl(settings, store, now=now)
        new = sum(r.new for r in reports)
        failed = [r for r in reports if r.status == "error"]
        console.print(
            t(
                "demo.crawled",
                feeds=count(len(reports), "feed"),
                new=count(new, "new_article"),
                failed=len(failed),
            )
        )
        for r in failed:
            console.print(f"  [red]{r.name}[/]: {r.error}")
    with Store(settings.db_path) as store:
        processed = process_job.process(settings, store, now=now)
        console.print(
            t(
                "demo.processed",
                articles=count(processed.articles, "article"),
                matches=count(processed.matches, "watchlist_match"),
                duplicates=count(processed.duplicates, "near_duplicate"),
                stories=count(processed.new_stories, "story"),
            )
        )
        report = digest_job.digest(settings, store, now=now)
        total = store.article_count()
    for key in report.editions:
        console.print(
            t("demo.edition.new" if key in report.built else "demo.edition.existing", key=key)
        )
    earlier = t("demo.earlier", count=len(report.skipped)) if report.skipped else ""
    console.print(t("demo.delivered", digests=count(len(report.sent), "digest"), earlier=earlier))
    console.print()
    console.print(f"[bold]{t('demo.where')}[/]")
    console.print(t("demo.database", path=settings.db_path, articles=count(total, "article")))
    console.print(t("demo.outbox", path=settings.outbox_dir))
    console.print(t("demo.archive", uri=(settings.archive_dir / "index.html").as_uri()))
    console.print(t("demo.status", command=f"trendwatch --config {config} status"))
    console.print()
    console.print(t("demo.browse", listen=DEFAULT_LISTEN))
    console.print(serve_command(config), markup=False, highlight=False, soft_wrap=True)
    return 0 if report.ok and not failed else 1


def serve_command(config: Path) -> str:
    """The one command that serves the demo's data (the demo's last line)."""
    return f"trendwatch --config {shlex.quote(str(config))} serve"
