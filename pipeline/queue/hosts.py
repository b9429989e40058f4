"""Politeness per host across every worker: the HTTP client of a fetch job takes each
request's turn from the database (:mod:`pipeline.store.hosts`) instead of from memory,
so whichever worker, job or page asks, one host gets one request at a time, and the
next starts no sooner than the delay the embedded crawler keeps (the configured
``per_host_delay``, the host's robots.txt ``Crawl-delay``, the delay learned from its
answers as :mod:`crawlers.throttle` has it) and never during a ``Retry-After`` pause.

The gaps and pauses are measured by the database's clock; the worker's clock only
measures how long an answer took.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timedelta

from crawlers.limits import MAX_HOST_DELAY, HostLimiter, HostPaused, Turn
from crawlers.throttle import AutoThrottle
from pipeline.store import Store
from pipeline.store.hosts import HostClaim

POLL = 0.05  # seconds between two asks while another worker's request to the host runs
LEASE_MARGIN = 15.0  # seconds a turn is held beyond the request's timeout at most


class SharedTurn(Turn):
    """A request's turn of a host taken from the database: what it learned."""

    __slots__ = ("claim", "delay", "ended", "holder", "pause")

    def __init__(self, limiter: SharedHostLimiter, host: str, started: float) -> None:
        super().__init__(limiter, host, started)
        self.claim = HostClaim(False)
        self.holder = ""
        self.delay: float | None = None
        self.pause: float | None = None
        self.ended: float | None = None  # when the answer came or the request failed

    def failed(self) -> None:
        """No answer came: the host's delay grows (its limiter says by how much)."""
        if not self.done:
            self.done = True
            limiter = self._limiter
            assert isinstance(limiter, SharedHostLimiter)
            limiter._turn_failed(self)


class SharedHostLimiter(HostLimiter):
    """A :class:`crawlers.limits.HostLimiter` whose hosts' turns, gaps and pauses live
    in ``store``'s database, shared by every worker. One request per host at a time
    (``per_host`` is 1); ``delay`` is the configured least gap between two starts."""

    def __init__(
        self,
        store: Store,
        delay: float = 0.0,
        *,
        timeout: float = 30.0,
        throttle: AutoThrottle | None = None,
    ) -> None:
        super().__init__(1, delay, throttle=throttle or AutoThrottle(max_delay=MAX_HOST_DELAY))
        self.store = store
        self.lease = timeout + LEASE_MARGIN
        self._me = secrets.token_hex(8)
        self._turns = itertools.count()

    def set_delay(self, host: str, seconds: float | None) -> None:
        super().set_delay(host, seconds)
        if seconds is not None:
            self.store.set_host_floor(host.lower(), self.floor_for(host))

    async def _claim(self, host: str, holder: str, lease: float) -> HostClaim:
        """Wait for ``host``'s turn; HostPaused while it asked for a pause."""
        while True:
            claim = self.store.claim_host(host, holder, lease)
            if claim.granted:
                return claim
            if claim.paused is not None:
                raise HostPaused(host, self._now() + timedelta(seconds=claim.paused))
            await self._sleep(min(max(claim.wait, POLL), self.max_delay))

    @asynccontextmanager
    async def slot(
        self, host: str, gate: AbstractAsyncContextManager[object] | None = None
    ) -> AsyncIterator[Turn]:
        """Hold ``host``'s turn across all workers for one request (then the client's
        ``gate``); the :class:`Turn` takes the answer, and the host's next start is
        set from it when the turn is given back."""
        host = host.lower()
        holder = f"{self._me}:{next(self._turns)}"
        claim = await self._claim(host, holder, self.lease)
        turn = SharedTurn(self, host, self._clock())
        turn.claim, turn.holder, turn.delay = claim, holder, claim.delay
        try:
            if gate is None:
                yield turn
            else:
                async with gate:
                    turn.started = self._clock()
                    yield turn
        finally:
            if not turn.done:  # given up before an answer: count it as none
                turn.failed()
            floor = max(self.floor_for(host), claim.floor)
            gap = self.throttle.gap(turn.delay, floor)
            # the gap counts from the answer (or the failure): the request surely
            # reached the host before, however long the worker took to connect and
            # send it on a loaded machine
            since = self._clock() - (turn.ended if turn.ended is not None else self._clock())
            self.store.release_host(host, holder, claim.started, turn.delay, gap, turn.pause, since)

    @asynccontextmanager
    async def hold(self, host: str, seconds: float, gap: float) -> AsyncIterator[None]:
        """Hold ``host`` for a crawl that sends its own requests (a blog's spider, at
        most ``seconds``): no other request goes to it meanwhile, and the next starts
        ``gap`` seconds after the run at the earliest (the spider keeps its own delay
        between its requests; its last one may have been at the end)."""
        host = host.lower()
        holder = f"{self._me}:{next(self._turns)}"
        claim = await self._claim(host, holder, seconds + LEASE_MARGIN)
        try:
            yield
        finally:
            floor = max(self.floor_for(host), claim.floor, gap)
            gap = self.throttle.gap(None, floor)
            self.store.release_host(host, holder, None, claim.delay, gap)

    def _answered(self, turn: Turn, status: int, retry_after: datetime | None) -> None:
        assert isinstance(turn, SharedTurn)
        floor = max(self.floor_for(turn.host), turn.claim.floor)
        latency = self._clock() - turn.started
        turn.delay = self.throttle.after_answer(turn.claim.delay, latency, status, floor)
        seconds = None if retry_after is None else (retry_after - self._now()).total_seconds()
        turn.pause = self.throttle.pause(status, seconds)
        turn.ended = self._clock()

    def _turn_failed(self, turn: SharedTurn) -> None:
        floor = max(self.floor_for(turn.host), turn.claim.floor)
        turn.delay = self.throttle.after_failure(turn.claim.delay, floor)
        turn.ended = self._clock()
