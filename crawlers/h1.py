"""A lean HTTP/1.1 client connection on asyncio, for the crawl client's transport.

httpx's own transport (httpcore over anyio, with h11) spent about three quarters of the
CPU time of a revalidating crawl (every feed answers 304) in its layers: a cancel scope
and a timeout per socket operation, a state machine per event. A crawler's requests are
plain: GET (or HEAD) a URL with a few headers, read a response framed by its
Content-Length, by chunked encoding or by the end of the connection. This module does
just that, on an :class:`asyncio.Protocol` (the bytes arrive in a buffer; a coroutine
waits only when it needs more), and speaks httpx's exceptions, so
:mod:`crawlers.http` reports failures as before. It writes the requests; the responses
are parsed by llhttp, Node's HTTP parser, through MagicStack's ``httptools``
(:class:`Reader`), fed the buffer's bytes as the reading coroutine needs them.

What it does: TLS through the loop (``ssl``), keep-alive (a response read to its end,
when llhttp says the connection persists: HTTP/1.1 without ``Connection: close``, or
HTTP/1.0 with ``Connection: keep-alive``, and a framed body, leaves it reusable),
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

import httptools
import httpx

MAX_HEAD = 64 * 1024  # status line and headers (and trailers)
HIGH_WATER = 256 * 1024  # unread bytes at which the socket stops being read
READ_SIZE = 64 * 1024  # the largest piece of body handed out at once


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


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(httpx.ReadTimeout("timed out waiting for data"))


def _cut_short(connection: Connection) -> httpx.HTTPError:
    if connection.lost is not None:
        return httpx.ReadError(f"{type(connection.lost).__name__}: {connection.lost}")
    return httpx.RemoteProtocolError("peer closed connection without sending complete message")


class Head:
    """A final response's status line and headers."""

    __slots__ = ("headers", "keep_alive", "reason", "status", "version")

    def __init__(
        self,
        version: bytes,
        status: int,
        reason: bytes,
        headers: list[tuple[bytes, bytes]],
        keep_alive: bool,
    ) -> None:
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
        self.keep_alive = keep_alive

    def get(self, name: bytes) -> list[bytes]:
        return [value for key, value in self.headers if key.lower() == name]


