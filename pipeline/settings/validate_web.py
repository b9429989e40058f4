"""The ``[web]`` section: where ``trendwatch serve`` listens, the admin token's variable,
and the reverse proxies trusted to name the client's address.

::

    [web]
    listen = "127.0.0.1:8080"          # host:port, IPv6 in brackets: "[::1]:8080"
    admin_token_env = "TRENDWATCH_ADMIN_TOKEN"
    trusted_proxies = ["127.0.0.1", "10.0.0.0/8"]

The checks are pure; :func:`web_settings` reads the section with the shared
:class:`~pipeline.settings.reader.Reader`, so its problems are listed with the others.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from pipeline.settings import checks
from pipeline.settings.checks import Invalid, describe, quote
from pipeline.settings.model import Listen, WebSettings
from pipeline.settings.reader import Reader, key_path

WEB_KEYS = ("listen", "admin_token_env", "trusted_proxies")
MAX_TRUSTED_PROXIES = 100
_LISTEN_RE = re.compile(
    r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9.-]+)):(?P<port>\d{1,5})"
)
_HOST_NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*\.?")
LISTEN_EXAMPLE = "host:port such as '127.0.0.1:8080', '0.0.0.0:8080' or '[::1]:8080'"
NETWORK_EXAMPLE = "an IP address or network such as '127.0.0.1', '10.0.0.0/8' or '::1'"


def listen(value: object) -> Listen:
    """``host:port``: an IPv4 address or host name, or an IPv6 address in brackets."""
    given = checks.text(value, LISTEN_EXAMPLE)
    match = _LISTEN_RE.fullmatch(given)
    if match is None:
        raise Invalid(f"expected {LISTEN_EXAMPLE}, got {quote(given)}")
    port = int(match["port"])
    if not 1 <= port <= 65535:
        raise Invalid(f"expected a port from 1 to 65535 in {quote(given)}")
    if match["v6"] is not None:
        try:
            host = str(ipaddress.IPv6Address(match["v6"]))
        except ValueError:
            raise Invalid(f"not an IPv6 address in {quote(given)}; {LISTEN_EXAMPLE}") from None
        return Listen(host, port)
    host = match["host"]
    if not _HOST_NAME_RE.fullmatch(host) or len(host) > 253:
        raise Invalid(f"not a host name or IPv4 address in {quote(given)}; {LISTEN_EXAMPLE}")
    return Listen(host, port)


def network(value: object) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """An IP address (a network of one) or a network in CIDR notation, without host bits."""
    given = checks.text(value, NETWORK_EXAMPLE)
    try:
        return ipaddress.ip_network(given, strict=True)
    except ValueError as exc:
        raise Invalid(f"expected {NETWORK_EXAMPLE}, got {quote(given)} ({exc})") from None


def _trusted_proxies(
    reader: Reader, table: dict[str, Any]
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    key = key_path("web", "trusted_proxies")
    if "trusted_proxies" not in table:
        return ()
    value = table["trusted_proxies"]
    if not isinstance(value, list) or len(value) > MAX_TRUSTED_PROXIES:
        reader.add(
            key,
            f"expected an array of at most {MAX_TRUSTED_PROXIES} IP addresses or networks,"
            f" got {describe(value)}",
        )
        return ()
    found = [reader.checked(item, key_path(key, i), network) for i, item in enumerate(value)]
    return tuple(net for net in found if net is not None)


def web_settings(reader: Reader, data: dict[str, Any]) -> WebSettings:
    """The ``[web]`` table (all keys optional; absent: no web server in ``run``)."""
    table = reader.table(data, "web") or {}
    reader.known_keys(table, "web", WEB_KEYS)
    return WebSettings(
        listen=reader.optional(table, "web", "listen", listen, None),
        admin_token_env=reader.optional(table, "web", "admin_token_env", checks.env_name, None),
        trusted_proxies=_trusted_proxies(reader, table),
    )
