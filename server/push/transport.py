"""HTTP POSTs to push services through httpx, with a bound on messages in flight per origin.

Why the bound is small: a push fan-out is thousands of tiny POSTs to a handful of origins, and
httpx's CPU per request grows with the number of connections its pool holds (it scans them as each
request starts and ends). Against the local push service on this 2-core machine plain POSTs ran at
~360/s with 1 in flight, ~420/s with 4, ~270/s with 8 and ~110/s with 64; so 4 per origin, which
also keeps the service busy while the next message is encrypted.

The body may be given as a function: it is called once a slot is free, so a message is encrypted
just before it goes out and that work overlaps the push service's work on the messages in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import httpx

from server.outbound import Outbound, RefusedDestination

Body = bytes | Callable[[], bytes]
PER_ORIGIN = 4


class TransportError(Exception):
    """The request did not get an HTTP answer (connect failure, reset, timeout, malformed answer)."""


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names


@lru_cache(maxsize=16384)  # one endpoint per device: parsed once, not once per message
def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - a bad port is refused here, not retried later
    except ValueError as exc:
        raise ValueError(f"URL not sendable: {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"URL not sendable: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


class PushTransport:
    """POSTs with at most ``per_origin`` requests in flight per origin, on one httpx client per event
    loop (its connections belong to the loop that opened them). Only to push services, and only to
    public addresses (``outbound``: strict unless told otherwise), checked on every new connection."""

    def __init__(self, per_origin: int = PER_ORIGIN, *, outbound: Outbound | None = None):
        self.per_origin = per_origin
        self.outbound = outbound or Outbound()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._allowed: dict[str, str] = {}  # endpoint → origin, checked against the push-service rule

    def _for_loop(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if loop is not self._loop or self._client is None:
            self._loop, self._slots = loop, {}
            self._client = self.outbound.client(limits=httpx.Limits(max_connections=None, max_keepalive_connections=64))
        return self._client

    def _origin(self, url: str) -> str:
        origin = self._allowed.get(url)
        if origin is None:
            origin = _origin_of(url)
            self.outbound.check_push_url(url)  # the rule may have changed since the device subscribed
            if len(self._allowed) > 16384:
                self._allowed.clear()
            self._allowed[url] = origin
        return origin

    async def _slot(self, origin: str, start_by: float | None) -> asyncio.Semaphore:
        slots = self._slots.get(origin)
        if slots is None:
            slots = self._slots[origin] = asyncio.Semaphore(self.per_origin)
        if start_by is None:
            await slots.acquire()
            return slots
        left = start_by - asyncio.get_running_loop().time()
        try:
            if left <= 0:
                raise TimeoutError
            async with asyncio.timeout(left):
                await slots.acquire()
        except TimeoutError:
            raise TransportError("no connection free in time; not sent") from None
        return slots

    async def post(
        self, url: str, headers: dict[str, str], body: Body, *, timeout: float = 10.0, start_by: float | None = None
    ) -> Reply:
        """``timeout`` bounds the exchange once it has a slot; ``start_by`` (event-loop time), if given,
        is when waiting for a free slot gives up with TransportError, nothing sent. A URL that cannot
        be sent is a ValueError (trying again will not help)."""
        origin = self._origin(url)
        client = self._for_loop()
        slots = await self._slot(origin, start_by)
        try:
            content = body() if callable(body) else body
            try:
                r = await client.post(url, headers=headers, content=content, timeout=timeout)
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                raise ValueError(f"URL not sendable: {url!r}: {exc}") from exc
            except RefusedDestination:  # resolved to an address the server does not send to
                raise
            except httpx.TimeoutException as exc:
                raise TransportError(f"no answer within {timeout:g} s") from exc
            except httpx.HTTPError as exc:
                raise TransportError(f"{type(exc).__name__}: {exc}") from exc
            return Reply(r.status_code, {k.lower(): v for k, v in r.headers.items()})
        finally:
            slots.release()

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            try:
                await client.aclose()
            except RuntimeError:  # its event loop is gone; nothing left to close cleanly
                pass
