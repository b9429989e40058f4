"""Politeness per host: at most N requests in flight, and a gap between request starts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

MAX_HOST_DELAY = 60.0  # a robots.txt Crawl-delay above this is capped


class _Host:
    __slots__ = ("last_start", "pacing", "semaphore", "users")

    def __init__(self, per_host: int) -> None:
        self.semaphore = asyncio.Semaphore(per_host)
        self.pacing = asyncio.Lock()  # one waiter at a time measures the gap
        self.last_start = -float("inf")
        self.users = 0


class HostLimiter:
    """Per-host concurrency limit plus a polite delay between requests to one host.

    ``delay`` is the default gap in seconds between the starts of two requests to the
    same host; :meth:`set_delay` overrides it per host (e.g. a robots.txt Crawl-delay).
    ``clock`` and ``sleep`` measure and wait out that gap (tests pass fake ones).
    State for a host is dropped when nothing uses it and its delay has passed, so the
    limiter stays small however many hosts a crawl touches.
    """

    def __init__(
        self,
        per_host: int = 2,
        delay: float = 0.0,
        *,
        max_delay: float = MAX_HOST_DELAY,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if per_host < 1:
            raise ValueError("per_host must be at least 1")
        self.per_host = per_host
        self.delay = max(0.0, delay)
        self.max_delay = max_delay
        self._clock = clock
        self._sleep = sleep
        self._hosts: dict[str, _Host] = {}
        self._delays: dict[str, float] = {}

    def set_delay(self, host: str, seconds: float | None) -> None:
        """Use ``seconds`` (capped at ``max_delay``) between requests to ``host``;
        ``None`` goes back to the default."""
        host = host.lower()
        if seconds is None:
            self._delays.pop(host, None)
        else:
            self._delays[host] = min(max(0.0, float(seconds)), self.max_delay)

    def delay_for(self, host: str) -> float:
        return self._delays.get(host.lower(), self.delay)

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold one of the host's slots, after waiting for its polite gap."""
        host = host.lower()
        state = self._hosts.get(host)
        if state is None:
            if len(self._hosts) >= 1024:
                self._sweep()
            state = self._hosts[host] = _Host(self.per_host)
        state.users += 1
        try:
            async with state.semaphore:
                delay = self._delays.get(host, self.delay)
                if delay > 0:
                    async with state.pacing:
                        wait = state.last_start + delay - self._clock()
                        if wait > 0:
                            await self._sleep(wait)
                        state.last_start = self._clock()
                yield
        finally:
            state.users -= 1
            if state.users == 0 and self._idle(host, state):
                self._hosts.pop(host, None)

    def _idle(self, host: str, state: _Host) -> bool:
        delay = self._delays.get(host, self.delay)
        return state.last_start + delay <= self._clock()

    def _sweep(self) -> None:
        for name in [n for n, h in self._hosts.items() if h.users == 0 and self._idle(n, h)]:
            del self._hosts[name]

    @property
    def active_hosts(self) -> int:
        """Hosts with live state (in use, or still inside their delay)."""
        return len(self._hosts)
