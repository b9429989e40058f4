"""Politeness: per-host concurrency, the gap between requests, the global limit.

No test here passes or fails on how fast the machine is: slots are held until the test
lets go (not for a few milliseconds of sleep), the gap between requests is measured on
a fake clock, and timeouts on an event loop clock the test moves forward."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from crawl_support import FakeTime, LoopClock, run_with_client, until
from crawlers.http import CrawlClient, fetch
from crawlers.limits import HostLimiter, Turn
from crawlers.throttle import AutoThrottle


class Gauge:
    """Counts how many things run at once."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0

    def __enter__(self) -> None:
        self.now += 1
        self.peak = max(self.peak, self.now)

    def __exit__(self, *exc: object) -> None:
        self.now -= 1


# Before a host's first answer, a second request waits for it (the throttle's start
# delay); these tests of the hard limits start without that wait.
NO_START_DELAY = AutoThrottle(start_delay=0)


def test_at_most_n_per_host_and_hosts_are_independent() -> None:
    limiter = HostLimiter(per_host=2, throttle=NO_START_DELAY)
    gauges = {"a.test": Gauge(), "b.test": Gauge()}
    hosts = ["a.test", "b.test", "A.TEST"] * 5
    waiting = 0

    async def one(host: str, hold: asyncio.Event) -> None:
        nonlocal waiting
        waiting += 1
        async with limiter.slot(host):
            waiting -= 1
            with gauges[host.lower()]:
                await hold.wait()  # the slot is held until the test lets go

    async def main() -> dict[str, int]:
        hold = asyncio.Event()
        tasks = [asyncio.create_task(one(h, hold)) for h in hosts]
        # every task either holds a slot or waits for one: nothing more can happen
        for _ in range(1000):
            await asyncio.sleep(0)
            if sum(g.now for g in gauges.values()) + waiting == len(hosts):
                break
        else:
            pytest.fail("the tasks never settled into holding or waiting for a slot")
        holding = {host: g.now for host, g in gauges.items()}
        hold.set()
        await asyncio.gather(*tasks)
        return holding

    holding = asyncio.run(main())
    # a.test's two slots are full and b.test still got both of its own
    assert holding == {"a.test": 2, "b.test": 2}
    assert gauges["a.test"].peak == 2  # and no third one later, as slots were handed on
    assert gauges["b.test"].peak == 2
    assert limiter.active_hosts == 0  # nothing kept once idle


def test_delay_spaces_request_starts_per_host() -> None:
    fake = FakeTime()
    limiter = HostLimiter(per_host=2, delay=2.0, clock=fake.clock, sleep=fake.sleep)
    starts: dict[str, list[float]] = {"a.test": [], "b.test": []}

    async def one(host: str) -> None:
        async with limiter.slot(host):
            starts[host].append(fake.now)

    async def main() -> None:
        await asyncio.gather(*(one(h) for h in ["a.test", "b.test"] * 4))

    asyncio.run(main())
    # two seconds between the starts of requests to one host, and no more than that;
    # the hosts do not wait for each other: both started at once
    assert starts == {"a.test": [0.0, 2.0, 4.0, 6.0], "b.test": [0.0, 2.0, 4.0, 6.0]}
    assert fake.slept == [2.0] * 6  # three waits per host, each of exactly the gap


def test_set_delay_overrides_and_is_capped() -> None:
    limiter = HostLimiter(delay=1.0, max_delay=10)
    limiter.set_delay("Slow.test", 120)
    assert limiter.delay_for("slow.test") == 10
    assert limiter.delay_for("other.test") == 1.0
    limiter.set_delay("slow.test", None)
    assert limiter.delay_for("slow.test") == 1.0


# --- fetch: the server counts what is in flight ----------------------------------------


class InFlight:
    """The server's count of requests in flight, per Host header and in all, with their
    peaks. Every request is held until ``release`` is set."""

    def __init__(self) -> None:
        self.now: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.total = 0
        self.total_peak = 0
        self.served = 0
        self.release = threading.Event()
        self._lock = threading.Lock()

    def handler(self, request: Request) -> Response:
        host = request.host
        with self._lock:
            self.now[host] += 1
            self.peak[host] = max(self.peak[host], self.now[host])
            self.total += 1
            self.total_peak = max(self.total_peak, self.total)
        try:
            if not self.release.wait(60):  # only against a hang
                return Response("held for a minute", status=500)
            return Response("ok")
        finally:
            with self._lock:
                self.now[host] -= 1
                self.total -= 1
                self.served += 1


@pytest.fixture
def in_flight(server: HTTPServer) -> Iterator[InFlight]:
    counter = InFlight()
    server.expect_request("/page").respond_with_handler(counter.handler)
    yield counter
    counter.release.set()  # a failed test leaves no handler waiting


