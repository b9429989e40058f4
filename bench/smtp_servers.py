"""The SMTP servers of bench/digest.py, each in a child process (:class:`Server`): a lean
sink, the default, and aiosmtpd, as the tests use it.

The sink is a real SMTP dialogue over TCP that parses nothing it need not.

aiosmtpd (the tests' server) parses every command and line of a message in Python and
takes 5 to 10 s of CPU for 1,000 digests of 82 KB, so over one connection it took them
at under 200 a second: a ceiling below the digest job it was meant to measure. This sink
answers the commands smtplib sends (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) by
their first four letters and reads a message's data in one ``readuntil`` of the
end-of-data mark, so the figures reflect the job, not the server. It counts the
messages (one per RCPT accepted before the DATA) and their bytes, and answers many
connections at once (asyncio, one thread).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import socket
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

HOST = "127.0.0.1"

END_OF_DATA = b"\r\n.\r\n"
# DATA is read whole; a digest is about 100 KB, a limit of 64 MB refuses nothing real
DATA_LIMIT = 64 * 1024 * 1024


@dataclass
class Counts:
    """What the sink received, over all connections."""

    messages: int = 0
    bytes: int = 0
    connections: int = 0


async def _session(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, counts: Counts
) -> None:
    """One SMTP session: answer each command until QUIT or the client goes."""
    counts.connections += 1
    writer.write(b"220 sink.bench ESMTP\r\n")
    recipients = 0
    try:
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-sink.bench\r\n250-8BITMIME\r\n250 SIZE 67108864\r\n")
            elif verb == b"RCPT":
                recipients += 1
                writer.write(b"250 OK\r\n")
            elif verb == b"DATA":
                writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                await writer.drain()
                data = await reader.readuntil(END_OF_DATA)
                counts.messages += recipients
                counts.bytes += len(data) - len(END_OF_DATA) + 2  # the last line's CRLF
                recipients = 0
                writer.write(b"250 OK queued\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 Bye\r\n")
                await writer.drain()
                break
            elif verb in (b"MAIL", b"RSET"):
                recipients = 0
                writer.write(b"250 OK\r\n")
            elif verb in (b"HELO", b"NOOP"):
                writer.write(b"250 OK\r\n")
            else:
                writer.write(b"502 Command not implemented\r\n")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def _serve(sock: socket.socket, conn: Connection) -> None:
    counts = Counts()
    server = await asyncio.start_server(
        lambda r, w: _session(r, w, counts), sock=sock, limit=DATA_LIMIT
    )
    loop = asyncio.get_running_loop()
    async with server:
        while True:
            request = await loop.run_in_executor(None, conn.recv)
            if request == "stop":
                break
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            cpu = resource.getrusage(resource.RUSAGE_SELF)
            conn.send((counts.messages, counts.bytes, rss, cpu.ru_utime + cpu.ru_stime))


def serve_sink(conn: Connection, host: str) -> None:
    """(In a child process.) Listen on ``host``, send the port on ``conn``, then answer
    each "count" request with (messages, bytes, peak RSS in MB, CPU seconds) until
    "stop"."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    conn.send(sock.getsockname()[1])
    asyncio.run(_serve(sock, conn))


class Counter:
    """aiosmtpd handler: counts messages and bytes; keeps nothing."""

    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages += len(envelope.rcpt_tos)
        self.bytes += len(envelope.content)
        return "250 OK"


def serve_aiosmtpd(conn: Connection) -> None:
    """(In a child process.) Run aiosmtpd on 127.0.0.1; answer "count" requests on
    ``conn`` with (messages, bytes, peak RSS in MB, CPU seconds) until "stop"."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # a free port (aiosmtpd's ready check needs one)
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]
    handler = Counter()
    controller = Controller(handler, hostname=HOST, port=port)
    controller.start()
    conn.send(port)
    try:
        while (request := conn.recv()) != "stop":
            assert request == "count"
            usage = resource.getrusage(resource.RUSAGE_SELF)
            cpu = usage.ru_utime + usage.ru_stime
            conn.send((handler.messages, handler.bytes, usage.ru_maxrss / 1024, cpu))
    finally:
        controller.stop()


class Server:
    """An SMTP server on :data:`HOST` in a child process (so on two cores client and
    server do not share a GIL): the lean sink, or aiosmtpd with ``kind="aiosmtpd"``."""

    def __init__(self, kind: str = "sink") -> None:
        self.kind = kind

    def __enter__(self) -> Server:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        target, args = (
            (serve_aiosmtpd, (child,)) if self.kind == "aiosmtpd" else (serve_sink, (child, HOST))
        )
        self._process = ctx.Process(target=target, args=args, daemon=True)
        self._process.start()
        self.port: int = self._conn.recv()
        return self

    def count(self) -> tuple[int, int, float, float]:
        """(messages, bytes, peak RSS in MB, CPU seconds) of the server so far."""
        self._conn.send("count")
        return self._conn.recv()

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self._process.join(10)
