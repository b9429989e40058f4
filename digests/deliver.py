"""Deliver built messages: to an outbox folder (.eml files) or over SMTP.

Both transports take a ``delivery_key`` (unique per edition + recipient) so a retry of
the same delivery is recognisable. SMTP failures are sorted into temporary (retry later:
4xx replies, connection problems, timeouts) and permanent (5xx replies, refused
recipient) errors carrying the server's code and message.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl as ssl_module
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from pathlib import Path
from types import TracebackType
from typing import Self

from digests.fsutil import atomic_write_bytes, make_private_dir
from digests.mail import smtp_bytes
from digests.wire import WireMessage


class DeliveryError(Exception):
    """A message could not be delivered. ``temporary``: worth retrying later."""

    temporary: bool = True

    def __init__(self, message: str, *, code: int | None = None, reply: str = "") -> None:
        super().__init__(message)
        self.code = code  # SMTP reply code, if the server gave one
        self.reply = reply  # the server's text for it


class TemporaryDeliveryError(DeliveryError):
    temporary = True


class PermanentDeliveryError(DeliveryError):
    temporary = False


class SessionDeliveryError(DeliveryError):
    """The server refused the session, not a recipient: a greeting, STARTTLS or login
    refused, or our sender address refused. Nothing can be sent until that is fixed, so
    the deliveries stay pending and the batch stops (``code`` tells 4xx from 5xx)."""

    temporary = True


# --- outbox --------------------------------------------------------------------------


def outbox_name(delivery_key: str) -> str:
    """A safe, deterministic file name for ``delivery_key``: readable part + hash."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", delivery_key).strip("._-")[:80]
    digest = hashlib.sha256(delivery_key.encode("utf-8")).hexdigest()[:16]
    return f"{readable}-{digest}.eml" if readable else f"{digest}.eml"


class OutboxTransport:
    """Writes each message as ``<outbox_dir>/<name from delivery_key>.eml``, atomically."""

    def __init__(self, outbox_dir: Path) -> None:
        self.outbox_dir = Path(outbox_dir)

    def __enter__(self) -> Self:
        make_private_dir(self.outbox_dir)  # the messages hold subscribers' addresses
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def path_for(self, delivery_key: str) -> Path:
        return self.outbox_dir / outbox_name(delivery_key)

    def send(self, msg: EmailMessage, delivery_key: str) -> Path:
        path = self.path_for(delivery_key)
        # The messages hold subscribers' addresses: readable by the owner only.
        atomic_write_bytes(path, msg.as_bytes(), mode=0o600)
        return path

    def already_delivered(self, delivery_key: str) -> bool:
        return self.path_for(delivery_key).exists()


# --- SMTP ----------------------------------------------------------------------------


