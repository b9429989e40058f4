"""``trendwatch status``: the read model of pipeline.status, as text for a terminal
(the sources table is pipeline.cli.status_view's) or as JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import click
from rich.console import Console

from pipeline.cli.common import Context, Exit, console, open_store, plural, run_body
from pipeline.cli.status_view import short_time, source_lines
from pipeline.status import status_data
from pipeline.store.queue import STALLED_AFTER_SECONDS


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
def status(obj: Context, as_json: bool) -> None:
    """Show each source's health, recent editions and delivery counts."""

    def body() -> int:
        settings = obj.settings()
        now = datetime.now(UTC)
        with open_store(settings) as store:
            store.sync_sources(settings.sources, now)
            data = status_data(settings, store, now)
        if as_json:
            click.echo(json.dumps(data, indent=2, ensure_ascii=False))
            return Exit.OK
        print_status(console, data, timezone=settings.schedule.timezone, now=now)
        return Exit.OK

    run_body(body)


def print_status(out: Console, data: dict[str, Any], *, timezone: str, now: datetime) -> None:
    """``trendwatch status`` as text, laid out for the width of ``out``: the sources
    (see pipeline.cli.status_view), then the counts, what comes next and the editions."""
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
    failed = data.get("failed_analyses") or {"count": 0}
    if failed["count"]:
        out.print(
            f"Analysis failed for {plural(failed['count'], 'article')} (processed without"
            " tags, matches or story; shown until they change or are processed again):",
            markup=False,
            highlight=False,
        )
        for f in failed["latest"]:
            out.print(f"  {f['article']} {f['title']!r}: {f['error']}", markup=False)
    out.print(
        f"Scheduler: {data['scheduler'] or 'not running (start it with: trendwatch run)'}",
        markup=False,
        highlight=False,
    )
    if data.get("queue") is not None:
        for line in queue_lines(data["queue"], now):
            out.print(line, markup=False, highlight=False)
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
    _print_subscribers(out, data["subscribers"], local)
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


def queue_lines(queue: dict[str, Any], now: datetime) -> list[str]:
    """The work queue (PostgreSQL): a line per queue with its jobs by state, then the
    workers and how long ago each sent its last heartbeat."""
    lines = [
        f"Queue {q['queue']}: {q['waiting']} waiting, {q['running']} running,"
        f" {q['stalled']} stalled, {q['failed']} failed"
        for q in queue["queues"]
    ] or ["Queue: no jobs"]
    workers = queue["workers"]
    if not workers:
        return [*lines, "Workers: none (start one with: trendwatch worker)"]
    lines.append(f"Workers: {len(workers)}")
    for w in workers:
        beat = w["last_heartbeat"]
        # the database's own measure first: it stamped the heartbeat with its clock
        ago = w.get("seconds_since_heartbeat")
        if ago is None and beat:
            ago = (now - datetime.fromisoformat(beat)).total_seconds()
        when = "never" if ago is None else f"{max(0, round(ago))} s ago"
        line = f"  worker {w['id']}: last heartbeat {when}, {plural(w['running'], 'job')}"
        if w.get("alive") and ago is not None and ago >= STALLED_AFTER_SECONDS:
            line += " (late, but its process holds its liveness lock: alive)"
        lines.append(line)
    return lines


def _print_subscribers(out: Console, subs: dict[str, Any], local: Callable[[str], str]) -> None:
    """The readers (from the config, from the web), the requests waiting for their
    confirmation, and who unsubscribed and when."""
    line = f"Subscribers: {subs['from_config']} from the config, {subs['from_web']} from the web"
    if subs["waiting_for_confirmation"]:
        line += f"; {plural(subs['waiting_for_confirmation'], 'request')} to confirm"
    out.print(line + ".", markup=False, highlight=False)
    if not subs["unsubscribed"]:
        return
    out.print(f"Unsubscribed ({len(subs['unsubscribed'])}):", markup=False, highlight=False)
    for gone in subs["unsubscribed"]:
        note = " (still in the config; gets nothing)" if gone["in_config"] else ""
        out.print(f"  {gone['email']} on {local(gone['at'])}{note}", markup=False, highlight=False)
