"""Signed unsubscribe / manage tokens: opaque, and the first format still resolves."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import pytest

from digests.model import Recipient
from digests.tokens import (
    MANAGE,
    UNSUBSCRIBE,
    make_token,
    resolve_token,
    subscriber_id,
    with_links,
)

SECRET = b"s3cret-key-for-tests-0123456789ab"
OTHER = b"another-secret-key-0123456789abcd"
EMAIL = "anne.devries@example.nl"
MALLORY = "mallory@example.nl"
SUBSCRIBERS = ("piet@example.nl", EMAIL, MALLORY)
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

# Made by the first token format's make_token (before tokens became opaque) with
# SECRET: links like these are in mails already sent and must keep working.
LEGACY_ANNE = "YW5uZS5kZXZyaWVzQGV4YW1wbGUubmw.NabvbEOtS0b8ufJ_0VIR6hCQ6MapWvDEYx6V3E-GtDc"
LEGACY_ANNE_MANAGE = "YW5uZS5kZXZyaWVzQGV4YW1wbGUubmw.wmLUgOjwyJkZbNasor9jnwCXhiN8GbAIaLjhaHw2vOA"
LEGACY_A = "QQ.81zuSzIzrBJnJgxNvrmviOLziC-4q1UPnjbdN6Opa5U"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def legacy_token(secret: bytes, email: str, purpose: str = UNSUBSCRIBE) -> str:
    """The first format's builder, for tokens the hard-coded ones do not cover."""
    payload = email.strip().encode("utf-8")
    message = b"\0".join((b"trendwatch-token-v1", purpose.encode("ascii"), payload))
    return f"{_b64(payload)}.{_b64(hmac.new(secret, message, hashlib.sha256).digest())}"


def resolve(token: str, purpose: str = UNSUBSCRIBE, secret: bytes = SECRET) -> str | None:
    return resolve_token(secret, token, SUBSCRIBERS, purpose)


def test_round_trip() -> None:
    token = make_token(SECRET, EMAIL)
    assert resolve(token) == EMAIL
    assert resolve(token, UNSUBSCRIBE) == EMAIL
    assert resolve(make_token(SECRET, MALLORY)) == MALLORY
    manage = make_token(SECRET, EMAIL, MANAGE)
    assert resolve(manage, MANAGE) == EMAIL
    assert make_token(SECRET, EMAIL) == token  # deterministic: old mails keep working


def test_token_is_an_id_and_a_mac() -> None:
    token = make_token(SECRET, EMAIL)
    assert token.split(".") == [
        "v2",
        subscriber_id(SECRET, EMAIL),
        token.split(".")[2],
    ]
    assert len(subscriber_id(SECRET, EMAIL)) == 16  # 12 bytes
    assert len(token.split(".")[2]) == 43  # 32 bytes of HMAC-SHA256


def test_subscriber_id_is_stable_and_secret_bound() -> None:
    assert subscriber_id(SECRET, " Anne.DeVries@Example.NL ") == subscriber_id(SECRET, EMAIL)
    assert subscriber_id(OTHER, EMAIL) != subscriber_id(SECRET, EMAIL)
    assert subscriber_id(SECRET, MALLORY) != subscriber_id(SECRET, EMAIL)
    with pytest.raises(ValueError):
        subscriber_id(SECRET, " ")
    with pytest.raises(ValueError):
        subscriber_id(b"short", EMAIL)


@pytest.mark.parametrize(
    "email", ["a@b.nl", EMAIL, "Jérôme.Dupont+digest@exämple.be", "x" * 300 + "@example.org"]
)
def test_token_carries_no_address(email: str) -> None:
    token = make_token(SECRET, email)
    assert re.fullmatch(r"v2\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}", token)
    assert "=" not in token
    local = email.split("@")[0]
    raw = email.encode("utf-8")
    forms = {email, email.casefold(), local, local.casefold()}
    for shift in (0, 1, 2):  # base64 of the address at each alignment
        piece = raw[shift:]
        forms |= {
            base64.b64encode(piece).decode().rstrip("=")[:8],
            base64.urlsafe_b64encode(piece).decode().rstrip("=")[:8],
            base64.urlsafe_b64encode(piece.lower()).decode().rstrip("=")[:8],
        }
    for form in forms:
        assert form not in token, form
    for part in token.split(".")[1:]:
        decoded = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        assert raw[:4] not in decoded and raw.lower()[:4] not in decoded
    assert resolve_token(SECRET, token, [email]) == email


