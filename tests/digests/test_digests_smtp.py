"""SmtpTransport against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import socket
import time
from email.message import EmailMessage

import pytest

from digests.deliver import (
    DeliveryError,
    PermanentDeliveryError,
    SmtpTransport,
    TemporaryDeliveryError,
)
from digests.mail import build_message, make_message_id
from digests.model import Edition, Recipient
from digests.render import render_edition
from smtp_support import Recorder, free_port

SENDER = "Trendwatch <digest@trends.example.nl>"


def make_recipient(n: int) -> Recipient:
    return Recipient(
        email=f"lezer{n}@example.nl",
        name=f"Lezer {n}",
        language="nl",
        watchlists=("social-media-werk",),
    )


def message(edition: Edition, recipient: Recipient) -> EmailMessage:
    key = f"{edition.key}/{recipient.email}"
    return build_message(
        edition,
        recipient,
        render_edition(edition, recipient, sender=SENDER),
        sender=SENDER,
        message_id=make_message_id(key, "trends.example.nl"),
    )


def test_three_messages_over_one_connection(smtpd: tuple[Recorder, int], edition: Edition) -> None:
    recorder, port = smtpd
    recipients = [make_recipient(n) for n in range(3)]
    with SmtpTransport("127.0.0.1", port, timeout=5) as transport:
        for r in recipients:
            transport.send(message(edition, r), f"{edition.key}/{r.email}")
        assert transport.connections == 1
    assert len(recorder.received) == 3
    assert len(recorder.ehlos) == 1
    assert len(recorder.peers) == 1
    for got, r in zip(recorder.received, recipients, strict=True):
        assert got.mail_from == "digest@trends.example.nl"
        assert got.rcpt_tos == [r.email]
        msg = email.message_from_bytes(got.content, policy=email.policy.default)
        assert msg.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
        assert msg["Subject"] == "Trendwatch Werk en Leven · week 48: 5 artikelen"
        assert msg["To"].addresses[0].addr_spec == r.email
        assert msg["To"].addresses[0].display_name == r.name
        assert r.email in msg.get_body(("plain",)).get_content()


def test_reconnects_once_when_server_hung_up(smtpd: tuple[Recorder, int], edition: Edition) -> None:
    recorder, port = smtpd
    recorder.hang_up_after_data = True
    with SmtpTransport("127.0.0.1", port, timeout=5) as transport:
        transport.send(message(edition, make_recipient(1)), "k1")
        assert recorder.hung_up.wait(5)
        time.sleep(0.1)
        transport.send(message(edition, make_recipient(2)), "k2")
        transport.send(message(edition, make_recipient(3)), "k3")
        assert transport.connections == 2
    assert [r.rcpt_tos for r in recorder.received] == [
        ["lezer1@example.nl"],
        ["lezer2@example.nl"],
        ["lezer3@example.nl"],
    ]
    assert len(recorder.peers) == 2


def test_reconnects_once_after_421_on_a_reused_connection(
    smtpd: tuple[Recorder, int], edition: Edition
) -> None:
    recorder, port = smtpd
    with SmtpTransport("127.0.0.1", port, timeout=5) as transport:
        transport.send(message(edition, make_recipient(1)), "k1")
        recorder.mail_replies.append("421 4.4.2 idle timeout, closing")
        transport.send(message(edition, make_recipient(2)), "k2")
        assert transport.connections == 2
        # a 421 on a fresh connection is not retried: temporary error
        recorder.mail_replies.append("421 4.4.2 busy")
        transport.close()
        with pytest.raises(TemporaryDeliveryError) as info:
            transport.send(message(edition, make_recipient(3)), "k3")
    assert info.value.code == 421
    assert [r.rcpt_tos for r in recorder.received] == [
        ["lezer1@example.nl"],
        ["lezer2@example.nl"],
    ]


def test_4xx_is_temporary(smtpd: tuple[Recorder, int], edition: Edition) -> None:
    recorder, port = smtpd
    recorder.data_reply = "451 4.3.0 try later"
    with (
        SmtpTransport("127.0.0.1", port, timeout=5) as transport,
        pytest.raises(TemporaryDeliveryError) as info,
    ):
        transport.send(message(edition, make_recipient(1)), "k1")
    assert info.value.temporary is True
    assert info.value.code == 451
    assert "try later" in str(info.value)
    assert recorder.received == []


def test_refused_recipient_is_permanent_and_connection_stays_usable(
    smtpd: tuple[Recorder, int], edition: Edition
) -> None:
    recorder, port = smtpd
    recorder.rcpt_replies["lezer1@example.nl"] = "550 5.1.1 no such user"
    with SmtpTransport("127.0.0.1", port, timeout=5) as transport:
        with pytest.raises(PermanentDeliveryError) as info:
            transport.send(message(edition, make_recipient(1)), "k1")
        transport.send(message(edition, make_recipient(2)), "k2")
        assert transport.connections == 1
    error = info.value
    assert isinstance(error, DeliveryError)
    assert error.temporary is False
    assert error.code == 550
    assert "no such user" in str(error)
    assert [r.rcpt_tos for r in recorder.received] == [["lezer2@example.nl"]]


def test_connection_refused_is_temporary(edition: Edition) -> None:
    port = free_port()  # nothing listens there
    with (
        SmtpTransport("127.0.0.1", port, timeout=2) as transport,
        pytest.raises(TemporaryDeliveryError) as info,
    ):
        transport.send(message(edition, make_recipient(1)), "k1")
    assert info.value.code is None


def test_timeout_is_temporary(edition: Edition) -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        with (
            SmtpTransport("127.0.0.1", port, timeout=0.3) as transport,
            pytest.raises(TemporaryDeliveryError),
        ):
            transport.send(message(edition, make_recipient(1)), "k1")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b".",
        b".starts\r\n",
        b"a\r\n.b\r\n..c\r\n\r\n.\r\n",
        b"no dots at line starts. here.\r\n",
        b"a\n.b\r.c\r\n.d",
        b"\n.\n.\n",
    ],
)
def test_dot_stuffing_is_smtplibs(data: bytes) -> None:
    import smtplib

    from digests.deliver import dot_stuffed

    assert dot_stuffed(data) == smtplib._quote_periods(data)  # type: ignore[attr-defined]


def test_lines_starting_with_a_dot_arrive_as_they_were(smtpd: tuple[Recorder, int]) -> None:
    """A message's lines that start with "." are dot-stuffed on the wire and arrive
    whole; so does one without a final line end."""
    from digests.wire import WireMessage

    recorder, port = smtpd
    bodies = [
        b"Subject: dots\r\n\r\n.one\r\n..two\r\nthree.\r\n.\r\nend\r\n",
        b"Subject: no end\r\n\r\n.last line",
    ]
    with SmtpTransport("127.0.0.1", port, timeout=5) as transport:
        for n, body in enumerate(bodies):
            transport.send(WireMessage("a@example.nl", ("b@example.nl",), body), f"k{n}")
    got = [r.content for r in recorder.received]
    assert got[0].replace(b"\r\n", b"\n") == bodies[0].replace(b"\r\n", b"\n")
    assert got[1].rstrip(b"\r\n").replace(b"\r\n", b"\n") == bodies[1].replace(b"\r\n", b"\n")
