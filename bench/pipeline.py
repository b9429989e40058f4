"""Benchmark of trendwatch's end-to-end path: crawl → process → digest.

What it measures, through the real job functions of the stages (the ones the CLI
and the scheduler call), on a synthetic but realistic workload:

* ``crawl fresh``  – ``crawl_job.crawl`` on an empty database: fetch, parse, sanitise and
  store every feed (feeds/min).
* ``crawl 304``    – ``crawl_job.crawl`` again; every feed answers 304 Not Modified to the
  stored ETag (feeds/min).
* ``process``      – ``process_job.process``: match every new article against every watchlist
  and store the matches (articles/s).
* ``digest``       – ``digest_job.digest``: build one edition per audience, write the archive
  pages and index, render and write one mail per subscriber to the outbox
  (editions built per second and mails written per second).

The workload: ``--feeds`` generated feeds (half RSS 2.0, half Atom; half Dutch, half
English) of ``--entries`` entries each, about 25-30 KB per feed at the default 20
entries, with two-paragraph bodies built from a small word list by a seeded RNG and
dates within the last 14 days. They are served with ETags by a ThreadingHTTPServer on
127.0.0.1 in a thread of this process (so the server shares the GIL with the crawler,
as the demo server does). The config has one source per feed, 20 watchlists with
simple Dutch/English queries and 50 subscribers (outbox delivery, no SMTP).

Each run uses a fresh temporary directory (config, database, archive, outbox); the
figures of ``--runs`` runs are printed with their median, plus the peak RSS of the
process and a baseline: a naive loop of stock ``feedparser.parse(url)`` calls, one feed
at a time, over the first 100 feeds, scaled to all feeds and compared with the fresh
crawl (which does more: sanitising, identities, SQLite writes).

Run it from the repository root with the project's virtualenv::

    python bench/pipeline.py --feeds 500
    python bench/pipeline.py --feeds 100 --entries 20 --runs 1   # quick check

Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import socketserver
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import feedparser

# This file is bench/pipeline.py: run as a script, its folder comes first on sys.path and
# "pipeline" would import this file. Put the repository root there instead.
_BENCH_DIR = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0] or ".").resolve() == _BENCH_DIR:
    sys.path[0] = str(_BENCH_DIR.parent)

from pipeline.crawl import job as crawl_job  # noqa: E402
from pipeline.demo.feeds import DemoArticle, DemoFeed, render_feed  # noqa: E402
from pipeline.digest import job as digest_job  # noqa: E402
from pipeline.process import job as process_job  # noqa: E402
from pipeline.settings import Settings, load_settings  # noqa: E402
from pipeline.store import Store  # noqa: E402

T = TypeVar("T")

HOST = "127.0.0.1"
SEED = 20240601
NAIVE_FEEDS = 100
SUBSCRIBERS = 50
AUDIENCES = 30  # distinct (language, watchlists) combinations among the subscribers
PARAGRAPH_CHARS = 480  # each body paragraph grows to at least this many characters
TOPIC_SHARE = 0.3  # share of sentences that carry one of the article's topic phrases

# --- the word lists ----------------------------------------------------------------

# Filler words avoid every watchlist term, so matches come from the topic phrases only.
FILLER = {
    "nl": (
        "de het een en van in is dat op te met voor niet aan er om ook als bij door naar"
        " maar nog wel uit over wordt meer die dit deze heeft kan moet geen veel bedrijf"
        " organisatie onderzoek jaar week cijfers sector overheid gemeente minister plan"
        " rapport toekomst ontwikkeling vraag oplossing resultaat klanten markt beleid"
        " regels afspraken gesprek team collega's directie bestuur ondernemers zegt blijkt"
        " groeit daalt verwacht kiezen vinden zien krijgen geven maken blijven stijgt meldt"
        " nieuwe grote kleine belangrijk duidelijk snel sterk hoge lage landelijke"
        " Nederlandse afgelopen komende steeds volgens ongeveer procent miljoen vorig"
    ).split(),
    "en": (
        "the a and of in is that on to are with for not at also as by from but more this"
        " has have can will would company companies research survey report year week"
        " figures sector government policy plan market customers team colleagues board"
        " business growth change results industry experts data analysis strategy budget"
        " says shows grows expects finds sees gets makes remains rises falls reports new"
        " large small important clear fast strong high low national recent coming"
        " increasingly according roughly percent million last"
    ).split(),
}

# (name, title, query, Dutch topic phrases, English topic phrases)
WATCHLISTS: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "thuiswerken",
        "Thuiswerken en hybride werken",
        'thuiswerken OR "hybride werken"',
        ("thuiswerken", "hybride werken"),
        ("working from home",),
    ),
    (
        "social-media-werk",
        "Social media op het werk",
        '"social media" werk',
        ("social media op het werk", "werk en social media"),
        ("social media use",),
    ),
    (
        "managers",
        "Managers",
        "manager OR managers",
        ("de manager", "managers"),
        ("the manager", "managers"),
    ),
    (
        "verzuim",
        "Verzuim en burn-out",
        "verzuim OR ziekteverzuim OR burn-out",
        ("ziekteverzuim", "verzuim"),
        ("burn-out",),
    ),
    (
        "cao-lonen",
        "Cao's en lonen",
        "cao OR loonsverhoging",
        ("de nieuwe cao", "een loonsverhoging"),
        ("wage rounds",),
    ),
    (
        "remote-work",
        "Remote and hybrid work",
        '"remote work" OR "hybrid work"',
        ("remote work",),
        ("remote work", "hybrid work"),
    ),
    (
        "ai-at-work",
        "AI at work",
        '(AI OR "artificial intelligence") (employees OR workers)',
        ("AI voor werknemers",),
        ("AI tools for employees", "artificial intelligence and workers"),
    ),
    (
        "arbeidsmarkt",
        "Krapte op de arbeidsmarkt",
        "arbeidsmarkt krapte",
        ("krapte op de arbeidsmarkt",),
        ("labour shortages",),
    ),
    (
        "vierdaagse-werkweek",
        "Vierdaagse werkweek",
        '"vierdaagse werkweek" OR "four day week"',
        ("de vierdaagse werkweek",),
        ("a four day week",),
    ),
    (
        "leiderschap",
        "Leiderschap",
        "leiderschap OR leadership",
        ("goed leiderschap",),
        ("leadership",),
    ),
    (
        "wellbeing",
        "Wellbeing and mental health",
        'wellbeing OR "mental health"',
        ("mentale gezondheid",),
        ("wellbeing", "mental health"),
    ),
    (
        "duurzaamheid",
        "Duurzaamheid",
        "duurzaamheid OR sustainability",
        ("duurzaamheid",),
        ("sustainability",),
    ),
    (
        "diversiteit",
        "Diversiteit en inclusie",
        "diversiteit OR inclusie OR diversity",
        ("diversiteit", "inclusie"),
        ("diversity",),
    ),
    (
        "onboarding",
        "Onboarding",
        "onboarding -webinar",
        ("onboarding", "een webinar over onboarding"),
        ("onboarding",),
    ),
    (
        "salaris",
        "Salaris",
        "salaris OR salary OR salaries",
        ("het salaris",),
        ("salaries", "a higher salary"),
    ),
    (
        "pensioen",
        "Pensioen",
        "pensioen OR pension",
        ("het pensioen",),
        ("pension",),
    ),
    (
        "werving",
        "Werving en recruitment",
        "recruitment OR werving",
        ("werving", "recruitment"),
        ("recruitment",),
    ),
    (
        "flexwerk",
        "Flexwerk en zzp",
        "flexwerkers OR zzp OR freelancers",
        ("flexwerkers", "zzp"),
        ("freelancers",),
    ),
    (
        "opleiding",
        "Opleiding en leren",
        'opleiding OR training OR "leven lang leren"',
        ("een opleiding", "leven lang leren"),
        ("training",),
    ),
    (
        "kantoor",
        "Kantoor en office",
        "kantoor OR office -verhuizing",
        ("het kantoor",),
        ("the office",),
    ),
)

OUTLETS = {
    "nl": ("Werkvloer Nieuws", "HR Vandaag", "Personeel & Praktijk", "Arbeid Actueel"),
    "en": ("Workplace Daily", "People Matters Weekly", "HR Ledger", "The Work Review"),
}


# --- feed generation ---------------------------------------------------------------


@dataclass(frozen=True)
class Feed:
    index: int
    path: str
    language: str
    format: str  # "rss" or "atom"
    title: str
    body: bytes
    content_type: str
    etag: str


def _sentence(rng: random.Random, words: list[str], topic: str | None) -> str:
    picked = rng.choices(words, k=rng.randint(8, 16))
    if topic:
        picked.insert(rng.randint(1, len(picked)), topic)
    text = " ".join(picked)
    return text[0].upper() + text[1:] + "."


def _paragraph(rng: random.Random, words: list[str], topics: list[str]) -> str:
    sentences: list[str] = []
    size = 0
    while size < PARAGRAPH_CHARS:
        topic = rng.choice(topics) if rng.random() < TOPIC_SHARE else None
        sentences.append(_sentence(rng, words, topic))
        size += len(sentences[-1]) + 1
    return " ".join(sentences)


def _entry_fields(
    rng: random.Random, language: str, now: datetime
) -> tuple[str, str, str, datetime, list[str]]:
    """Title, first paragraph, second paragraph, publication date, categories."""
    words = FILLER[language]
    column = 3 if language == "nl" else 4
    chosen = rng.sample(WATCHLISTS, k=rng.choice((1, 1, 2)))
    topics = [phrase for w in chosen for phrase in w[column]]
    head = rng.choice(topics)
    title = head[0].upper() + head[1:] + ": " + " ".join(rng.choices(words, k=rng.randint(4, 8)))
    first = _paragraph(rng, words, topics)
    second = _paragraph(rng, words, topics)
    published = (now - timedelta(seconds=rng.uniform(0, 14 * 86400))).replace(microsecond=0)
    return title, first, second, published, [w[1] for w in chosen]


def feed_meta(index: int, language: str, fmt: str, rng: random.Random, host: str) -> DemoFeed:
    """The generated feed number ``index``, on ``https://<host><index>.example.com/``."""
    return DemoFeed(
        slug=f"{index:04d}",
        title=f"{rng.choice(OUTLETS[language])} {index}",
        format=fmt,
        language=language,
        site=f"https://{host}{index:04d}.example.com/",
        description="nieuws over werk" if language == "nl" else "news about work",
    )


