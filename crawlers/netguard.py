"""The private-network guard, enforced where connections are made.

The crawl client's transport (:mod:`crawlers.transport`) calls :func:`public_addresses`
for every new TCP connection (the first request, every redirect to another host, every
reconnect): it resolves the host once, refuses it when any address is not a public one
(see :func:`is_public_address`), and the transport connects to an address it checked.
So there is one DNS lookup per connection, none for IP literals, none for a reused
keep-alive connection, and no window between the check and the connect for a DNS answer
to change (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket


class PrivateAddressRefused(Exception):
    """The URL's host resolves to an address that is not a public one (loopback,
    private, shared, link-local, multicast, reserved, special-purpose...), and the
    config does not allow private networks."""


# Special-purpose blocks (IANA's IPv4 and IPv6 special-purpose address registries) that
# Python 3.11's ``is_global`` lets through, refused here:
# - globally reachable per the registry, but anycast addresses of a protocol's *nearest*
#   server (PCP, TURN, DNS-SD SRP, AMT relays, AS112 DNS sinks), which is often inside
#   the operator's or the organisation's own network, or identifiers that are not
#   locators (ORCHIDv2, drone DETs): no feed lives there;
# - not globally reachable, but missing from Python 3.11's table (documentation 3fff::/20,
#   local-use NAT64 64:ff9b:1::/48) or deprecated (6to4 relay anycast, site-local).
_NOT_PUBLIC = tuple(
    ipaddress.ip_network(block)
    for block in (
        "192.0.0.0/24",  # IETF protocol assignments, PCP and TURN anycast (.9, .10) included
        "192.31.196.0/24",  # AS112-v4
        "192.52.193.0/24",  # AMT
        "192.88.99.0/24",  # deprecated 6to4 relay anycast, 6a44 relay
        "192.175.48.0/24",  # AS112 direct delegation
        "2001::/23",  # IETF protocol assignments: Teredo, anycast, AMT, AS112, ORCHID, DETs
        "2620:4f:8000::/48",  # AS112 direct delegation
        "3fff::/20",  # documentation
        "64:ff9b:1::/48",  # local-use IPv4/IPv6 translation
        "fec0::/10",  # site-local (deprecated)
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the IPv4 address is the last 32 bits


def is_public_address(address: str) -> bool:
    """May a crawler connect to ``address``? Only to a globally reachable unicast address
    where a feed can live: ``ipaddress``'s ``is_global``, without multicast, reserved and
    the special-purpose blocks of ``_NOT_PUBLIC``.

    An IPv6 address that carries an IPv4 address is judged by that IPv4 address:
    IPv4-mapped (``::ffff:0:0/96``), NAT64 (``64:ff9b::/96``) and 6to4 (``2002::/16``).
    IPv4-compatible addresses (``::/96``, deprecated) are refused whatever they carry."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
    return (
        ip.is_global
        and not ip.is_multicast
        and not ip.is_reserved
        and not any(ip in block for block in _NOT_PUBLIC)
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
        raise OSError(f"cannot resolve {host}: {exc}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        if not is_public_address(address):
            raise refusal(host, address)
    return addresses
