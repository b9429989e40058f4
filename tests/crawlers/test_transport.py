"""The crawl client's transport (crawlers.transport.HostPools): a connection pool per
origin, connections kept alive and reused, the least recently used idle pools closed.

The server is a keep-alive HTTP/1.1 server on 127.0.0.1 that notes the client port of
every request: one port, one connection."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from crawlers.http import HttpOptions, fetch, make_client
from crawlers.transport import HostPools


class KeepAlive(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.seen: list[tuple[str, str, int]] = []  # (host header, path, client port)

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.server_address[1]}{path}"


class Handler(BaseHTTPRequestHandler):
    server: KeepAlive
    protocol_version = "HTTP/1.1"  # keep-alive

    def do_GET(self) -> None:
        self.server.seen.append((self.headers["Host"], self.path, self.client_address[1]))
        if self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.send_header("ETag", '"v1"')
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        """Silent."""


@pytest.fixture
def keep_alive() -> Iterator[KeepAlive]:
    server = KeepAlive()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def ports(server: KeepAlive, host: str) -> list[int]:
    return [port for header, _, port in server.seen if header.startswith(host)]


def test_each_origin_keeps_its_connection(keep_alive: KeepAlive) -> None:
    async def main() -> int:
        async with httpx.AsyncClient(transport=HostPools(2, 8, guard=False)) as client:
            for _ in range(3):
                for host in ("127.0.0.1", "localhost"):
                    response = await client.get(keep_alive.url(host, "/feed"))
                    assert response.text == "ok"
            assert isinstance(client._transport, HostPools)
            return client._transport.open_hosts

    assert asyncio.run(main()) == 2
    assert len(set(ports(keep_alive, "127.0.0.1"))) == 1  # three requests, one connection
    assert len(set(ports(keep_alive, "localhost"))) == 1
    assert len(keep_alive.seen) == 6


def test_a_304_keeps_its_connection(keep_alive: KeepAlive) -> None:
    """Revalidating a feed (304 Not Modified, no body) reuses the connection: a crawl
    of unchanged feeds does not pay a new connection per request."""

    async def main() -> list[bool]:
        options = HttpOptions(allow_private_networks=True)
        async with make_client(options) as client:
            results = [
                await fetch(client, keep_alive.url("127.0.0.1", "/feed"), etag='"v1"')
                for _ in range(3)
            ]
        return [r.not_modified for r in results]

    assert asyncio.run(main()) == [True, True, True]
    assert len(keep_alive.seen) == 3
    assert len(set(ports(keep_alive, "127.0.0.1"))) == 1  # three 304s, one connection


def test_the_least_recently_used_idle_pools_are_closed(keep_alive: KeepAlive) -> None:
    transport = HostPools(1, 1, guard=False)

    async def main() -> list[int]:
        async with httpx.AsyncClient(transport=transport) as client:
            open_hosts = []
            for host in ("127.0.0.1", "localhost", "127.0.0.1"):
                await client.get(keep_alive.url(host, "/feed"))
                open_hosts.append(transport.open_hosts)
            return open_hosts

    assert asyncio.run(main()) == [1, 1, 1]
    # 127.0.0.1's pool was closed for localhost's: its second request needed a connection
    assert len(set(ports(keep_alive, "127.0.0.1"))) == 2


def test_a_pool_with_a_response_open_is_not_closed(keep_alive: KeepAlive) -> None:
    transport = HostPools(1, 1, guard=False)

    async def main() -> list[int]:
        async with httpx.AsyncClient(transport=transport) as client:
            counts = []
            async with client.stream("GET", keep_alive.url("127.0.0.1", "/slow")) as first:
                await client.get(keep_alive.url("localhost", "/feed"))
                counts.append(transport.open_hosts)  # both: the first is still being read
                assert await first.aread() == b"ok"
            await client.get(keep_alive.url("localhost", "/feed"))
            counts.append(transport.open_hosts)  # now the idle one goes
            return counts

    assert asyncio.run(main()) == [2, 1]


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        HostPools(0, 4)
    with pytest.raises(ValueError):
        HostPools(2, 0)
