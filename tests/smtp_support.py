"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 with a recording handler."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Received:
    peer: Any
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class Recorder:
    """aiosmtpd handler: stores envelopes, counts connections, can refuse or hang up."""

    received: list[Received] = field(default_factory=list)
    ehlos: list[Any] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_reply: str | None = None
    mail_replies: list[str] = field(default_factory=list)  # used up one per MAIL
    hang_up_after_data: bool = False
    hung_up: threading.Event = field(default_factory=threading.Event)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.ehlos.append(session.peer)
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.mail_replies:
            return self.mail_replies.pop(0)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        self.received.append(
            Received(session.peer, envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        if self.hang_up_after_data:
            self.hang_up_after_data = False

            def hang_up() -> None:
                server.transport.close()
                self.hung_up.set()

            asyncio.get_running_loop().call_later(0.05, hang_up)
        return "250 Message accepted for delivery"

    @property
    def peers(self) -> set[Any]:
        return {r.peer for r in self.received}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- scripted faults for the exactly-once tests ----------------------------------------


@dataclass
class FaultyRecorder(Recorder):
    """A :class:`Recorder` that misbehaves on cue, like real mail servers do.

    ``data_seen`` numbers every DATA command that reached the end of the message (1-based,
    across connections); ``rcpt_seen`` lists every RCPT TO address, refused or not;
    ``connections_seen`` counts greetings answered (one per EHLO).

    * ``data_rule(n, rcpt_tos)``: the reply to the n-th DATA instead of accepting it
      (e.g. ``"451 4.3.0 try later"`` or ``"554 5.6.0 rejected"``), or None to accept.
      A reply starting with 421 also closes the connection, as servers do.
    * ``rcpt_first_replies``: address -> replies used up one per RCPT of that address
      (``["450 4.2.1 mailbox busy"]``: the first attempt is refused, later ones pass).
    * ``per_connection``: a connection that has had this many messages accepted is closed
      when the client starts the next one (at MAIL), without a reply: a silent drop. With
      ``per_connection_reply`` (e.g. ``"421 4.7.0 too many messages"``) the next message
      is refused with that reply at the end of its DATA instead (421 also closes).
    * ``down``: while True, every MAIL is answered by closing the connection;
      ``down_after``: the server goes down once it has stored this many messages (set it
      back to None to bring the server up again).
    * ``commit_and_drop``: DATA numbers whose message is stored ("queued") and whose
      connection is then closed before the reply: the client cannot know it arrived.
    * ``block_at``: the DATA number that stores nothing and waits, connection open, until
      ``release`` is set or the client goes away; ``blocked`` is set when it starts
      waiting. With ``commit_blocked`` the message is stored first (a server that queued
      the mail and had not yet answered).
    """

    data_rule: Any = None  # Callable[[int, list[str]], str | None]
    rcpt_first_replies: dict[str, list[str]] = field(default_factory=dict)
    per_connection: int | None = None
    per_connection_reply: str | None = None
    down: bool = False
    down_after: int | None = None
    commit_and_drop: set[int] = field(default_factory=set)
    block_at: int | None = None
    commit_blocked: bool = False
    blocked: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    data_seen: int = 0
    rcpt_seen: list[str] = field(default_factory=list)
    accepted_on: dict[Any, int] = field(default_factory=dict)  # peer -> messages accepted

    @property
    def connections_seen(self) -> int:
        return len(self.ehlos)

    @property
    def is_down(self) -> bool:
        return self.down or (self.down_after is not None and len(self.received) >= self.down_after)

    def _full(self, session) -> bool:
        cap = self.per_connection
        return cap is not None and self.accepted_on.get(session.peer, 0) >= cap

    async def _drop(self, server) -> None:
        """Close the connection without a reply. Never returns: aiosmtpd cancels the
        handler when the connection is lost."""
        server.transport.close()
        await asyncio.sleep(3600)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.is_down or (self.per_connection_reply is None and self._full(session)):
            await self._drop(server)
        return await super().handle_MAIL(server, session, envelope, address, mail_options)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_seen.append(address)
        if self.rcpt_first_replies.get(address):
            return self.rcpt_first_replies[address].pop(0)
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    def _store(self, session, envelope) -> None:
        self.received.append(
            Received(session.peer, envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )

    async def handle_DATA(self, server, session, envelope):
        self.data_seen += 1
        n = self.data_seen
        if n == self.block_at:
            if self.commit_blocked:
                self._store(session, envelope)
            self.blocked.set()
            while not self.release.is_set():  # cancelled when the client disappears
                await asyncio.sleep(0.01)
            if not self.commit_blocked:
                self._store(session, envelope)
            return "250 Message accepted for delivery"
        reply = self.data_rule(n, list(envelope.rcpt_tos)) if self.data_rule else None
        if not reply and self.per_connection_reply and self._full(session):
            reply = self.per_connection_reply
        if reply:
            if reply.startswith("421"):
                asyncio.get_running_loop().call_soon(server.transport.close)
            return reply
        self._store(session, envelope)
        if n in self.commit_and_drop:
            await self._drop(server)
        self.accepted_on[session.peer] = self.accepted_on.get(session.peer, 0) + 1
        return "250 Message accepted for delivery"


def message_ids_by_recipient(received: list[Received]) -> dict[str, list[str]]:
    """Every envelope recipient -> the Message-IDs of what it received, in order."""
    out: dict[str, list[str]] = {}
    for r in received:
        msg = email.message_from_bytes(r.content, policy=email.policy.default)
        for rcpt in r.rcpt_tos:
            out.setdefault(rcpt, []).append(str(msg["Message-ID"]))
    return out
