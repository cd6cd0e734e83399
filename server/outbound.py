"""Where the server may send HTTP requests: Web Push services and estate webhooks, never into its
own network (SSRF).

The rule, applied when a push subscription or a webhook is registered AND on every connection the
sender opens (a name may resolve differently by then):

- the host must resolve, and every address it resolves to must be public: no loopback, link-local
  (169.254.169.254 is the cloud metadata service), private, shared (100.64/10), reserved,
  multicast or unspecified address, IPv4 or IPv6, IPv4-mapped, 6to4 and NAT64 forms included;
- the sender connects to the address it checked (no second lookup that could answer otherwise)
  and follows no redirect;
- push endpoints must be https on a known push service (``WUYE_PUSH_HOSTS``: host names or
  suffixes, defaults below); webhooks must be https.

Development and tests may name hosts in ``WUYE_DEV_LOOPBACK_HOSTS`` (off by default): a listed
host may be plain http, need not be a push service, and may resolve to loopback addresses only,
never to a private or link-local one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
import httpx

# The push services of Chrome/Android (FCM), Firefox (Mozilla autopush), Edge (WNS) and Safari (Apple).
DEFAULT_PUSH_HOSTS = ("fcm.googleapis.com", "push.services.mozilla.com", "notify.windows.com", "push.apple.com")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedDestination(ValueError):
    """The URL may not be sent to; ``reason`` says why (English, for logs and ``details``)."""

    def __init__(self, reason: str):
        super().__init__(f"URL not sendable: {reason}")
        self.reason = reason


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: IPAddress) -> bool:
    """Whether an address is on the public internet (the only kind the server sends to)."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_v4(ip)
        if (inner is not None and not is_public(inner)) or ip.is_site_local:
            return False
    return ip.is_global and not (
        ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_reserved or ip.is_multicast or ip.is_unspecified
    )


def _is_loopback(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


async def resolve_host(host: str, port: int) -> list[str]:
    """The addresses of ``host`` (a name or an address literal), as the system resolver answers."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _host_matches(host: str, entries: Iterable[str]) -> bool:
    return any(host == e or host.endswith("." + e) for e in entries)


@dataclass(frozen=True)
class Outbound:
    push_hosts: tuple[str, ...] = DEFAULT_PUSH_HOSTS
    dev_loopback_hosts: frozenset[str] = frozenset()
    resolve_timeout: float = 5.0

    # --- the URL ------------------------------------------------------------------------------------

    def _parts(self, url: str) -> tuple[str, str, int]:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise RefusedDestination(f"{url!r}: {exc}") from None
        host = (parts.hostname or "").rstrip(".").lower()
        if parts.scheme not in ("http", "https") or not host:
            raise RefusedDestination(f"{url!r}: not an http(s) URL with a host")
        if parts.username is not None or parts.password is not None:
            raise RefusedDestination(f"{url!r}: credentials in the URL")
        dev = host in self.dev_loopback_hosts
        if parts.scheme != "https" and not dev:
            raise RefusedDestination(f"{url!r}: must be https")
        return host, parts.scheme, port or (443 if parts.scheme == "https" else 80)

    def check_push_url(self, url: str) -> tuple[str, int]:
        """(host, port) of a push endpoint, or RefusedDestination (no DNS here)."""
        host, _, port = self._parts(url)
        if host not in self.dev_loopback_hosts and not _host_matches(host, self.push_hosts):
            raise RefusedDestination(f"{host} is not a known push service (WUYE_PUSH_HOSTS)")
        return host, port

    def check_webhook_url(self, url: str) -> tuple[str, int]:
        host, _, port = self._parts(url)
        return host, port

    # --- the addresses ------------------------------------------------------------------------------

    async def addresses(self, host: str, port: int) -> list[str]:
        """The checked addresses to connect to; RefusedDestination if any of them is not allowed,
        ``httpcore.ConnectError`` if the name does not resolve now (worth trying again later)."""
        try:
            async with asyncio.timeout(self.resolve_timeout):
                found = await resolve_host(host, port)
        except (OSError, TimeoutError) as exc:
            raise httpcore.ConnectError(f"{host} does not resolve: {exc}") from None
        if not found:
            raise httpcore.ConnectError(f"{host} does not resolve")
        dev = host in self.dev_loopback_hosts
        for text in found:
            ip = ipaddress.ip_address(text.split("%", 1)[0])
            if not (_is_loopback(ip) if dev else is_public(ip)):
                allowed = "loopback" if dev else "public"
                raise RefusedDestination(f"{host} resolves to {ip}, not a {allowed} address")
        return found

    async def check(self, url: str, *, push: bool) -> None:
        """The registration check: URL rule and address rule (RefusedDestination or ConnectError)."""
        host, port = self.check_push_url(url) if push else self.check_webhook_url(url)
        await self.addresses(host, port)

    # --- the client ---------------------------------------------------------------------------------

    def client(self, *, timeout: float = 10.0, limits: httpx.Limits | None = None) -> httpx.AsyncClient:
        """An httpx client whose every connection goes to checked addresses only, with no redirects
        and no proxy from the environment."""
        transport = httpx.AsyncHTTPTransport(limits=limits or httpx.Limits(), trust_env=False)
        pool = transport._pool  # noqa: SLF001 - httpx has no public way to give httpcore a network backend
        if not hasattr(pool, "_network_backend"):  # pragma: no cover - an httpx/httpcore upgrade moved it
            raise RuntimeError("cannot guard outbound connections with this httpcore version")
        pool._network_backend = GuardedBackend(self)  # noqa: SLF001
        return httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False, trust_env=False)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the address rule: resolve, check every address, connect to a
    checked one. TLS still verifies the certificate against the URL's host name."""

    def __init__(self, outbound: Outbound):
        self.outbound = outbound
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        last: Exception | None = None
        for address in await self.outbound.addresses(host, port):
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        raise last or httpcore.ConnectError(f"no address of {host} answered")

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):  # pragma: no cover
        raise RefusedDestination("unix sockets are not a destination")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
