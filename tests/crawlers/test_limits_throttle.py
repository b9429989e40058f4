"""The per-host delay as the limiter applies it: following the host's answers, waking a
waiting request when the first answer comes, floors (per_host_delay, Crawl-delay), the
pause a Retry-After asks for; and, against real HTTP servers on 127.0.0.1, the server's
own count of requests in flight per host and a Crawl-delay between page fetches.

Delays are measured on fake clocks; no test depends on how fast the machine is."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from crawl_support import FakeTime, run_with_client, until
from crawlers.http import CrawlClient, HttpOptions, fetch
from crawlers.limits import HostLimiter, HostPaused
from crawlers.robots import RobotsCache
from host_counter import PerHost

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def request(limiter: HostLimiter, fake: FakeTime, host: str, latency: float) -> float:
    """One request to ``host`` that the host answers (200) ``latency`` seconds after it
    started; returns when it started."""
    async with limiter.slot(host) as turn:
        started = fake.now
        fake.now += latency
        turn.answered(200)
    return started


def test_the_gap_follows_the_hosts_answers() -> None:
    fake = FakeTime()
    limiter = HostLimiter(per_host=1, clock=fake.clock, sleep=fake.sleep)

    async def main() -> list[float]:
        return [await request(limiter, fake, "a.test", s) for s in (0.3, 0.3, 0.1, 0.1)]

    starts = asyncio.run(main())
    # the first answer took 0.3 s: the next request may start 0.3 s after the first;
    # then faster answers bring the delay down halfway each time (0.3 → 0.2)
    assert starts == pytest.approx([0.0, 0.3, 0.6, 0.8])
    assert fake.slept == pytest.approx([0.1])  # only the last one had to wait
    assert limiter.delay_for("A.test") == pytest.approx(0.15)


def test_a_waiting_request_goes_as_soon_as_the_first_answer_comes() -> None:
    clock = [0.0]
    slept: list[float] = []

    async def never(seconds: float) -> None:  # only the answer can let the second one go
        slept.append(seconds)
        await asyncio.Event().wait()

    limiter = HostLimiter(per_host=2, clock=lambda: clock[0], sleep=never)
    order: list[tuple[str, float]] = []

    async def main() -> None:
        inside, answer = asyncio.Event(), asyncio.Event()

        async def first() -> None:
            async with limiter.slot("a.test") as turn:
                order.append(("first", clock[0]))
                inside.set()
                await answer.wait()
                clock[0] = 0.25
                turn.answered(200)

        async def second() -> None:
            await inside.wait()
            async with limiter.slot("a.test"):
                order.append(("second", clock[0]))

        tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
        await until(lambda: bool(slept), "the second request waiting for its turn")
        assert order == [("first", 0.0)]  # a second slot is free, but no answer came yet
        answer.set()
        await asyncio.gather(*tasks)

    asyncio.run(main())
    assert order == [("first", 0.0), ("second", 0.25)]
    assert slept == [1.0]  # it was waiting out the start delay when the answer came


def test_per_host_delay_and_crawl_delay_are_floors() -> None:
    fake = FakeTime()
    limiter = HostLimiter(per_host=1, delay=0.5, clock=fake.clock, sleep=fake.sleep)
    limiter.set_delay("Slow.test", 3)  # a robots.txt Crawl-delay

    async def main(host: str) -> list[float]:
        return [await request(limiter, fake, host, 0.01) for _ in range(3)]

    fast = asyncio.run(main("fast.test"))
    assert [b - a for a, b in pairwise(fast)] == pytest.approx([0.5, 0.5])
    slow = asyncio.run(main("slow.test"))
    assert [b - a for a, b in pairwise(slow)] == pytest.approx([3.0, 3.0])
    assert limiter.delay_for("slow.test") == 3.0 and limiter.floor_for("fast.test") == 0.5


def test_no_answer_doubles_the_delay() -> None:
    fake = FakeTime()
    limiter = HostLimiter(clock=fake.clock, sleep=fake.sleep)

    async def main() -> None:
        await request(limiter, fake, "a.test", 0.2)
        async with limiter.slot("a.test") as turn:
            turn.failed()

    asyncio.run(main())
    assert limiter.delay_for("a.test") == pytest.approx(1.0)  # 2 x 0.2, at least 1 s
    with pytest.raises(ValueError):
        HostLimiter(per_host=0)


def test_retry_after_pauses_the_host_until_then() -> None:
    fake = FakeTime()
    limiter = HostLimiter(
        clock=fake.clock, sleep=fake.sleep, now=lambda: T0 + timedelta(seconds=fake.now)
    )

    async def main() -> None:
        async with limiter.slot("busy.test") as turn:
            turn.answered(429, T0 + timedelta(seconds=30))
        with pytest.raises(HostPaused) as paused:
            async with limiter.slot("Busy.test"):
                pytest.fail("a paused host got a slot")
        assert paused.value.until == T0 + timedelta(seconds=30)
        assert "asked to wait (Retry-After) until 2026-03-02 09:00:30 UTC" in str(paused.value)
        await request(limiter, fake, "other.test", 0.01)  # other hosts go on
        fake.now = 31.0
        await request(limiter, fake, "busy.test", 0.01)  # after it, the host is asked again
        assert limiter.paused_until("busy.test") is None

    asyncio.run(main())


# --- against real servers --------------------------------------------------------------


def test_the_server_never_sees_more_than_per_host_at_once(server: HTTPServer) -> None:
    counter = PerHost(lambda _: Response("ok"))
    server.expect_request("/page").respond_with_handler(counter.handler)
    ip = server.url_for("/page")
    urls = [ip, ip.replace("127.0.0.1", "localhost")] * 12  # two hosts, one server

    async def work(client: CrawlClient) -> list[str | None]:
        results = await asyncio.gather(*(fetch(client, u) for u in urls))
        return [r.error for r in results]

    assert run_with_client(work, per_host=2, max_connections=16) == [None] * 24
    assert len(counter.peak) == 2
    assert all(1 <= peak <= 2 for peak in counter.peak.values()), counter.peak


def test_a_429_with_retry_after_holds_off_the_whole_host(server: HTTPServer) -> None:
    server.expect_request("/busy").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "120"}
    )
    server.expect_request("/page").respond_with_data("ok")
    other = server.url_for("/page").replace("127.0.0.1", "localhost")

    async def work(client: CrawlClient) -> list:
        return [
            await fetch(client, server.url_for("/busy")),
            await fetch(client, server.url_for("/page")),  # same host: not sent
            await fetch(client, other),  # another host: sent
        ]

    before = datetime.now(UTC)
    busy, page, elsewhere = run_with_client(work)
    assert busy.status == 429 and busy.retry_after is not None
    assert page.status == 0 and page.retry_after == busy.retry_after
    assert page.error is not None and "asked to wait (Retry-After)" in page.error
    assert busy.retry_after - before >= timedelta(seconds=115)
    assert elsewhere.error is None
    assert [r.path for r, _ in server.log] == ["/busy", "/page"]  # the second /page only


def test_a_crawl_delay_spaces_page_fetches_however_fast_the_host_answers(
    server: HTTPServer,
) -> None:
    server.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nCrawl-delay: 3\n", content_type="text/plain"
    )
    server.expect_request("/page").respond_with_data("ok")
    fake = FakeTime()
    limiter = HostLimiter(clock=fake.clock, sleep=fake.sleep)

    async def main() -> list[str | None]:
        options = HttpOptions(allow_private_networks=True)
        async with CrawlClient(options, limiter=limiter) as client:
            assert await RobotsCache(client).allowed(server.url_for("/page"))
            return [(await fetch(client, server.url_for("/page"))).error for _ in range(3)]

    assert asyncio.run(main()) == [None] * 3
    # robots.txt was answered at once (on the fake clock), so only the Crawl-delay
    # stood between the requests: three page fetches, each 3 s after the one before
    assert fake.slept == [3.0, 3.0, 3.0]
    assert [r.path for r, _ in server.log] == ["/robots.txt", "/page", "/page", "/page"]
