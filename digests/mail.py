"""Build the MIME message for one recipient of an edition."""

from __future__ import annotations

import base64
import binascii
import email.policy
import hashlib
import random
import re
import sys
from datetime import UTC, datetime
from email.headerregistry import Address, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from typing import Any

from digests import i18n
from digests.cache import IdentityCache
from digests.model import Edition, Recipient
from digests.templating import Rendered
from digests.text import clean_text, safe_url, unsubscribe_mailto
from digests.views import make_subject

_URI = re.compile(r"<[^<>\s]*>")


class UriListHeader(UnstructuredHeader):
    """A header that is a list of ``<URI>`` (RFC 2369, e.g. List-Unsubscribe).

    The default policy folds a long word into RFC 2047 encoded words, which would break
    the URIs; this header is folded between the URIs only (one per line; RFC 5322 lines
    may be up to 998 characters).
    """

    def fold(self, *, policy: Any) -> str:
        uris = _URI.findall(str(self))
        if not uris:
            return super().fold(policy=policy)
        return f"{self.name}: " + ("," + policy.linesep + " ").join(uris) + policy.linesep


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("list-unsubscribe", UriListHeader)
POLICY = email.policy.default.clone(header_factory=_HEADERS)


def make_message_id(delivery_key: str, domain: str) -> str:
    """A Message-ID that depends only on ``delivery_key``: a retried send reuses it."""
    domain = domain.strip().strip(".").lower()
    if not domain or any(ch.isspace() or ch in '<>@()[]\\,;:"' for ch in domain):
        raise ValueError(f"not a usable Message-ID domain: {domain!r}")
    digest = hashlib.sha256(delivery_key.encode("utf-8")).hexdigest()
    return f"<{digest}@{domain}>"


def recipient_address(recipient: Recipient) -> Address:
    """``Name <email>`` (just the address when there is no name)."""
    return Address(display_name=clean_text(recipient.name), addr_spec=recipient.email.strip())


def list_unsubscribe(recipient: Recipient) -> tuple[str | None, bool]:
    """The ``List-Unsubscribe`` value for ``recipient`` (None: no way to unsubscribe
    given) and whether one-click (RFC 8058: an https URL) is possible."""
    uris = []
    mailto = unsubscribe_mailto(recipient.unsubscribe_mailto)
    if mailto:
        uris.append(mailto)
    url = safe_url(recipient.unsubscribe_url)
    if url:
        uris.append(url)
    value = ", ".join(f"<{uri}>" for uri in uris) or None
    return value, bool(url and url.lower().startswith("https://"))


def build_message(
    edition: Edition,
    recipient: Recipient,
    rendered: Rendered,
    *,
    sender: str,
    message_id: str,
    date: datetime | None = None,
) -> EmailMessage:
    """multipart/alternative: text/plain (quoted-printable) first, then text/html
    (base64); both UTF-8.

    With the recipient's unsubscribe links (see :func:`digests.tokens.with_links`) it
    gets ``List-Unsubscribe`` and, for an https URL, ``List-Unsubscribe-Post:
    List-Unsubscribe=One-Click`` (RFC 8058: the URL must unsubscribe on a POST).

    The headers that are the same for every recipient of ``edition`` (Subject, From,
    the multipart Content-Type with its boundary...) are made once per edition and
    sender and shared; the parts are encoded with :mod:`binascii` (C) rather than the
    pure-Python encoders ``set_content`` uses.
    """
    shared = _EDITION_HEADERS.get(edition, sender, lambda: _EditionHeaders(edition, sender))
    text = _encode_qp(rendered.text)
    html = _encode_base64(rendered.html)
    multipart = shared.multipart
    if shared.boundary in text or shared.boundary in html:  # cannot happen with these CTEs
        multipart = _multipart_type(_new_boundary())

    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = shared.subject
    msg["From"] = shared.sender
    msg["To"] = recipient_address(recipient)
    msg["Date"] = date or datetime.now(UTC)
    message_id = message_id.strip()
    msg["Message-ID"] = message_id if message_id.startswith("<") else f"<{message_id}>"
    unsubscribe, one_click = list_unsubscribe(recipient)
    if unsubscribe:
        msg["List-Unsubscribe"] = unsubscribe
        if one_click:
            msg["List-Unsubscribe-Post"] = _ONE_CLICK
    msg["MIME-Version"] = _MIME_VERSION
    msg["Content-Type"] = multipart
    msg["Content-Language"] = shared.language
    # the same parts (and part headers) as set_content() + add_alternative() make
    msg.set_payload(
        [
            _part(text, _TEXT_PLAIN, _QUOTED_PRINTABLE),
            _part(html, _TEXT_HTML, _BASE64, _MIME_VERSION),
        ]
    )
    return msg


