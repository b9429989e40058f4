"""Signed, URL-safe tokens that name a subscriber (unsubscribe and manage links).

A token is ``v2.<id>.<mac>``, the last two parts base64url without padding. It carries
no address, so none ends up in a web server's access log:
- ``id`` is the subscriber's opaque id (:func:`subscriber_id`): the first 12 bytes of
  HMAC-SHA256 with the server's secret over the address, stripped and case-folded. It
  is the same for every mail to that address and tells nothing without the secret;
- ``mac`` is HMAC-SHA256 with the secret over a version tag, the token's purpose and the
  normalised address. The purpose is not in the token, only in the MAC: an unsubscribe
  token is no manage token.

The side that checks a token knows the subscribers: :func:`resolve_token` finds the one
whose id the token carries and checks the MAC with that address.

Tokens of the first format, ``<address>.<mac>`` (the address itself in base64url, the
MAC over a version-1 tag, the purpose and the address as given), are no longer made but
still resolve, so the links in mails sent before keep working. Tokens do not expire (an
unsubscribe link must keep working in old mails); rotating the secret revokes all of them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import replace
from urllib.parse import quote

from digests.model import Recipient

UNSUBSCRIBE = "unsubscribe"
MANAGE = "manage"
_VERSION_1 = b"trendwatch-token-v1"  # <address>.<mac>: resolved, no longer made
_VERSION_2 = b"trendwatch-token-v2"
_ID_TAG = b"trendwatch-subscriber-id"
_ID_BYTES = 12
_PREFIX_2 = "v2"
MIN_SECRET_BYTES = 16  # the shortest secret that signs links
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


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the token secret must be at least {MIN_SECRET_BYTES} bytes")


def _check(secret: bytes, purpose: str) -> None:
    _check_secret(secret)
    if not _PURPOSE.fullmatch(purpose):
        raise ValueError(f"not a token purpose: {purpose!r}")


def _normalised(email: str) -> str:
    """The form of an address that ids and MACs are made of: stripped and case-folded
    (subscriber addresses are unique in that form)."""
    address = email.strip().casefold()
    if not address:
        raise ValueError("no e-mail address to make a token for")
    return address


def _mac(secret: bytes, version: bytes, purpose: str, payload: bytes) -> bytes:
    message = b"\0".join((version, purpose.encode("ascii"), payload))
    return hmac.new(secret, message, hashlib.sha256).digest()


def subscriber_id(secret: bytes, subscriber_email: str) -> str:
    """The opaque, stable id of ``subscriber_email`` under ``secret`` (16 characters of
    ``A-Z a-z 0-9 - _``); the same for any case or surrounding spaces of the address."""
    _check_secret(secret)
    message = _ID_TAG + b"\0" + _normalised(subscriber_email).encode("utf-8")
    return _b64encode(hmac.new(secret, message, hashlib.sha256).digest()[:_ID_BYTES])


def make_token(secret: bytes, subscriber_email: str, purpose: str = UNSUBSCRIBE) -> str:
    """A token for ``subscriber_email`` and ``purpose``: ``v2.<id>.<mac>``.

    Only ``A-Z a-z 0-9 - _ .`` occur in it, so it can go into a URL path as is; the
    address is not in it in any form.
    """
    _check(secret, purpose)
    address = _normalised(subscriber_email).encode("utf-8")
    mac = _mac(secret, _VERSION_2, purpose, address)
    return f"{_PREFIX_2}.{subscriber_id(secret, subscriber_email)}.{_b64encode(mac)}"


def resolve_token(
    secret: bytes, token: str, subscribers: Iterable[str], purpose: str = UNSUBSCRIBE
) -> str | None:
    """The address among ``subscribers`` (as given there) that ``token`` was made for
    with ``secret`` and ``purpose``; None for a token that is forged, for another
    purpose, malformed, longer than 1,024 characters, or for nobody in ``subscribers``.

    Accepts the current tokens and those of the first format (the address in the token).
    """
    _check(secret, purpose)
    if isinstance(subscribers, str):
        raise TypeError("subscribers must be a collection of addresses, not one string")
    if not isinstance(token, str) or len(token) > _MAX_TOKEN:
        return None
    parts = token.split(".")
    if len(parts) == 3 and parts[0] == _PREFIX_2:
        return _resolve_v2(secret, parts[1], parts[2], subscribers, purpose)
    if len(parts) == 2:
        address = _verify_v1(secret, parts[0], parts[1], purpose)
        if address is not None:
            wanted = address.strip().casefold()
            return next((s for s in subscribers if s.strip().casefold() == wanted), None)
    return None


def _resolve_v2(
    secret: bytes, id_part: str, mac_part: str, subscribers: Iterable[str], purpose: str
) -> str | None:
    raw_id, mac = _b64decode(id_part), _b64decode(mac_part)
    if raw_id is None or len(raw_id) != _ID_BYTES or mac is None:
        return None
    for email in subscribers:
        if not email.strip() or not hmac.compare_digest(subscriber_id(secret, email), id_part):
            continue
        expected = _mac(secret, _VERSION_2, purpose, _normalised(email).encode("utf-8"))
        if hmac.compare_digest(mac, expected):
            return email
    return None


def _verify_v1(secret: bytes, email_part: str, mac_part: str, purpose: str) -> str | None:
    """The address in a first-format token ``<address>.<mac>`` if its MAC holds."""
    payload, mac = _b64decode(email_part), _b64decode(mac_part)
    if payload is None or mac is None:
        return None
    if not hmac.compare_digest(mac, _mac(secret, _VERSION_1, purpose, payload)):
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
