"""One recipient's digest as the bytes SMTP puts on the wire, made from what every
recipient of the edition shares.

``smtp_bytes(build_message(...))`` makes a message object per recipient, parses and
folds all its headers and splits its parts into lines again. All but four headers and
the part headers are the same for every reader of an edition, so :class:`WireEdition`
folds those once; per recipient only To, Date, Message-ID and List-Unsubscribe are
folded (with the same policy) and the two parts encoded (C); and as the readers' parts
differ only in their footers, the start every reader's part shares is encoded once
(:class:`_SharedStart`), only the rest per reader. The bytes are exactly
``smtp_bytes(build_message(...))`` (tests/digests/test_digests_wire.py); for anything
the shortcut does not cover (an address that needs SMTPUTF8, a boundary that occurs in
a part) :func:`WireEdition.message` returns None and the caller builds the message.
"""

from __future__ import annotations

import binascii
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, getaddresses, parseaddr
from typing import Any

from digests.cache import IdentityCache
from digests.mail import (
    _BASE64,
    _EDITION_HEADERS,
    _MIME_VERSION,
    _ONE_CLICK,
    _QUOTED_PRINTABLE,
    _SMTP_POLICY,
    _TEXT_HTML,
    _TEXT_PLAIN,
    POLICY,
    _body,
    _EditionHeaders,
    list_unsubscribe,
    recipient_address,
)
from digests.model import Edition, Recipient
from digests.templating import Rendered
from digests.text import clean_text

_NEWLINE = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class WireMessage:
    """A message ready for ``SMTP.sendmail``: the envelope and the bytes."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes


def _folded(name: str, value: Any) -> bytes:
    """The header line as the message would hold it (``msg[name] = value``) and
    ``smtp_bytes`` would write it."""
    return _SMTP_POLICY.fold_binary(*POLICY.header_store_parse(name, value))


# Message-IDs as digests.mail.make_message_id makes them, and List-Unsubscribe values as
# digests.mail.list_unsubscribe makes them: their lines are made without the email
# package, as it would fold them (tests/digests/test_digests_wire.py compares)
_OUR_MESSAGE_ID = re.compile(r"<([0-9a-f]{64})@([a-z0-9.-]+)>")
_URIS = re.compile(r"<[^<>\s]*>")


def _message_id_line(message_id: str) -> bytes:
    """``_folded("Message-ID", message_id)``: for one of ours, the line of a model id
    with the same domain (the same length, letters and digits where the email package
    sees the same), its digest put in."""
    ours = _OUR_MESSAGE_ID.fullmatch(message_id)
    if ours is None:
        return _folded("Message-ID", message_id)
    digest, line = ours.group(1), _message_id_model(ours.group(2))
    return (
        line.replace(_MODEL_DIGEST, digest.encode("ascii"))
        if line
        else _folded("Message-ID", message_id)
    )


_MODEL_DIGEST = b"0" * 64


@functools.lru_cache(maxsize=64)
def _message_id_model(domain: str) -> bytes | None:
    """The folded line of a model id of ``domain``; None when its digest is not in it
    once as it is (then every id of the domain is folded by the email package)."""
    line = _folded("Message-ID", f"<{_MODEL_DIGEST.decode()}@{domain}>")
    return line if line.count(_MODEL_DIGEST) == 1 else None


def _list_unsubscribe_line(value: str) -> bytes:
    """``_folded("List-Unsubscribe", value)``: for a plain list of ``<URI>`` (printable
    ASCII, no encoded word), the URIs one per line as ``UriListHeader.fold`` writes."""
    uris = _URIS.findall(value)
    plain = value.isascii() and value.isprintable() and "=?" not in value
    if uris and plain and ", ".join(uris) == value:
        return ("List-Unsubscribe: " + ",\r\n ".join(uris) + "\r\n").encode("ascii")
    return _folded("List-Unsubscribe", value)


def _base64_lines(data: bytes) -> bytes:
    """``base64.encodebytes(data)`` (lines of 76 characters, each ending in LF) with
    CRLF line ends, encoded in one C call rather than one per 57-byte chunk."""
    encoded = binascii.b2a_base64(data, newline=False)
    lines = [encoded[i : i + 76] for i in range(0, len(encoded), 76)]
    return b"\r\n".join(lines) + b"\r\n" if lines else b""


def _qp_crlf(data: bytes) -> bytes:
    """A text part's body (LF line ends only) quoted-printable, with CRLF line ends."""
    return _crlf(binascii.b2a_qp(data, istext=True))


class _SharedStart:
    """One part's encoding for every reader of an edition, where the parts differ only
    towards their ends: the start the first two readers share, cut where the encoding
    can be split (``cut``: the largest length up to the shared one at which encoding the
    two halves apart gives the whole's bytes), is encoded once; per reader only the
    rest. A part that does not start so is encoded whole."""

    def __init__(self, encode: Callable[[bytes], bytes], cut: Callable[[bytes], int]) -> None:
        self._encode = encode
        self._cut = cut
        self._first: bytes | None = None
        self._start = b""  # the shared start (empty: none yet)
        self._encoded = b""

    def __call__(self, body: bytes) -> bytes:
        start = self._start
        if start and body.startswith(start):
            return self._encoded + self._encode(body[len(start) :])
        if self._first is None:
            self._first = body
        elif not start:  # the second reader: what the two share is everyone's
            shared = self._cut(body[: _common_length(self._first, body)])
            if shared:
                self._start, self._first = body[:shared], None
                self._encoded = self._encode(self._start)
                return self._encoded + self._encode(body[shared:])
        return self._encode(body)


