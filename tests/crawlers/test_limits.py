"""Politeness: per-host concurrency, the gap between requests, the global limit."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time

from crawl_support import run_with_client
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from crawlers.http import CrawlClient, fetch
from crawlers.limits import HostLimiter


class Gauge:
    """Counts how many things run at once (thread-safe: handlers run in threads)."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.now -= 1


def test_at_most_n_per_host_and_hosts_are_independent() -> None:
    limiter = HostLimiter(per_host=2)
    gauges = {"a.test": Gauge(), "b.test": Gauge()}

    async def one(host: str) -> None:
        async with limiter.slot(host):
            with gauges[host.lower()]:
                await asyncio.sleep(0.01)

    async def main() -> None:
        await asyncio.gather(*(one(h) for h in ["a.test", "b.test", "A.TEST"] * 5))

    asyncio.run(main())
    assert gauges["a.test"].peak == 2
    assert gauges["b.test"].peak == 2
    assert limiter.active_hosts == 0  # nothing kept once idle


def test_delay_spaces_request_starts_per_host() -> None:
    limiter = HostLimiter(per_host=2, delay=0.05)
    starts: dict[str, list[float]] = {"a.test": [], "b.test": []}

    async def one(host: str) -> None:
        async with limiter.slot(host):
            starts[host].append(time.monotonic())

    async def main() -> None:
        await asyncio.gather(*(one(h) for h in ["a.test", "b.test"] * 4))

    asyncio.run(main())
    for times in starts.values():
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert len(gaps) == 3 and min(gaps) >= 0.045
    # the two hosts do not wait for each other: both started right away
    assert abs(starts["a.test"][0] - starts["b.test"][0]) < 0.03


def test_set_delay_overrides_and_is_capped() -> None:
    limiter = HostLimiter(delay=1.0, max_delay=10)
    limiter.set_delay("Slow.test", 120)
    assert limiter.delay_for("slow.test") == 10
    assert limiter.delay_for("other.test") == 1.0
    limiter.set_delay("slow.test", None)
    assert limiter.delay_for("slow.test") == 1.0


def counting_server(server: HTTPServer, gauge: Gauge, seconds: float = 0.05) -> None:
    def handler(request: Request) -> Response:
        with gauge:
            time.sleep(seconds)
        return Response("ok")

    server.expect_request("/page").respond_with_handler(handler)


def test_fetch_keeps_to_the_per_host_limit(server: HTTPServer) -> None:
    gauge = Gauge()
    counting_server(server, gauge)

    async def work(client: CrawlClient) -> list[str | None]:
        results = await asyncio.gather(*(fetch(client, server.url_for("/page")) for _ in range(8)))
        return [r.error for r in results]

    assert run_with_client(work, per_host=2) == [None] * 8
    assert gauge.peak == 2


def test_fetch_keeps_to_the_global_limit(server: HTTPServer) -> None:
    gauge = Gauge()
    counting_server(server, gauge)
    localhost = server.url_for("/page").replace("127.0.0.1", "localhost")

    async def work(client: CrawlClient) -> None:
        urls = [server.url_for("/page"), localhost] * 4  # two "hosts", one server
        await asyncio.gather(*(fetch(client, u) for u in urls))

    run_with_client(work, per_host=4, max_connections=3)
    assert gauge.peak == 3


def test_waiting_for_a_slot_does_not_count_against_the_timeout(server: HTTPServer) -> None:
    gauge = Gauge()
    counting_server(server, gauge, seconds=0.2)

    async def work(client: CrawlClient) -> list[str | None]:
        results = await asyncio.gather(*(fetch(client, server.url_for("/page")) for _ in range(4)))
        return [r.error for r in results]

    # one at a time, 0.2 s each: the last waits 0.6 s, longer than its 0.5 s timeout
    assert run_with_client(work, per_host=1, timeout=0.5) == [None] * 4
