"""Build the MIME message for one recipient of an edition."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from digests import i18n
from digests.model import Edition, Recipient
from digests.render import Rendered, clean_text, make_subject


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


def build_message(
    edition: Edition,
    recipient: Recipient,
    rendered: Rendered,
    *,
    sender: str,
    message_id: str,
    date: datetime | None = None,
) -> EmailMessage:
    """multipart/alternative: text/plain first, then text/html; both UTF-8."""
    msg = EmailMessage()
    msg["Subject"] = make_subject(edition)
    msg["From"] = sender
    msg["To"] = recipient_address(recipient)
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    message_id = message_id.strip()
    msg["Message-ID"] = message_id if message_id.startswith("<") else f"<{message_id}>"
    msg.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    # after set_content(), which drops Content-* headers
    msg["Content-Language"] = i18n.language_of(edition.language)
    return msg
