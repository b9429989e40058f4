"""Signed, URL-safe tokens that name a subscriber: unsubscribe and manage links, and the
link that confirms a subscription.

Every token is bound to the subscriber's address (in a MAC made with the instance
secret), to its purpose (:data:`UNSUBSCRIBE`, :data:`MANAGE`, :data:`CONFIRM`: only in
the MAC, so a token of one purpose is none of another), and to a version; a
confirmation token also to a moment it expires. Three formats, all ``A-Z a-z 0-9 - _ .``:

- ``v3.<id>.<version>.<mac>`` and ``v3.<id>.<version>.<expires>.<mac>``: the current
  format. ``id`` is the subscriber's opaque id (:func:`subscriber_id`: the first 12
  bytes of HMAC-SHA256 with the secret over the address, stripped and case-folded, in
  base64url), so no address ends up in a web server's access log. ``version`` is the
  subscriber's token version, kept in the store: unsubscribing raises it, which makes
  every link made before stale. For a confirmation it is the subscription request's
  random number, so each request's link is its own and is used once. ``expires`` is
  the Unix time after which the token is refused. Both are decimal without leading
  zeros, so a token has one spelling. ``mac`` is HMAC-SHA256 over a format tag, the
  purpose, the address, the version and the expiry.
- ``v2.<id>.<mac>``: the version-0 form of the above, without expiry. The links of a
  subscriber at version 0 (a config subscriber who never unsubscribed) are made in
  this format, so they are the same as those in mails sent before versions existed.
- ``<address>.<mac>``: the first format (the address itself in base64url), no longer
  made; it still resolves, as version 0, so old mails keep working until their reader
  unsubscribes.

Checking a token is two steps, as the side that checks it knows the subscribers:
:func:`read_token` splits it (None: malformed), :func:`names` tells whether it
carries a given address's id, and :func:`check_token` verifies it for that address,
purpose and current version: :class:`Verdict`. MACs and ids are compared in constant
time. :func:`resolve_token` does both steps against a list of addresses. Rotating the
secret revokes every token.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from urllib.parse import quote

from digests.model import Recipient

UNSUBSCRIBE = "unsubscribe"
MANAGE = "manage"
CONFIRM = "confirm"
_VERSION_1 = b"trendwatch-token-v1"  # <address>.<mac>: resolved, no longer made
_VERSION_2 = b"trendwatch-token-v2"
_VERSION_3 = b"trendwatch-token-v3"
_ID_TAG = b"trendwatch-subscriber-id"
_ID_BYTES = 12
_MAC_BYTES = 32
_PREFIX_2 = "v2"
_PREFIX_3 = "v3"
MIN_SECRET_BYTES = 16  # the shortest secret that signs links
_MAX_TOKEN = 1024  # longer input is refused before any decoding
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_PURPOSE = re.compile(r"[a-z][a-z0-9-]*")
_NUMBER = re.compile(r"0|[1-9][0-9]{0,17}")  # canonical decimal, below 10**18


class Verdict(StrEnum):
    """What :func:`check_token` found."""

    VALID = "valid"
    FORGED = "forged"  # not made with this secret for this address and purpose
    EXPIRED = "expired"  # genuine, but its time is up
    STALE = "stale"  # genuine, but of another version: used up, or made before an unsubscribe


@dataclass(frozen=True)
class Token:
    """A token split into its parts, nothing checked yet (:func:`read_token`)."""

    format: int  # 1, 2 or 3
    id: str | None  # the subscriber id (formats 2 and 3)
    address: str | None  # the address it claims (format 1 only)
    version: int  # 0 for formats 1 and 2
    expires: int | None  # Unix time (format 3 only, where given)
    mac: bytes
    payload: bytes = b""  # format 1: the signed address bytes


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


def _mac_3(secret: bytes, purpose: str, email: str, version: int, expires: int | None) -> bytes:
    payload = b"\0".join(
        (_normalised(email).encode("utf-8"), str(version).encode(), str(expires or "").encode())
    )
    return _mac(secret, _VERSION_3, purpose, payload)


@functools.lru_cache(maxsize=65536)
def subscriber_id(secret: bytes, subscriber_email: str) -> str:
    """The opaque, stable id of ``subscriber_email`` under ``secret`` (16 characters of
    ``A-Z a-z 0-9 - _``); the same for any case or surrounding spaces of the address."""
    _check_secret(secret)
    message = _ID_TAG + b"\0" + _normalised(subscriber_email).encode("utf-8")
    return _b64encode(hmac.new(secret, message, hashlib.sha256).digest()[:_ID_BYTES])


def make_token(
    secret: bytes,
    subscriber_email: str,
    purpose: str = UNSUBSCRIBE,
    *,
    version: int = 0,
    expires: datetime | None = None,
) -> str:
    """A token for ``subscriber_email``, ``purpose`` and ``version``, refused after
    ``expires`` if given: ``v2.<id>.<mac>`` for version 0 without expiry, else
    ``v3.<id>.<version>[.<expires>].<mac>``.

    Only ``A-Z a-z 0-9 - _ .`` occur in it, so it can go into a URL path as is; the
    address is not in it in any form.
    """
    _check(secret, purpose)
    if isinstance(version, bool) or not isinstance(version, int) or not 0 <= version < 10**18:
        raise ValueError(f"a token version is a number from 0, got {version!r}")
    sid = subscriber_id(secret, subscriber_email)
    if version == 0 and expires is None:
        address = _normalised(subscriber_email).encode("utf-8")
        return f"{_PREFIX_2}.{sid}.{_b64encode(_mac(secret, _VERSION_2, purpose, address))}"
    until = None if expires is None else int(expires.timestamp())
    if until is not None and until < 0:
        raise ValueError("a token cannot expire before 1970")
    mac = _b64encode(_mac_3(secret, purpose, subscriber_email, version, until))
    middle = f"{version}" if until is None else f"{version}.{until}"
    return f"{_PREFIX_3}.{sid}.{middle}.{mac}"


def read_token(token: object) -> Token | None:
    """``token`` split into its parts; None when it is not a token in any format (or
    longer than 1,024 characters: refused before it is looked into)."""
    if not isinstance(token, str) or len(token) > _MAX_TOKEN:
        return None
    parts = token.split(".")
    if parts[0] == _PREFIX_3 and len(parts) in (4, 5):
        return _read_3(parts)
    if parts[0] == _PREFIX_2 and len(parts) == 3:
        raw_id, mac = _b64decode(parts[1]), _b64decode(parts[2])
        if raw_id is None or len(raw_id) != _ID_BYTES or mac is None or len(mac) != _MAC_BYTES:
            return None
        return Token(2, parts[1], None, 0, None, mac)
    if len(parts) == 2:
        payload, mac = _b64decode(parts[0]), _b64decode(parts[1])
        if payload is None or mac is None or len(mac) != _MAC_BYTES:
            return None
        try:
            address = payload.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return Token(1, None, address, 0, None, mac, payload)
    return None


def _read_3(parts: list[str]) -> Token | None:
    raw_id, mac = _b64decode(parts[1]), _b64decode(parts[-1])
    numbers = parts[2:-1]
    if raw_id is None or len(raw_id) != _ID_BYTES or mac is None or len(mac) != _MAC_BYTES:
        return None
    if not all(_NUMBER.fullmatch(n) for n in numbers):
        return None
    expires = int(numbers[1]) if len(numbers) == 2 else None
    return Token(3, parts[1], None, int(numbers[0]), expires, mac)


def names(secret: bytes, token: Token, email: str) -> bool:
    """Whether ``token`` names ``email`` (its id, or its address for the first
    format); says nothing about whether it is genuine: :func:`check_token` does."""
    if not email.strip():
        return False
    if token.address is not None:
        return token.address.strip().casefold() == email.strip().casefold()
    assert token.id is not None
    return hmac.compare_digest(subscriber_id(secret, email), token.id)


def check_token(
    secret: bytes,
    token: Token,
    email: str,
    purpose: str,
    *,
    version: int,
    now: datetime | None,
) -> Verdict:
    """Whether ``token`` is a genuine token for ``email`` and ``purpose`` of the
    subscriber's current ``version``, unexpired at ``now`` (None: a token that expires
    counts as expired). The MAC is checked first: a token is only EXPIRED or STALE
    when it is genuine."""
    _check(secret, purpose)
    if not names(secret, token, email):
        return Verdict.FORGED
    if token.format == 3:
        expected = _mac_3(secret, purpose, email, token.version, token.expires)
    elif token.format == 2:
        expected = _mac(secret, _VERSION_2, purpose, _normalised(email).encode("utf-8"))
    else:
        expected = _mac(secret, _VERSION_1, purpose, token.payload)
    if not hmac.compare_digest(token.mac, expected):
        return Verdict.FORGED
    if token.expires is not None and (now is None or now.timestamp() >= token.expires):
        return Verdict.EXPIRED
    if token.version != version:
        return Verdict.STALE
    return Verdict.VALID


def resolve_token(
    secret: bytes,
    token: str,
    subscribers: Iterable[str],
    purpose: str = UNSUBSCRIBE,
    *,
    versions: Mapping[str, int] | None = None,
    now: datetime | None = None,
) -> str | None:
    """The address among ``subscribers`` (as given there) that ``token`` was made for
    with ``secret`` and ``purpose``, and that is valid now; None for a token that is
    forged, for another purpose, malformed, longer than 1,024 characters, for nobody in
    ``subscribers``, stale or expired.

    ``versions``: each address's current token version (by the address as listed;
    missing: 0). ``now``: for tokens that expire (without it they count as expired).
    """
    _check(secret, purpose)
    if isinstance(subscribers, str):
        raise TypeError("subscribers must be a collection of addresses, not one string")
    parsed = read_token(token)
    if parsed is None:
        return None
    for email in subscribers:
        if not names(secret, parsed, email):
            continue
        version = (versions or {}).get(email, 0)
        if check_token(secret, parsed, email, purpose, version=version, now=now) is Verdict.VALID:
            return email
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
    version: int = 0,
) -> Recipient:
    """``recipient`` with its personal links for its token ``version``:
    ``<base_url>/manage/<token>`` and ``<base_url>/unsubscribe/<token>`` (no links
    without a base URL), and the address that unsubscribes by mail
    (``List-Unsubscribe: <mailto:...>``)."""
    manage_url = unsubscribe_url = None
    if base_url:
        manage = make_token(secret, recipient.email, MANAGE, version=version)
        unsubscribe = make_token(secret, recipient.email, UNSUBSCRIBE, version=version)
        manage_url = subscriber_url(base_url, "manage", manage)
        unsubscribe_url = subscriber_url(base_url, "unsubscribe", unsubscribe)
    return replace(
        recipient,
        manage_url=manage_url,
        unsubscribe_url=unsubscribe_url,
        unsubscribe_mailto=unsubscribe_mailto or recipient.unsubscribe_mailto,
    )
