"""Signed, URL-safe tokens that name a subscriber (unsubscribe and manage links).

A token is ``<email>.<mac>``, both parts base64url without padding; the MAC is
HMAC-SHA256 with the server's secret over a version tag, the token's purpose and the
e-mail address. The purpose is not in the token, only in the MAC: an unsubscribe token
is no manage token. Tokens do not expire (an unsubscribe link must keep working in old
mails); rotating the secret revokes all of them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import replace
from urllib.parse import quote

from digests.model import Recipient

UNSUBSCRIBE = "unsubscribe"
MANAGE = "manage"
_VERSION = b"trendwatch-token-v1"
_MAX_TOKEN = 1024  # longer input is refused before any decoding
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_PURPOSE = re.compile(r"[a-z][a-z0-9-]*")


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes | None:
    """Strict base64url without padding; None for anything else (or non-canonical)."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        return None
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return data if _b64encode(data) == text else None  # one spelling per value


def _check(secret: bytes, purpose: str) -> None:
    if not isinstance(secret, bytes) or len(secret) < 16:
        raise ValueError("the token secret must be at least 16 bytes")
    if not _PURPOSE.fullmatch(purpose):
        raise ValueError(f"not a token purpose: {purpose!r}")


def _mac(secret: bytes, purpose: str, payload: bytes) -> bytes:
    message = b"\0".join((_VERSION, purpose.encode("ascii"), payload))
    return hmac.new(secret, message, hashlib.sha256).digest()


def make_token(secret: bytes, subscriber_email: str, purpose: str = UNSUBSCRIBE) -> str:
    """A token for ``subscriber_email`` (stripped, otherwise as given) and ``purpose``.

    Only ``A-Z a-z 0-9 - _ .`` occur in it, so it can go into a URL path as is.
    """
    _check(secret, purpose)
    email = subscriber_email.strip()
    if not email:
        raise ValueError("no e-mail address to make a token for")
    payload = email.encode("utf-8")
    return f"{_b64encode(payload)}.{_b64encode(_mac(secret, purpose, payload))}"


def verify_token(secret: bytes, token: str, purpose: str = UNSUBSCRIBE) -> str | None:
    """The e-mail address in ``token`` if it was made with ``secret`` for ``purpose``."""
    _check(secret, purpose)
    if not isinstance(token, str) or len(token) > _MAX_TOKEN:
        return None
    email_part, dot, mac_part = token.partition(".")
    if not dot:
        return None
    payload, mac = _b64decode(email_part), _b64decode(mac_part)
    if payload is None or mac is None:
        return None
    if not hmac.compare_digest(mac, _mac(secret, purpose, payload)):
        return None
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:  # pragma: no cover - only a signed payload gets here
        return None


def subscriber_url(base_url: str, path: str, token: str) -> str:
    """``<base_url>/<path>/<token>`` (a base URL's own path is kept)."""
    return f"{base_url.rstrip('/')}/{path}/{quote(token, safe='')}"


def with_links(
    recipient: Recipient,
    *,
    secret: bytes,
    base_url: str | None,
    unsubscribe_mailto: str | None = None,
) -> Recipient:
    """``recipient`` with its personal links: ``<base_url>/manage/<token>`` and
    ``<base_url>/unsubscribe/<token>`` (no links without a base URL), and the address
    that unsubscribes by mail (``List-Unsubscribe: <mailto:...>``)."""
    manage_url = unsubscribe_url = None
    if base_url:
        manage_url = subscriber_url(base_url, "manage", make_token(secret, recipient.email, MANAGE))
        unsubscribe_url = subscriber_url(
            base_url, "unsubscribe", make_token(secret, recipient.email, UNSUBSCRIBE)
        )
    return replace(
        recipient,
        manage_url=manage_url,
        unsubscribe_url=unsubscribe_url,
        unsubscribe_mailto=unsubscribe_mailto or recipient.unsubscribe_mailto,
    )