def _decode(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _by_code(code: int, reply: bytes | str, what: str) -> DeliveryError:
    text = _decode(reply)
    cls = PermanentDeliveryError if 500 <= code < 600 else TemporaryDeliveryError
    return cls(f"{what}: {code} {text}", code=code, reply=text)


def _refused(refused: dict[str, tuple[int, bytes]]) -> DeliveryError:
    """One error for refused recipients: temporary if any refusal was temporary."""
    items = sorted(refused.items(), key=lambda kv: (kv[1][0] >= 500, kv[0]))
    rcpt, (code, reply) = items[0]
    return _by_code(code, reply, f"recipient {rcpt} refused")


def dot_stuffed(data: bytes) -> bytes:
    """``data`` with every line that starts with "." given a second one (RFC 5321
    4.5.2): what ``smtplib`` does to a message's bytes (``_quote_periods``, a regular
    expression over the whole message), made with two byte operations."""
    stuffed = data.replace(b"\n.", b"\n..")
    return b"." + stuffed if stuffed.startswith(b".") else stuffed


class _Data:
    """``smtplib.SMTP.data`` for a message's bytes, dot-stuffed by :func:`dot_stuffed`
    (the same bytes on the wire, without a regular expression over every message)."""

    def data(self, msg: bytes | str) -> tuple[int, bytes]:
        if not isinstance(msg, bytes):
            return super().data(msg)  # type: ignore[misc]
        smtp: smtplib.SMTP = self  # type: ignore[assignment]
        smtp.putcmd("data")
        code, reply = smtp.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        stuffed = dot_stuffed(msg)
        if stuffed[-2:] != b"\r\n":
            stuffed += b"\r\n"
        smtp.send(stuffed + b".\r\n")
        return smtp.getreply()


class _SMTP(_Data, smtplib.SMTP):
    """``smtplib.SMTP`` sending bytes with :class:`_Data`."""


class _SMTP_SSL(_Data, smtplib.SMTP_SSL):
    pass


class SmtpTransport:
    """SMTP delivery over one connection for the whole ``with`` block.

    The connection is opened on the first :meth:`send`. If the server dropped it between
    messages, the transport reconnects once and tries that message again.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        starttls: bool = False,
        ssl: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        ssl_context: ssl_module.SSLContext | None = None,
    ) -> None:
        if ssl and starttls:
            raise ValueError("use either ssl (implicit TLS) or starttls, not both")
        self.host = host
        self.port = port
        self.starttls = starttls
        self.ssl = ssl
        self.username = username
        self.password = password
        self.timeout = timeout
        self.ssl_context = ssl_context
        self._conn: smtplib.SMTP | None = None
        self.connections = 0  # connections opened so far (for logging and tests)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()

    def _context(self) -> ssl_module.SSLContext:
        return self.ssl_context or ssl_module.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        conn: smtplib.SMTP
        try:
            if self.ssl:
                conn = _SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=self._context()
                )
            else:
                conn = _SMTP(self.host, self.port, timeout=self.timeout)
        except smtplib.SMTPResponseException as exc:  # e.g. a 421/554 greeting
            raise _session(exc, f"connect to {self.host}:{self.port}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryDeliveryError(f"connect to {self.host}:{self.port}: {exc}") from exc
        try:
            conn.ehlo()
            if self.starttls:
                conn.starttls(context=self._context())
                conn.ehlo()
            if self.username is not None:
                conn.login(self.username, self.password or "")
        except smtplib.SMTPResponseException as exc:  # refused STARTTLS / AUTH
            conn.close()
            raise _session(exc, f"session setup with {self.host}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            conn.close()
            raise TemporaryDeliveryError(f"session setup with {self.host}: {exc}") from exc
        self.connections += 1
        return conn

    def send(self, msg: EmailMessage | WireMessage, delivery_key: str) -> None:
        """Send ``msg`` to the addresses in its To header (a :class:`WireMessage`: to
        its envelope's, the bytes as they are)."""
        if isinstance(msg, WireMessage):
            sender, recipients = msg.sender, list(msg.recipients)
        else:
            sender = parseaddr(str(msg.get("From", "")))[1]
            recipients = [addr for _, addr in getaddresses(msg.get_all("To", [])) if addr]
        if not recipients:
            raise PermanentDeliveryError(f"{delivery_key}: message has no To address")
        reused = self._conn is not None
        try:
            self._send_once(msg, sender, recipients)
        except smtplib.SMTPServerDisconnected as exc:
            self._drop()
            if not reused:
                raise TemporaryDeliveryError(f"{delivery_key}: server disconnected") from exc
            self._retry(msg, sender, recipients, delivery_key)
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code == 421 and reused:  # "closing channel": an idle timeout
                self._drop()
                self._retry(msg, sender, recipients, delivery_key)
            else:
                self._after_error()
                raise _classify(exc, delivery_key) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            self._after_error()
            raise _refused(exc.recipients) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise TemporaryDeliveryError(f"{delivery_key}: {exc}") from exc

    def _retry(
        self,
        msg: EmailMessage | WireMessage,
        sender: str,
        recipients: list[str],
        delivery_key: str,
    ) -> None:
        try:
            self._send_once(msg, sender, recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            self._after_error()
            raise _refused(exc.recipients) from exc
        except smtplib.SMTPResponseException as exc:
            self._after_error()
            raise _classify(exc, delivery_key) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise TemporaryDeliveryError(f"{delivery_key} (after reconnect): {exc}") from exc

    def _send_once(
        self, msg: EmailMessage | WireMessage, sender: str, recipients: list[str]
    ) -> None:
        if self._conn is None:
            self._conn = self._connect()
        if isinstance(msg, WireMessage):
            data: bytes | None = msg.data
        else:
            data = smtp_bytes(msg) if "".join([sender, *recipients]).isascii() else None
        if data is not None:  # the bytes send_message would make, made faster
            refused = self._conn.sendmail(sender, recipients, data)
        else:  # not a digest as build_message makes it, or SMTPUTF8 needed
            assert isinstance(msg, EmailMessage)
            refused = self._conn.send_message(msg, from_addr=sender, to_addrs=recipients)
        if refused:  # some (not all) recipients refused
            raise smtplib.SMTPRecipientsRefused(refused)

    def _after_error(self) -> None:
        """smtplib closes the socket on 421; forget such a connection."""
        if self._conn is not None and getattr(self._conn, "sock", None) is None:
            self._conn = None

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def _session(exc: smtplib.SMTPResponseException, what: str) -> SessionDeliveryError:
    text = _decode(exc.smtp_error)
    return SessionDeliveryError(f"{what}: {exc.smtp_code} {text}", code=exc.smtp_code, reply=text)


def _classify(exc: smtplib.SMTPResponseException, delivery_key: str) -> DeliveryError:
    if isinstance(exc, smtplib.SMTPSenderRefused) and exc.smtp_code >= 500:
        return _session(exc, f"{delivery_key}: sender refused")  # our MAIL FROM, not the reader
    what = {
        smtplib.SMTPSenderRefused: "sender refused",
        smtplib.SMTPDataError: "message refused",
    }.get(type(exc), "SMTP error")
    return _by_code(exc.smtp_code, exc.smtp_error, f"{delivery_key}: {what}")