def entry_article(
    feed: DemoFeed,
    j: int,
    fields: tuple[str, str, str, list[str]],
    published: datetime,
    hours_ago: float,
    prefix: str,
) -> DemoArticle:
    """Entry ``j`` of ``feed`` from :func:`_entry_fields`' title, two paragraphs and
    categories, published at ``published``."""
    head, first, second, categories = fields
    index = int(feed.slug)
    return DemoArticle(
        feed=feed.slug,
        id=f"{prefix}-{index}-{j}",
        hours_ago=hours_ago,
        title=head,
        author=f"Redactie {index}",
        summary=first.split(". ")[0] + ".",
        content=f"{first}\n\n{second}",
        categories=tuple(categories),
        html=False,
        guid=True,
        link=f"{feed.site}{published:%Y/%m/%d}/artikel-{index}-{j}",
    )


def _render(
    index: int, language: str, fmt: str, base: str, rng: random.Random, entries: int
) -> bytes:
    """One generated feed, written by the demo's feed renderer (RSS 2.0 or Atom 1.0)."""
    now = datetime.now(UTC)
    feed = feed_meta(index, language, fmt, rng, "news")
    articles = []
    for j in range(entries):
        head, first, second, published, categories = _entry_fields(rng, language, now)
        hours_ago = (now - published).total_seconds() / 3600
        fields = (head, first, second, categories)
        articles.append(entry_article(feed, j, fields, published, hours_ago, "bench"))
    return render_feed(feed, articles, now, self_url=f"{base}/feeds/{index:04d}.xml")


