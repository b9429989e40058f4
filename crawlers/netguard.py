"""The private-network guard, enforced where connections are made.

The guard wraps the connection pool's network backend: every new TCP connection (the
first request, every redirect to another host, every reconnect) resolves the host once,
refuses it when any address is loopback, private, link-local, multicast, reserved or
unspecified, and then connects to the address it checked. So there is one DNS lookup per
connection, none for IP literals, none for a reused keep-alive connection, and no window
between the check and the connect for a DNS answer to change (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore


class PrivateAddressRefused(Exception):
    """The URL's host resolves to a loopback, private, link-local, multicast or
    unspecified address, and the config does not allow private networks."""


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_unspecified
        or ip.is_reserved
    )


def refusal(host: str, address: str) -> PrivateAddressRefused:
    """The error for ``host``, which resolved to the private or local ``address``."""
    return PrivateAddressRefused(
        f"refused {host} ({address}): a private or local network address; "
        "set allow_private_networks = true to allow it"
    )


async def public_addresses(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, all of them public, or PrivateAddressRefused."""
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    else:  # an IP literal: nothing to resolve
        if not is_public_address(host):
            raise refusal(host, host)
        return [host]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        if not is_public_address(address):
            raise refusal(host, address)
    return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """A network backend that only connects to public addresses."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        last: Exception | None = None
        for address in await public_addresses(host, port):
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise PrivateAddressRefused(f"refused unix socket {path}: a local address")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guard_transport(transport: Any) -> None:
    """Install the guard on an ``httpx.AsyncHTTPTransport``'s connection pool.

    httpx has no public switch for the network backend, so this wraps the pool's
    backend; it fails loudly if a future httpx/httpcore moves it.
    """
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, httpcore.AsyncConnectionPool) or not hasattr(pool, "_network_backend"):
        raise RuntimeError("cannot install the private-network guard on this httpx version")
    pool._network_backend = GuardedBackend(pool._network_backend)
