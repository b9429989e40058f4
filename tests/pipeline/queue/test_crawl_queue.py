"""The crawl queue with real processes: a local feed server with three dozen feeds on
two hosts, three ``trendwatch worker`` processes on one PostgreSQL, and one of them
killed (``kill -9``) in the middle of a fetch. Every article is stored once, every feed
is fetched once (the killed fetch once more, after its job was put back), and the
server never has two requests to one host in flight (its own count)."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from host_counter import PerHost
from pipeline.queue.app import make_app
from pipeline.queue.crawl import defer_due
from pipeline.queue.decide import host_lock, source_lock, still_due
from pipeline.settings import Source
from pipeline.store import Store
from postgres_support import query
from worker_support import Worker, wait_until

RSS = "application/rss+xml; charset=utf-8"
ITEMS = 3
SLOW = "a-slow"  # first by name, so deferred first: its fetch is the one killed


def feed(name: str) -> bytes:
    items = "".join(
        f"<item><title>{name} {i}</title><link>https://example.test/{name}/{i}</link></item>"
        for i in range(ITEMS)
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>{name}</title><link>https://example.test/</link>{items}</channel></rss>"
    ).encode()


@pytest.fixture
def site(threaded_server: HTTPServer) -> Iterator[HTTPServer]:
    threaded_server.clear()
    yield threaded_server
    threaded_server.clear()


def test_the_locks_of_a_fetch() -> None:
    assert host_lock("https://Example.org/feed") == host_lock("https://example.org/other")
    assert host_lock("https://a.example.org/") != host_lock("https://b.example.org/")
    assert source_lock("A") != source_lock("B")


def test_a_fetch_is_done_only_while_its_source_is_still_due(tmp_path: Path) -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with Store(tmp_path / "tw.db") as store:
        store.sync_sources([Source("A", "feed", "https://a.test/feed")], now)
        row = store.source("A")
        assert still_due(row, now)  # never polled
        query(
            store,
            "UPDATE sources SET next_poll = ? WHERE name = 'A'",
            ["2026-03-02T09:30:00+00:00"],
        )
        assert not still_due(store.source("A"), now)  # fetched since the tick
        assert still_due(store.source("A"), datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
        query(store, "UPDATE sources SET in_config = 0")
        assert not still_due(store.source("A"), now)
    assert not still_due(None, now)


def test_workers_fetch_each_feed_once_one_per_host_and_survive_a_kill(
    site: HTTPServer, make_settings, postgres_url: str, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("TRENDWATCH_DATABASE_URL", postgres_url)
    release = threading.Event()  # the slow feed's first request waits for it
    requests: Counter[str] = Counter()
    lock = threading.Lock()

    def trickle(body: bytes) -> Iterator[bytes]:
        """The slow feed's first answer: its start at once, then a blank line every
        half second (so the crawler's read timeout never fires) until released."""
        cut = body.index(b"<channel>") + len(b"<channel>")
        yield body[:cut]
        for _ in range(240):
            if release.is_set():
                break
            time.sleep(0.5)
            yield b"\n"
        yield body[cut:]

    def respond(request: Request) -> Response:
        name = request.path.strip("/")
        with lock:
            requests[name] += 1
            first = requests[name] == 1
        if name == SLOW and first:
            return Response(trickle(feed(name)), content_type=RSS)
        return Response(feed(name), content_type=RSS)

    counter = PerHost(respond)
    names = [SLOW] + [f"f{i:02d}" for i in range(35)]
    for name in names:
        site.expect_request(f"/{name}").respond_with_handler(counter.handler)
    ip = site.url_for("/")
    hosts = [ip, ip.replace("127.0.0.1", "localhost")]  # two hosts, one server
    # the slow fetch must outlast the three workers' start (seconds each on a loaded
    # machine, more under faketime): the crawl's timeout is not what is tested here
    lines = ["allow_private_networks = true", "[crawl]", "timeout = 300"]
    for i, name in enumerate(names):
        lines += ["[[sources]]", f'name = "{name}"', f'url = "{hosts[i % 2]}{name}"']
    settings = make_settings("\n".join(lines) + "\n")
    config = settings.path

    workers: list[Worker] = []
    ids: dict[int, Worker] = {}  # each worker's id in procrastinate_workers

    def registered() -> set[int]:
        with Store(postgres_url) as store:
            return {w.id for w in store.queue_workers()}

    try:
        for n in range(3):
            worker = Worker(
                config,
                tmp_path / f"w{n}.log",
                postgres_url,
                "--queues",
                "crawl",
                "--concurrency",
                "2",
                "--heartbeat",
                "0.5",
                "--poll",
                "0.2",
            )
            workers.append(worker)
            wait_until(lambda n=n: len(registered()) == n + 1, f"worker {n} starting", workers)
            [new] = registered() - set(ids)
            ids[new] = worker

        # the workers' periodic task defers the due sources as they start; a second
        # deferral (here) changes nothing: a waiting job keeps its place, and a job
        # deferred while its source's fetch runs finds the source fetched and skips
        async def defer() -> None:
            app = make_app(postgres_url)
            async with app.open_async():
                await defer_due(app, settings, datetime.now(UTC))

        asyncio.run(defer())
        wait_until(lambda: requests[SLOW] == 1, "the slow feed's request", workers)

        with Store(postgres_url) as store:
            [(holder,)] = query(
                store,
                "SELECT worker_id FROM procrastinate_jobs WHERE status = 'doing'"
                " AND args->>'name' = ?",
                [SLOW],
            )
        victim = ids[holder]
        victim.kill()
        release.set()
        live = [w for w in workers if w is not victim]

        def all_done() -> bool:
            with Store(postgres_url) as store:
                fetched = query(
                    store, "SELECT count(*) FROM sources WHERE last_fetched IS NOT NULL"
                )
                busy = query(
                    store,
                    "SELECT count(*) FROM procrastinate_jobs WHERE queue_name = 'crawl'"
                    " AND status IN ('todo', 'doing')",
                )
            return fetched == [(len(names),)] and busy == [(0,)]

        wait_until(all_done, "every source fetched and no job left", live, timeout=120)
    finally:
        release.set()
        statuses = [w.stop() for w in workers if w.child.poll() is None]

    assert statuses == [0, 0]
    with Store(postgres_url) as store:
        assert query(store, "SELECT count(*), count(DISTINCT url) FROM articles") == [
            (len(names) * ITEMS, len(names) * ITEMS)
        ]
        per_source = query(
            store,
            "SELECT s.name, count(a.id) FROM sources s JOIN articles a"
            " ON a.source_id = s.id GROUP BY s.name ORDER BY s.name",
        )
        assert per_source == [(name, ITEMS) for name in sorted(names)]
        assert query(
            store,
            "SELECT count(*) FROM procrastinate_jobs WHERE queue_name = 'crawl'"
            " AND status IN ('failed', 'todo', 'doing')",
        ) == [(0,)]
    # the killed fetch was done again by a live worker, every other feed once; with two
    # jobs at a time the victim may also have been in the middle of another source's
    # fetch when it died: that one is fetched again too (at least once, never lost)
    told = victim.text()
    started = set(re.findall(r"Starting job crawl\.fetch_source\[\d+\]\(name='(\w+)'", told))
    ended = set(re.findall(r"Job crawl\.fetch_source\[\d+\]\(name='(\w+)'.*? ended", told))
    interrupted = started - ended - {SLOW}
    assert requests[SLOW] == 2
    for name in names:
        if name != SLOW:
            assert requests[name] in ((1, 2) if name in interrupted else (1,)), name
    recovered = ("put back in its queue", "the same job waits already")
    assert any(note in w.text() for w in live for note in recovered)
    assert any("crawl.schedule" in w.text() for w in workers)  # the periodic task ran
    assert len(counter.peak) == 2 and set(counter.peak.values()) == {1}, counter.peak
