"""The feed server of the crawl benchmarks: generated feeds served by an asyncio
HTTP/1.1 server (keep-alive, ETags, 304s) in a process of its own, so the server never
competes with the crawler for the GIL.

It listens on ``hosts`` loopback addresses (127.0.0.2, 127.0.0.3, ...; one host puts
every feed on 127.0.0.1), the feeds spread over them in turn, and answers every request
``latency`` seconds after it arrived (without blocking the others), as a server across a
network would. It counts its 200 and 304 answers, and the most requests it ever had in
flight to one host (address) at once: the check of a crawler's per-host limit.
"""

from __future__ import annotations

import asyncio
import importlib.util
import multiprocessing
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from multiprocessing.connection import Connection
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# indexes of the counters shared with the parent
OK, NOT_MODIFIED, PEAK = 0, 1, 2


def bench_pipeline() -> ModuleType:
    """bench/pipeline.py, whose feed generator the crawl benchmarks share."""
    name = "trendwatch_bench_pipeline"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / "pipeline.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Served:
    body: bytes
    etag: bytes
    head_200: bytes
    head_304: bytes
    last_modified: datetime | None = None  # when the 200 answer says Last-Modified


def fresh(served: Served, tags: list[bytes] | None, since: bytes | None) -> bool:
    """Whether a conditional GET gets 304 (RFC 9110): If-None-Match (its entity tags)
    decides when present, else If-Modified-Since where the feed has a Last-Modified."""
    if tags is not None:
        return served.etag in tags or b"*" in tags
    if since is not None and served.last_modified is not None:
        try:
            return parsedate_to_datetime(since.decode("latin-1")) >= served.last_modified
        except (TypeError, ValueError):
            return False
    return False


def feed_protocol(
    served_for: Callable[[bytes], Served | None],
    counts: Any,
    *,
    latency: float = 0.0,
    track_hosts: bool = False,
) -> type[asyncio.Protocol]:
    """A minimal HTTP/1.1 keep-alive server for the feed benchmarks: GET a path, get its
    :class:`Served` feed, 304 when :func:`fresh`, else 200; 404 for an unknown path.

    Counts 200 answers in ``counts[0]`` and 304 answers in ``counts[1]``. Each answer
    leaves ``latency`` seconds after its request arrived. With ``track_hosts``,
    ``counts[2]`` is raised to the most requests in flight (arrived, not yet answered)
    to one local address at once; the parent may reset it to 0 between runs."""
    in_flight: dict[str, int] = {}

    class Feed(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            self.transport = transport
            self.buffer = b""
            self.host = str(transport.get_extra_info("sockname")[0])

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            while b"\r\n\r\n" in self.buffer:
                head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
                self.answer(head)

        def answer(self, head: bytes) -> None:
            lines = head.split(b"\r\n")
            parts = lines[0].split(b" ")
            path = parts[1].split(b"?", 1)[0] if len(parts) > 1 else b""
            close = False
            tags: list[bytes] | None = None
            since: bytes | None = None
            for line in lines[1:]:
                key, _, value = line.partition(b":")
                key = key.strip().lower()
                if key == b"if-none-match":
                    tags = (tags or []) + [t.strip().removeprefix(b"W/") for t in value.split(b",")]
                elif key == b"if-modified-since":
                    since = value.strip()
                elif key == b"connection" and value.strip().lower() == b"close":
                    close = True
            served = served_for(path)
            if served is None:
                reply = [b"HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\nnot found\n"]
            elif fresh(served, tags, since):
                reply = [served.head_304]
                counts[NOT_MODIFIED] += 1
            else:
                reply = [served.head_200, served.body]
                counts[OK] += 1
            if track_hosts:
                now = in_flight[self.host] = in_flight.get(self.host, 0) + 1
                if now > counts[PEAK]:
                    counts[PEAK] = now
            if latency > 0:
                asyncio.get_running_loop().call_later(latency, self.send, reply, close)
            else:
                self.send(reply, close)

        def send(self, reply: list[bytes], close: bool) -> None:
            if track_hosts:
                in_flight[self.host] -= 1
            if self.transport.is_closing():
                return
            self.transport.writelines(reply)
            if close:
                self.transport.close()

    return Feed


def addresses(hosts: int) -> list[str]:
    """The loopback addresses of ``hosts`` hosts: 127.0.0.1 alone, or from 127.0.0.2."""
    if hosts == 1:
        return ["127.0.0.1"]
    return [f"127.0.{(i + 2) // 256}.{(i + 2) % 256}" for i in range(hosts)]


def server_main(
    conn: Connection,
    feeds: int,
    entries: int,
    hosts: int,
    paragraph: int,
    latency: float,
    counts: Any,
) -> None:
    """Child process: generate the feeds, listen, report the URLs, serve until killed."""
    asyncio.run(_serve(conn, feeds, entries, hosts, paragraph, latency, counts))


async def _serve(
    conn: Connection,
    feeds: int,
    entries: int,
    hosts: int,
    paragraph: int,
    latency: float,
    counts: Any,
) -> None:
    listen = addresses(hosts)
    table: dict[bytes, Served] = {}
    Feed = feed_protocol(table.get, counts, latency=latency, track_hosts=True)

    loop = asyncio.get_running_loop()
    first = await loop.create_server(Feed, listen[0], 0, backlog=4096)
    port = first.sockets[0].getsockname()[1]
    servers = [first]
    for address in listen[1:]:
        servers.append(await loop.create_server(Feed, address, port, backlog=4096))

    bp = bench_pipeline()
    bp.PARAGRAPH_CHARS = paragraph
    generated = bp.generate_feeds(feeds, entries, f"http://{listen[0]}:{port}")
    urls = []
    sizes = []
    for i, (path, feed) in enumerate(generated.items()):
        etag = feed.etag.encode()
        head = (
            "HTTP/1.1 200 OK\r\n"
            f"Content-Type: {feed.content_type}\r\n"
            f"Content-Length: {len(feed.body)}\r\n"
            f"ETag: {feed.etag}\r\n\r\n"
        ).encode()
        not_modified = b"HTTP/1.1 304 Not Modified\r\nETag: " + etag + b"\r\n\r\n"
        table[path.encode()] = Served(feed.body, etag, head, not_modified)
        urls.append((feed.title, f"http://{listen[i % len(listen)]}:{port}{path}"))
        sizes.append(len(feed.body))
    conn.send({"urls": urls, "sizes": sizes})
    await asyncio.Event().wait()  # until the parent terminates us


class FeedServer:
    """The server process: started with the generated feeds, stopped on exit."""

    def __init__(
        self, feeds: int, entries: int, hosts: int, paragraph: int, latency: float = 0.0
    ) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.counts = ctx.Array("q", 3, lock=False)  # [200 answers, 304 answers, peak]
        parent, child = ctx.Pipe()
        self.process = ctx.Process(
            target=server_main,
            args=(child, feeds, entries, hosts, paragraph, latency, self.counts),
            daemon=True,
        )
        self.process.start()
        if not parent.poll(600):
            raise SystemExit("the feed server did not start")
        info = parent.recv()
        self.urls: list[tuple[str, str]] = info["urls"]
        self.sizes: list[int] = info["sizes"]

    def served(self) -> tuple[int, int]:
        """200 and 304 answers so far."""
        return int(self.counts[OK]), int(self.counts[NOT_MODIFIED])

    def peak_per_host(self, reset: bool = False) -> int:
        """The most requests in flight to one host at once (since the last reset)."""
        peak = int(self.counts[PEAK])
        if reset:
            self.counts[PEAK] = 0
        return peak

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(10)
