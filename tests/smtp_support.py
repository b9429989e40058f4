"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 with a recording handler."""

from __future__ import annotations

import asyncio
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
