"""Where a fresh crawl of ``bench/crawl.py``'s feeds spends its time: a diagnostic.

Runs trendwatch's fresh crawl (default settings, no peer) on the feed server of
``bench/crawl.py`` and follows every source through it, by wrapping the crawl's own
steps (nothing of the crawler is changed): how many of the crawl's places are waiting
for a host's turn, in a request, or waiting for the parsing pool, every half second;
each answer's latency as the host limiter measured it and the host's delay after it;
the event loop's lag (a 10 ms sleep's overshoot); the time each source's parse and
store took. Printed per 2 s of the crawl, so a stall shows where it happened::

    python bench/crawl_timeline.py --feeds 1000 --runs 2

Not a benchmark (the wrappers cost a little CPU); run it beside a CPU burner to see a
crawl starved of CPU. Only 127.0.0.0/8 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # bench/pipeline.py would shadow the "pipeline" package

import bench.crawl as bench_crawl  # noqa: E402
from crawlers import limits, parsing_pool  # noqa: E402
from pipeline.crawl import job  # noqa: E402

PHASES = ("placed", "turn", "request", "parse")


class Timeline:
    """What the wrapped steps note during one crawl, in seconds since its start."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.now_in: dict[str, int] = dict.fromkeys(PHASES, 0)
        self.phases: list[tuple[float, dict[str, int]]] = []
        self.answers: list[tuple[float, float, float]] = []  # when, latency, delay after
        self.lags: list[tuple[float, float]] = []
        self.parses: list[float] = []
        self.stores: list[float] = []
        self.granted: dict[int, float] = {}

    def t(self) -> float:
        return time.perf_counter() - self.start


LINE: list[Timeline] = [Timeline()]


def install() -> None:
    """Wrap the crawl's steps so that they note into ``LINE[0]``."""
    slot, answered = limits.HostLimiter.slot, limits.HostLimiter._answered
    parse, feed = parsing_pool.AdaptiveParser.parse, job._Crawl.feed
    record, run_all = job._Crawl.record, job._Crawl.all

    @asynccontextmanager
    async def noted_slot(self: Any, host: str, gate: Any = None) -> AsyncIterator[Any]:
        line = LINE[0]
        line.now_in["turn"] += 1
        waiting = True
        try:
            async with slot(self, host, gate) as turn:
                line.now_in["turn"] -= 1
                waiting = False
                line.now_in["request"] += 1
                try:
                    yield turn
                finally:
                    line.now_in["request"] -= 1
        finally:
            if waiting:
                line.now_in["turn"] -= 1

    def noted_answer(self: Any, turn: Any, status: int, retry_after: Any) -> None:
        latency = self._clock() - turn.started
        answered(self, turn, status, retry_after)
        line = LINE[0]
        line.answers.append((line.t(), latency, self._paces[turn.host].delay or 0.0))

    async def noted_parse(self: Any, content: bytes, url: str, **kw: Any) -> Any:
        line = LINE[0]
        started = line.t()
        line.now_in["parse"] += 1
        try:
            return await parse(self, content, url, **kw)
        finally:
            line.now_in["parse"] -= 1
            line.parses.append(line.t() - started)

    async def noted_feed(self: Any, row: Any, source: Any) -> Any:
        LINE[0].now_in["placed"] += 1
        try:
            return await feed(self, row, source)
        finally:
            LINE[0].now_in["placed"] -= 1

    def noted_record(self: Any, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return record(self, *args)
        finally:
            LINE[0].stores.append(time.perf_counter() - started)

    async def noted_all(self: Any, rows: Any, on_done: Any) -> Any:
        async def watch() -> None:
            line = LINE[0]
            while True:
                before = time.perf_counter()
                await asyncio.sleep(0.01)
                line.lags.append((line.t(), time.perf_counter() - before - 0.01))
                if not line.phases or line.t() - line.phases[-1][0] >= 0.5:
                    line.phases.append((line.t(), dict(line.now_in)))

        watcher = asyncio.ensure_future(watch())
        try:
            return await run_all(self, rows, on_done)
        finally:
            watcher.cancel()

    limits.HostLimiter.slot = noted_slot  # type: ignore[assignment, method-assign]
    limits.HostLimiter._answered = noted_answer  # type: ignore[method-assign]
    parsing_pool.AdaptiveParser.parse = noted_parse  # type: ignore[method-assign]
    job._Crawl.feed = noted_feed  # type: ignore[method-assign]
    job._Crawl.record = noted_record  # type: ignore[method-assign]
    job._Crawl.all = noted_all  # type: ignore[method-assign]


def quantiles(values: list[float]) -> str:
    ordered = sorted(values) or [0.0]
    at = [ordered[int(f * (len(ordered) - 1))] for f in (0.5, 0.9)]
    return f"p50 {at[0]:.3f} p90 {at[1]:.3f} max {ordered[-1]:.3f} s"


def report(line: Timeline, wall: float, cpu: tuple[float, float]) -> None:
    print(f"  wall {wall:.1f} s, CPU {cpu[0]:.1f} s ({cpu[1]:.1f} in the pool)")
    print(f"  answer latency  {quantiles([a[1] for a in line.answers])}")
    print(f"  host delay      {quantiles([a[2] for a in line.answers])}")
    print(f"  event-loop lag  {quantiles([lag for _, lag in line.lags])}")
    print(f"  parse (await)   {quantiles(line.parses)}")
    print(f"  store           {quantiles(line.stores)}")
    print("  every 2 s: answers, median latency and delay, loop lag; places waiting by phase")
    for bucket in range(int(wall // 2) + 1):
        got = [a for a in line.answers if int(a[0] // 2) == bucket]
        lags = [lag for t, lag in line.lags if int(t // 2) == bucket]
        phases = [p for t, p in line.phases if int(t // 2) == bucket]
        now = phases[-1] if phases else dict.fromkeys(PHASES, 0)
        lat = statistics.median(a[1] for a in got) if got else 0.0
        delay = statistics.median(a[2] for a in got) if got else 0.0
        print(
            f"   {bucket * 2:4d} s {len(got):4d} answers, latency {lat:.2f} delay {delay:.2f},"
            f" lag {statistics.median(lags) * 1000 if lags else 0:4.0f} ms |"
            + "".join(f" {k} {now[k]:3d}" for k in PHASES)
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=1000, help="feeds (1000)")
    parser.add_argument("--runs", type=int, default=1, help="crawls (1)")
    given = parser.parse_args(argv)
    args = bench_crawl.parse_args(["--feeds", str(given.feeds), "--peer", "none"])
    install()
    server = bench_crawl.FeedServer(
        args.feeds, args.entries, args.hosts, args.paragraph_chars, args.latency
    )
    try:
        for run in range(given.runs):
            with tempfile.TemporaryDirectory(prefix="trendwatch-timeline-") as tmp:
                config = bench_crawl.write_config(Path(tmp), server, args)
                settings = bench_crawl.load_settings(config)
                with bench_crawl.Store(settings.db_path) as store:
                    LINE[0] = line = Timeline()
                    cpu = bench_crawl.cpu_seconds()
                    job.crawl(settings, store)
                    wall, used = line.t(), bench_crawl.cpu_since(cpu)
            print(f"run {run + 1} (load {os.getloadavg()[0]:.1f}):")
            report(line, wall, used)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