def _header(name: str, value: Any) -> Any:
    return POLICY.header_factory(name, value)


_MIME_VERSION = _header("MIME-Version", "1.0")
_TEXT_PLAIN = _header("Content-Type", 'text/plain; charset="utf-8"')
_TEXT_HTML = _header("Content-Type", 'text/html; charset="utf-8"')
_QUOTED_PRINTABLE = _header("Content-Transfer-Encoding", "quoted-printable")
_BASE64 = _header("Content-Transfer-Encoding", "base64")
_ONE_CLICK = _header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")


def _new_boundary() -> str:
    """A boundary as the email package makes one (``===...<19 digits>==``). With
    quoted-printable and base64 bodies it cannot occur in a part: neither has "==" in
    a line (base64 has at most a final "==" after other characters)."""
    return "=" * 15 + f"{random.randrange(sys.maxsize):019d}" + "=="


def _multipart_type(boundary: str) -> Any:
    return _header("Content-Type", f'multipart/alternative; boundary="{boundary}"')


class _EditionHeaders:
    """The headers every recipient of one edition (from one sender) gets; header
    objects are immutable, so messages can share them."""

    def __init__(self, edition: Edition, sender: str) -> None:
        self.subject = _header("Subject", make_subject(edition))
        self.sender = _header("From", sender)
        self.language = _header("Content-Language", i18n.language_of(edition.language))
        self.boundary = _new_boundary()
        self.multipart = _multipart_type(self.boundary)


_EDITION_HEADERS = IdentityCache(8)


def _body(text: str) -> bytes:
    """``text`` as set_content() encodes it: UTF-8, every line ending in LF."""
    data = text.encode("utf-8")
    if b"\r" in data:
        return b"\n".join(data.splitlines()) + b"\n"
    return data if data.endswith(b"\n") else data + b"\n"


def _encode_qp(text: str) -> str:
    """Quoted-printable (lines of at most 76 characters), in C."""
    return binascii.b2a_qp(_body(text), istext=True).decode("ascii")


def _encode_base64(text: str) -> str:
    """Base64 in lines of 76 characters, exactly as set_content(cte="base64")."""
    return base64.encodebytes(_body(text)).decode("ascii")


def _part(payload: str, content_type: Any, encoding: Any, *more: Any) -> EmailMessage:
    part = EmailMessage(policy=POLICY)
    part["Content-Type"] = content_type
    part["Content-Transfer-Encoding"] = encoding
    for header in more:
        part[header.name] = header
    part.set_payload(payload)
    return part


# --- on the wire ---------------------------------------------------------------------

_SMTP_POLICY = POLICY.clone(linesep="\r\n")
_NEWLINE = re.compile(r"\r\n|\r|\n")  # what the generator takes for a line end
_NOT_ON_THE_WIRE = ("Bcc", "Resent-Bcc", "Resent-Date")  # send_message handles these


def smtp_bytes(msg: EmailMessage) -> bytes | None:
    """``msg`` exactly as ``smtplib.SMTP.send_message`` puts it on the wire (its
    ``BytesGenerator`` with CRLF line ends), made without the generator's write per
    line: for a message as :func:`build_message` makes it (a multipart of parts with
    ASCII payloads, already encoded). None for any other message: send it with
    ``send_message``."""
    if msg.policy is not POLICY or any(name in msg for name in _NOT_ON_THE_WIRE):
        return None
    boundary = msg.get_boundary()
    parts = msg.get_payload()
    if not boundary or not isinstance(parts, list) or not boundary.isascii():
        return None
    if msg.preamble is not None or msg.epilogue is not None:
        return None
    bodies = []
    for part in parts:
        payload = part._payload
        if part.policy is not POLICY or part.is_multipart() or not isinstance(payload, str):
            return None
        if not payload.isascii() or part.preamble is not None:
            return None
        lines = "\r\n".join(_NEWLINE.split(payload)).encode("ascii")
        bodies.append(_wire_headers(part) + b"\r\n" + lines)
    mark = b"--" + boundary.encode("ascii")
    between = b"\r\n" + mark + b"\r\n"
    body = mark + b"\r\n" + between.join(bodies) + b"\r\n" + mark + b"--\r\n"
    return _wire_headers(msg) + b"\r\n" + body


def _wire_headers(msg: EmailMessage) -> bytes:
    return b"".join(_SMTP_POLICY.fold_binary(name, value) for name, value in msg.raw_items())
