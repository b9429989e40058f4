"""The crawl client's transport: one small connection pool per origin.

httpcore's connection pool looks at every connection it holds, and asks each idle one
whether its socket became readable, whenever a request comes or goes. A feed crawl
talks to hundreds of hosts a few times each, through a pool as large as the crawl's
concurrency: profiled on 1,000 feeds over 250 hosts, that bookkeeping took more of the
event loop than fetching, parsing and storing together. Here every origin (scheme, host,
port) has a pool of its own, of at most ``per_host`` connections (the host limiter never
lets more requests to one host through at once), so each request costs the same however
many hosts a crawl touches. Pools of the least recently used origins with nothing in
flight are closed once more than ``max_hosts`` are open, which bounds the idle
connections kept alive to ``max_hosts * per_host``.

Every pool shares one TLS context (building one reads the CA bundle) and, unless private
networks are allowed, has the private-network guard (:mod:`crawlers.netguard`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator

import httpx

from crawlers.netguard import guard_transport

Origin = tuple[bytes, bytes, int | None]


class _Pool:
    __slots__ = ("busy", "transport")

    def __init__(self, transport: httpx.AsyncHTTPTransport) -> None:
        self.transport = transport
        self.busy = 0  # requests sent whose response is not closed yet


class _TrackedStream(httpx.AsyncByteStream):
    """A response body that tells its pool when it is closed."""

    def __init__(self, inner: httpx.AsyncByteStream, pool: _Pool) -> None:
        self._inner = inner
        self._pool: _Pool | None = pool

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            if self._pool is not None:
                self._pool.busy -= 1
                self._pool = None


class HostPools(httpx.AsyncBaseTransport):
    """An httpx transport with a connection pool per origin (see the module's doc)."""

    def __init__(
        self,
        per_host: int,
        max_hosts: int,
        *,
        keepalive_expiry: float = 30.0,
        guard: bool = True,
    ) -> None:
        if per_host < 1 or max_hosts < 1:
            raise ValueError("per_host and max_hosts must be at least 1")
        self.per_host = per_host
        self.max_hosts = max_hosts
        self.keepalive_expiry = keepalive_expiry
        self.guard = guard
        self._ssl = httpx.create_ssl_context(trust_env=False)
        self._pools: OrderedDict[Origin, _Pool] = OrderedDict()

    @property
    def open_hosts(self) -> int:
        """Origins with a pool open now."""
        return len(self._pools)

    def _new_pool(self) -> _Pool:
        limits = httpx.Limits(
            max_connections=self.per_host,
            max_keepalive_connections=self.per_host,
            keepalive_expiry=self.keepalive_expiry,
        )
        transport = httpx.AsyncHTTPTransport(
            verify=self._ssl, limits=limits, trust_env=False, retries=0
        )
        if self.guard:
            guard_transport(transport)
        return _Pool(transport)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        origin: Origin = (url.raw_scheme, url.raw_host.lower(), url.port)
        pool = self._pools.get(origin)
        if pool is None:
            pool = self._pools[origin] = self._new_pool()
        else:
            self._pools.move_to_end(origin)
        pool.busy += 1
        try:
            response = await pool.transport.handle_async_request(request)
        except BaseException:
            pool.busy -= 1
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _TrackedStream(response.stream, pool)
        await self._close_idle()
        return response

    async def _close_idle(self) -> None:
        """Close the least recently used idle pools beyond ``max_hosts``."""
        excess = len(self._pools) - self.max_hosts
        if excess <= 0:
            return
        idle = [o for o, p in self._pools.items() if p.busy == 0][:excess]
        closing = [self._pools.pop(origin) for origin in idle]  # before the first await
        for pool in closing:
            await pool.transport.aclose()

    async def aclose(self) -> None:
        pools = list(self._pools.values())
        self._pools.clear()
        for pool in pools:
            await pool.transport.aclose()
