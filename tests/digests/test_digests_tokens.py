"""Signed unsubscribe / manage tokens."""

from __future__ import annotations

import re

import pytest

from digests.model import Recipient
from digests.tokens import MANAGE, UNSUBSCRIBE, make_token, verify_token, with_links

SECRET = b"s3cret-key-for-tests-0123456789ab"
OTHER = b"another-secret-key-0123456789abcd"
EMAIL = "anne.devries@example.nl"


def test_round_trip() -> None:
    token = make_token(SECRET, EMAIL)
    assert verify_token(SECRET, token) == EMAIL
    assert verify_token(SECRET, token, UNSUBSCRIBE) == EMAIL
    manage = make_token(SECRET, EMAIL, MANAGE)
    assert verify_token(SECRET, manage, MANAGE) == EMAIL
    assert make_token(SECRET, EMAIL) == token  # deterministic: old mails keep working


@pytest.mark.parametrize(
    "email", ["a@b.nl", "Jérôme.Dupont+digest@exämple.be", "x" * 300 + "@example.org"]
)
def test_url_safe_characters_only(email: str) -> None:
    token = make_token(SECRET, email)
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", token)
    assert "=" not in token
    assert verify_token(SECRET, token) == email


def test_other_purpose_refused() -> None:
    assert verify_token(SECRET, make_token(SECRET, EMAIL, UNSUBSCRIBE), MANAGE) is None
    assert verify_token(SECRET, make_token(SECRET, EMAIL, MANAGE), UNSUBSCRIBE) is None


def test_other_secret_refused() -> None:
    assert verify_token(OTHER, make_token(SECRET, EMAIL)) is None


def _flip(text: str, index: int) -> str:
    ch = text[index]
    return text[:index] + ("A" if ch != "A" else "B") + text[index + 1 :]


def test_tampered_tokens_refused() -> None:
    token = make_token(SECRET, EMAIL)
    payload, mac = token.split(".")
    other_payload = make_token(SECRET, "mallory@example.nl").split(".")[0]
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
        "",
        "%" * 20,
        f"{payload}.+{mac[1:]}",  # standard (not URL-safe) base64 alphabet
        token + " ",
        "A" * 5000,
    ]
    for bad in tampered:
        assert verify_token(SECRET, bad) is None, bad


def test_non_canonical_base64_refused() -> None:
    # base64 "QQ" and "QR" both decode to b"A": only the canonical spelling is accepted
    token = make_token(SECRET, "A")
    payload, mac = token.split(".")
    assert payload == "QQ"
    assert verify_token(SECRET, f"QR.{mac}") is None


def test_weak_secret_and_bad_input_rejected() -> None:
    with pytest.raises(ValueError):
        make_token(b"short", EMAIL)
    with pytest.raises(ValueError):
        make_token(SECRET, "  ")
    with pytest.raises(ValueError):
        make_token(SECRET, EMAIL, purpose="Bad Purpose")
    with pytest.raises(ValueError):
        verify_token(b"", "x.y")


def test_a_secret_of_16_bytes_is_enough_and_15_are_not() -> None:
    sixteen, fifteen = b"0123456789abcdef", b"0123456789abcde"
    token = make_token(sixteen, EMAIL)
    assert verify_token(sixteen, token) == EMAIL
    for use in (lambda: make_token(fifteen, EMAIL), lambda: verify_token(fifteen, token)):
        with pytest.raises(ValueError) as info:
            use()
        assert str(info.value) == "the token secret must be at least 16 bytes"


class _Probe(str):
    """A token that notes whether verify_token looked inside it (split it at the dot)."""

    parsed = False

    def partition(self, sep: str) -> tuple[str, str, str]:  # type: ignore[override]
        self.parsed = True
        return super().partition(sep)


def test_tokens_up_to_1024_characters_are_read_and_longer_ones_refused_unread() -> None:
    # 735 bytes of address: 980 base64 characters, a dot and the 43 of the 32-byte MAC
    at_limit = make_token(SECRET, "a" * 735)
    assert len(at_limit) == 1024
    probe = _Probe(at_limit)
    assert verify_token(SECRET, probe) == "a" * 735 and probe.parsed
    # one character more: no valid token is 1025 long (981 base64 characters encode
    # nothing), so only the probe tells that it was refused before it was parsed
    probe = _Probe(at_limit + "A")
    assert verify_token(SECRET, probe) is None and not probe.parsed
    # the next length a signed token can have, 1026 (736 bytes: 982 characters), is
    # refused although its signature is good
    over = make_token(SECRET, "a" * 736)
    assert len(over) == 1026 and verify_token(SECRET, over) is None


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
    assert verify_token(SECRET, token, UNSUBSCRIBE) == EMAIL
    # a base URL with a path keeps it; no base URL: no links
    sub = with_links(anne, secret=SECRET, base_url="https://example.org/trends")
    assert sub.unsubscribe_url.startswith("https://example.org/trends/unsubscribe/")
    bare = with_links(anne, secret=SECRET, base_url=None)
    assert bare.manage_url is None and bare.unsubscribe_url is None
