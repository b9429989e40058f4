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

from pipeline.cli.common import Context, Exit, console, open_store, run_body
from pipeline.cli.i18n import count, t
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

    out.print(t("status.sources", timezone=tz.key), style="bold", markup=False, highlight=False)
    for line in source_lines(data["sources"], width=out.width, timezone=timezone, now=now):
        out.print(line, soft_wrap=True, markup=False, highlight=False)
    if any(s["disabled_reason"] for s in data["sources"]):
        out.print(t("status.gone_hint"), markup=False, highlight=False)
    out.print()
    out.print(
        t(
            "status.counts",
            articles=count(data["articles"], "article"),
            new=count(data["articles_this_week"], "new_article"),
            matches=count(data["matches_this_week"], "match"),
            stories=count(data["stories_this_week"], "story"),
        ),
        highlight=False,
    )
    failed = data.get("failed_analyses") or {"count": 0}
    if failed["count"]:
        out.print(
            t("status.failed_analyses", articles=count(failed["count"], "article")),
            markup=False,
            highlight=False,
        )
        for f in failed["latest"]:
            out.print(f"  {f['article']} {f['title']!r}: {f['error']}", markup=False)
    out.print(
        t("status.scheduler", state=data["scheduler"] or t("status.scheduler_off")),
        markup=False,
        highlight=False,
    )
    if data.get("queue") is not None:
        for line in queue_lines(data["queue"], now):
            out.print(line, markup=False, highlight=False)
    out.print(t("status.next_crawl", when=local(data["next_crawl"])), highlight=False)
    for d in data["next_digests"]:
        when = datetime.fromisoformat(d["at"]).astimezone(ZoneInfo(d["timezone"]))
        day = t("weekdays").split()[when.weekday()]
        out.print(
            t(
                "status.next_digest",
                edition=d["edition"],
                when=f"{day} {when:%Y-%m-%d %H:%M}",
                timezone=d["timezone"],
                subscribers=count(len(d["subscribers"]), "subscriber"),
            ),
            markup=False,
            highlight=False,
        )
    if data["next_retry"]:
        out.print(t("status.next_retry", when=local(data["next_retry"])), highlight=False)
    _print_subscribers(out, data["subscribers"], local)
    for e in data["editions"]:
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(e["deliveries"].items())) or t("none")
        out.print(
            t("status.edition", key=e["key"], items=count(e["items"], "item"), counts=counts),
            markup=False,
            highlight=False,
        )
        for p in e["problems"]:
            tries = count(p["attempts"], "attempt")
            if p["next_attempt"]:
                tries += t("status.next_attempt", when=local(p["next_attempt"]))
            out.print(
                f"  {p['status']} {p['subscriber']} ({tries}): {p['last_error'] or '-'}",
                markup=False,
                highlight=False,
            )


def queue_lines(queue: dict[str, Any], now: datetime) -> list[str]:
    """The work queue (PostgreSQL): a line per queue with its jobs by state, then the
    workers and how long ago each sent its last heartbeat."""
    lines = [t("status.queue", **q) for q in queue["queues"]] or [t("status.queue_empty")]
    workers = queue["workers"]
    if not workers:
        return [*lines, t("status.no_workers")]
    lines.append(t("status.workers", count=len(workers)))
    for w in workers:
        beat = w["last_heartbeat"]
        # the database's own measure first: it stamped the heartbeat with its clock
        ago = w.get("seconds_since_heartbeat")
        if ago is None and beat:
            ago = (now - datetime.fromisoformat(beat)).total_seconds()
        when = (
            t("status.never")
            if ago is None
            else t("status.seconds_ago", seconds=max(0, round(ago)))
        )
        line = t("status.worker", id=w["id"], when=when, jobs=count(w["running"], "job"))
        if w.get("alive") and ago is not None and ago >= STALLED_AFTER_SECONDS:
            line += t("status.worker_alive")
        lines.append(line)
    return lines


def _print_subscribers(out: Console, subs: dict[str, Any], local: Callable[[str], str]) -> None:
    """The readers (from the config, from the web), the requests waiting for their
    confirmation, and who unsubscribed and when."""
    line = t("status.subscribers", from_config=subs["from_config"], from_web=subs["from_web"])
    if subs["waiting_for_confirmation"]:
        line += t("status.to_confirm", requests=count(subs["waiting_for_confirmation"], "request"))
    out.print(line + ".", markup=False, highlight=False)
    if not subs["unsubscribed"]:
        return
    out.print(
        t("status.unsubscribed", count=len(subs["unsubscribed"])), markup=False, highlight=False
    )
    for gone in subs["unsubscribed"]:
        note = t("status.still_in_config") if gone["in_config"] else ""
        out.print(
            t("status.gone_reader", email=gone["email"], when=local(gone["at"]), note=note),
            markup=False,
            highlight=False,
        )