def test_resolves_to_the_address_as_listed() -> None:
    token = make_token(SECRET, EMAIL)
    assert resolve_token(SECRET, token, ["Anne.DeVries@example.nl "]) == "Anne.DeVries@example.nl "
    assert resolve_token(SECRET, token, [MALLORY, "piet@example.nl"]) is None  # not a reader
    assert resolve_token(SECRET, token, []) is None
    with pytest.raises(TypeError):
        resolve_token(SECRET, token, EMAIL)  # one address is no list of subscribers


def test_other_purpose_refused() -> None:
    assert resolve(make_token(SECRET, EMAIL, UNSUBSCRIBE), MANAGE) is None
    assert resolve(make_token(SECRET, EMAIL, MANAGE), UNSUBSCRIBE) is None
    assert resolve(LEGACY_ANNE, MANAGE) is None
    assert resolve(LEGACY_ANNE_MANAGE, UNSUBSCRIBE) is None


def test_other_secret_refused() -> None:
    assert resolve(make_token(SECRET, EMAIL), secret=OTHER) is None
    assert resolve(LEGACY_ANNE, secret=OTHER) is None


def _flip(text: str, index: int) -> str:
    ch = text[index]
    return text[:index] + ("A" if ch != "A" else "B") + text[index + 1 :]


def test_tampered_tokens_refused() -> None:
    token = make_token(SECRET, EMAIL)
    _, sid, mac = token.split(".")
    mallory_sid = subscriber_id(SECRET, MALLORY)
    last = B64URL[B64URL.index(mac[-1]) ^ 1]  # same bytes, non-canonical spelling
    tampered = [
        f"v2.{mallory_sid}.{mac}",  # another reader's id with Anne's signature
        f"v2.{_flip(sid, 3)}.{mac}",
        f"v2.{sid}.{_flip(mac, 5)}",
        f"v2.{sid}.{mac[:-1]}",  # truncated signature
        f"v2.{sid}.{mac}A",
        f"v2.{sid}.{mac[:-1]}{last}",
        f"v2.{sid}.{mac}=",  # padding is not part of the format
        f"v2.{sid[:-1]}.{mac}",  # an id of the wrong length
        f"v2.{sid}A.{mac}",
        f"v3.{sid}.{mac}",
        f"V2.{sid}.{mac}",
        f"{sid}.{mac}",  # without the version: read as the first format, and forged
        f"v2.{sid}.{mac}.x",
        f"v2.{sid}{mac}",
        f"v2.{sid}.",
        f"v2..{mac}",
        f"v2.{sid}.+{mac[1:]}",  # standard (not URL-safe) base64 alphabet
        token + " ",
        " " + token,
        "",
        "%" * 20,
        "A" * 5000,
    ]
    for bad in tampered:
        assert resolve(bad) is None, bad


def test_first_format_tokens_still_resolve() -> None:
    # the builder kept in this test makes exactly what the old code made
    assert legacy_token(SECRET, EMAIL) == LEGACY_ANNE
    assert legacy_token(SECRET, EMAIL, MANAGE) == LEGACY_ANNE_MANAGE
    assert legacy_token(SECRET, "A") == LEGACY_A
    assert resolve(LEGACY_ANNE) == EMAIL
    assert resolve(LEGACY_ANNE_MANAGE, MANAGE) == EMAIL
    assert resolve_token(SECRET, LEGACY_ANNE, ["Anne.DeVries@Example.nl"]) == (
        "Anne.DeVries@Example.nl"
    )
    assert resolve_token(SECRET, LEGACY_ANNE, [MALLORY]) is None  # no longer a reader
    assert resolve_token(SECRET, LEGACY_A, ["A"]) == "A"


def test_tampered_first_format_tokens_refused() -> None:
    payload, mac = LEGACY_ANNE.split(".")
    other_payload = legacy_token(SECRET, MALLORY).split(".")[0]
    tampered = [
        f"{other_payload}.{mac}",  # someone else's address with Anne's signature
        f"{payload}.{_flip(mac, 5)}",
        f"{_flip(payload, 0)}.{mac}",
        f"{payload}.{mac[:-1]}",  # truncated signature
        f"{payload}.{mac}A",
        f"{payload}.{mac}==",  # padding is not part of the format
        f"{payload}{mac}",
        f"{payload}.{mac}.x",
        f"{payload}.",
        f".{mac}",
        payload,
        f"{payload}.+{mac[1:]}",  # standard (not URL-safe) base64 alphabet
        LEGACY_ANNE + " ",
        f"v2.{payload}.{mac}",
    ]
    for bad in tampered:
        assert resolve(bad) is None, bad
    # base64 "QQ" and "QR" both decode to b"A": only the canonical spelling is accepted
    assert LEGACY_A.split(".")[0] == "QQ"
    assert resolve_token(SECRET, "QR." + LEGACY_A.split(".")[1], ["A"]) is None


