"""Politeness per host shared through the database: two crawl clients with limiters of
their own (as two workers have) never send one host two requests at once, keep the
configured delay between two starts, and honour a Retry-After pause the other got.
The gaps are the server's own record."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from crawlers.http import CrawlClient, HttpOptions, fetch
from pipeline.queue.hosts import SharedHostLimiter
from pipeline.store import Store

DELAY = 0.5
JITTER = 0.02  # the delay counts from an answer: for the clocks' rounding only


class Visits:
    """The server's record of each request to it: (host, start, end), monotonic."""

    def __init__(self, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.headers = headers or {}
        self.seen: list[tuple[str, float, float]] = []
        self._lock = threading.Lock()

    def handler(self, request: Request) -> Response:
        start = time.monotonic()
        time.sleep(0.03)  # long enough for requests to overlap, if they were let
        with self._lock:
            self.seen.append((request.host, start, time.monotonic()))
        return Response(b"ok", status=self.status, headers=self.headers)

    def of(self, host: str) -> list[tuple[float, float]]:
        return sorted((s, e) for h, s, e in self.seen if h == host)


def gaps(visits: list[tuple[float, float]]) -> list[float]:
    return [b[0] - a[0] for a, b in itertools.pairwise(visits)]


def overlapping(visits: list[tuple[float, float]]) -> bool:
    return any(b[0] < a[1] for a, b in itertools.pairwise(visits))


@pytest.fixture
def site(threaded_server: HTTPServer) -> Iterator[HTTPServer]:
    threaded_server.clear()
    yield threaded_server
    threaded_server.clear()


def options() -> HttpOptions:
    return HttpOptions(timeout=10, per_host_delay=DELAY, allow_private_networks=True)


async def fetch_all(stores: list[Store], urls: list[list[str]]) -> list:
    """Each store's client fetches its URLs, the clients side by side."""

    async def one(store: Store, mine: list[str]) -> list:
        limiter = SharedHostLimiter(store, DELAY, timeout=10)
        async with CrawlClient(options(), limiter) as client:
            return await asyncio.gather(*(fetch(client, u) for u in mine))

    return await asyncio.gather(*(one(s, u) for s, u in zip(stores, urls, strict=True)))


def test_two_clients_share_one_turn_and_delay_per_host(site: HTTPServer, postgres_url: str):
    visits = Visits()
    site.expect_request("/page").respond_with_handler(visits.handler)
    ip = site.url_for("/page")
    other = ip.replace("127.0.0.1", "localhost")
    with Store(postgres_url) as a, Store(postgres_url) as b:
        results = asyncio.run(fetch_all([a, b], [[ip, other] * 3, [ip, other] * 3]))
    assert all(r.status == 200 for rs in results for r in rs)
    for host in ("127.0.0.1", "localhost"):
        mine = visits.of(f"{host}:{site.port}")
        assert len(mine) == 6
        assert not overlapping(mine)
        # between two starts as the server saw them: at least the delay
        assert min(gaps(mine)) >= DELAY - JITTER, gaps(mine)


def test_a_pause_one_client_was_asked_for_holds_the_other_back(
    site: HTTPServer, postgres_url: str
) -> None:
    visits = Visits(429, {"Retry-After": "120"})
    site.expect_request("/busy").respond_with_handler(visits.handler)
    url = site.url_for("/busy")
    with Store(postgres_url) as a, Store(postgres_url) as b:
        [[first]] = asyncio.run(fetch_all([a], [[url]]))
        [[second]] = asyncio.run(fetch_all([b], [[url]]))
    assert first.status == 429 and first.retry_after is not None
    assert second.status == 0 and "asked to wait" in (second.error or "")
    assert second.retry_after is not None
    assert len(visits.seen) == 1  # the second was never sent


def test_a_dead_holders_turn_is_free_at_once(postgres_url: str) -> None:
    with Store(postgres_url) as b:
        a = Store(postgres_url)
        assert a.claim_host("h.test", "a", 600).granted
        assert not b.claim_host("h.test", "b", 600).granted  # a holds it
        a.close()  # its worker died: its connection is gone
        deadline = time.monotonic() + 10
        while not b.claim_host("h.test", "b", 600).granted:
            assert time.monotonic() < deadline, "the dead holder's turn was never freed"
            time.sleep(0.05)


def test_a_released_turn_sets_the_next_start_by_the_databases_clock(postgres_url: str):
    with Store(postgres_url) as store:
        claim = store.claim_host("h.test", "a", 60)
        assert claim.granted and claim.started
        store.release_host("h.test", "a", claim.started, 0.1, 30.0)
        wait = store.host_wait("h.test")
        assert 25 < wait.seconds <= 30 and wait.allowed_at
        refused = store.claim_host("h.test", "b", 60)
        assert not refused.granted and 25 < refused.wait <= 30 and refused.paused is None
        store.release_host("h.test", "zz", claim.started, 0.1, 0.0)  # not the holder
        assert store.host_wait("h.test").seconds > 25


def test_a_blogs_spider_holds_its_host_for_its_whole_run(postgres_url: str) -> None:
    """A crawl that sends its own requests (a blog's spider) holds the host meanwhile,
    and the host's next request waits its delay after the run."""

    async def run(a: Store, b: Store) -> None:
        limiter = SharedHostLimiter(a, 0.0, timeout=10)
        async with limiter.hold("blog.test", 60, gap=5.0):
            assert not b.claim_host("blog.test", "page", 60).granted  # held
            assert b.claim_host("other.test", "page", 60).granted  # other hosts are not
            await asyncio.sleep(1.5)  # the spider at work
        refused = b.claim_host("blog.test", "page", 60)
        assert not refused.granted and 4 < refused.wait <= 5  # its delay after the run

    with Store(postgres_url) as a, Store(postgres_url) as b:
        asyncio.run(run(a, b))


def test_the_gap_counts_from_the_answer(postgres_url: str) -> None:
    """A worker that took long to connect and send (a loaded machine) does not bring
    the host's next request closer to its own: the gap counts from the answer."""
    with Store(postgres_url) as store:
        claim = store.claim_host("h.test", "a", 60)
        assert claim.granted
        time.sleep(1.0)  # connecting, sending; then the answer
        store.release_host("h.test", "a", claim.started, 0.1, 2.0, since=0.0)
        assert 1.8 < store.host_wait("h.test").seconds <= 2.0
