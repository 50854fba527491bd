"""Which addresses are internal: where a fetch may not go unless the user named that host.

Plain functions, no Scrapy: the crawler's guard (`crawler.middlewares`), the browser's
(`crawler.browser`) and `monitor extract`/`monitor add` judge addresses the same way.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

__all__ = ["internal", "resolve", "same_host"]


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def internal(address: str) -> str | None:
    """What kind of internal address `address` is ('loopback', 'private', 'link-local', ...),
    or None for a public one. IPv6 forms that carry an IPv4 address are judged by it."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
        address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour or (ip.teredo or (None, None))[1]
        if inner is None and ip in NAT64:
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if inner is not None:  # it reaches that IPv4 address: judged by it
            return internal(str(inner))
    for label, flag in (("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
                        ("multicast", ip.is_multicast), ("unspecified", ip.is_unspecified),
                        ("reserved", ip.is_reserved), ("private", ip.is_private)):
        if flag:
            return label
    return None if ip.is_global else "non-public"


def same_host(first: str, url: str) -> bool:
    """Whether `url` is at the host of `first` (the URL the chain of redirects started from):
    the same name and port; http -> https on the default ports counts as the same host."""
    a, b = urlsplit(first), urlsplit(url)
    if (a.hostname or "").lower() != (b.hostname or "").lower():
        return False
    try:
        return a.port == b.port or (a.port in (None, 80, 443) and b.port in (None, 80, 443))
    except ValueError:
        return False


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, IPv4 and IPv6 (blocking: run in a thread)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM)})