class Waiting:
    """How many fetches are waiting for a free slot: their host's, or (which the host's
    slot takes once the host's delay has passed) one of the global gate.

    It wraps the client's own limiter, so its sizes stay what the client made of its
    options."""

    def __init__(self, client: CrawlClient) -> None:
        self.count = 0
        self._slot = client.limiter.slot
        client.limiter.slot = self.slot  # type: ignore[method-assign]

    @asynccontextmanager
    async def slot(self, host: str, *gate: Any) -> AsyncIterator[Turn]:
        async with AsyncExitStack() as stack:
            self.count += 1
            try:
                turn = await stack.enter_async_context(self._slot(host, *gate))
            finally:
                self.count -= 1
            yield turn


async def settle(in_flight: InFlight, waiting: Waiting, fetches: int) -> None:
    """Until every fetch is either at the server (held there) or waiting for a slot:
    from then on nothing moves until the server lets go."""

    def settled() -> bool:
        return in_flight.total + waiting.count == fetches

    await until(settled, "every fetch at the server or waiting for a slot")


def test_fetch_keeps_to_the_per_host_limit(server: HTTPServer, in_flight: InFlight) -> None:
    async def work(client: CrawlClient) -> tuple[int, int, list[str | None]]:
        waiting = Waiting(client)
        tasks = [asyncio.create_task(fetch(client, server.url_for("/page"))) for _ in range(8)]
        await settle(in_flight, waiting, len(tasks))
        held = in_flight.total, waiting.count
        in_flight.release.set()
        return (*held, [r.error for r in await asyncio.gather(*tasks)])

    at_server, waiting, errors = run_with_client(work, per_host=2, throttle=NO_START_DELAY)
    assert (at_server, waiting) == (2, 6)
    assert errors == [None] * 8
    assert list(in_flight.peak.values()) == [2]  # one host, never more than two at once
    assert in_flight.served == 8


def test_fetch_keeps_to_the_global_limit(server: HTTPServer, in_flight: InFlight) -> None:
    ip = server.url_for("/page")
    name = ip.replace("127.0.0.1", "localhost")

    async def work(client: CrawlClient) -> tuple[int, int, list[str | None]]:
        waiting = Waiting(client)
        urls = [ip, name] * 4  # two "hosts", one server
        tasks = [asyncio.create_task(fetch(client, u)) for u in urls]
        await settle(in_flight, waiting, len(tasks))
        held = in_flight.total, waiting.count
        in_flight.release.set()
        return (*held, [r.error for r in await asyncio.gather(*tasks)])

    at_server, waiting, errors = run_with_client(
        work, per_host=4, max_connections=3, throttle=NO_START_DELAY
    )
    assert (at_server, waiting) == (3, 5)
    assert errors == [None] * 8
    assert in_flight.total_peak == 3
    assert sorted(in_flight.peak) == sorted([ip.split("/")[2], name.split("/")[2]])
    assert in_flight.served == 8


def test_waiting_for_a_slot_does_not_count_against_the_timeout(
    server: HTTPServer, in_flight: InFlight
) -> None:
    timeout = 30.0
    in_flight.release.set()  # the server answers at once

    async def work(client: CrawlClient) -> list[str | None]:
        loop_clock = LoopClock(asyncio.get_running_loop())
        waiting = Waiting(client)
        async with client.limiter.slot("127.0.0.1"):  # the test holds the host's only slot
            tasks = [asyncio.create_task(fetch(client, server.url_for("/page"))) for _ in range(3)]
            await until(lambda: waiting.count == 3, "three fetches waiting for the slot")
            # they wait twice their timeout (on the loop's clock: every timer due in
            # that time fires), then get the slot one at a time
            await loop_clock.advance(2 * timeout)
            assert waiting.count == 3 and in_flight.served == 0
        return [r.error for r in await asyncio.gather(*tasks)]

    assert run_with_client(work, per_host=1, timeout=timeout) == [None] * 3
    assert in_flight.served == 3
    assert in_flight.peak == Counter({server.url_for("/").split("/")[2]: 1})


def test_the_loop_clock_fires_the_timers_it_passes() -> None:
    """The test helper itself: a timeout inside the jump fires, one beyond it does not."""
    fired: list[str] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        clock = LoopClock(loop)
        start = loop.time()
        loop.call_later(50, fired.append, "inside")
        late = loop.call_later(70, fired.append, "beyond")
        await clock.advance(60)
        assert loop.time() - start >= 60
        late.cancel()

    asyncio.run(main())
    assert fired == ["inside"]
