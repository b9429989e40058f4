"""Tests for the [web] section: defaults, values read, and the problems of each key."""

from __future__ import annotations

from ipaddress import ip_network
from pathlib import Path

import pytest

from pipeline.settings import DEFAULT_LISTEN, Listen, WebSettings
from settings_support import EXAMPLE, load, only, problems


def test_no_web_section_serves_nothing_from_run(tmp_path: Path) -> None:
    assert load(tmp_path, "").web == WebSettings(None, None, ())
    assert str(DEFAULT_LISTEN) == "127.0.0.1:8080"


def test_web_section_read(tmp_path: Path) -> None:
    web = load(
        tmp_path,
        """
        [web]
        listen = "[::1]:8081"
        admin_token_env = "TW_ADMIN"
        trusted_proxies = ["127.0.0.1", "10.0.0.0/8", "fd00::/8"]
        """,
    ).web
    assert web.listen == Listen("::1", 8081) and str(web.listen) == "[::1]:8081"
    assert web.admin_token_env == "TW_ADMIN"
    assert web.trusted_proxies == tuple(
        ip_network(n) for n in ("127.0.0.1/32", "10.0.0.0/8", "fd00::/8")
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"8080"', "expected host:port such as '127.0.0.1:8080'"),
        ('"::1:8080"', "expected host:port"),
        ('"[nope]:8080"', "expected host:port"),
        ('"[1::2::3]:8080"', "not an IPv6 address in '[1::2::3]:8080'"),
        ('"localhost:0"', "expected a port from 1 to 65535 in 'localhost:0'"),
        ('"localhost:70000"', "expected a port from 1 to 65535"),
        ('"http://localhost:80"', "expected host:port"),
        ("8080", "got integer 8080"),
        ('""', "got an empty string"),
    ],
)
def test_bad_listen(tmp_path: Path, value: str, message: str) -> None:
    problem = only(tmp_path, f"[web]\nlisten = {value}\n")
    assert problem.key == "web.listen"
    assert message in problem.message


def test_bad_trusted_proxies_named_one_by_one(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
        [web]
        trusted_proxies = ["10.0.0.1/8", "proxy.example.org", "192.168.1.1"]
        admin_token_env = "1BAD"
        """,
    )
    assert [p.key for p in found] == [
        "web.admin_token_env",
        "web.trusted_proxies[0]",
        "web.trusted_proxies[1]",
    ]
    assert "has host bits set" in found[1].message
    assert "expected an IP address or network such as" in found[2].message


@pytest.mark.parametrize("value", ['"127.0.0.1"', "[" + ", ".join(['"::1"'] * 101) + "]"])
def test_trusted_proxies_must_be_a_bounded_array(tmp_path: Path, value: str) -> None:
    problem = only(tmp_path, f"[web]\ntrusted_proxies = {value}\n")
    assert problem.key == "web.trusted_proxies"
    assert "expected an array of at most 100 IP addresses or networks" in problem.message


def test_unknown_web_key(tmp_path: Path) -> None:
    problem = only(tmp_path, "[web]\nport = 8080\n")
    assert problem.key == "web.port"
    assert problem.message.startswith("unknown key; expected one of: listen, admin_token_env")


def test_example_documents_the_web_section() -> None:
    text = EXAMPLE.read_text("utf-8")
    for key in ("[web]", "listen =", "admin_token_env =", "trusted_proxies ="):
        assert key in text
