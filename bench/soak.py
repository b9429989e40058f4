"""Soak test of ``trendwatch run``: many crawl cycles, memory growth, idle CPU, clean stop.

What it does, against the real scheduler (``trendwatch --config CFG run --log-file LOG``
started as a child process, exactly as systemd would start it):

* serves ``--feeds`` generated feeds (default 200) of ``--entries`` entries (default 10;
  RSS 2.0 and Atom, Dutch and English, written by the generator of ``bench/pipeline.py``)
  from an asyncio HTTP/1.1 server in a separate process on 127.0.0.1. Every feed has an
  ETag and a Last-Modified, so a revalidation gets 304 Not Modified; every
  ``--change-every`` seconds (default 5) ``--change-share`` of the feeds (default 2 %)
  publish one new entry (and drop their oldest), so some cycles bring new articles that
  the scheduler then processes (language, spaCy, matching, stories);
* writes a config in a temporary directory: ``allow_private_networks``, ``[schedule]
  crawl_every = "1s"``, one source per feed with ``min_interval = "1s"`` and
  ``max_interval = "2s"`` (so every source is polled every 1-2 s), a few watchlists, one
  subscriber (no ``[smtp]``: mail would go to the outbox) whose digest moment is days
  away, and ``[crawl] per_host_delay = 0`` (every feed is on the one loopback host);
* counts crawl cycles in the log ("crawl: N sources polled, ...") until ``--cycles``
  (default 1,000) have run, and reads the resident memory of the scheduler and its child
  processes (psutil) after ``--warm-cycles`` cycles (default 20; by then spaCy is loaded
  and the first articles are processed) and at the end. Each reading is the smallest
  total over ~2 s of samples of the scheduler and those children that are at least 10 s
  old: the feed-parsing worker a cycle starts (and stops) is not growth, a child that
  stays is. The scheduler process alone and the peak of samples taken every 0.5 s
  (transient workers included) are reported too;
* idle CPU: pauses the feed changes, rewrites the config with ``min_interval =
  max_interval = "1h"`` for every source and sends SIGHUP; once a reload was logged and
  no cycle has run for 5 s (every source then waits an hour), it measures the CPU time
  (user + system) of the scheduler and its children over ``--idle-seconds`` (default 60)
  and reports it as a percentage of one core;
* sends SIGTERM and times the exit (it must come within 10 s, with status 0).

Targets: memory growth from the warm reading to the end below 20 MB; idle CPU below 1 %
of one core; exit within 10 s. With ``--runs N`` each run gets a fresh directory and
database and the median is printed. The machine's CPU count and load average are printed:
on a shared 2-core machine, cycles/s depends on what else runs. With 1-2 s intervals a
cycle comes about every 2.3 s (the sources fall due together every max_interval, plus the
crawl itself), so 1,000 cycles take ~40 minutes; ``--keep-log PATH`` keeps the log.

Run it from the repository root with the project's virtualenv::

    python bench/soak.py                                            # 1,000 cycles (~40 min)
    python bench/soak.py --cycles 50 --feeds 50 --idle-seconds 10   # a quick check

Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from multiprocessing.connection import Connection
from pathlib import Path

# A script's own folder comes first on sys.path, and bench/pipeline.py would shadow the
# "pipeline" package. Put the repository root there instead.
ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

import psutil  # noqa: E402

from bench.feed_server import Served, bench_pipeline, feed_protocol  # noqa: E402

TARGET_GROWTH_MB = 20.0
TARGET_IDLE_CPU = 1.0  # % of one core
TARGET_EXIT_S = 10.0
TRANSIENT_S = 10.0  # a child younger than this is a per-cycle worker, not a lasting one
QUIET_S = 5.0  # no cycle for this long after the reload: every source waits an hour
# "crawl: 200 sources polled, 3 new articles, 0 failed (1.5 s)": a cycle is any line
# with "crawl: N sources polled"; the other figures are read when they are there
CRAWL_RE = re.compile(r"crawl: (\d+) sources polled")
NEW_RE = re.compile(r"(\d+) new articles")
FAILED_RE = re.compile(r"(\d+) (?:failed|errors?)\b")


# --- the feed server (its own process) ---------------------------------------------


@dataclass
class LiveFeed:
    """One feed in the server: its entries (newest last) and what is served now."""

    meta: object  # pipeline.demo.feeds.DemoFeed
    path: str
    url: str
    language: str
    entries: list[tuple[object, datetime]]  # (DemoArticle, published, whole seconds)
    next_id: int
    served: object = None  # crawl.Served


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


class FeedSet:
    """The server's feeds; ``change`` publishes one new entry in a few of them."""

    def __init__(self, count: int, entries: int, base: str, seed: int) -> None:
        self.bp = bench_pipeline()
        self.rng = random.Random(seed)
        self.base = base
        now = datetime.now(UTC).replace(microsecond=0)
        self.feeds: dict[bytes, LiveFeed] = {}
        for i in range(count):
            language = "nl" if (i // 2) % 2 == 0 else "en"
            fmt = "rss" if i % 2 == 0 else "atom"
            meta = self.bp.feed_meta(i, language, fmt, self.rng, "soak")
            path = f"/feeds/{i:04d}.xml"
            feed = LiveFeed(meta, path, base + path, language, [], 0)
            for _ in range(entries):
                feed.entries.append(self._entry(feed, now, fresh=False))
            feed.entries.sort(key=lambda e: e[1])
            self._render(feed, now)
            self.feeds[path.encode()] = feed

    def _entry(self, feed: LiveFeed, now: datetime, *, fresh: bool) -> tuple[object, datetime]:
        bp = self.bp
        head, first, second, published, categories = bp._entry_fields(self.rng, feed.language, now)
        if fresh:
            published = now - timedelta(seconds=1)
        j = feed.next_id
        feed.next_id += 1
        fields = (head, first, second, categories)
        # hours_ago is set from ``published`` at each rendering
        article = bp.entry_article(feed.meta, j, fields, published, 0.0, "soak")
        return article, published.replace(microsecond=0)

    def _render(self, feed: LiveFeed, now: datetime) -> None:
        # hours_ago half a second short of the whole-second date, so the renderer's
        # truncation to seconds gives back exactly ``published`` at every rendering
        articles = [
            replace(a, hours_ago=max(0.0, ((now - p).total_seconds() - 0.5) / 3600))
            for a, p in feed.entries
        ]
        body = self.bp.render_feed(feed.meta, articles, now, self_url=feed.url)
        etag = '"' + format(hash((feed.path, feed.next_id, len(body))) & (2**64 - 1), "x") + '"'
        lm = _http_date(now)
        kind = f"application/{feed.meta.format}+xml; charset=utf-8"
        head = (
            "HTTP/1.1 200 OK\r\n"
            f"Content-Type: {kind}\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"ETag: {etag}\r\nLast-Modified: {lm}\r\n\r\n"
        ).encode()
        not_modified = (
            f"HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nLast-Modified: {lm}\r\n\r\n"
        ).encode()
        feed.served = Served(body, etag.encode(), head, not_modified, now)

    def change(self, share: float) -> int:
        """One new entry (the oldest dropped) in ``share`` of the feeds; how many."""
        now = datetime.now(UTC).replace(microsecond=0)
        picked = self.rng.sample(
            list(self.feeds.values()), k=max(1, round(share * len(self.feeds)))
        )
        for feed in picked:
            feed.entries.append(self._entry(feed, now, fresh=True))
            del feed.entries[0]
            self._render(feed, now)
        return len(picked)


def server_main(
    conn: Connection, feeds: int, entries: int, every: float, share: float, counts
) -> None:
    """Child process: generate the feeds, listen, report the URLs, serve until killed.

    ``counts``: [200 answers, 304 answers, new entries published, changes paused (0/1)].
    """
    asyncio.run(_serve(conn, feeds, entries, every, share, counts))


async def _serve(
    conn: Connection, feeds: int, entries: int, every: float, share: float, counts
) -> None:
    table: dict[bytes, LiveFeed] = {}

    def served_for(path: bytes) -> object:
        feed = table.get(path)
        return feed.served if feed is not None else None

    Feed = feed_protocol(served_for, counts)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(Feed, "127.0.0.1", 0, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    feed_set = FeedSet(feeds, entries, f"http://127.0.0.1:{port}", seed=20240601)
    table.update(feed_set.feeds)
    conn.send({"urls": [(f.language, f.url) for f in table.values()]})
    while True:  # until the parent terminates us
        await asyncio.sleep(every)
        if not counts[3]:
            counts[2] += feed_set.change(share)


class FeedServer:
    """The server process: started with the generated feeds, stopped on exit."""

    def __init__(self, feeds: int, entries: int, every: float, share: float) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.counts = ctx.Array("q", 4, lock=False)
        parent, child = ctx.Pipe()
        self.process = ctx.Process(
            target=server_main,
            args=(child, feeds, entries, every, share, self.counts),
            daemon=True,
        )
        self.process.start()
        if not parent.poll(600):
            raise SystemExit("the feed server did not start")
        self.urls: list[tuple[str, str]] = parent.recv()["urls"]  # (language, url)

    def served(self) -> tuple[int, int, int]:
        """200 answers, 304 answers, new entries published so far."""
        return int(self.counts[0]), int(self.counts[1]), int(self.counts[2])

    def pause_changes(self, paused: bool) -> None:
        self.counts[3] = int(paused)

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(10)


# --- the config --------------------------------------------------------------------


def write_config(
    path: Path, urls: list[tuple[str, str]], interval: tuple[str, str], per_host: int
) -> Path:
    bp = bench_pipeline()
    now = datetime.now(UTC)
    # the digest moment three and a half days away: far from the whole run (and the
    # last one, as long ago, is past the grace period, so it is skipped, not sent)
    moment = now + timedelta(days=3, hours=12)
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[moment.weekday()]
    lines = [
        'data_dir = "data"',
        'digest_title = "Trendwatch soak"',
        'from = "Trendwatch soak <digest@soak.trendwatch.invalid>"',
        "allow_private_networks = true  # every feed is on 127.0.0.1",
        "",
        "[schedule]",
        'timezone = "UTC"',
        'crawl_every = "1s"',
        f'digest = "{weekday} {moment:%H}:00"',
        "",
        "[crawl]",
        "per_host_delay = 0  # every feed is on this machine",
        f"per_host = {per_host}",
    ]
    for i, (language, url) in enumerate(urls):
        lines += [
            "",
            "[[sources]]",
            f'name = "soak-{i:04d}"',
            'type = "feed"',
            f"url = {json.dumps(url)}",
            f'language = "{language}"',
            f'min_interval = "{interval[0]}"',
            f'max_interval = "{interval[1]}"',
        ]
    watchlists = bp.WATCHLISTS[:3]
    for name, title, query, _, _ in watchlists:
        lines += [
            "",
            "[[watchlists]]",
            f"name = {json.dumps(name)}",
            f"title = {json.dumps(title)}",
            f"query = {json.dumps(query)}",
        ]
    lines += [
        "",
        "[[subscribers]]",
        'email = "lezer@soak.trendwatch.invalid"',
        'name = "Lezer"',
        'language = "nl"',
        "watchlists = [" + ", ".join(json.dumps(w[0]) for w in watchlists) + "]",
    ]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", "utf-8")
    tmp.replace(path)  # the scheduler never reads a half-written file
    return path


# --- watching the child ------------------------------------------------------------


class Log:
    """The scheduler's log file, read as it grows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.partial = b""
        self.cycles = self.polled = self.new = self.errors = 0
        self.last_cycle = time.monotonic()
        self.processed = 0  # "process:" lines
        self.reloads = 0
        self.problems: list[str] = []  # ERROR lines and tracebacks

    def lines(self) -> Iterator[str]:
        """The complete lines added since the last call."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except FileNotFoundError:
            return
        self.offset += len(chunk)
        *complete, self.partial = (self.partial + chunk).split(b"\n")
        for line in complete:
            yield line.decode("utf-8", "replace")

    def poll(self) -> None:
        for line in self.lines():
            if match := CRAWL_RE.search(line):
                self.cycles += 1
                self.polled += int(match[1])
                rest = line[match.end() :]
                if new := NEW_RE.search(rest):
                    self.new += int(new[1])
                if failed := FAILED_RE.search(rest):
                    self.errors += int(failed[1])
                self.last_cycle = time.monotonic()
            elif " process: " in line:
                self.processed += 1
            elif "config: reloaded" in line:
                self.reloads += 1
            if " ERROR " in line or "Traceback" in line or "failed after" in line:
                self.problems.append(line)


def tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def tree_rss(proc: psutil.Process, min_age: float = 0.0) -> int:
    """Total RSS of ``proc`` and its descendants; children younger than ``min_age``
    seconds are left out."""
    total = 0
    now = time.time()
    for p in tree(proc):
        try:
            if p is not proc and now - p.create_time() < min_age:
                continue
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


@dataclass(frozen=True)
class Memory:
    tree_mb: float  # the scheduler and its lasting children
    main_mb: float  # the scheduler process alone
    processes: int  # in the tree when read, transient ones included


def settled_rss(proc: psutil.Process, seconds: float = 2.0) -> Memory:
    """The smallest RSS over ``seconds`` (10 samples a second) of the scheduler plus
    its children that are at least ``TRANSIENT_S`` old: a feed-parsing worker started
    for one cycle is not growth, a child that stays is."""
    end = time.monotonic() + seconds
    low, main = tree_rss(proc, TRANSIENT_S), proc.memory_info().rss
    while time.monotonic() < end:
        time.sleep(0.1)
        low = min(low, tree_rss(proc, TRANSIENT_S))
        main = min(main, proc.memory_info().rss)
    return Memory(low / 2**20, main / 2**20, len(tree(proc)))


class PeakSampler:
    """The peak total RSS of the process tree, sampled every ``every`` seconds."""

    def __init__(self, proc: psutil.Process, every: float = 0.5) -> None:
        self.proc = proc
        self.every = every
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, tree_rss(self.proc))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak / 2**20


def cpu_snapshot(proc: psutil.Process) -> dict[int, float]:
    """CPU seconds (user + system) by pid of the tree, plus the reaped children of each
    process (psutil's children_user/children_system) under key -pid."""
    out: dict[int, float] = {}
    for p in tree(proc):
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        out[p.pid] = t.user + t.system
        out[-p.pid] = t.children_user + t.children_system
    return out


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between the snapshots (a process started in between counts
    fully; one that ended and was reaped shows up in its parent's children times)."""
    return sum(max(0.0, v - before.get(k, 0.0)) for k, v in after.items())


def show(memory: Memory) -> str:
    return (
        f"{memory.tree_mb:.1f} MB (scheduler process {memory.main_mb:.1f} MB;"
        f" {memory.processes} process(es) in the tree)"
    )


def scheduler_command() -> list[str]:
    script = Path(sys.executable).parent / "trendwatch"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "pipeline"]


# --- one run -----------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    cycles: int
    wall_s: float
    polled: int
    new: int
    errors: int
    processed: int
    warm: Memory
    end: Memory
    peak_mb: float
    idle_cpu: float  # % of one core
    idle_cycles: int  # cycles logged during the idle window (expected: 0)
    exit_s: float | None  # None: did not exit within TARGET_EXIT_S
    exit_code: int | None
    served: tuple[int, int, int]
    problems: list[str]

    @property
    def growth_mb(self) -> float:
        return self.end.tree_mb - self.warm.tree_mb

    @property
    def main_growth_mb(self) -> float:
        return self.end.main_mb - self.warm.main_mb

    @property
    def rate(self) -> float:
        return self.cycles / self.wall_s if self.wall_s else 0.0


class Failed(Exception):
    pass


def wait_for(log: Log, child: subprocess.Popen, stderr: Path, until, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        log.poll()
        if until():
            return
        if child.poll() is not None:
            tail = stderr.read_text("utf-8", "replace")[-2000:]
            raise Failed(f"the scheduler exited ({child.returncode}) while {what}:\n{tail}")
        if time.monotonic() > deadline:
            raise Failed(f"timed out after {timeout:.0f} s while {what}")
        time.sleep(0.2)


def one_run(server: FeedServer, args: argparse.Namespace, index: int) -> Run:
    before_served = server.served()
    server.pause_changes(False)
    with tempfile.TemporaryDirectory(prefix="trendwatch-soak-") as tmp:
        folder = Path(tmp)
        config = write_config(folder / "trendwatch.toml", server.urls, ("1s", "2s"), args.per_host)
        log_path = folder / "run.log"
        stderr_path = folder / "stderr.txt"
        with open(stderr_path, "wb") as stderr:
            started = time.monotonic()
            child = subprocess.Popen(
                [
                    *scheduler_command(),
                    "--config",
                    str(config),
                    "run",
                    "--log-file",
                    str(log_path),
                ],
                cwd=folder,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        proc = psutil.Process(child.pid)
        log = Log(log_path)
        sampler = PeakSampler(proc)
        try:
            warm = min(args.warm_cycles, max(1, args.cycles // 2))
            checkpoints = {args.cycles * k // 10 for k in range(1, 10)} - set(range(warm + 1))
            warm_mem: Memory | None = None
            while log.cycles < args.cycles:
                seen = log.cycles
                wait_for(
                    log,
                    child,
                    stderr_path,
                    lambda seen=seen: log.cycles > seen,
                    args.stall_timeout,
                    f"waiting for crawl cycle {seen + 1}",
                )
                if warm_mem is None and log.cycles >= warm:
                    warm_mem = settled_rss(proc)
                    print(
                        f"  run {index}: warm after {log.cycles} cycles"
                        f" ({time.monotonic() - started:.0f} s, {log.new:,} new articles,"
                        f" {log.processed} processing rounds): {show(warm_mem)}",
                        flush=True,
                    )
                elif checkpoints and log.cycles >= min(checkpoints):
                    checkpoints = {c for c in checkpoints if c > log.cycles}
                    print(
                        f"  run {index}: {log.cycles:,} cycles"
                        f" ({time.monotonic() - started:.0f} s, {log.new:,} new articles):"
                        f" {show(settled_rss(proc, 1.0))}",
                        flush=True,
                    )
            wall_s = time.monotonic() - started
            cycles = log.cycles
            polled, new, errors, processed = log.polled, log.new, log.errors, log.processed
            end_mem = settled_rss(proc)
            assert warm_mem is not None
            peak_mb = sampler.stop()
            served = tuple(a - b for a, b in zip(server.served(), before_served, strict=True))

            # idle: every source waits an hour after the reload
            server.pause_changes(True)
            reloads = log.reloads
            write_config(config, server.urls, ("1h", "1h"), args.per_host)
            child.send_signal(signal.SIGHUP)
            wait_for(
                log,
                child,
                stderr_path,
                lambda: log.reloads > reloads,
                60,
                "waiting for the config reload after SIGHUP",
            )
            wait_for(
                log,
                child,
                stderr_path,
                lambda: time.monotonic() - log.last_cycle >= QUIET_S,
                120,
                f"waiting for {QUIET_S:.0f} s without a crawl cycle after the reload",
            )
            idle_from = log.cycles
            cpu_before, t0 = cpu_snapshot(proc), time.monotonic()
            time.sleep(args.idle_seconds)
            cpu_after, t1 = cpu_snapshot(proc), time.monotonic()
            log.poll()
            idle_cpu = cpu_delta(cpu_before, cpu_after) / (t1 - t0) * 100
            idle_cycles = log.cycles - idle_from

            # stop
            stop_started = time.monotonic()
            child.send_signal(signal.SIGTERM)
            try:
                code: int | None = child.wait(TARGET_EXIT_S)
                exit_s: float | None = time.monotonic() - stop_started
            except subprocess.TimeoutExpired:
                code, exit_s = None, None
            log.poll()
            return Run(
                cycles=cycles,
                wall_s=wall_s,
                polled=polled,
                new=new,
                errors=errors,
                processed=processed,
                warm=warm_mem,
                end=end_mem,
                peak_mb=peak_mb,
                idle_cpu=idle_cpu,
                idle_cycles=idle_cycles,
                exit_s=exit_s,
                exit_code=code,
                served=served,
                problems=log.problems,
            )
        finally:
            sampler.stop()
            if child.poll() is None:
                child.kill()
                child.wait()
            if args.keep_log:
                target = Path(args.keep_log).with_suffix(f".{index}.log")
                target.write_bytes(log_path.read_bytes() if log_path.exists() else b"")


# --- main --------------------------------------------------------------------------


def mark(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=1000, help="crawl cycles (1000)")
    parser.add_argument("--feeds", type=int, default=200, help="feeds (200)")
    parser.add_argument("--entries", type=int, default=10, help="entries per feed (10)")
    parser.add_argument(
        "--idle-seconds", type=float, default=60.0, help="idle CPU window in seconds (60)"
    )
    parser.add_argument("--runs", type=int, default=1, help="runs; medians reported (1)")
    parser.add_argument(
        "--warm-cycles", type=int, default=20, help="cycles before the warm reading (20)"
    )
    parser.add_argument(
        "--change-every", type=float, default=5.0, help="seconds between feed changes (5)"
    )
    parser.add_argument(
        "--change-share",
        type=float,
        default=0.02,
        help="share of the feeds that publish an entry at each change (0.02)",
    )
    parser.add_argument("--per-host", type=int, default=2, help="crawl.per_host (2)")
    parser.add_argument(
        "--stall-timeout",
        type=float,
        default=600.0,
        help="give up when no cycle is logged for this many seconds (600)",
    )
    parser.add_argument(
        "--keep-log", metavar="PATH", help="copy each run's scheduler log to PATH.N.log"
    )
    args = parser.parse_args(argv)
    if min(args.cycles, args.feeds, args.entries, args.runs, args.per_host) < 1:
        parser.error("--cycles, --feeds, --entries, --runs and --per-host must be at least 1")
    if args.idle_seconds <= 0 or args.change_every <= 0 or not 0 < args.change_share <= 1:
        parser.error("--idle-seconds and --change-every must be > 0, --change-share in (0, 1]")

    started = time.monotonic()
    server = FeedServer(args.feeds, args.entries, args.change_every, args.change_share)
    changing = max(1, round(args.change_share * args.feeds))
    print(
        f"{args.feeds:,} feeds x {args.entries} entries on 127.0.0.1 (ETag, Last-Modified),"
        f" served by a separate process (ready in {time.monotonic() - started:.1f} s);"
        f" {changing} feed(s) publish an entry every {args.change_every:g} s"
    )
    print(
        f"scheduler: {' '.join(scheduler_command())} run; crawl_every 1s, sources 1s-2s,"
        f" per_host {args.per_host}, per_host_delay 0; {os.cpu_count()} CPU(s),"
        f" load {os.getloadavg()[0]:.1f}"
    )
    runs: list[Run] = []
    failures = 0
    try:
        for i in range(1, args.runs + 1):
            run_started = time.monotonic()
            try:
                run = one_run(server, args, i)
            except Failed as exc:
                print(f"run {i}: FAILED: {exc}", flush=True)
                failures += 1
                continue
            runs.append(run)
            exit_text = (
                f"{run.exit_s:.1f} s (status {run.exit_code})"
                if run.exit_s is not None
                else f"not within {TARGET_EXIT_S:.0f} s"
            )
            print(
                f"run {i}: {run.cycles:,} cycles in {run.wall_s:.0f} s"
                f" ({run.rate:.2f}/s; {run.polled:,} polls, {run.new:,} new articles,"
                f" {run.errors} errors, {run.processed} processing rounds;"
                f" server: {run.served[0]:,} x 200, {run.served[1]:,} x 304)"
                f" | RSS warm {run.warm.tree_mb:.1f} MB, end {run.end.tree_mb:.1f} MB,"
                f" growth {run.growth_mb:+.1f} MB (scheduler process alone"
                f" {run.main_growth_mb:+.1f} MB), peak {run.peak_mb:.0f} MB"
                f" | idle CPU {run.idle_cpu:.2f} % ({run.idle_cycles} cycles in the window)"
                f" | exit {exit_text} | {time.monotonic() - run_started:.0f} s in all"
                f" | load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            for line in run.problems[:5]:
                print(f"  log: {line}")
            if len(run.problems) > 5:
                print(f"  log: ... {len(run.problems) - 5} more ERROR lines")
    finally:
        server.stop()
    if not runs:
        print("no run completed")
        return 1

    def med(values) -> float:
        return statistics.median(list(values))

    growth = med(r.growth_mb for r in runs)
    idle = med(r.idle_cpu for r in runs)
    exits = [r.exit_s for r in runs]
    clean_exit = all(e is not None and e < TARGET_EXIT_S for e in exits) and all(
        r.exit_code == 0 for r in runs
    )
    exit_s = max(e if e is not None else float("inf") for e in exits)
    print()
    print(f"median of {len(runs)} run(s), {args.feeds:,} feeds:")
    print(f"  crawl cycles                          {med(r.cycles for r in runs):>9,.0f}")
    print(f"  wall time for the cycles              {med(r.wall_s for r in runs):>9.0f} s")
    print(f"  cycles per second                     {med(r.rate for r in runs):>9.2f}")
    print(f"  sources polled per cycle              {med(r.polled / r.cycles for r in runs):>9.1f}")
    print(f"  new articles                          {med(r.new for r in runs):>9,.0f}")
    print(f"  crawl errors                          {med(r.errors for r in runs):>9,.0f}")
    print(f"  RSS warm (scheduler + children)       {med(r.warm.tree_mb for r in runs):>9.1f} MB")
    print(f"  RSS end                               {med(r.end.tree_mb for r in runs):>9.1f} MB")
    print(f"  RSS growth                            {growth:>+9.1f} MB")
    alone = med(r.main_growth_mb for r in runs)
    print(f"  RSS growth, scheduler process alone   {alone:>+9.1f} MB")
    print(f"  RSS peak                              {max(r.peak_mb for r in runs):>9.0f} MB")
    print(f"  idle CPU (% of one core)              {idle:>9.2f} %")
    print(f"  exit after SIGTERM (slowest)          {exit_s:>9.1f} s")
    ok_growth = growth < TARGET_GROWTH_MB
    ok_idle = idle < TARGET_IDLE_CPU
    print("targets:")
    print(f"  RSS growth < {TARGET_GROWTH_MB:.0f} MB:            {mark(ok_growth)}")
    print(f"  idle CPU < {TARGET_IDLE_CPU:.0f} % of one core:     {mark(ok_idle)}")
    print(f"  exit within {TARGET_EXIT_S:.0f} s, status 0:    {mark(clean_exit)}")
    if failures:
        print(f"  {failures} run(s) failed")
    ok = ok_growth and ok_idle and clean_exit and not failures
    print(f"all targets {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
