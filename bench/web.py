"""Benchmark of the web pages: search latency and pages per second, measured from a
local load generator against a real ``trendwatch serve`` child process.

The workload (``bench/web_corpus.py``): ``--articles`` articles (default 100,000; half
Dutch, half English; 60 to 200 words each) written by a seeded RNG from real words in
several forms (``woning``/``woningen``, ``company``/``companies``), names and a tail of
pseudo-words, in events of one to eight articles (a story each) over 26 weeks, from 40
sources, each event matched by one of 8 watchlists; stored in date order through the
store's own writes (``save_entries``, then ``save_processed``, which writes the search
index as the process stage does), with the terms the NLP stage would give these words.
``--nlp`` runs the real ``process`` job over them instead (about 200 articles/s). The
archive has an edition per week and language, written by the digests' archive code.

What it reports:

* ``search``: 200 varied queries (words, inflected forms, names, two words, phrases,
  OR, -word, prefixes; a quarter with filters: language, source, watchlist, dates,
  newest first, page 2), one at a time over a keep-alive connection, after one
  search that loads the lemmatiser (reported apart): median, 95th percentile and
  maximum latency. Targets: median under 50 ms, 95th percentile under 200 ms.
* pages per second for each kind in :data:`PAGES` (the archive's index and
  editions, story pages, watchlist pages and their Atom feeds), ``--connections``
  keep-alive connections for ``--seconds`` seconds. Target: at least 300 per second.
* the server's CPU time per request (user + system, from ``/proc``): unlike the wall
  clock, it does not depend on what else runs on the machine;
* the server's peak memory (``VmHWM``) and, for the record, the machine's cores: the
  load generator (one asyncio process, raw HTTP/1.1) runs on the same cores.

Run from the repository root::

    python bench/web.py                          # 100,000 articles
    python bench/web.py --articles 10000 --seconds 5
    python bench/web.py --workdir /tmp/twbench   # keep the data; reuse it next time

Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

# Run as a script, bench/ comes first on sys.path, and "pipeline" would import
# bench/pipeline.py and "web" this file. Put the repository root there instead.
ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)

from bench.web_corpus import (  # noqa: E402
    NOW,
    SECRET_ENV,
    SEED,
    WATCHLISTS,
    WEEKS,
    WORDS,
    Article,
    generate,
    store_articles,
    write_archive,
    write_config,
)
from pipeline.settings import load_settings  # noqa: E402
from pipeline.store import Store  # noqa: E402


@dataclass
class Workload:
    """What the page generators pick from (add what a new page kind needs)."""

    config: Path
    editions: list[str] = field(default_factory=list)  # archive paths, "/archive/..."
    story_ids: list[int] = field(default_factory=list)
    watchlists: tuple[str, ...] = WATCHLISTS
    sources: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PageKind:
    """A kind of page to measure: ``url(workload, rng)`` gives a path for each request."""

    name: str
    url: Callable[[Workload, random.Random], str]


# The page kinds measured for requests per second (a new page adds its kind here).
PAGES: list[PageKind] = [
    PageKind("archive index", lambda w, rng: "/archive/"),
    PageKind("archive edition", lambda w, rng: rng.choice(w.editions)),
    PageKind("story", lambda w, rng: f"/stories/{rng.choice(w.story_ids)}"),
    PageKind("watchlist", lambda w, rng: f"/watchlists/{rng.choice(w.watchlists)}"),
    PageKind("watchlist feed", lambda w, rng: f"/watchlists/{rng.choice(w.watchlists)}.atom"),
    PageKind("watchlists", lambda w, rng: "/watchlists"),
]


# --- the queries ---------------------------------------------------------------------


def queries(articles: list[Article], workload: Workload, rng: random.Random) -> list[str]:
    """200 varied searches, as URLs (see the module docstring)."""
    words = {lang: text.split() for lang, text in WORDS.items()}

    def title_words(lang: str) -> list[str]:
        return rng.choice([a for a in sample if a.lang == lang]).title.split()

    sample = rng.sample(articles, 2000)
    out: list[dict[str, str]] = []
    for i in range(200):
        lang = "nl" if i % 2 else "en"
        kind = i % 8
        title = title_words(lang)
        if kind == 0:
            q = rng.choice(words[lang])
        elif kind == 1:
            q = title[3]  # a name: rare
        elif kind == 2:
            q = f"{rng.choice(words[lang])} {title[3]}"
        elif kind == 3:
            q = f'"{title[0].lower()} {title[1]}"'
        elif kind == 4:
            q = f"{rng.choice(words[lang])} OR {rng.choice(words[lang])}"
        elif kind == 5:
            q = f"{rng.choice(words[lang])} -{rng.choice(words[lang])}"
        elif kind == 6:
            q = rng.choice(words[lang])[:4] + "*"
        else:
            q = f"{title[4]} {title[0].lower()}"  # a tail word and a topic word
        params = {"q": q}
        if i % 4 == 3:  # a quarter with filters
            pick = rng.randrange(6)
            if pick == 0:
                params["language"] = lang
            elif pick == 1:
                params["source"] = rng.choice(workload.sources)
            elif pick == 2:
                params["watchlist"] = rng.choice(WATCHLISTS)
            elif pick == 3:
                day = NOW - timedelta(days=rng.randrange(WEEKS * 7))
                params["from"] = (day - timedelta(days=30)).date().isoformat()
                params["to"] = day.date().isoformat()
            elif pick == 4:
                params["sort"] = "newest"
            else:
                params["page"] = "2"
        out.append(params)
    return ["/search?" + urlencode(p, quote_via=quote) for p in out]


# --- the load generator --------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection: GET and read the whole answer."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
        status = int(head.split(" ", 2)[1])
        length = next(
            (
                line.split(":")[1]
                for line in head.split("\r\n")
                if line.startswith("content-length:")
            ),
            None,
        )
        if length is not None:
            await self.reader.readexactly(int(length))
        else:  # chunked
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                await self.reader.readexactly(size + 2)
            await self.reader.readline()
        if "connection: close" in head:
            self.writer.close()
            self.writer = None
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def timed(port: int, paths: list[str]) -> list[tuple[float, int]]:
    """Each path in turn over one connection: (seconds, status)."""
    conn = Connection(port)
    out = []
    for path in paths:
        start = time.perf_counter()
        status = await conn.get(path)
        out.append((time.perf_counter() - start, status))
    conn.close()
    return out


async def load(
    port: int, paths: list[str], connections: int, seconds: float
) -> tuple[int, list[float], Counter[int]]:
    """``connections`` connections asking ``paths`` round-robin for ``seconds``."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    deadline = time.perf_counter() + seconds

    async def worker(offset: int) -> None:
        conn = Connection(port)
        i = offset
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            statuses[await conn.get(paths[i % len(paths)])] += 1
            latencies.append(time.perf_counter() - start)
            i += connections
        conn.close()

    await asyncio.gather(*(worker(n) for n in range(connections)))
    return len(latencies), latencies, statuses