def generate_feeds(count: int, entries: int, base: str) -> dict[str, Feed]:
    """``count`` feeds keyed by URL path: even indexes RSS 2.0, odd Atom; languages
    alternate in pairs so both formats come in Dutch and English."""
    rng = random.Random(SEED)
    feeds: dict[str, Feed] = {}
    for i in range(count):
        language = "nl" if (i // 2) % 2 == 0 else "en"
        fmt = "rss" if i % 2 == 0 else "atom"
        body = _render(i, language, fmt, base, rng, entries)
        path = f"/feeds/{i:04d}.xml"
        feeds[path] = Feed(
            index=i,
            path=path,
            language=language,
            format=fmt,
            title=f"bench-{i:04d}-{language}-{fmt}",
            body=body,
            content_type=f"application/{fmt}+xml; charset=utf-8",
            etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
        )
    return feeds


# --- the feed server ---------------------------------------------------------------


class FeedServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 overflows under the crawler's 16 concurrent
    # connects, and each dropped SYN costs a 1 s retransmit; real servers queue more.
    request_queue_size = 128

    def __init__(self) -> None:
        super().__init__((HOST, 0), FeedHandler)
        self.feeds: dict[str, Feed] = {}
        self.statuses: Counter[int] = Counter()
        self.lock = threading.Lock()

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall offline.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}"

    def count(self, status: int) -> None:
        with self.lock:
            self.statuses[status] += 1


