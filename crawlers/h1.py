"""A lean HTTP/1.1 client connection on asyncio, for the crawl client's transport.

httpx's own transport (httpcore over anyio, with h11) spent about three quarters of the
CPU time of a revalidating crawl (every feed answers 304) in its layers: a cancel scope
and a timeout per socket operation, a state machine per event. A crawler's requests are
plain: GET (or HEAD) a URL with a few headers, read a response framed by its
Content-Length, by chunked encoding or by the end of the connection. This module does
just that, on an :class:`asyncio.Protocol` (the bytes arrive in a buffer; a coroutine
waits only when it needs more), and speaks httpx's exceptions, so
:mod:`crawlers.http` reports failures as before.

What it does: TLS through the loop (``ssl``), keep-alive (a response read to its end on
an HTTP/1.1 connection without ``Connection: close`` leaves the connection reusable),
connect and read timeouts (per wait, as httpcore has them), interim 1xx responses
skipped, request bodies of a known length or chunked. The body comes back raw: httpx
(or :mod:`crawlers.decoding`) undoes the Content-Encoding. The reading is paused while
more than ``HIGH_WATER`` bytes wait unread, so a slow reader holds a bounded buffer.

Where connections are made and kept (a pool per origin, the private-network guard) is
:mod:`crawlers.transport`.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator

import httpx

MAX_HEAD = 64 * 1024  # status line and headers
HIGH_WATER = 256 * 1024  # unread bytes at which the socket stops being read
READ_SIZE = 64 * 1024  # the largest piece of body handed out at once
NO_BODY_STATUS = frozenset({204, 304})


class Connection(asyncio.Protocol):
    """One client connection: a buffer the loop fills, and a waiter woken by new bytes."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.lost: Exception | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.paused = False
        self.idle_since = 0.0
        self.received = 0  # bytes received since the last request was written

    # --- the protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.received += len(data)
        if len(self.buffer) > HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.lost = exc
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- use ---------------------------------------------------------------------------

    @property
    def reusable(self) -> bool:
        """Idle, open, and with nothing unasked-for in its buffer."""
        transport = self.transport
        return (
            not self.eof
            and not self.buffer
            and transport is not None
            and not transport.is_closing()
        )

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        self.eof = True

    def write(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            raise httpx.WriteError("the connection is closed")
        self.received = 0
        self.transport.write(data)

    async def more(self, timeout: float | None) -> bool:
        """Wait for more bytes; False at the end of the stream. ``httpx.ReadTimeout``
        when ``timeout`` seconds pass without any."""
        if self.eof:
            return False
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        waiter = self.waiter = self.loop.create_future()
        timer = None if timeout is None else self.loop.call_later(timeout, _expire, waiter)
        try:
            await waiter
        finally:
            self.waiter = None
            if timer is not None:
                timer.cancel()
        return bool(self.buffer) or not self.eof

    def take(self, size: int) -> bytes:
        """Up to ``size`` bytes from the buffer."""
        piece = bytes(self.buffer[:size])
        del self.buffer[:size]
        if self.paused and len(self.buffer) <= HIGH_WATER // 2 and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        return piece

    async def line(self, timeout: float | None, limit: int) -> bytes:
        """One CRLF-ended line (without its end), at most ``limit`` bytes."""
        start = 0
        while True:
            end = self.buffer.find(b"\r\n", start)
            if end >= 0:
                line = self.take(end + 2)[:-2]
                return line
            if len(self.buffer) > limit:
                raise httpx.RemoteProtocolError("a line of the response is too long")
            start = max(0, len(self.buffer) - 1)
            if not await self.more(timeout):
                raise _cut_short(self)


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(httpx.ReadTimeout("timed out waiting for data"))


def _cut_short(connection: Connection) -> httpx.HTTPError:
    if connection.lost is not None:
        return httpx.ReadError(f"{type(connection.lost).__name__}: {connection.lost}")
    return httpx.RemoteProtocolError("peer closed connection without sending complete message")


class Head:
    """A response's status line and headers."""

    __slots__ = ("headers", "keep_alive", "reason", "status", "version")

    def __init__(
        self, version: bytes, status: int, reason: bytes, headers: list[tuple[bytes, bytes]]
    ) -> None:
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
        self.keep_alive = version == b"HTTP/1.1" and not any(
            name.lower() == b"connection" and b"close" in value.lower() for name, value in headers
        )

    def get(self, name: bytes) -> list[bytes]:
        return [value for key, value in self.headers if key.lower() == name]


async def read_head(connection: Connection, timeout: float | None) -> Head:
    """The next final response's head; interim (1xx) responses are skipped."""
    while True:
        buffer = connection.buffer
        end = buffer.find(b"\r\n\r\n")
        while end < 0:
            if len(buffer) > MAX_HEAD:
                raise httpx.RemoteProtocolError("the response's headers are too long")
            searched = max(0, len(buffer) - 3)
            if not await connection.more(timeout):
                if connection.lost is not None:
                    raise _cut_short(connection)
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
            end = buffer.find(b"\r\n\r\n", searched)
        head = parse_head(connection.take(end + 4)[:-4])
        if not 100 <= head.status < 200 or head.status == 101:
            return head


def parse_head(raw: bytes) -> Head:
    """A status line and header lines, as h11 reads them: a header line that starts
    with a space or a tab continues the one before (obsolete line folding)."""
    lines = raw.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise httpx.RemoteProtocolError(f"malformed status line: {lines[0][:100]!r}")
    if len(parts[1]) != 3:
        raise httpx.RemoteProtocolError(f"malformed status line: {lines[0][:100]!r}")
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, (value + b" " + line.strip(b" \t")).strip(b" \t"))
            continue
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise httpx.RemoteProtocolError(f"malformed header line: {line[:100]!r}")
        headers.append((name, value.strip(b" \t")))
    return Head(parts[0], int(parts[1]), parts[2] if len(parts) > 2 else b"", headers)


