"""Benchmark of the crawl job (``pipeline.crawl.job.crawl``) against a peer, lemon24/reader.

The set-up of issue 16's table: ``--feeds`` generated feeds (default 1,000) of
``--entries`` entries (default 20; about 28 KB a feed, half RSS 2.0 and half Atom, Dutch
and English, written by the generator of ``bench/pipeline.py``), ``--per-host`` feeds a
host (default 4: 250 loopback hosts, 127.0.0.2 ...), and a server that answers every
request ``--latency`` seconds (default 0.1) after it arrived. The server
(``bench/feed_server.py``) runs in a process of its own and counts, per host, the most
requests it had in flight at once: the run fails if trendwatch ever had more than its
``per_host`` limit in flight to one host.

Each run times, on the same feeds, one after the other (the order alternates by run):

* trendwatch, through ``pipeline.crawl.job.crawl`` (the function the CLI and the
  scheduler call), with its **default settings** (``--tw-per-host``,
  ``--tw-per-host-delay`` and ``--tw-concurrency`` set others):

  - ``fresh``: a crawl into an empty database: fetch, parse, sanitise, store every
    entry, record every source's health (feeds/min);
  - ``revalidated``: a second, forced crawl: every feed answers 304 Not Modified to
    the stored ETag (feeds/min);
  - peak memory: resident memory of the benchmark process and its children (the
    feed-parsing pool), sampled every 50 ms from /proc; the server is not counted;

* the peer (``--peer reader``, the default; needs the ``bench`` extra:
  ``pip install '.[bench]'``): ``Reader.update_feeds(workers=16, scheduled=False)`` of
  lemon24/reader into an empty database, then again (every feed answers 304).

The medians of ``--runs`` runs (default 3) and their ratios are printed, with the load
average: the machine may be shared, so always compare figures of the same run. Run it
from the repository root::

    python bench/crawl.py                       # 1,000 feeds, reader as the peer, 3 runs
    python bench/crawl.py --feeds 200 --runs 1  # a quick check
    python bench/crawl.py --peer none           # trendwatch alone
    python bench/crawl.py --tw-per-host-delay 0 --tw-concurrency 64

Only 127.0.0.0/8 is contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# A script's own folder comes first on sys.path, and bench/pipeline.py would shadow the
# "pipeline" package. Put the repository root there instead.
ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

from bench.feed_server import (  # noqa: E402
    FeedServer,
    Served,
    addresses,
    bench_pipeline,
    feed_protocol,
    fresh,
)
from pipeline.crawl import job as crawl_job  # noqa: E402
from pipeline.settings import load_settings  # noqa: E402
from pipeline.store import Store  # noqa: E402

__all__ = ["Served", "bench_pipeline", "feed_protocol", "fresh", "main", "num"]

TARGET_FRESH_RATIO = 1.5  # trendwatch / reader, same run, default settings
TARGET_REVALIDATED_RATIO = 2.0
TARGET_MEMORY_MB = 300
READER_WORKERS = 16


# --- memory ------------------------------------------------------------------------


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as f:
                found += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return found


class MemorySampler:
    """Peak resident memory of this process and its descendants (except ``skip``), and
    the seconds their threads were ready to run but waited for a CPU (the run-queue
    wait of ``/proc/<pid>/task/<tid>/schedstat``), both sampled every ``every`` s.

    The wait tells a crawl held back by the machine's other work from one that waits
    on the network or on itself: with the kernel's autogroup scheduling (on by default,
    ``/proc/sys/kernel/sched_autogroup_enabled``) the CPU is shared between sessions,
    so ``nice`` does not buy the benchmark a larger share against other sessions' work.
    A task that ends between two samples loses at most its last ``every`` s."""

    def __init__(self, skip: set[int], every: float = 0.05) -> None:
        self.skip = skip
        self.every = every
        self.peak_kb = 0
        self._first: dict[tuple[int, int], int] = {}  # ns waited when first seen
        self._last: dict[tuple[int, int], int] = {}  # ns waited when last seen
        self._started = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def cpu_wait_s(self) -> float:
        """Seconds the tree's threads have waited for a CPU since the sampler started."""
        self.tree_kb()
        return sum(v - self._first[k] for k, v in self._last.items()) / 1e9

    def tree_kb(self) -> int:
        total, todo = 0, [os.getpid()]
        while todo:
            pid = todo.pop()
            if pid in self.skip:
                continue
            total += _rss_kb(pid)
            self._note_waits(pid)
            todo += _children(pid)
        return total

    def _note_waits(self, pid: int) -> None:
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            return
        for task in tasks:
            waited = _run_queue_ns(f"/proc/{pid}/task/{task}/schedstat")
            if waited is None:
                continue
            key = (pid, int(task))
            # tasks there at the start count from then, tasks born meanwhile from 0
            self._first.setdefault(key, 0 if self._started else waited)
            self._last[key] = waited

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, self.tree_kb())
            self._stop.wait(self.every)

    def __enter__(self) -> MemorySampler:
        self.tree_kb()  # the starting point of the waits
        self._started = True
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kb = max(self.peak_kb, self.tree_kb())


