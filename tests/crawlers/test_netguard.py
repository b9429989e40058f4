"""The private-network guard (crawlers.netguard): which addresses a crawler may connect to.

The tables below are a transcription of IANA's IPv4 and IPv6 Special-Purpose Address
Registries (iana-ipv4-special-registry, iana-ipv6-special-registry), with the
registry's "Globally Reachable" column (None where it says N/A or leaves it blank), and
the guard's decision for each block: REFUSE, or BY_IPV4 (judged by the IPv4 address the
IPv6 address carries). Every block the registry calls not globally reachable is refused.
The globally reachable ones are refused as well, except NAT64's 64:ff9b::/96, because no
feed lives at them: PCP, TURN, DNS-SD SRP, AMT and AS112 addresses are anycast addresses
of the *nearest* such server, often inside one's own or the operator's network, and
ORCHIDv2 and DET prefixes hold identifiers, not locators.
"""

from __future__ import annotations

import asyncio
import ipaddress
from urllib.parse import urlsplit

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from crawl_support import run_with_client
from crawlers import netguard
from crawlers.http import CrawlClient, FetchResult, fetch
from crawlers.netguard import is_public_address

REFUSE, BY_IPV4 = "refuse", "by IPv4"

# (address block, name, globally reachable per IANA, the guard's decision)
IPV4_SPECIAL: list[tuple[str, str, bool | None, str]] = [
    ("0.0.0.0/8", '"This network"', False, REFUSE),
    ("0.0.0.0/32", '"This host on this network"', False, REFUSE),
    ("10.0.0.0/8", "Private-Use", False, REFUSE),
    ("100.64.0.0/10", "Shared Address Space", False, REFUSE),
    ("127.0.0.0/8", "Loopback", False, REFUSE),
    ("169.254.0.0/16", "Link Local", False, REFUSE),
    ("172.16.0.0/12", "Private-Use", False, REFUSE),
    ("192.0.0.0/24", "IETF Protocol Assignments", False, REFUSE),
    ("192.0.0.0/29", "IPv4 Service Continuity Prefix", False, REFUSE),
    ("192.0.0.8/32", "IPv4 dummy address", False, REFUSE),
    ("192.0.0.9/32", "Port Control Protocol Anycast", True, REFUSE),
    ("192.0.0.10/32", "Traversal Using Relays around NAT Anycast", True, REFUSE),
    ("192.0.0.170/32", "NAT64/DNS64 Discovery", False, REFUSE),
    ("192.0.0.171/32", "NAT64/DNS64 Discovery", False, REFUSE),
    ("192.0.2.0/24", "Documentation (TEST-NET-1)", False, REFUSE),
    ("192.31.196.0/24", "AS112-v4", True, REFUSE),
    ("192.52.193.0/24", "AMT", True, REFUSE),
    ("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", None, REFUSE),
    ("192.88.99.2/32", "6a44-relay anycast address", False, REFUSE),
    ("192.168.0.0/16", "Private-Use", False, REFUSE),
    ("192.175.48.0/24", "Direct Delegation AS112 Service", True, REFUSE),
    ("198.18.0.0/15", "Benchmarking", False, REFUSE),
    ("198.51.100.0/24", "Documentation (TEST-NET-2)", False, REFUSE),
    ("203.0.113.0/24", "Documentation (TEST-NET-3)", False, REFUSE),
    ("240.0.0.0/4", "Reserved", False, REFUSE),
    ("255.255.255.255/32", "Limited Broadcast", False, REFUSE),
    # not in the special-purpose registry: multicast has a registry of its own
    ("224.0.0.0/4", "Multicast", None, REFUSE),
]
IPV6_SPECIAL: list[tuple[str, str, bool | None, str]] = [
    ("::1/128", "Loopback Address", False, REFUSE),
    ("::/128", "Unspecified Address", False, REFUSE),
    ("::ffff:0:0/96", "IPv4-mapped Address", False, BY_IPV4),
    ("64:ff9b::/96", "IPv4-IPv6 Translat.", True, BY_IPV4),
    ("64:ff9b:1::/48", "IPv4-IPv6 Translat.", False, REFUSE),
    ("100::/64", "Discard-Only Address Block", False, REFUSE),
    ("100:0:0:1::/64", "Dummy IPv6 Prefix", False, REFUSE),
    ("2001::/23", "IETF Protocol Assignments", False, REFUSE),
    ("2001::/32", "TEREDO", None, REFUSE),
    ("2001:1::1/128", "Port Control Protocol Anycast", True, REFUSE),
    ("2001:1::2/128", "Traversal Using Relays around NAT Anycast", True, REFUSE),
    ("2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", True, REFUSE),
    ("2001:2::/48", "Benchmarking", False, REFUSE),
    ("2001:3::/32", "AMT", True, REFUSE),
    ("2001:4:112::/48", "AS112-v6", True, REFUSE),
    ("2001:10::/28", "Deprecated (previously ORCHID)", None, REFUSE),
    ("2001:20::/28", "ORCHIDv2", True, REFUSE),
    ("2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", True, REFUSE),
    ("2001:db8::/32", "Documentation", False, REFUSE),
    ("2002::/16", "6to4", None, BY_IPV4),
    ("2620:4f:8000::/48", "Direct Delegation AS112 Service", True, REFUSE),
    ("3fff::/20", "Documentation", False, REFUSE),
    ("5f00::/16", "Segment Routing (SRv6) SIDs", False, REFUSE),
    ("fc00::/7", "Unique-Local", False, REFUSE),
    ("fe80::/10", "Link-Local Unicast", False, REFUSE),
    # not in the special-purpose registry
    ("::/96", "IPv4-compatible (deprecated, RFC 4291)", None, REFUSE),
    ("::ffff:0:0:0/96", "IPv4-translated (SIIT, RFC 2765)", None, REFUSE),
    ("fec0::/10", "Site-local (deprecated, RFC 3879)", None, REFUSE),
    ("ff00::/8", "Multicast", None, REFUSE),
]
SPECIAL = IPV4_SPECIAL + IPV6_SPECIAL


