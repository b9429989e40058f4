"""Politeness across workers, with real processes: three ``trendwatch worker``s crawl
feeds on one host whose items' article pages live on another host that has feeds of
its own. The server records every request: one host never has two in flight, and two
starts to one host are the configured ``per_host_delay`` apart, whichever worker, job
or kind of request (feed, article page, robots.txt) they came from. And a fetch whose
host may not be asked for a long while yet is deferred to that moment by the
database's clock, ahead of the host's other jobs."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipeline.queue.app import make_app
from pipeline.queue.crawl import LATER_PRIORITY, close_thread_store, defer_later, fetch_source
from pipeline.store import Store
from postgres_support import query
from worker_support import Worker, wait_until

DELAY = 0.5
# the delay counts from an answer, so the server sees a request start at least DELAY
# after the last answer to that host ended; this is for the clocks' rounding only
JITTER = 0.02
RSS = "application/rss+xml; charset=utf-8"
PAGE = (
    "<html><head><title>{name}</title></head><body><article><h1>{name}</h1>"
    + "<p>{name} is a page with enough words to be taken as the article's text. " * 12
    + "</p></article></body></html>"
)


class Visits:
    """Each request the server got: (Host header, start, end), monotonic."""

    def __init__(self, pages_at: str) -> None:
        self.pages_at = pages_at
        self.seen: list[tuple[str, str, float, float]] = []
        self._lock = threading.Lock()

    def handler(self, request: Request) -> Response:
        start = time.monotonic()
        time.sleep(0.03)  # long enough for requests to overlap, if they were let
        path = request.path.strip("/")
        if path == "robots.txt":
            answer = Response("User-agent: *\nAllow: /\n", content_type="text/plain")
        elif path.startswith("page-"):
            answer = Response(PAGE.format(name=path), content_type="text/html")
        else:
            items = "".join(
                f"<item><title>{path} {i}</title><link>{self.pages_at}page-{path}-{i}</link></item>"
                for i in range(2)
            )
            body = f"<rss version='2.0'><channel><title>{path}</title>{items}</channel></rss>"
            answer = Response(body, content_type=RSS)
        with self._lock:
            self.seen.append((request.host, path, start, time.monotonic()))
        return answer

    def of(self, host: str) -> list[tuple[str, float, float]]:
        return sorted(((p, s, e) for h, p, s, e in self.seen if h == host), key=lambda v: v[1])


@pytest.fixture
def site(threaded_server: HTTPServer) -> Iterator[HTTPServer]:
    threaded_server.clear()
    yield threaded_server
    threaded_server.clear()


def test_workers_keep_one_request_and_the_delay_per_host_for_feeds_and_pages(
    site: HTTPServer, make_settings, postgres_url: str, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("TRENDWATCH_DATABASE_URL", postgres_url)
    ip = site.url_for("/")
    name_host = ip.replace("127.0.0.1", "localhost")
    visits = Visits(pages_at=name_host)
    lines = ["allow_private_networks = true", "[crawl]", f"per_host_delay = {DELAY}"]
    names = [f"a{i}" for i in range(4)] + [f"b{i}" for i in range(3)]
    for name in names:
        host, full = (ip, "true") if name.startswith("a") else (name_host, "false")
        lines += ["[[sources]]", f'name = "{name}"', f'url = "{host}{name}"', f"full_text = {full}"]
    settings = make_settings("\n".join(lines) + "\n")
    paths = ["robots.txt", *names, *(f"page-{n}-{i}" for n in names for i in range(2))]
    for path in paths:
        site.expect_request(f"/{path}").respond_with_handler(visits.handler)

    workers = [
        Worker(
            settings.path,
            tmp_path / f"w{n}.log",
            postgres_url,
            *("--queues", "crawl", "--concurrency", "2", "--heartbeat", "0.5", "--poll", "0.2"),
        )
        for n in range(3)
    ]

    def all_done() -> bool:
        with Store(postgres_url) as store:
            fetched = query(store, "SELECT count(*) FROM sources WHERE last_fetched IS NOT NULL")
            busy = query(
                store,
                "SELECT count(*) FROM procrastinate_jobs WHERE queue_name = 'crawl'"
                " AND status IN ('todo', 'doing')",
            )
        return fetched == [(len(names),)] and busy == [(0,)]

    try:
        wait_until(all_done, "every source fetched and no job left", workers, timeout=120)
    finally:
        statuses = [w.stop() for w in workers]
    assert statuses == [0, 0, 0]

    with Store(postgres_url) as store:
        assert query(store, "SELECT count(*) FROM articles") == [(2 * len(names),)]
    by_host = {h for h, *_ in visits.seen}
    assert len(by_host) == 2
    pages = 0
    for host in by_host:
        mine = visits.of(host)
        pages += sum(p.startswith("page-") for p, *_ in mine)
        for (_, _, e1), (_, s2, _) in itertools.pairwise(mine):
            # the server notes an answer's end before sending it and a request's start
            # after it came, so a late note (a loaded machine) can only widen the gap
            assert s2 >= e1, f"two requests to {host} at once: {mine}"
            assert s2 - e1 >= DELAY - JITTER, f"{host}: {s2 - e1:.3f} s after an answer: {mine}"
        span = mine[-1][1] - mine[0][1]
        assert span >= (len(mine) - 1) * (DELAY - JITTER), f"{host}: {span:.3f} s in all"
    assert pages == 2 * 4  # the a-feeds' article pages, on the b-feeds' host


def test_a_fetch_whose_host_waits_long_is_deferred_to_the_databases_moment(
    make_settings, postgres_url: str, monkeypatch
) -> None:
    monkeypatch.setenv("TRENDWATCH_DATABASE_URL", postgres_url)
    settings = make_settings(
        "[[sources]]\nname = 'slow'\nurl = 'https://crawl-delay.test/feed'\n"
        "[[sources]]\nname = 'other'\nurl = 'https://crawl-delay.test/other'\n"
    )
    now = datetime.now(UTC)
    with Store(postgres_url) as store:
        store.sync_sources(settings.sources, now)
        claim = store.claim_host("crawl-delay.test", "someone", 60)
        assert claim.started is not None
        store.release_host("crawl-delay.test", "someone", claim.started, None, 120.0)
        [(db_now,)] = query(store, "SELECT extract(epoch FROM clock_timestamp())")

    try:
        outcome = fetch_source(settings, "slow", now)
    finally:
        close_thread_store(settings)
    assert outcome["status"] == "later"
    at = datetime.fromisoformat(outcome["at"])
    assert abs(at.timestamp() - (float(db_now) + 120)) < 10  # the database's clock

    async def defer() -> None:
        app = make_app(postgres_url)
        async with app.open_async():
            await defer_later(app, outcome, now.isoformat())
            again = await defer_later(app, outcome, now.isoformat())
            assert again["status"] == "waiting"  # its queueing lock: one waits at most

    asyncio.run(defer())
    with Store(postgres_url) as store:
        rows = query(
            store,
            "SELECT args->>'name', priority, extract(epoch FROM scheduled_at), lock"
            " FROM procrastinate_jobs",
        )
    [(name, priority, scheduled, lock)] = rows
    assert (name, priority, lock) == ("slow", LATER_PRIORITY, "crawl-host:crawl-delay.test")
    assert abs(float(scheduled) - at.timestamp()) < 0.01
