"""The tokens of subscriber links (digests.tokens): bound to the address, the purpose and
the subscriber's token version, a confirmation token to its expiry; forgery, a purpose
swap, a stale version and expiry each give their own verdict; version 0 keeps the links
already sent; MACs and ids are compared in constant time."""

from __future__ import annotations

import hmac
import re
from datetime import UTC, datetime, timedelta

import pytest

from digests import tokens
from digests.model import Recipient
from digests.tokens import (
    CONFIRM,
    MANAGE,
    UNSUBSCRIBE,
    Verdict,
    check_token,
    make_token,
    read_token,
    resolve_token,
    subscriber_id,
    with_links,
)

SECRET = b"s3cret-key-for-tests-0123456789ab"
OTHER = b"another-secret-key-0123456789abcd"
ANNE = "anne@example.nl"
PIET = "piet@example.nl"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
# the first-format and v2 tokens of ANNE under SECRET, as mails already sent carry them
LEGACY_ANNE = "YW5uZS5kZXZyaWVzQGV4YW1wbGUubmw.NabvbEOtS0b8ufJ_0VIR6hCQ6MapWvDEYx6V3E-GtDc"
LEGACY_ANNE_ADDRESS = "anne.devries@example.nl"


def check(token: str, email: str = ANNE, purpose: str = UNSUBSCRIBE, **kw: object) -> Verdict:
    parsed = read_token(token)
    assert parsed is not None, token
    options: dict = {"version": 0, "now": NOW, **kw}
    return check_token(SECRET, parsed, email, purpose, **options)


def test_version_0_is_the_v2_token_already_sent_and_later_versions_are_v3() -> None:
    v0 = make_token(SECRET, ANNE)
    assert re.fullmatch(r"v2\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}", v0)
    assert make_token(SECRET, ANNE, version=0) == v0  # the same link as before versions
    v1 = make_token(SECRET, ANNE, version=1)
    assert re.fullmatch(r"v3\.[A-Za-z0-9_-]{16}\.1\.[A-Za-z0-9_-]{43}", v1)
    assert v1.split(".")[1] == subscriber_id(SECRET, ANNE)  # the address is not in it
    assert "anne" not in v1
    assert check(v0) is check(v1, version=1) is Verdict.VALID


def test_a_token_of_an_earlier_version_is_stale() -> None:
    v0, v1 = make_token(SECRET, ANNE), make_token(SECRET, ANNE, version=1)
    assert check(v0, version=1) is Verdict.STALE  # unsubscribed: the old links stop
    assert check(v1, version=2) is Verdict.STALE
    assert check(v1, version=0) is Verdict.STALE
    assert check(LEGACY_ANNE, LEGACY_ANNE_ADDRESS) is Verdict.VALID  # the first format: 0
    assert check(LEGACY_ANNE, LEGACY_ANNE_ADDRESS, version=1) is Verdict.STALE
    assert resolve_token(SECRET, v1, [PIET, ANNE], versions={ANNE: 1}) == ANNE
    assert resolve_token(SECRET, v0, [PIET, ANNE], versions={ANNE: 1}) is None


def test_a_confirmation_token_expires_and_only_a_genuine_one_is_called_expired() -> None:
    until = NOW + timedelta(days=3)
    token = make_token(SECRET, ANNE, CONFIRM, version=77, expires=until)
    assert token.split(".")[2:4] == ["77", str(int(until.timestamp()))]
    assert check(token, purpose=CONFIRM, version=77) is Verdict.VALID
    late = {"purpose": CONFIRM, "version": 77}
    assert check(token, now=until - timedelta(seconds=1), **late) is Verdict.VALID
    assert check(token, now=until, **late) is Verdict.EXPIRED
    assert check(token, now=until + timedelta(days=400), **late) is Verdict.EXPIRED
    assert check(token, now=None, **late) is Verdict.EXPIRED  # no clock: not trusted
    # a later expiry written into the token breaks its MAC: forged, not "expired"
    parts = token.split(".")
    parts[3] = str(int(until.timestamp()) + 86400)
    assert check(".".join(parts), now=until, **late) is Verdict.FORGED
    assert resolve_token(SECRET, token, [ANNE], CONFIRM, versions={ANNE: 77}) is None
    assert resolve_token(SECRET, token, [ANNE], CONFIRM, versions={ANNE: 77}, now=NOW) == ANNE


