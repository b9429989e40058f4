"""The crawl client's transport: one small connection pool per origin, on
:mod:`crawlers.h1` (a lean HTTP/1.1 client on asyncio) instead of httpcore.

httpcore's connection pool looks at every connection it holds, and asks each idle one
whether its socket became readable, whenever a request comes or goes; and its anyio
layers cost more CPU than the rest of a revalidating crawl. Here every origin (scheme,
host, port) has a pool of its own, of at most ``per_host`` connections (the host
limiter never lets more requests to one host through at once; other requests wait for
a free connection, at most the ``pool`` timeout), so each request costs the same however
many hosts a crawl touches. Pools of the least recently used origins with nothing in
flight are closed once more than ``max_hosts`` are open, which bounds the idle
connections kept alive to ``max_hosts * per_host``; an idle connection older than
``keepalive_expiry``, or one the server closed, is never reused.

Every pool shares one TLS context, built at the first https connection (building one
reads the CA bundle, about 40 ms; a crawl of plain http feeds needs none). Unless private
networks are allowed, every new connection (the first request, every redirect to
another host, every reconnect) resolves its host once, is refused when any address is
not a public one (:func:`crawlers.netguard.public_addresses`), and connects to the
address it checked: no window for a DNS answer to change (DNS rebinding), no lookup for
a reused connection.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import OrderedDict
from collections.abc import AsyncIterator

import httpx

from crawlers.h1 import Connection, Reader, frame_body, open_connection, request_head
from crawlers.netguard import public_addresses

Origin = tuple[bytes, bytes, int | None]
DEFAULT_PORTS = {b"http": 80, b"https": 443}


class _Pool:
    """One origin's connections: the idle ones, and a slot per connection in use."""

    __slots__ = ("busy", "closed", "idle", "slots")

    def __init__(self, per_host: int) -> None:
        self.slots = asyncio.Semaphore(per_host)
        self.idle: list[Connection] = []
        self.busy = 0  # requests sent whose response is not closed yet
        self.closed = False

    def close(self) -> None:
        self.closed = True
        for connection in self.idle:
            connection.close()
        self.idle.clear()


class _Stream(httpx.AsyncByteStream):
    """A response body; closing it hands the connection back (read to its end, on a
    keep-alive connection) or closes it, and frees the pool's slot."""

    def __init__(
        self, reader: Reader, connection: Connection, timeout: float | None, pool: _Pool
    ) -> None:
        self._reader = reader
        self._connection = connection
        self._timeout = timeout
        self._pool: _Pool | None = pool

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._reader.chunks(self._connection, self._timeout):
            yield chunk

    async def aclose(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        connection = self._connection
        if self._reader.reusable and connection.reusable and not pool.closed:
            connection.idle_since = connection.loop.time()
            pool.idle.append(connection)
        else:
            connection.close()
        pool.busy -= 1
        pool.slots.release()


class HostPools(httpx.AsyncBaseTransport):
    """An httpx transport with a connection pool per origin (see the module's doc)."""

    def __init__(
        self,
        per_host: int,
        max_hosts: int,
        *,
        keepalive_expiry: float = 30.0,
        guard: bool = True,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        if per_host < 1 or max_hosts < 1:
            raise ValueError("per_host and max_hosts must be at least 1")
        self.per_host = per_host
        self.max_hosts = max_hosts
        self.keepalive_expiry = keepalive_expiry
        self.guard = guard
        self._ssl = tls  # built at the first https connection: it reads the CA bundle
        if tls is not None:
            tls.set_alpn_protocols(["http/1.1"])
        self._pools: OrderedDict[Origin, _Pool] = OrderedDict()

    @property
    def open_hosts(self) -> int:
        """Origins with a pool open now."""
        return len(self._pools)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.raw_scheme
        if scheme not in DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}")
        origin: Origin = (scheme, url.raw_host.lower(), url.port)
        pool = self._pools.get(origin)
        if pool is None:
            pool = self._pools[origin] = _Pool(self.per_host)
        else:
            self._pools.move_to_end(origin)
        timeouts = request.extensions.get("timeout", {})
        try:
            async with asyncio.timeout(timeouts.get("pool")):
                await pool.slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("timed out waiting for a connection") from None
        pool.busy += 1
        try:
            response = await self._exchange(request, pool, timeouts)
        except BaseException:
            pool.busy -= 1
            pool.slots.release()
            raise
        self._close_idle()
        return response

    async def _exchange(
        self, request: httpx.Request, pool: _Pool, timeouts: dict[str, float | None]
    ) -> httpx.Response:
        """Send ``request`` on an idle connection, or a new one, and read the head.
        A reused connection that the server closed before answering anything is
        replaced by a new one once (the server may close an idle one at any moment)."""
        body = await request.aread()
        data = request_head(request, body) + frame_body(request, body)
        read = timeouts.get("read")
        method = request.method.encode("ascii")
        while True:
            connection = self._idle(pool)
            reused = connection is not None
            if connection is None:
                connection = await self._connect(request.url, timeouts.get("connect"))
            try:
                connection.write(data)
                reader = Reader(method)
                head = await reader.read_head(connection, read)
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError):
                connection.close()
                if reused and not connection.received:  # closed while idle: not answered
                    continue
                raise
            except BaseException:
                connection.close()
                raise
            break
        stream = _Stream(reader, connection, read, pool)
        return httpx.Response(
            head.status,
            headers=head.headers,
            stream=stream,
            extensions={"http_version": head.version, "reason_phrase": head.reason},
        )

    def _idle(self, pool: _Pool) -> Connection | None:
        """The most recently used idle connection still fit for a request."""
        while pool.idle:
            connection = pool.idle.pop()
            age = connection.loop.time() - connection.idle_since
            if connection.reusable and age < self.keepalive_expiry:
                return connection
            connection.close()
        return None

    async def _connect(self, url: httpx.URL, timeout: float | None) -> Connection:
        host = url.raw_host.decode("ascii")
        port = url.port or DEFAULT_PORTS[url.raw_scheme]
        tls = self._tls() if url.raw_scheme == b"https" else None
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        if not self.guard:
            return await open_connection(host, host, port, tls, timeout)
        try:
            addresses = await public_addresses(host, port)
        except OSError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        last: Exception | None = None
        for address in addresses:
            try:
                return await open_connection(host, address, port, tls, timeout)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    def _tls(self) -> ssl.SSLContext:
        """The TLS context every pool shares (the system's CA bundle unless given)."""
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context(trust_env=False)
            self._ssl.set_alpn_protocols(["http/1.1"])
        return self._ssl

    def _close_idle(self) -> None:
        """Close the least recently used idle pools beyond ``max_hosts``."""
        excess = len(self._pools) - self.max_hosts
        if excess <= 0:
            return
        idle = [o for o, p in self._pools.items() if p.busy == 0][:excess]
        for origin in idle:
            self._pools.pop(origin).close()

    async def aclose(self) -> None:
        pools = list(self._pools.values())
        self._pools.clear()
        for pool in pools:
            pool.close()