def test_tokens_longer_than_1024_characters_refused() -> None:
    # first-format length: base64 of the address, a dot, 43 characters of MAC.
    # 731 + 4 + 735 bytes -> 980 characters -> 1,024; one byte more -> 982 -> 1,026
    fits = "x" * 731 + "@e.n"
    too_long = "x" * 732 + "@e.n"
    assert len(legacy_token(SECRET, fits)) == 1024
    assert len(legacy_token(SECRET, too_long)) == 1026
    assert resolve_token(SECRET, legacy_token(SECRET, fits), [fits]) == fits
    assert resolve_token(SECRET, legacy_token(SECRET, too_long), [too_long]) is None
    # a current token is 63 characters whatever the address
    assert len(make_token(SECRET, too_long)) == 63
    assert resolve_token(SECRET, make_token(SECRET, too_long), [too_long]) == too_long


def test_weak_secret_and_bad_input_rejected() -> None:
    with pytest.raises(ValueError):
        make_token(b"short", EMAIL)
    with pytest.raises(ValueError):
        make_token(SECRET, "  ")
    with pytest.raises(ValueError):
        make_token(SECRET, EMAIL, purpose="Bad Purpose")
    with pytest.raises(ValueError):
        resolve_token(b"", "x.y", SUBSCRIBERS)
    with pytest.raises(ValueError):
        resolve_token(SECRET, "x.y", SUBSCRIBERS, purpose="Bad Purpose")


def test_a_secret_of_16_bytes_is_enough_and_15_are_not() -> None:
    sixteen, fifteen = b"0123456789abcdef", b"0123456789abcde"
    token = make_token(sixteen, EMAIL)
    assert resolve_token(sixteen, token, SUBSCRIBERS) == EMAIL
    for use in (
        lambda: make_token(fifteen, EMAIL),
        lambda: resolve_token(fifteen, token, SUBSCRIBERS),
    ):
        with pytest.raises(ValueError) as info:
            use()
        assert str(info.value) == "the token secret must be at least 16 bytes"


class _Probe(str):
    """A token that notes whether resolve_token looked inside it (split it at the dots)."""

    parsed = False

    def split(self, *args: object, **kwargs: object) -> list[str]:  # type: ignore[override]
        self.parsed = True
        return super().split(*args, **kwargs)  # type: ignore[arg-type]


def test_tokens_up_to_1024_characters_are_read_and_longer_ones_refused_unread() -> None:
    # first format: 735 bytes of address give 980 base64 characters, a dot and the 43
    # of the 32-byte MAC
    address = "x" * 731 + "@e.n"
    at_limit = legacy_token(SECRET, address)
    assert len(at_limit) == 1024
    probe = _Probe(at_limit)
    assert resolve_token(SECRET, probe, [address]) == address and probe.parsed
    # one character more: no valid token is 1025 long (981 base64 characters encode
    # nothing), so only the probe tells that it was refused before it was parsed
    probe = _Probe(at_limit + "A")
    assert resolve_token(SECRET, probe, [address]) is None and not probe.parsed


def test_with_links() -> None:
    anne = Recipient(EMAIL, "Anne", "nl", ("thuiswerken",))
    linked = with_links(
        anne,
        secret=SECRET,
        base_url="https://trends.example.nl/",
        unsubscribe_mailto="unsubscribe@trends.example.nl",
    )
    assert (
        linked.manage_url == f"https://trends.example.nl/manage/{make_token(SECRET, EMAIL, MANAGE)}"
    )
    assert linked.unsubscribe_url == (
        f"https://trends.example.nl/unsubscribe/{make_token(SECRET, EMAIL, UNSUBSCRIBE)}"
    )
    assert linked.unsubscribe_mailto == "unsubscribe@trends.example.nl"
    assert (linked.email, linked.name, linked.watchlists) == (EMAIL, "Anne", ("thuiswerken",))
    token = linked.unsubscribe_url.rsplit("/", 1)[1]
    assert resolve(token, UNSUBSCRIBE) == EMAIL
    assert resolve(linked.manage_url.rsplit("/", 1)[1], MANAGE) == EMAIL
    for url in (linked.manage_url, linked.unsubscribe_url):
        assert "devries" not in url.casefold() and _b64(EMAIL.encode())[:8] not in url
    # a base URL with a path keeps it; no base URL: no links
    sub = with_links(anne, secret=SECRET, base_url="https://example.org/trends")
    assert sub.unsubscribe_url.startswith("https://example.org/trends/unsubscribe/")
    bare = with_links(anne, secret=SECRET, base_url=None)
    assert bare.manage_url is None and bare.unsubscribe_url is None
