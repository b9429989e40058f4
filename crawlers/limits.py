"""Politeness per host: at most N requests in flight, a delay between request starts that
follows the host's response times (:mod:`crawlers.throttle`), and a pause when the host
asks for one (Retry-After)."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime

from crawlers.throttle import AutoThrottle

MAX_HOST_DELAY = 60.0  # a robots.txt Crawl-delay, or a learned delay, above this is capped
MAX_LEARNED = 4096  # hosts whose delay and last request are remembered (the oldest go)


class HostPaused(Exception):
    """The host asked us to wait (Retry-After on 429/503): nothing is sent before ``until``."""

    def __init__(self, host: str, until: datetime) -> None:
        super().__init__(
            f"not requested: {host} asked to wait (Retry-After) until {until:%Y-%m-%d %H:%M:%S} UTC"
        )
        self.host = host
        self.until = until


class _Host:
    """A host in use: its slots, and who waits for its gap."""

    __slots__ = ("changed", "pacing", "semaphore", "users")

    def __init__(self, per_host: int) -> None:
        self.semaphore = asyncio.Semaphore(per_host)
        self.pacing = asyncio.Lock()  # one waiter at a time measures the gap
        self.users = 0
        self.changed = asyncio.Event()  # the delay got shorter, or the host paused


class _Pace:
    """What the limiter remembers of a host: its learned delay (None before its first
    answer) and when the last request to it started."""

    __slots__ = ("delay", "last_start")

    def __init__(self) -> None:
        self.delay: float | None = None
        self.last_start = -float("inf")


class Turn:
    """One request's hold on a host's slot. The caller says how the request went:
    :meth:`answered` once the response's headers are in, or :meth:`failed` when no
    answer came (timeout, connection error); the limiter learns the host's pace."""

    __slots__ = ("_limiter", "done", "host", "started")

    def __init__(self, limiter: HostLimiter, host: str, started: float) -> None:
        self._limiter = limiter
        self.host = host
        self.started = started
        self.done = False

    def answered(self, status: int, retry_after: datetime | None = None) -> None:
        """The host answered with ``status`` (and maybe a Retry-After time)."""
        if not self.done:
            self.done = True
            self._limiter._answered(self, status, retry_after)

    def failed(self) -> None:
        """No answer came."""
        if not self.done:
            self.done = True
            self._limiter._failed(self.host)


