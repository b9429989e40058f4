"""Helpers for crawler tests: run async work with a crawl client, wait for a condition
in the event loop, move the event loop's clock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from crawlers.http import CrawlClient, HttpOptions, make_client

T = TypeVar("T")


def run_with_client(work: Callable[[CrawlClient], Awaitable[T]], **options: Any) -> T:
    """Run ``work(client)`` in a fresh event loop with a client on these options
    (private networks allowed unless said otherwise: every test server is local)."""
    options.setdefault("allow_private_networks", True)

    async def main() -> T:
        async with make_client(HttpOptions(**options)) as client:
            return await work(client)

    return asyncio.run(main())


async def until(ready: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Wait in the event loop until ``ready()``; ``timeout`` only guards against a hang."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not ready():
        if loop.time() > deadline:
            pytest.fail(f"never got to: {what}")
        await asyncio.sleep(0.005)


class LoopClock:
    """Moves an event loop's clock forward without waiting for it.

    Installs itself as ``loop.time``: the real clock plus an offset. :meth:`advance`
    grows the offset, so every timer the loop holds (sleeps, ``asyncio.timeout``,
    httpx's timeouts) that falls due within the jump fires at once, in order.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.offset = 0.0
        real = loop.time
        self._loop = loop
        loop.time = lambda: real() + self.offset  # type: ignore[method-assign]

    async def advance(self, seconds: float) -> None:
        """Jump ``seconds`` ahead; returns once the timers due by then have fired."""
        passed = self._loop.create_future()
        self._loop.call_later(seconds, passed.set_result, None)  # due at the end of the jump
        self.offset += seconds
        await passed


class FakeTime:
    """A clock and a sleep for :class:`HostLimiter`: sleeping moves the clock forward
    (to at least the end of that sleep) at once, so a delay costs no real time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        until = self.now + seconds
        await asyncio.sleep(0)  # let other tasks run meanwhile, as a real sleep would
        self.now = max(self.now, until)