def body_framing(head: Head, method: bytes) -> tuple[str, int]:
    """How the body is framed: ("none", 0), ("length", n), ("chunked", 0) or
    ("close", 0) (read to the end of the connection)."""
    if method == b"HEAD" or head.status in NO_BODY_STATUS or head.status < 200:
        return "none", 0
    encodings = head.get(b"transfer-encoding")
    if encodings:
        if encodings[-1].split(b",")[-1].strip().lower() == b"chunked":
            return "chunked", 0
        return "close", 0
    lengths = {value.strip() for value in head.get(b"content-length")}
    if not lengths:
        return "close", 0
    if len(lengths) > 1 or not all(v.isdigit() for v in lengths):
        raise httpx.RemoteProtocolError(f"bad Content-Length: {sorted(lengths)!r}")
    length = int(lengths.pop())
    return ("length", length) if length else ("none", 0)


class Body:
    """The body of one response, read as it arrives; ``done`` once read to its end."""

    def __init__(self, connection: Connection, framing: tuple[str, int], timeout: float | None):
        self.connection = connection
        self.kind, self.left = framing
        self.timeout = timeout
        self.done = self.kind == "none"

    async def chunks(self) -> AsyncIterator[bytes]:
        if self.done:
            return
        if self.kind == "chunked":
            async for piece in self._chunked():
                yield piece
        else:
            async for piece in self._plain():
                yield piece
        self.done = True

    async def _plain(self) -> AsyncIterator[bytes]:
        connection = self.connection
        to_close = self.kind == "close"
        while to_close or self.left > 0:
            if not connection.buffer and not await connection.more(self.timeout):
                if to_close and connection.lost is None:
                    return
                raise _cut_short(connection)
            size = READ_SIZE if to_close else min(READ_SIZE, self.left)
            piece = connection.take(size)
            if not to_close:
                self.left -= len(piece)
            yield piece

    async def _chunked(self) -> AsyncIterator[bytes]:
        connection = self.connection
        while True:
            size_line = await connection.line(self.timeout, 1024)
            digits = size_line.split(b";", 1)[0].strip()
            try:
                size = int(digits, 16)
            except ValueError:
                raise httpx.RemoteProtocolError(f"bad chunk size: {size_line[:40]!r}") from None
            if size < 0:
                raise httpx.RemoteProtocolError(f"bad chunk size: {size_line[:40]!r}")
            if size == 0:
                while await connection.line(self.timeout, MAX_HEAD):  # trailers
                    pass
                return
            while size > 0:
                if not connection.buffer and not await connection.more(self.timeout):
                    raise _cut_short(connection)
                piece = connection.take(min(size, READ_SIZE))
                size -= len(piece)
                yield piece
            if await connection.line(self.timeout, 2):
                raise httpx.RemoteProtocolError("a chunk is longer than its declared size")


def request_head(request: httpx.Request, body: bytes) -> bytes:
    """The request line and headers (httpx has set Host and the body's framing)."""
    url = request.url
    target = url.raw_path or b"/"
    lines = [request.method.encode("ascii") + b" " + target + b" HTTP/1.1"]
    for name, value in request.headers.raw:
        if b"\r" in value or b"\n" in value or b"\r" in name or b"\n" in name:
            raise httpx.LocalProtocolError("a header contains a line break")
        lines.append(name + b": " + value)
    if body and not request.headers.get("content-length") and not _chunked(request):
        lines.append(b"Content-Length: " + str(len(body)).encode("ascii"))
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _chunked(request: httpx.Request) -> bool:
    return "chunked" in request.headers.get("transfer-encoding", "").lower()


def frame_body(request: httpx.Request, body: bytes) -> bytes:
    """The body as sent: as is, or as one chunk and the last one."""
    if not _chunked(request):
        return body
    if not body:
        return b"0\r\n\r\n"
    return f"{len(body):x}\r\n".encode("ascii") + body + b"\r\n0\r\n\r\n"


async def open_connection(
    host: str,
    address: str,
    port: int,
    tls: ssl.SSLContext | None,
    timeout: float | None,
) -> Connection:
    """Connect to ``address`` (``host`` names it for TLS); httpx's errors on failure."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            _, protocol = await loop.create_connection(
                lambda: Connection(loop),
                address,
                port,
                ssl=tls,
                server_hostname=host if tls is not None else None,
            )
    except TimeoutError:
        raise httpx.ConnectTimeout(f"timed out connecting to {host}") from None
    except (OSError, ssl.SSLError) as exc:
        raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
    return protocol