def first_middle_last(block: str) -> list[str]:
    net = ipaddress.ip_network(block)
    return list(dict.fromkeys(str(net[i]) for i in (0, net.num_addresses // 2, -1)))


def carried_ipv4(address: str) -> str:
    ip = ipaddress.IPv6Address(address)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        return str(ip.sixtofour)
    return str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))  # NAT64


def test_no_block_is_accepted_as_such() -> None:
    """Only the blocks that carry an IPv4 address may hold an acceptable address: the
    NAT64 prefix (globally reachable), 6to4 (N/A) and IPv4-mapped addresses (not
    reachable on the wire, but what a dual-stack socket connects to an IPv4 address by)."""
    by_ipv4 = {block for block, _, _, decision in SPECIAL if decision == BY_IPV4}
    assert by_ipv4 == {"::ffff:0:0/96", "64:ff9b::/96", "2002::/16"}
    blocks = [row[0] for row in SPECIAL]
    assert len(blocks) == len(set(blocks))


@pytest.mark.parametrize(
    ("block", "name", "reachable", "decision"), SPECIAL, ids=[row[0] for row in SPECIAL]
)
def test_special_purpose_blocks(
    block: str, name: str, reachable: bool | None, decision: str
) -> None:
    for address in first_middle_last(block):
        if decision == REFUSE:
            assert not is_public_address(address), f"{address} ({name})"
        else:
            ipv4 = carried_ipv4(address)
            assert is_public_address(address) == is_public_address(ipv4), f"{address} ({ipv4})"


@pytest.mark.parametrize(
    "address",
    [
        "100.100.100.200",  # a cloud's metadata service, in carrier-grade NAT space
        "100.64.0.1",
        "169.254.169.254",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2002:6464:64c8::",  # 6to4 of 100.100.100.200
        "2002:c058:6301::",  # 6to4 of the deprecated relay anycast 192.88.99.1
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::127.0.0.1",
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b::6464:64c8",  # NAT64 of 100.100.100.200
        "::ffff:100.100.100.200",
        "::ffff:192.0.0.9",
        "::127.0.0.1",  # IPv4-compatible
        "::93.184.215.14",  # IPv4-compatible, of a public address: still refused
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "fe80::1%eth0",
        "4000::1",  # unallocated (reserved by the IETF)
    ],
)
def test_private_addresses_in_disguise_are_refused(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize(
    "address",
    [
        "93.184.215.14",
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
        "1.1.1.1",
        "2001:4860:4860::8888",
        "::ffff:93.184.215.14",  # IPv4-mapped, of a public address
        "64:ff9b::5db8:d70e",  # NAT64 of 93.184.215.14 (an IPv6-only host's DNS64 answer)
        "2002:5db8:d70e::1",  # 6to4 of 93.184.215.14
        # just outside special-purpose blocks
        "100.63.255.255",
        "100.128.0.0",
        "192.0.1.255",
        "198.17.255.255",
        "198.20.0.0",
        "223.255.255.254",
        "2001:200::1",
        "3fff:1000::1",
    ],
)
def test_public_addresses_are_accepted(address: str) -> None:
    assert is_public_address(address)


# --- the probes: loopback spelled 20+ ways, redirects into private addresses ---------

LOOPBACK_SPELLINGS = [
    "127.0.0.1",
    "localhost",
    "LocalHost",
    "127.1",
    "127.0.1",
    "2130706433",
    "0x7f000001",
    "0x7f.0.0.1",
    "0x7F.1",
    "017700000001",
    "127.127.127.127",
    "127。0。0。1",  # ideographic full stops: IDNA makes them dots
    "0",
    "0.0.0.0",
    "[::1]",
    "[0:0:0:0:0:0:0:1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[::ffff:0:127.0.0.1]",
    "[::127.0.0.1]",
    "[64:ff9b::127.0.0.1]",
    "[2002:7f00:1::]",
    "[::]",
]


def get(url: str, **options: object) -> FetchResult:
    async def work(client: CrawlClient) -> FetchResult:
        return await fetch(client, url)

    return run_with_client(work, **options)


def test_loopback_spellings_are_refused_before_any_connection(server: HTTPServer) -> None:
    server.expect_request("/feed.xml").respond_with_data("<rss/>")
    assert len(LOOPBACK_SPELLINGS) >= 20
    for host in LOOPBACK_SPELLINGS:
        result = get(f"http://{host}:{server.port}/feed.xml", allow_private_networks=False)
        assert result.error and result.error.startswith("refused "), (host, result.error)
        assert "private or local network address" in result.error, host
    assert server.log == []


def test_the_blog_crawlers_guard_refuses_the_same_spellings() -> None:
    from crawlers.blog.spider import _refusal

    async def verdicts() -> list[str | None]:
        hosts = [urlsplit(f"http://{h}:80/").hostname or "" for h in LOOPBACK_SPELLINGS]
        return [await _refusal(h, 80) for h in hosts if h != "127。0。0。1"]

    for reason in asyncio.run(verdicts()):
        assert reason and "private or local network address" in reason


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.2:{port}/feed.xml",
        "http://[::1]:{port}/feed.xml",
        "http://10.0.0.1/feed.xml",
        "http://100.100.100.200/latest/meta-data/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
        "http://[2002:7f00:2::]:{port}/feed.xml",
        "http://[::ffff:7f00:2]:{port}/feed.xml",
    ],
)
def test_redirects_to_private_addresses_are_refused_before_connecting(
    server: HTTPServer, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    """127.0.0.1 plays a public site that redirects into a private address."""
    real = netguard.is_public_address
    monkeypatch.setattr(netguard, "is_public_address", lambda a: a == "127.0.0.1" or real(a))
    location = target.format(port=server.port)
    server.expect_request("/start").respond_with_response(
        Response(status=302, headers={"Location": location})
    )
    result = get(server.url_for("/start"), allow_private_networks=False)
    assert result.error and "private or local network address" in result.error, result.error
    assert [request.path for request, _ in server.log] == ["/start"]


# --- what a refusal is called ------------------------------------------------------


def test_a_page_whose_robots_txt_the_guard_refuses_is_refused_as_private_not_by_robots() -> None:
    from crawlers.fulltext import FullTextError, fetch_full_text
    from crawlers.pages import fetch_page
    from crawlers.robots import RobotsCache

    async def work(client: CrawlClient) -> tuple[object, FetchResult]:
        robots = RobotsCache(client)
        article = await fetch_full_text(client, "http://10.0.0.1/nieuws/1", robots.allowed)
        page = await fetch_page(client, "http://10.0.0.1/nieuws/2", robots)
        return article, page

    article, page = run_with_client(work, allow_private_networks=False)
    assert isinstance(article, FullTextError) and article.kind == "private-address"
    assert article.error.startswith("refused 10.0.0.1 (10.0.0.1): a private or local network")
    assert page.refused_private and not page.blocked_by_robots
    assert (page.error or "").startswith("refused 10.0.0.1 (10.0.0.1)")
