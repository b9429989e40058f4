"""Build the MIME message for one recipient of an edition."""

from __future__ import annotations

import email.policy
import hashlib
import re
from datetime import UTC, datetime
from email.headerregistry import Address, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from digests import i18n
from digests.model import Edition, Recipient
from digests.render import Rendered, clean_text, make_subject, safe_url, unsubscribe_mailto

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
    """multipart/alternative: text/plain first, then text/html; both UTF-8.

    With the recipient's unsubscribe links (see :func:`digests.tokens.with_links`) it
    gets ``List-Unsubscribe`` and, for an https URL, ``List-Unsubscribe-Post:
    List-Unsubscribe=One-Click`` (RFC 8058: the URL must unsubscribe on a POST).
    """
    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = make_subject(edition)
    msg["From"] = sender
    msg["To"] = recipient_address(recipient)
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    message_id = message_id.strip()
    msg["Message-ID"] = message_id if message_id.startswith("<") else f"<{message_id}>"
    unsubscribe, one_click = list_unsubscribe(recipient)
    if unsubscribe:
        msg["List-Unsubscribe"] = unsubscribe
        if one_click:
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    # after set_content(), which drops Content-* headers
    msg["Content-Language"] = i18n.language_of(edition.language)
    return msg