class FeedHandler(BaseHTTPRequestHandler):
    server: FeedServer
    protocol_version = "HTTP/1.1"  # keep-alive, as real feed servers do
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle plus the
    # client's delayed ACK add ~40 ms to every 200 response (nginx: tcp_nodelay on).
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        feed = self.server.feeds.get(urlsplit(self.path).path)
        if feed is None:
            self._reply(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
            return
        tags = {
            t.strip().removeprefix("W/")
            for value in self.headers.get_all("If-None-Match") or []
            for t in value.split(",")
        }
        if "*" in tags or feed.etag in tags:
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", feed.etag)
            self.end_headers()
            self.server.count(304)
            return
        self._reply(HTTPStatus.OK, feed.body, feed.content_type, feed.etag)

    def _reply(self, status: HTTPStatus, body: bytes, kind: str, etag: str = "") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        if etag:
            self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)
        self.server.count(int(status))

    def log_message(self, format: str, *args: object) -> None:
        """Silent."""


def start_server(feeds: int, entries: int) -> tuple[FeedServer, threading.Thread]:
    server = FeedServer()
    server.feeds = generate_feeds(feeds, entries, server.base_url)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    return server, thread


# --- the config --------------------------------------------------------------------


def _toml(value: str) -> str:
    """A TOML basic string (JSON string escapes are valid TOML)."""
    return json.dumps(value, ensure_ascii=False)