class Reader:
    """One response as llhttp (``httptools.HttpResponseParser``) reads it from a
    connection's bytes, fed as they are needed; this object takes its callbacks.

    llhttp frames the body (Content-Length, chunked encoding with its extensions and
    trailers, or the end of the connection), knows that 1xx, 204 and 304 responses have
    none, and says whether the connection may be kept (``should_keep_alive``). It cannot
    be told that a response answers a HEAD request: for HEAD the message ends with its
    headers here, and the bytes llhttp would take for a body make the connection unfit
    for reuse. Header values are read leniently, as aiohttp's client reads them: an
    obsolete folded line continues the value before it (RFC 9112 asks a client to accept
    it), and a value's characters are not checked (they never were).
    """

    __slots__ = (
        "complete",
        "extra",
        "first",
        "head",
        "headers",
        "interim",
        "method",
        "parser",
        "pieces",
        "reason",
        "unparsed",
    )

    def __init__(self, method: bytes) -> None:
        self.method = method
        parser = httptools.HttpResponseParser(self)
        parser.set_dangerous_leniencies(lenient_headers=True)
        # holds this object's methods: dropped at the end, so no cycle is left to collect
        self.parser: httptools.HttpResponseParser | None = parser
        self.head: Head | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.reason = b""
        self.interim = False  # reading a 1xx response (not 101), which is skipped
        self.pieces: list[bytes] = []  # body parsed and not handed out yet
        self.complete = False  # the final response has ended
        self.extra = False  # bytes came after it: the connection is not reused
        self.first = b""  # the first bytes, for an error about the status line
        self.unparsed = 0  # bytes fed since the last headers or body came out

    # --- llhttp's callbacks ----------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.complete:
            self.extra = True

    def on_status(self, piece: bytes) -> None:
        self.reason += piece

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.head is None:  # not a trailer
            self.headers.append((name, value.rstrip(b" \t")))

    def on_headers_complete(self) -> None:
        self.unparsed = 0
        if self.head is not None:  # bytes after a HEAD response's headers
            self.extra = True
            return
        parser = self.parser
        assert parser is not None  # it is calling
        status = parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            self.interim = True
            self.headers = []
            self.reason = b""
            return
        headers = self.headers
        head = self.head = Head(
            b"HTTP/" + parser.get_http_version().encode("ascii"),
            status,
            self.reason,
            headers,
            parser.should_keep_alive() and status != 101,
        )
        if self.method == b"HEAD":
            self.complete = True
            if not head.keep_alive and status != 101:  # llhttp awaits a body to the end
                head.keep_alive = head.version == b"HTTP/1.1" and not any(
                    name.lower() == b"connection" and b"close" in value.lower()
                    for name, value in headers
                )
            return

    def on_body(self, piece: bytes) -> None:
        self.unparsed = 0
        if self.complete:
            self.extra = True
        else:
            self.pieces.append(piece)

    def on_message_complete(self) -> None:
        self.unparsed = 0
        if self.interim:
            self.interim = False
        else:
            self.complete = True

    # --- reading ---------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Parse ``data``; httpx's ``RemoteProtocolError`` for what llhttp refuses."""
        if not self.first:
            self.first = data[:100]
        parser = self.parser
        if parser is None:  # fed after the end
            self.extra = True
            return
        self.unparsed += len(data)
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade:  # a 101: what follows is another protocol
            self.extra = True
        except httptools.HttpParserError as exc:
            if not self.complete:
                raise self._error(exc) from None
            self.extra = True  # not a response to this request
        if self.complete:
            self.parser = None
        if self.unparsed > MAX_HEAD and not self.complete:
            part = "headers" if self.head is None else "trailers"
            raise httpx.RemoteProtocolError(f"the response's {part} are too long")

    def _error(self, exc: httptools.HttpParserError) -> httpx.RemoteProtocolError:
        """llhttp's reason for refusing the response, and where: the status line, a
        header line, the framing or the chunked body."""
        reason = str(exc) or type(exc).__name__
        if self.head is not None:
            if "chunk size" in reason:
                return httpx.RemoteProtocolError(f"bad chunk size ({reason})")
            return httpx.RemoteProtocolError(f"malformed body ({reason})")
        if "Content-Length" in reason or "Transfer-Encoding" in reason:
            return httpx.RemoteProtocolError(f"bad framing: {reason}")
        if self.reason or self.headers or "header" in reason:  # past the status line
            return httpx.RemoteProtocolError(f"malformed header line ({reason})")
        line = self.first.split(b"\r\n", 1)[0]
        return httpx.RemoteProtocolError(f"malformed status line: {line!r} ({reason})")

    async def read_head(self, connection: Connection, timeout: float | None) -> Head:
        """The final response's head; interim (1xx) responses are skipped."""
        while self.head is None:
            if not connection.buffer and not await connection.more(timeout):
                if connection.lost is not None:
                    raise _cut_short(connection)
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
            self.feed(connection.take(self._next_size()))
        return self.head

    @property
    def done(self) -> bool:
        """The response was read to its end."""
        return self.complete and not self.pieces

    @property
    def reusable(self) -> bool:
        """Read to its end, with nothing after it, and the connection may carry the
        next request."""
        head = self.head
        return self.done and not self.extra and head is not None and head.keep_alive

    async def chunks(self, connection: Connection, timeout: float | None) -> AsyncIterator[bytes]:
        """The body as it arrives from ``connection``, in pieces of at most about
        ``READ_SIZE`` bytes."""
        while True:
            if self.pieces:
                pieces = self.pieces
                self.pieces = []
                yield pieces[0] if len(pieces) == 1 else b"".join(pieces)
                continue
            if self.complete:
                return
            if not connection.buffer and not await connection.more(timeout):
                if connection.lost is None and self._unframed():
                    self.complete = True
                    self.parser = None
                    return
                raise _cut_short(connection)
            self.feed(connection.take(self._next_size()))

    def _unframed(self) -> bool:
        """The body ends with the connection: neither chunked nor of a Content-Length
        (llhttp's rule; it has no call for it, nor for the end of the input)."""
        head = self.head
        if head is None:
            return False
        encodings = head.get(b"transfer-encoding")
        if encodings:
            return encodings[-1].split(b",")[-1].strip().lower() != b"chunked"
        return not head.get(b"content-length")

    def _next_size(self) -> int:
        """How many bytes to feed next: a piece of body, and no more than ``MAX_HEAD``
        bytes of a head before its end (then ``feed`` refuses it). Trailers are counted
        from the first piece fed after the last of the body, so they are refused after
        at most ``MAX_HEAD + READ_SIZE`` bytes."""
        return min(READ_SIZE, MAX_HEAD + 1 - self.unparsed)


def parse_head(raw: bytes) -> Head:
    """The head of a response to a HEAD request, from its status line and header lines
    (without the empty line that ends them)."""
    reader = Reader(b"HEAD")
    reader.feed(raw + b"\r\n\r\n")
    if reader.head is None:
        raise httpx.RemoteProtocolError("the head is incomplete")
    return reader.head


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
