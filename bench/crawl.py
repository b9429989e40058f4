"""Benchmark of the crawl job (``pipeline.crawl.job.crawl``) over many generated feeds.

What it measures, through ``pipeline.crawl.job.crawl`` (the function the CLI and the
scheduler call), on ``--feeds`` generated feeds (default 2,000) of ``--entries`` entries
each (default 20; about 28 KB a feed, half RSS 2.0 and half Atom, Dutch and English,
written by the generator of ``bench/pipeline.py``):

* ``fresh``        – a crawl into an empty database: fetch, parse, sanitise, store every
  entry, record every source's health (feeds/min);
* ``revalidated``  – a second, forced crawl: every feed answers 304 Not Modified to the
  stored ETag (feeds/min);
* peak memory      – resident memory of the crawler process plus its children (the
  feed-parsing process pool), sampled every 50 ms from /proc; the server is not counted;
* a baseline       – a naive loop calling stock ``feedparser.parse(url)`` one feed at a
  time over a sample (``--naive``, default 100 feeds), scaled to all feeds.

The feeds are served by an asyncio HTTP/1.1 server (keep-alive, ETags, 304s) in a
separate process, so the server never competes with the crawler for the GIL. It listens
on ``--hosts`` loopback addresses (127.0.0.2, 127.0.0.3, ...; default 200, so 10 feeds a
host) and the crawl runs with its default politeness limits: 2 requests in flight per
host, 32 sources at once. Only the per-host *delay* is set to 0, since every "host" is
the same local machine; ``--hosts 1`` puts every feed on 127.0.0.1 instead (then raise
``--per-host``).

Each run uses a fresh temporary directory (config, database); the median of ``--runs``
runs is reported. Run it from the repository root with the project's virtualenv::

    python bench/crawl.py                       # 2,000 feeds, 3 runs
    python bench/crawl.py --feeds 200 --runs 1  # a quick check
    python bench/crawl.py --pool off            # feeds parsed on the event loop

Only 127.0.0.0/8 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from multiprocessing.connection import Connection
from pathlib import Path
from types import ModuleType

# A script's own folder comes first on sys.path, and bench/pipeline.py would shadow the
# "pipeline" package. Put the repository root there instead.
ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

import feedparser  # noqa: E402

from pipeline.crawl import job as crawl_job  # noqa: E402
from pipeline.settings import load_settings  # noqa: E402
from pipeline.store import Store  # noqa: E402

TARGET_FRESH = 2_000  # feeds per minute, on 2 cores
TARGET_REVALIDATED = 10_000
TARGET_MEMORY_MB = 300


def bench_pipeline() -> ModuleType:
    """bench/pipeline.py, whose feed generator this benchmark shares."""
    name = "trendwatch_bench_pipeline"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / "pipeline.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# --- the feed server (its own process) ---------------------------------------------


@dataclass(frozen=True)
class Served:
    body: bytes
    etag: bytes
    head_200: bytes
    head_304: bytes
    last_modified: datetime | None = None  # when the 200 answer says Last-Modified


def fresh(served: Served, tags: list[bytes] | None, since: bytes | None) -> bool:
    """Whether a conditional GET gets 304 (RFC 9110): If-None-Match (its entity tags)
    decides when present, else If-Modified-Since where the feed has a Last-Modified."""
    if tags is not None:
        return served.etag in tags or b"*" in tags
    if since is not None and served.last_modified is not None:
        try:
            return parsedate_to_datetime(since.decode("latin-1")) >= served.last_modified
        except (TypeError, ValueError):
            return False
    return False


def feed_protocol(served_for: Callable[[bytes], Served | None], counts) -> type[asyncio.Protocol]:
    """A minimal HTTP/1.1 keep-alive server for the feed benchmarks: GET a path, get its
    :class:`Served` feed, 304 when :func:`fresh`, else 200; 404 for an unknown path.
    Counts 200 answers in ``counts[0]`` and 304 answers in ``counts[1]``."""

    class Feed(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            self.transport = transport
            self.buffer = b""

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            while b"\r\n\r\n" in self.buffer:
                head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
                self.answer(head)

        def answer(self, head: bytes) -> None:
            lines = head.split(b"\r\n")
            parts = lines[0].split(b" ")
            path = parts[1].split(b"?", 1)[0] if len(parts) > 1 else b""
            close = False
            tags: list[bytes] | None = None
            since: bytes | None = None
            for line in lines[1:]:
                key, _, value = line.partition(b":")
                key = key.strip().lower()
                if key == b"if-none-match":
                    tags = (tags or []) + [t.strip().removeprefix(b"W/") for t in value.split(b",")]
                elif key == b"if-modified-since":
                    since = value.strip()
                elif key == b"connection" and value.strip().lower() == b"close":
                    close = True
            served = served_for(path)
            if served is None:
                self.transport.write(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\nnot found\n"
                )
            elif fresh(served, tags, since):
                self.transport.write(served.head_304)
                counts[1] += 1
            else:
                self.transport.write(served.head_200)
                self.transport.write(served.body)
                counts[0] += 1
            if close:
                self.transport.close()

    return Feed


def _addresses(hosts: int) -> list[str]:
    if hosts == 1:
        return ["127.0.0.1"]
    return [f"127.0.{(i + 2) // 256}.{(i + 2) % 256}" for i in range(hosts)]


def server_main(
    conn: Connection, feeds: int, entries: int, hosts: int, paragraph: int, counts
) -> None:
    """Child process: generate the feeds, listen, report the URLs, serve until killed."""
    asyncio.run(_serve(conn, feeds, entries, hosts, paragraph, counts))


async def _serve(
    conn: Connection, feeds: int, entries: int, hosts: int, paragraph: int, counts
) -> None:
    addresses = _addresses(hosts)
    table: dict[bytes, Served] = {}

    Feed = feed_protocol(table.get, counts)

    loop = asyncio.get_running_loop()
    first = await loop.create_server(Feed, addresses[0], 0, backlog=4096)
    port = first.sockets[0].getsockname()[1]
    servers = [first]
    for address in addresses[1:]:
        servers.append(await loop.create_server(Feed, address, port, backlog=4096))

    bp = bench_pipeline()
    bp.PARAGRAPH_CHARS = paragraph
    generated = bp.generate_feeds(feeds, entries, f"http://{addresses[0]}:{port}")
    urls = []
    sizes = []
    for i, (path, feed) in enumerate(generated.items()):
        etag = feed.etag.encode()
        head = (
            "HTTP/1.1 200 OK\r\n"
            f"Content-Type: {feed.content_type}\r\n"
            f"Content-Length: {len(feed.body)}\r\n"
            f"ETag: {feed.etag}\r\n\r\n"
        ).encode()
        not_modified = b"HTTP/1.1 304 Not Modified\r\nETag: " + etag + b"\r\n\r\n"
        table[path.encode()] = Served(feed.body, etag, head, not_modified)
        urls.append((feed.title, f"http://{addresses[i % len(addresses)]}:{port}{path}"))
        sizes.append(len(feed.body))
    conn.send({"urls": urls, "sizes": sizes})
    await asyncio.Event().wait()  # until the parent terminates us


class FeedServer:
    """The server process: started with the generated feeds, stopped on exit."""

    def __init__(self, feeds: int, entries: int, hosts: int, paragraph: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.counts = ctx.Array("q", 2, lock=False)  # answers: [200, 304]
        parent, child = ctx.Pipe()
        self.process = ctx.Process(
            target=server_main,
            args=(child, feeds, entries, hosts, paragraph, self.counts),
            daemon=True,
        )
        self.process.start()
        if not parent.poll(600):
            raise SystemExit("the feed server did not start")
        info = parent.recv()
        self.urls: list[tuple[str, str]] = info["urls"]
        self.sizes: list[int] = info["sizes"]

    def served(self) -> tuple[int, int]:
        return int(self.counts[0]), int(self.counts[1])

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(10)


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
    """Peak resident memory of this process and its descendants (except ``skip``)."""

    def __init__(self, skip: set[int], every: float = 0.05) -> None:
        self.skip = skip
        self.every = every
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def tree_kb(self) -> int:
        total, todo = 0, [os.getpid()]
        while todo:
            pid = todo.pop()
            if pid in self.skip:
                continue
            total += _rss_kb(pid)
            todo += _children(pid)
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, self.tree_kb())
            self._stop.wait(self.every)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kb = max(self.peak_kb, self.tree_kb())


# --- runs --------------------------------------------------------------------------


def write_config(directory: Path, server: FeedServer, per_host: int, concurrency: int) -> Path:
    lines = [
        'data_dir = "data"',
        "allow_private_networks = true  # every feed is on 127.0.0.0/8",
        "",
        "[crawl]",
        "per_host_delay = 0  # every host is this machine",
        f"per_host = {per_host}",
        f"concurrency = {concurrency}",
    ]
    for title, url in server.urls:
        lines += ["", "[[sources]]", f"name = {json.dumps(title)}", f"url = {json.dumps(url)}"]
    path = directory / "trendwatch.toml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


@dataclass(frozen=True)
class Run:
    fresh_s: float
    revalidated_s: float
    peak_mb: float
    entries: int
    fresh_cpu_s: float  # CPU seconds of the crawler and its (reaped) parsing workers
    load: float  # the 1-minute load average at the end of the fresh crawl


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def load_average() -> float:
    return os.getloadavg()[0]


def one_run(server: FeedServer, args: argparse.Namespace, pool: bool | None) -> Run:
    feeds = len(server.urls)
    with tempfile.TemporaryDirectory(prefix="trendwatch-crawl-bench-") as tmp:
        settings = load_settings(write_config(Path(tmp), server, args.per_host, args.concurrency))
        with (
            MemorySampler({server.process.pid or -1}) as memory,
            Store(settings.db_path) as store,
        ):
            started, cpu = time.perf_counter(), cpu_seconds()
            reports = crawl_job.crawl(settings, store, parse_pool=pool)
            fresh_s = time.perf_counter() - started
            fresh_cpu_s, load = cpu_seconds() - cpu, load_average()
            failed = [r for r in reports if r.status != "ok"]
            if failed or len(reports) != feeds:
                raise SystemExit(f"fresh crawl: {len(failed)} of {feeds} not ok: {failed[:1]}")
            stored = store.article_count()
            if stored != feeds * args.entries:
                raise SystemExit(f"fresh crawl stored {stored}, expected {feeds * args.entries}")

            before = server.served()[1]
            started = time.perf_counter()
            again = crawl_job.crawl(settings, store, force=True, parse_pool=pool)
            revalidated_s = time.perf_counter() - started
            if any(r.status != "not modified" for r in again) or len(again) != feeds:
                raise SystemExit("second crawl: not every feed answered 304 Not Modified")
            if server.served()[1] - before != feeds:
                raise SystemExit("second crawl: the server did not send one 304 per feed")
    return Run(fresh_s, revalidated_s, memory.peak_kb / 1024, stored, fresh_cpu_s, load)


def naive_loop(server: FeedServer, sample: int) -> float:
    """Seconds for stock ``feedparser.parse(url)`` over ``sample`` feeds, one at a time,
    scaled to all feeds."""
    urls = [url for _, url in server.urls[:sample]]
    no_proxy = urllib.request.ProxyHandler({})
    started = time.perf_counter()
    for url in urls:
        parsed = feedparser.parse(url, handlers=[no_proxy])
        if parsed.get("status") != 200 or not parsed.entries:
            raise SystemExit(f"naive feedparser loop failed on {url}")
    return (time.perf_counter() - started) * len(server.urls) / len(urls)


def num(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=2000, help="feeds (2000)")
    parser.add_argument("--entries", type=int, default=20, help="entries per feed (20)")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians reported (3)")
    parser.add_argument("--hosts", type=int, default=200, help="loopback addresses (200)")
    parser.add_argument("--per-host", type=int, default=2, help="crawl.per_host (2)")
    parser.add_argument("--concurrency", type=int, default=32, help="crawl.concurrency (32)")
    parser.add_argument(
        "--pool",
        choices=("auto", "on", "off"),
        default="auto",
        help="parse feeds in a process pool: auto (the job's rule), on or off",
    )
    parser.add_argument("--naive", type=int, default=100, help="feeds in the naive sample")
    parser.add_argument(
        "--paragraph-chars", type=int, default=380, help="body paragraph size (380: ~28 KB)"
    )
    args = parser.parse_args(argv)
    if min(args.feeds, args.entries, args.runs, args.hosts, args.naive) < 1:
        parser.error("--feeds, --entries, --runs, --hosts and --naive must be at least 1")
    if args.hosts > 60_000:
        parser.error("--hosts: at most 60000 loopback addresses")
    pool = {"auto": None, "on": True, "off": False}[args.pool]

    started = time.perf_counter()
    server = FeedServer(args.feeds, args.entries, args.hosts, args.paragraph_chars)
    try:
        sizes = server.sizes
        hosts = _addresses(args.hosts)
        print(
            f"{args.feeds:,} feeds x {args.entries} entries, {statistics.mean(sizes) / 1000:.1f} KB"
            f" a feed on average ({min(sizes) / 1000:.1f}-{max(sizes) / 1000:.1f} KB), served"
            f" from {len(hosts)} host(s) {hosts[0]}{'...' + hosts[-1] if len(hosts) > 1 else ''}"
            f" by a separate process (ready in {time.perf_counter() - started:.1f} s)"
        )
        print(
            f"crawl settings: per_host {args.per_host}, per_host_delay 0, concurrency"
            f" {args.concurrency}, parse pool {args.pool}; {os.cpu_count()} CPU(s)"
        )
        runs = []
        for i in range(args.runs):
            run = one_run(server, args, pool)
            runs.append(run)
            print(
                f"run {i + 1}: fresh {num(args.feeds / run.fresh_s * 60)} feeds/min"
                f" ({run.fresh_s:.1f} s, {run.entries:,} entries stored, {run.fresh_cpu_s:.1f}"
                f" CPU s, load {run.load:.1f}) | revalidated (304)"
                f" {num(args.feeds / run.revalidated_s * 60)} feeds/min"
                f" ({run.revalidated_s:.1f} s) | peak memory {run.peak_mb:.0f} MB",
                flush=True,
            )
        naive_s = naive_loop(server, min(args.naive, args.feeds))
    finally:
        server.stop()

    fresh = args.feeds / statistics.median(r.fresh_s for r in runs) * 60
    revalidated = args.feeds / statistics.median(r.revalidated_s for r in runs) * 60
    peak = max(r.peak_mb for r in runs)
    naive = args.feeds / naive_s * 60
    print()
    print(f"median of {len(runs)} run(s), {args.feeds:,} feeds:")
    print(f"  crawl, fresh (fetch, parse, sanitise, store)  {num(fresh):>8} feeds/min")
    print(f"  crawl, revalidated (every feed answers 304)   {num(revalidated):>8} feeds/min")
    print(f"  peak memory (crawler + child processes)       {peak:>8.0f} MB")
    cpu = statistics.median(r.fresh_cpu_s for r in runs)
    print(
        f"  CPU time of a fresh crawl (crawler + pool)    {cpu:>8.1f} s"
        f" ({num(args.feeds / cpu * 60)} feeds per CPU-minute)"
    )
    print(
        f"  naive feedparser.parse(url) loop ({min(args.naive, args.feeds)} feeds, scaled)"
        f"  {num(naive)} feeds/min; the fresh crawl is {fresh / naive:.1f}x as fast"
    )
    ok = fresh >= TARGET_FRESH and revalidated >= TARGET_REVALIDATED and peak < TARGET_MEMORY_MB
    print(
        f"targets: fresh >= {TARGET_FRESH:,}/min, revalidated >= {TARGET_REVALIDATED:,}/min,"
        f" peak < {TARGET_MEMORY_MB} MB: {'met' if ok else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