def _run_queue_ns(path: str) -> int | None:
    """Nanoseconds a task has waited on a run queue (schedstat's second field)."""
    try:
        with open(path, encoding="ascii") as f:
            return int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None


# --- runs --------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One crawler's figures in one run."""

    fresh_s: float
    revalidated_s: float
    entries: int
    fresh_cpu_s: float  # CPU seconds of this process and its (reaped) children
    child_cpu_s: float  # ...of which in child processes (trendwatch's parsing pool)
    revalidated_cpu_s: float  # CPU seconds of the revalidating crawl
    peak_per_host: int  # most requests in flight to one host, both crawls
    load: float  # the 1-minute load average after the crawls
    peak_mb: float = 0.0
    fresh_wait_s: float = 0.0  # seconds its threads waited for a CPU, fresh crawl


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds of this process and its reaped children, and of those children."""
    t = os.times()
    children = t.children_user + t.children_system
    return t.user + t.system + children, children


def cpu_since(before: tuple[float, float]) -> tuple[float, float]:
    now = cpu_seconds()
    return now[0] - before[0], now[1] - before[1]


def load_average() -> float:
    return os.getloadavg()[0]


def write_config(directory: Path, server: FeedServer, args: argparse.Namespace) -> Path:
    """A config of every feed, with the [crawl] settings given (default: none set)."""
    lines = ['data_dir = "data"', "allow_private_networks = true  # every feed is on 127.0.0.0/8"]
    crawl = {
        "per_host": args.tw_per_host,
        "per_host_delay": args.tw_per_host_delay,
        "concurrency": args.tw_concurrency,
    }
    if any(v is not None for v in crawl.values()):
        lines += ["", "[crawl]"] + [f"{k} = {v}" for k, v in crawl.items() if v is not None]
    for title, url in server.urls:
        lines += ["", "[[sources]]", f"name = {json.dumps(title)}", f"url = {json.dumps(url)}"]
    path = directory / "trendwatch.toml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def run_trendwatch(server: FeedServer, args: argparse.Namespace) -> Run:
    """A fresh and a revalidating crawl by trendwatch, into a new database."""
    feeds = len(server.urls)
    with tempfile.TemporaryDirectory(prefix="trendwatch-crawl-bench-") as tmp:
        settings = load_settings(write_config(Path(tmp), server, args))
        server.peak_per_host(reset=True)
        with (
            MemorySampler({server.process.pid or -1}) as memory,
            Store(settings.db_path) as store,
        ):
            started, cpu = time.perf_counter(), cpu_seconds()
            reports = crawl_job.crawl(settings, store)
            fresh_s = time.perf_counter() - started
            fresh_cpu = cpu_since(cpu)
            fresh_wait = memory.cpu_wait_s()
            failed = [r for r in reports if r.status != "ok"]
            if failed or len(reports) != feeds:
                raise SystemExit(f"fresh crawl: {len(failed)} of {feeds} not ok: {failed[:1]}")
            stored = store.article_count()
            if stored != feeds * args.entries:
                raise SystemExit(f"fresh crawl stored {stored}, expected {feeds * args.entries}")

            before = server.served()[1]
            started = time.perf_counter()
            cpu = cpu_seconds()
            again = crawl_job.crawl(settings, store, force=True)
            revalidated_s = time.perf_counter() - started
            revalidated_cpu = cpu_since(cpu)[0]
            if any(r.status != "not modified" for r in again) or len(again) != feeds:
                raise SystemExit("second crawl: not every feed answered 304 Not Modified")
            if server.served()[1] - before != feeds:
                raise SystemExit("second crawl: the server did not send one 304 per feed")
        limit = settings.crawl.per_host
        peak = server.peak_per_host()
        if peak > limit:
            raise SystemExit(f"trendwatch had {peak} requests in flight to a host (limit {limit})")
    return Run(
        fresh_s,
        revalidated_s,
        stored,
        *fresh_cpu,
        revalidated_cpu,
        peak,
        load_average(),
        memory.peak_kb / 1024,
        fresh_wait,
    )


def run_reader(server: FeedServer, args: argparse.Namespace) -> Run:
    """The same two crawls by lemon24/reader: ``update_feeds(workers=16)``, twice."""
    from reader import make_reader  # the bench extra

    feeds = len(server.urls)
    with tempfile.TemporaryDirectory(prefix="reader-crawl-bench-") as tmp:
        reader = make_reader(str(Path(tmp) / "reader.sqlite"))
        try:
            for _, url in server.urls:
                reader.add_feed(url)
            server.peak_per_host(reset=True)
            with MemorySampler({server.process.pid or -1}) as waits:
                started, cpu = time.perf_counter(), cpu_seconds()
                reader.update_feeds(workers=READER_WORKERS, scheduled=False)
                fresh_s = time.perf_counter() - started
                fresh_cpu = cpu_since(cpu)
                fresh_wait = waits.cpu_wait_s()
            broken = reader.get_feed_counts(broken=True).total
            stored = reader.get_entry_counts().total or 0
            if broken or stored != feeds * args.entries:
                raise SystemExit(f"reader: {broken} feeds broken, {stored} entries stored")

            before = server.served()[1]
            started, cpu = time.perf_counter(), cpu_seconds()
            reader.update_feeds(workers=READER_WORKERS, scheduled=False)
            revalidated_s = time.perf_counter() - started
            revalidated_cpu = cpu_since(cpu)[0]
            if server.served()[1] - before != feeds:
                raise SystemExit("reader's second update: not one 304 per feed")
        finally:
            reader.close()
    return Run(
        fresh_s,
        revalidated_s,
        stored,
        *fresh_cpu,
        revalidated_cpu,
        server.peak_per_host(),
        load_average(),
        fresh_wait_s=fresh_wait,
    )


def num(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def per_min(feeds: int, seconds: float) -> float:
    return feeds / seconds * 60


def describe(name: str, feeds: int, run: Run) -> str:
    memory = f", peak memory {run.peak_mb:.0f} MB" if run.peak_mb else ""
    pool = f", {run.child_cpu_s:.1f} in the pool" if run.child_cpu_s else ""
    return (
        f"  {name:<10} fresh {num(per_min(feeds, run.fresh_s)):>6} feeds/min"
        f" ({run.fresh_s:.1f} s, {run.fresh_cpu_s:.1f} CPU s{pool},"
        f" {run.fresh_wait_s:.1f} s waiting for a CPU over all threads)"
        f" | revalidated {num(per_min(feeds, run.revalidated_s)):>6} feeds/min"
        f" ({run.revalidated_s:.1f} s, {run.revalidated_cpu_s:.1f} CPU s)"
        f" | at most {run.peak_per_host} in flight a host"
        f"{memory} | load {run.load:.1f}"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=1000, help="feeds (1000)")
    parser.add_argument("--entries", type=int, default=20, help="entries per feed (20)")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians reported (3)")
    parser.add_argument("--per-host", type=int, default=4, help="feeds a host (4); 0: one host")
    parser.add_argument("--latency", type=float, default=0.1, help="server latency, s (0.1)")
    parser.add_argument("--peer", choices=("reader", "none"), default="reader")
    parser.add_argument("--tw-per-host", type=int, help="crawl.per_host (default: unset)")
    parser.add_argument("--tw-per-host-delay", type=float, help="crawl.per_host_delay (unset)")
    parser.add_argument("--tw-concurrency", type=int, help="crawl.concurrency (unset)")
    parser.add_argument(
        "--paragraph-chars", type=int, default=380, help="body paragraph size (380: ~28 KB)"
    )
    args = parser.parse_args(argv)
    if min(args.feeds, args.entries, args.runs) < 1 or args.per_host < 0 or args.latency < 0:
        parser.error("--feeds, --entries and --runs must be at least 1; no negative values")
    args.hosts = 1 if args.per_host == 0 else -(-args.feeds // args.per_host)
    if args.hosts > 60_000:
        parser.error("at most 60000 loopback hosts")
    if args.peer == "reader":
        try:
            import reader  # noqa: F401
        except ImportError:
            parser.error("--peer reader needs lemon24/reader: pip install '.[bench]'")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    server = FeedServer(args.feeds, args.entries, args.hosts, args.paragraph_chars, args.latency)
    crawlers: dict[str, Callable[[FeedServer, argparse.Namespace], Run]] = {
        "trendwatch": run_trendwatch
    }
    if args.peer == "reader":
        crawlers["reader"] = run_reader
    results: dict[str, list[Run]] = {name: [] for name in crawlers}
    try:
        sizes = server.sizes
        hosts = addresses(args.hosts)
        print(
            f"{args.feeds:,} feeds x {args.entries} entries, {statistics.mean(sizes) / 1000:.1f} KB"
            f" a feed on average, from {len(hosts)} host(s) {hosts[0]}"
            f"{'...' + hosts[-1] if len(hosts) > 1 else ''}, {args.latency * 1000:.0f} ms"
            f" latency, served by a separate process (ready in"
            f" {time.perf_counter() - started:.1f} s); {os.cpu_count()} CPU(s),"
            f" load {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        given = {k: getattr(args, f"tw_{k}") for k in ("per_host", "per_host_delay", "concurrency")}
        shown = ", ".join(f"{k} {v}" for k, v in given.items() if v is not None) or "defaults"
        print(f"trendwatch [crawl] settings: {shown}; reader: workers={READER_WORKERS}")
        for i in range(args.runs):
            order = list(crawlers) if i % 2 == 0 else list(reversed(crawlers))
            print(f"run {i + 1}:", flush=True)
            for name in order:
                run = crawlers[name](server, args)
                results[name].append(run)
                print(describe(name, args.feeds, run), flush=True)
    finally:
        server.stop()
    return report(args, results)


def report(args: argparse.Namespace, results: dict[str, list[Run]]) -> int:
    """The medians, the ratios to the peer and whether the targets hold."""
    feeds = args.feeds

    def median(name: str, what: str) -> float:
        return per_min(feeds, statistics.median(getattr(r, what) for r in results[name]))

    tw = results["trendwatch"]
    print()
    print(f"median of {len(tw)} run(s), {feeds:,} feeds (feeds/min):")
    print(f"  {'':<38}{'trendwatch':>11}" + ("      reader   ratio" if "reader" in results else ""))
    ok = True
    for what, label, target in (
        ("fresh_s", "crawl, fresh (fetch, parse, store)", TARGET_FRESH_RATIO),
        ("revalidated_s", "crawl, revalidated (every feed: 304)", TARGET_REVALIDATED_RATIO),
    ):
        line = f"  {label:<38}{num(median('trendwatch', what)):>11}"
        if "reader" in results:
            ratio = median("trendwatch", what) / median("reader", what)
            ok = ok and ratio >= target
            line += f"{num(median('reader', what)):>12}{ratio:>7.2f}x (target {target}x)"
        print(line)
    peak = max(r.peak_mb for r in tw)
    cpu = statistics.median(r.fresh_cpu_s for r in tw)
    pool = statistics.median(r.child_cpu_s for r in tw)
    print(f"  peak memory (trendwatch + its children)  {peak:.0f} MB")
    print(f"  CPU time of trendwatch's fresh crawl     {cpu:.1f} s ({pool:.1f} s in the pool)")
    for name, runs in results.items():
        waited = statistics.median(r.fresh_wait_s for r in runs)
        print(
            f"  {name}'s fresh crawl: threads waited for a CPU{'':<{11 - len(name)}}{waited:.1f} s"
        )
    loads = [r.load for runs in results.values() for r in runs]
    print(f"  1-minute load average after the crawls   {min(loads):.1f}-{max(loads):.1f}")
    ok = ok and peak < TARGET_MEMORY_MB
    if "reader" in results:
        print(
            f"targets: fresh >= {TARGET_FRESH_RATIO}x reader, revalidated >="
            f" {TARGET_REVALIDATED_RATIO}x reader, peak < {TARGET_MEMORY_MB} MB:"
            f" {'met' if ok else 'NOT met'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