def _common_length(one: bytes, two: bytes) -> int:
    """The length of the longest start ``one`` and ``two`` share (binary search with
    comparisons made in C)."""
    low, high = 0, min(len(one), len(two))
    while low < high:
        middle = (low + high + 1) // 2
        if one[:middle] == two[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _base64_cut(start: bytes) -> int:
    """Whole 57-byte groups (one 76-character line each): base64 splits there."""
    return len(start) - len(start) % 57


def _qp_cut(start: bytes) -> int:
    """After the last line end: quoted-printable works line by line (and a body with
    LF line ends only, as ``_body`` makes it, never gets a CR in between)."""
    return start.rfind(b"\n") + 1


# a To header the email package leaves as it is: a plain name (letters, digits, single
# spaces) and a plain address, on one short line; anything else goes through it
_PLAIN_NAME = re.compile(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*")
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
)
_PLAIN_LINE = 76


def _to(recipient: Recipient) -> tuple[bytes, tuple[str, ...]]:
    """The To line as ``_folded`` makes it and the envelope's addresses; a plain
    name and address are written as they are (the same bytes, without parsing)."""
    name, address = clean_text(recipient.name), recipient.email.strip()
    if _PLAIN_ADDRESS.fullmatch(address) and (not name or _PLAIN_NAME.fullmatch(name)):
        line = f"To: {name} <{address}>\r\n" if name else f"To: {address}\r\n"
        if len(line) <= _PLAIN_LINE:
            return line.encode("ascii"), (address,)
    to = POLICY.header_store_parse("To", recipient_address(recipient))
    addresses = tuple(addr for _, addr in getaddresses([str(to[1])]) if addr)
    return _SMTP_POLICY.fold_binary(*to), addresses


class _DateLine:
    """The folded Date line of the last second asked for: every message sent in that
    second has the same one (the header shows whole seconds)."""

    def __init__(self) -> None:
        self._key: str | None = None
        self._line = b""

    def __call__(self, when: datetime) -> bytes:
        key = format_datetime(when)
        if key != self._key:
            self._line, self._key = _folded("Date", when), key
        return self._line


def _crlf(data: bytes) -> bytes:
    """Every line end as CRLF, as ``smtp_bytes`` writes a part's lines."""
    if b"\r" not in data:
        return data.replace(b"\n", b"\r\n")
    return b"\r\n".join(_NEWLINE.split(data))


class WireEdition:
    """The header and part bytes every recipient of ``edition`` (from ``sender``) gets;
    :meth:`message` adds one recipient's. Shares the boundary with
    :func:`digests.mail.build_message` (one per edition and sender)."""

    def __init__(self, edition: Edition, sender: str) -> None:
        shared: _EditionHeaders = _EDITION_HEADERS.get(
            edition, sender, lambda: _EditionHeaders(edition, sender)
        )
        self.boundary = shared.boundary
        self.sender = parseaddr(str(POLICY.header_store_parse("From", shared.sender)[1]))[1]
        self._head = _folded("Subject", shared.subject) + _folded("From", shared.sender)
        mark = b"--" + shared.boundary.encode("ascii")
        self._tail = (
            _folded("MIME-Version", _MIME_VERSION)
            + _folded("Content-Type", shared.multipart)
            + _folded("Content-Language", shared.language)
            + b"\r\n"
            + mark
            + b"\r\n"
            + _folded("Content-Type", _TEXT_PLAIN)
            + _folded("Content-Transfer-Encoding", _QUOTED_PRINTABLE)
            + b"\r\n"
        )
        self._between = (
            b"\r\n"
            + mark
            + b"\r\n"
            + _folded("Content-Type", _TEXT_HTML)
            + _folded("Content-Transfer-Encoding", _BASE64)
            + _folded("MIME-Version", _MIME_VERSION)
            + b"\r\n"
        )
        self._end = b"\r\n" + mark + b"--\r\n"
        self._date = _DateLine()
        self._text = _SharedStart(_qp_crlf, _qp_cut)
        self._html = _SharedStart(_base64_lines, _base64_cut)

    def message(
        self,
        recipient: Recipient,
        rendered: Rendered,
        *,
        message_id: str,
        date: datetime | None = None,
    ) -> WireMessage | None:
        """``recipient``'s message, as ``smtp_bytes(build_message(...))`` with the same
        arguments and the envelope ``SmtpTransport.send`` takes from it; None when the
        message must be built the ordinary way."""
        to_line, recipients = _to(recipient)
        if not recipients or not "".join([self.sender, *recipients]).isascii():
            return None  # no address (refused by the transport) or SMTPUTF8 needed
        text = self._text(_body(rendered.text))
        html = self._html(_body(rendered.html))
        boundary = self.boundary.encode("ascii")
        if boundary in text or boundary in html:  # cannot happen with these encodings
            return None
        message_id = message_id.strip()
        lines = [
            self._head,
            to_line,
            self._date(date or datetime.now(UTC)),
            _message_id_line(message_id if message_id.startswith("<") else f"<{message_id}>"),
        ]
        unsubscribe, one_click = list_unsubscribe(recipient)
        if unsubscribe:
            lines.append(_list_unsubscribe_line(unsubscribe))
            if one_click:
                lines.append(_folded("List-Unsubscribe-Post", _ONE_CLICK))
        lines += [self._tail, text, self._between, html, self._end]
        return WireMessage(self.sender, recipients, b"".join(lines))


_WIRE_EDITIONS = IdentityCache(8)


def wire_edition(edition: Edition, sender: str) -> WireEdition:
    """The :class:`WireEdition` of ``edition`` and ``sender`` (kept for the last few)."""
    return _WIRE_EDITIONS.get(edition, sender, lambda: WireEdition(edition, sender))