@pytest.mark.parametrize(
    ("made_for", "used_as"),
    [
        (UNSUBSCRIBE, MANAGE),
        (MANAGE, UNSUBSCRIBE),
        (CONFIRM, UNSUBSCRIBE),
        (CONFIRM, MANAGE),
        (UNSUBSCRIBE, CONFIRM),
    ],
)
def test_a_token_of_one_purpose_is_forged_for_another(made_for: str, used_as: str) -> None:
    expires = NOW + timedelta(days=3) if made_for == CONFIRM else None
    for version in (0, 5):
        token = make_token(SECRET, ANNE, made_for, version=version, expires=expires)
        assert check(token, purpose=made_for, version=version) is Verdict.VALID
        assert check(token, purpose=used_as, version=version) is Verdict.FORGED


def test_forged_tokens() -> None:
    token = make_token(SECRET, ANNE, version=3)
    prefix, sid, version, mac = token.split(".")
    piet = subscriber_id(SECRET, PIET)
    flipped = mac[:5] + ("A" if mac[5] != "A" else "B") + mac[6:]
    forged = [
        f"{prefix}.{sid}.{version}.{flipped}",
        f"{prefix}.{sid}.4.{mac}",  # another version with this MAC
        f"{prefix}.{sid}.2.{mac}",
        make_token(OTHER, ANNE, version=3),  # another instance's secret
    ]
    for bad in forged:
        assert check(bad, version=3) is Verdict.FORGED, bad
    # Anne's MAC with Piet's id names Piet, and is no token of his
    assert check(f"{prefix}.{piet}.{version}.{mac}", PIET, version=3) is Verdict.FORGED
    assert check(f"{prefix}.{piet}.{version}.{mac}", ANNE, version=3) is Verdict.FORGED
    malformed = [
        f"{prefix}.{sid}.03.{mac}",  # one spelling per number
        f"{prefix}.{sid}.+3.{mac}",
        f"{prefix}.{sid}.-3.{mac}",
        f"{prefix}.{sid}. 3.{mac}",
        f"{prefix}.{sid}.{'9' * 19}.{mac}",
        f"{prefix}.{sid}.3.1.2.{mac}",
        f"{prefix}.{sid}.{mac}",
        f"{prefix}.{sid}.3.{mac}=",
        f"{prefix}.{sid}.3.{mac[:-2]}",
        f"v4.{sid}.3.{mac}",
        token + ".",
        "",
        "v3" + "." * 1100,
    ]
    for bad in malformed:
        assert read_token(bad) is None, bad
    assert read_token(12345) is None


def test_macs_and_ids_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[object, object]] = []
    real = hmac.compare_digest

    def spy(a: object, b: object) -> bool:
        compared.append((a, b))
        return real(a, b)  # type: ignore[arg-type]

    monkeypatch.setattr(tokens.hmac, "compare_digest", spy)
    parsed = read_token(make_token(SECRET, ANNE, version=2))
    assert parsed is not None
    assert check_token(SECRET, parsed, ANNE, UNSUBSCRIBE, version=2, now=NOW) is Verdict.VALID
    assert (subscriber_id(SECRET, ANNE), parsed.id) in compared  # the id
    assert any(parsed.mac in pair for pair in compared)  # the MAC


def test_links_are_signed_for_the_readers_version() -> None:
    anne = Recipient(ANNE, "Anne", "nl", ("thuiswerken",))
    v0 = with_links(anne, secret=SECRET, base_url="https://d.example.org")
    v2 = with_links(anne, secret=SECRET, base_url="https://d.example.org", version=2)
    assert v0.unsubscribe_url == f"https://d.example.org/unsubscribe/{make_token(SECRET, ANNE)}"
    assert v2.unsubscribe_url == (
        f"https://d.example.org/unsubscribe/{make_token(SECRET, ANNE, version=2)}"
    )
    assert v2.manage_url == (
        f"https://d.example.org/manage/{make_token(SECRET, ANNE, MANAGE, version=2)}"
    )


def test_versions_are_numbers_from_0() -> None:
    for bad in (-1, 10**18, True, "1"):
        with pytest.raises(ValueError):
            make_token(SECRET, ANNE, version=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        make_token(SECRET, ANNE, CONFIRM, version=1, expires=datetime(1960, 1, 1, tzinfo=UTC))