# --- the server ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(config: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), SECRET_ENV: "bench-secret-0123456789abcdef"}
    cmd = [sys.executable, "-m", "pipeline", "--config", str(config), "serve", "--port", str(port)]
    child = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log.open("w")
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if asyncio.run(timed(port, ["/"]))[0][1] == 200:
                return child
        except OSError:
            pass
        if child.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the server did not start; see {log}")
        time.sleep(0.1)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def prepare(workdir: Path, count: int, nlp: bool) -> tuple[Workload, list[Article]]:
    rng = random.Random(SEED)
    articles = generate(count, rng)
    config = workdir / "trendwatch.toml"
    ready = workdir / f"ready-{count}{'-nlp' if nlp else ''}"
    settings = load_settings(write_config(workdir, nlp))
    if not ready.exists():
        shutil.rmtree(workdir / "data", ignore_errors=True)
        started = time.perf_counter()
        os.environ.setdefault(SECRET_ENV, "bench-secret-0123456789abcdef")
        store_articles(settings, articles, nlp)
        write_archive(settings, articles)
        print(f"loaded {count:,} articles in {time.perf_counter() - started:.0f} s")
        ready.touch()
    workload = Workload(config)
    workload.editions = [
        f"/archive/{p.relative_to(settings.archive_dir)}"
        for p in sorted(settings.archive_dir.glob("*/W*/*.html"))
    ]
    with Store(settings.db_path) as store:
        workload.story_ids = [r[0] for r in store.db.execute("SELECT id FROM stories ORDER BY id")]
        workload.sources = store.source_names()
    return workload, articles


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--nlp", action="store_true", help="run the real process job")
    parser.add_argument("--workdir", type=Path, help="keep the data here and reuse it")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="twbench-web-"))
    workdir.mkdir(parents=True, exist_ok=True)
    workload, articles = prepare(workdir, args.articles, args.nlp)
    rng = random.Random(SEED + 1)
    searches = queries(articles, workload, rng)
    port = free_port()
    server = serve(workload.config, port, workdir / "serve.log")
    try:
        print(
            f"{args.articles:,} articles; {len(workload.editions)} editions;"
            f" {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f};"
            f" server pid {server.pid}"
        )
        [(first, status)] = asyncio.run(timed(port, ["/search?q=woningen"]))
        print(f"first search (loads the lemmatiser): {ms(first)} (status {status})")
        cpu = cpu_seconds(server.pid)
        results = asyncio.run(timed(port, searches))
        cpu = cpu_seconds(server.pid) - cpu
        bad = [s for _, s in results if s != 200]
        latencies = [t for t, _ in results]
        print(
            f"search, {len(results)} queries: median {ms(statistics.median(latencies))},"
            f" 95th percentile {ms(percentile(latencies, 0.95))}, max {ms(max(latencies))}"
            f"{f'; {len(bad)} not 200' if bad else ''} (targets: 50 ms, 200 ms);"
            f" server CPU {ms(cpu / len(results))} a search"
        )
        for kind in PAGES:
            paths = [kind.url(workload, rng) for _ in range(2000)]
            asyncio.run(load(port, paths, args.connections, 1.0))  # warm up
            cpu = cpu_seconds(server.pid)
            done, lat, statuses = asyncio.run(load(port, paths, args.connections, args.seconds))
            cpu = cpu_seconds(server.pid) - cpu
            print(
                f"{kind.name}: {done / args.seconds:,.0f} requests/s,"
                f" median {ms(statistics.median(lat))}, 95th percentile"
                f" {ms(percentile(lat, 0.95))}, server CPU {ms(cpu / done)} a request,"
                f" statuses {dict(statuses)} (target: 300/s)"
            )
        print(f"server peak memory (VmHWM): {peak_memory_mb(server.pid):.0f} MB")
    finally:
        server.terminate()
        server.wait(timeout=30)
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