def write_config(directory: Path, server: FeedServer) -> Path:
    lines = [
        'data_dir = "data"',
        'digest_title = "Trendwatch benchmark"',
        'from = "Trendwatch bench <digest@bench.trendwatch.invalid>"',
        "allow_private_networks = true",
        "",
        "[schedule]",
        'timezone = "Europe/Amsterdam"',
        'crawl_every = "30m"',
        'digest = "mon 07:00"',
        "",
        "[crawl]",
        "per_host_delay = 0  # one local server: no polite pause between its requests",
    ]
    for feed in server.feeds.values():
        lines += [
            "",
            "[[sources]]",
            f"name = {_toml(feed.title)}",
            'type = "feed"',
            f"url = {_toml(server.base_url + feed.path)}",
        ]
    for name, title, query, _, _ in WATCHLISTS:
        lines += [
            "",
            "[[watchlists]]",
            f"name = {_toml(name)}",
            f"title = {_toml(title)}",
            f"query = {_toml(query)}",
        ]
    rng = random.Random(SEED + 1)
    names = [w[0] for w in WATCHLISTS]
    combos = []
    for a in range(AUDIENCES):
        language = "nl" if a % 2 == 0 else "en"
        picked = [names[a % len(names)]]
        picked += [n for n in rng.sample(names, k=rng.randint(1, 3)) if n not in picked]
        combos.append((language, picked))
    for i in range(SUBSCRIBERS):
        language, picked = combos[i % AUDIENCES]
        lines += [
            "",
            "[[subscribers]]",
            f'email = "lezer{i:02d}@bench.trendwatch.invalid"',
            f'name = "Lezer {i:02d}"',
            f'language = "{language}"',
            "watchlists = [" + ", ".join(_toml(n) for n in picked) + "]",
        ]
    path = directory / "trendwatch.toml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


# --- measuring ---------------------------------------------------------------------


@dataclass(frozen=True)
class RunResult:
    crawl_seconds: float
    crawl_feeds_per_min: float
    entries: int
    recrawl_seconds: float
    recrawl_feeds_per_min: float
    process_seconds: float
    articles_per_s: float
    articles: int
    matches: int
    digest_seconds: float
    editions: int
    mails: int
    editions_per_s: float
    mails_per_s: float
    naive_seconds: float  # naive loop over the first feeds, scaled to all feeds