class HostLimiter:
    """Per-host concurrency limit plus a polite delay between requests to one host.

    ``per_host`` requests to a host may be in flight at once. Between the starts of two
    requests to a host passes the delay of ``throttle`` (an :class:`AutoThrottle`: it
    follows the host's answers, which callers report through the :class:`Turn` that
    :meth:`slot` yields), never less than ``delay`` (the configured minimum) nor than
    the host's own minimum (:meth:`set_delay`, e.g. a robots.txt Crawl-delay). After a
    429 or 503 with Retry-After, :meth:`slot` raises :class:`HostPaused` for that host
    until then, so nothing more is sent to it.

    ``clock`` and ``sleep`` measure and wait out the gap, ``now`` turns a Retry-After
    time into seconds (tests pass fake ones). The slots of a host are dropped when
    nothing uses them, so the limiter stays small however many hosts a crawl touches;
    the learned delay and last request start of the last :data:`MAX_LEARNED` hosts are
    kept (the gap holds after a host's slots were dropped).
    """

    def __init__(
        self,
        per_host: int = 2,
        delay: float = 0.0,
        *,
        throttle: AutoThrottle | None = None,
        max_delay: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if per_host < 1:
            raise ValueError("per_host must be at least 1")
        throttle = throttle or AutoThrottle(max_delay=MAX_HOST_DELAY)
        if max_delay is not None:
            start = min(throttle.start_delay, max_delay)
            throttle = replace(throttle, max_delay=max_delay, start_delay=start)
        self.per_host = per_host
        self.delay = max(0.0, delay)
        self.throttle = throttle
        self.max_delay = throttle.max_delay
        self._clock = clock
        self._sleep = sleep
        self._now = now
        self._hosts: dict[str, _Host] = {}
        self._floors: dict[str, float] = {}
        self._paces: OrderedDict[str, _Pace] = OrderedDict()
        self._paused: dict[str, tuple[float, datetime]] = {}

    def set_delay(self, host: str, seconds: float | None) -> None:
        """Never less than ``seconds`` (capped at ``max_delay``) between requests to
        ``host``, nor less than the configured minimum; ``None`` forgets it."""
        host = host.lower()
        if seconds is None:
            self._floors.pop(host, None)
        else:
            self._floors[host] = min(max(0.0, float(seconds)), self.max_delay)

    def floor_for(self, host: str) -> float:
        """The least delay for ``host``: the configured one, or the host's own if larger."""
        return max(self.delay, self._floors.get(host.lower(), 0.0))

    def delay_for(self, host: str) -> float:
        """Seconds between the starts of two requests to ``host`` now."""
        host = host.lower()
        pace = self._paces.get(host)
        return self.throttle.gap(pace.delay if pace else None, self.floor_for(host))

    def paused_until(self, host: str) -> datetime | None:
        """When a paused host may be asked again; None if it is not paused."""
        paused = self._paused.get(host.lower())
        if paused is None:
            return None
        if paused[0] <= self._clock():
            del self._paused[host.lower()]
            return None
        return paused[1]

    @asynccontextmanager
    async def slot(
        self, host: str, gate: AbstractAsyncContextManager[object] | None = None
    ) -> AsyncIterator[Turn]:
        """Hold one of the host's slots, after waiting for its polite gap; the
        :class:`Turn` yielded takes the answer. Raises :class:`HostPaused` (before or
        after the wait) while the host asked us to wait.

        ``gate`` (the client's limit on all requests at once) is entered once the gap
        has passed, and held with the slot: waiting out a host's delay holds no place
        another host's request could use, and the request starts when the gap says."""
        host = host.lower()
        self._check_pause(host)
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _Host(self.per_host)
        state.users += 1
        try:
            async with state.semaphore, AsyncExitStack() as held:
                await self._take_turn(host, state, held, gate)
                yield Turn(self, host, self._clock())
        finally:
            state.users -= 1
            if state.users == 0:
                del self._hosts[host]

    async def _take_turn(
        self,
        host: str,
        state: _Host,
        held: AsyncExitStack,
        gate: AbstractAsyncContextManager[object] | None,
    ) -> None:
        async with state.pacing:
            while True:
                self._check_pause(host)
                wait = self._pace(host).last_start + self.delay_for(host) - self._clock()
                if wait <= 0:
                    break
                await self._wait(state, wait)
            if gate is not None:
                await held.enter_async_context(gate)
                self._check_pause(host)  # the host may have asked for a pause meanwhile
            self._pace(host).last_start = self._clock()

    def _pace(self, host: str) -> _Pace:
        pace = self._paces.get(host)
        if pace is None:
            pace = self._paces[host] = _Pace()
            while len(self._paces) > MAX_LEARNED:
                self._paces.popitem(last=False)
        else:
            self._paces.move_to_end(host)
        return pace

    async def _wait(self, state: _Host, seconds: float) -> None:
        """Sleep ``seconds``, or less if the host's delay gets shorter meanwhile."""
        state.changed.clear()
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        waker = asyncio.ensure_future(state.changed.wait())
        try:
            await asyncio.wait((sleeper, waker), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()

    def _check_pause(self, host: str) -> None:
        until = self.paused_until(host)
        if until is not None:
            raise HostPaused(host, until)

    def _answered(self, turn: Turn, status: int, retry_after: datetime | None) -> None:
        host = turn.host
        pace = self._pace(host)
        before = pace.delay
        latency = self._clock() - turn.started
        after = self.throttle.after_answer(before, latency, status, self.floor_for(host))
        pace.delay = after
        seconds = None
        if retry_after is not None:
            seconds = (retry_after - self._now()).total_seconds()
        pause = self.throttle.pause(status, seconds)
        if pause is not None and retry_after is not None:
            self._paused[host] = (self._clock() + pause, retry_after)
        if before is None or after < before or pause is not None:
            state = self._hosts.get(host)
            if state is not None:
                state.changed.set()

    def _failed(self, host: str) -> None:
        pace = self._pace(host)
        pace.delay = self.throttle.after_failure(pace.delay, self.floor_for(host))

    @property
    def active_hosts(self) -> int:
        """Hosts in use: a request holds or waits for one of their slots."""
        return len(self._hosts)