def _timed(call: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def naive_loop(server: FeedServer, feeds: int) -> float:
    """Seconds for stock ``feedparser.parse(url)`` one feed at a time over the first
    feeds, scaled to ``feeds``."""
    paths = list(server.feeds)[: min(NAIVE_FEEDS, feeds)]
    no_proxy = urllib.request.ProxyHandler({})  # 127.0.0.1 directly, whatever the env says
    started = time.perf_counter()
    for path in paths:
        parsed = feedparser.parse(
            server.base_url + path,
            handlers=[no_proxy],
            sanitize_html=True,  # feedparser's defaults (crawlers.feeds switches them off)
            resolve_relative_uris=True,
        )
        if parsed.get("status") != 200 or not parsed.entries:
            raise SystemExit(f"naive feedparser loop failed on {path}: {parsed.get('bozo')}")
    return (time.perf_counter() - started) * feeds / len(paths)


def one_run(server: FeedServer, feeds: int, entries: int) -> RunResult:
    with tempfile.TemporaryDirectory(prefix="trendwatch-bench-") as tmp:
        settings: Settings = load_settings(write_config(Path(tmp), server))
        with Store(settings.db_path) as store:
            reports, crawl_s = _timed(lambda: crawl_job.crawl(settings, store))
            failed = [r for r in reports if r.status != "ok"]
            if failed:
                raise SystemExit(f"fresh crawl: {len(failed)} feeds not ok, e.g. {failed[0]}")
            stored = sum(r.entries for r in reports)
            if stored != feeds * entries:
                raise SystemExit(f"fresh crawl stored {stored} entries, expected {feeds * entries}")

            before = server.statuses[304]
            # every source was polled just now, so none is due: force them all
            again, recrawl_s = _timed(lambda: crawl_job.crawl(settings, store, force=True))
            if any(r.status != "not modified" for r in again) or (
                server.statuses[304] - before != feeds
            ):
                raise SystemExit("second crawl: not every feed answered 304 Not Modified")

            processed, process_s = _timed(lambda: process_job.process(settings, store))
            digest, digest_s = _timed(lambda: digest_job.digest(settings, store))
            if not digest.ok:
                raise SystemExit(f"digest failed: {digest.failed[:3]}")
            written = len(list(settings.outbox_dir.glob("*.eml")))
            if written != len(digest.sent):
                raise SystemExit(f"{len(digest.sent)} mails sent but {written} in the outbox")
        naive_s = naive_loop(server, feeds)
    return RunResult(
        crawl_seconds=crawl_s,
        crawl_feeds_per_min=feeds / crawl_s * 60,
        entries=stored,
        recrawl_seconds=recrawl_s,
        recrawl_feeds_per_min=feeds / recrawl_s * 60,
        process_seconds=process_s,
        articles_per_s=processed.articles / process_s,
        articles=processed.articles,
        matches=processed.matches,
        digest_seconds=digest_s,
        editions=len(digest.built),
        mails=len(digest.sent),
        editions_per_s=len(digest.built) / digest_s,
        mails_per_s=len(digest.sent) / digest_s,
        naive_seconds=naive_s,
    )


# --- output ------------------------------------------------------------------------


def num(value: float) -> str:
    """Thousands separators; one decimal below 100."""
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=500, help="number of feeds (500)")
    parser.add_argument("--entries", type=int, default=20, help="entries per feed (20)")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are reported (3)")
    args = parser.parse_args(argv)
    if args.feeds < 1 or args.entries < 1 or args.runs < 1:
        parser.error("--feeds, --entries and --runs must be at least 1")

    server, thread = start_server(args.feeds, args.entries)
    try:
        sizes = [len(f.body) for f in server.feeds.values()]
        print(
            f"trendwatch pipeline benchmark: {args.feeds:,} feeds x {args.entries} entries"
            f" (avg {statistics.mean(sizes) / 1024:.1f} KB/feed, {sum(sizes) / 2**20:.1f} MB),"
            f" {len(WATCHLISTS)} watchlists, {SUBSCRIBERS} subscribers, {args.runs} run(s)"
        )
        results: list[RunResult] = []
        for n in range(1, args.runs + 1):
            r = one_run(server, args.feeds, args.entries)
            results.append(r)
            print(
                f"run {n}/{args.runs}:"
                f" crawl fresh {num(r.crawl_feeds_per_min)} feeds/min ({r.crawl_seconds:.2f} s,"
                f" {r.entries:,} entries) |"
                f" crawl 304 {num(r.recrawl_feeds_per_min)} feeds/min"
                f" ({r.recrawl_seconds:.2f} s) |"
                f" process {num(r.articles_per_s)} articles/s ({r.process_seconds:.2f} s,"
                f" {r.matches:,} matches) |"
                f" digest {r.editions} editions + {r.mails} mails in {r.digest_seconds:.2f} s |"
                f" peak RSS {peak_rss_mb():.1f} MB",
                flush=True,
            )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

    def med(values: Iterable[float]) -> float:
        return statistics.median(values)

    of = f"(median of {len(results)})"
    crawl_s = med(r.crawl_seconds for r in results)
    naive_s = med(r.naive_seconds for r in results)
    ratio = naive_s / crawl_s
    naive_n = min(NAIVE_FEEDS, args.feeds)
    comparison = (
        f"{ratio:.1f} times faster" if ratio >= 1 else f"{1 / ratio:.1f} times slower"
    ) + " than naive feedparser loop"
    print()
    print(f"crawl fresh      : {num(med(r.crawl_feeds_per_min for r in results))} feeds/min {of}")
    print(f"crawl 304        : {num(med(r.recrawl_feeds_per_min for r in results))} feeds/min {of}")
    print(f"process          : {num(med(r.articles_per_s for r in results))} articles/s {of}")
    print(f"digest editions  : {num(med(r.editions_per_s for r in results))} editions/s {of}")
    print(f"digest mails     : {num(med(r.mails_per_s for r in results))} mails/s {of}")
    print(f"peak RSS         : {peak_rss_mb():.1f} MB")
    print(
        f"naive feedparser : {num(args.feeds / naive_s * 60)} feeds/min"
        f" (feedparser.parse(url), first {naive_n} feeds, scaled to {args.feeds:,}:"
        f" {naive_s:.1f} s vs crawl fresh {crawl_s:.1f} s) {of}"
    )
    print(f"crawl fresh is   : {comparison}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
