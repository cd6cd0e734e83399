"""HTTP/1.1 POSTs to push services: a small pool of keep-alive connections per origin (``http1``
framing over asyncio streams, TLS for https).

Why not httpx, which the rest of the server uses: a push fan-out is thousands of tiny POSTs to a
handful of origins, and httpx spends ~1 ms of CPU on each (its pool re-scans every connection,
twice over, each time a request starts or ends, and polls every idle socket). That capped the sender
below the push service's own speed. This pool costs a few per cent of that: a connection is taken
from a per-origin free list, used for one exchange, and put back. The number of connections per
origin is also the bound on messages in flight to that origin.

A kept-alive connection may have been closed by the server while idle; a request that fails on a
reused connection before any byte of the answer arrived is tried once more on a new connection.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from server.push import http1

Body = bytes | Callable[[], bytes]
# Messages in flight (and connections) per push service. Deep enough that the service always has
# work queued while the sender waits for the CPU on a busy machine: on 2 shared cores the bench ran
# ~240/s with 8 or 16, ~320/s with 32, ~400/s with 64, no better with 128.
PER_ORIGIN = 64
IDLE_LIMIT = 50.0  # seconds a connection may wait unused (servers close idle ones after 60 s or more)


class TransportError(Exception):
    """The request did not get an HTTP answer (connect failure, reset, timeout, malformed answer)."""


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self.idle_since = time.monotonic()

    def usable(self) -> bool:
        return (
            not self.writer.is_closing()
            and not self.reader.at_eof()
            and time.monotonic() - self.idle_since < IDLE_LIMIT
        )

    async def exchange(self, message: bytes) -> tuple[Reply, bool]:
        self.writer.write(message)
        await self.writer.drain()
        status, headers, reusable = await http1.response(self.reader)
        self.idle_since = time.monotonic()
        return Reply(status, headers), reusable

    def close(self) -> None:
        self.writer.close()


class _Origin:
    def __init__(self, scheme: str, host: str, port: int, size: int, tls: ssl.SSLContext | None):
        self.host, self.port, self.tls = host, port, tls
        default = 443 if scheme == "https" else 80
        name = f"[{host}]" if ":" in host else host  # an IPv6 literal keeps its brackets in Host
        self.authority = name if port == default else f"{name}:{port}"
        self.slots = asyncio.Semaphore(size)
        self.idle: list[_Connection] = []

    async def _connect(self) -> _Connection:
        reader, writer = await asyncio.open_connection(
            self.host, self.port, ssl=self.tls, server_hostname=self.host if self.tls else None
        )
        return _Connection(reader, writer)

    def _reuse(self) -> _Connection | None:
        while self.idle:
            conn = self.idle.pop()
            if conn.usable():
                return conn
            conn.close()
        return None

    async def _slot(self, start_by: float | None) -> None:
        if start_by is None:
            await self.slots.acquire()
            return
        left = start_by - asyncio.get_running_loop().time()
        try:
            if left <= 0:
                raise TimeoutError
            async with asyncio.timeout(left):
                await self.slots.acquire()
        except TimeoutError:
            raise TransportError("no connection free in time; not sent") from None

    async def post(
        self, target: str, headers: dict[str, str], body: Body, timeout: float, start_by: float | None
    ) -> Reply:
        fields = list(headers.items())
        if not callable(body):
            message = http1.request(self.authority, target, fields, body)
        await self._slot(start_by)
        try:
            if callable(body):
                message = http1.request(self.authority, target, fields, body())
            for fresh in (False, True):
                conn = None if fresh else self._reuse()
                reused = conn is not None
                try:
                    async with asyncio.timeout(timeout):
                        conn = conn or await self._connect()
                        reply, reusable = await conn.exchange(message)
                except TimeoutError as exc:  # before OSError, of which it is a subclass
                    if conn:
                        conn.close()
                    raise TransportError(f"no answer within {timeout:g} s") from exc
                except (OSError, http1.ProtocolError) as exc:
                    if conn:
                        conn.close()
                    if reused and isinstance(exc, (http1.NoAnswer, BrokenPipeError, ConnectionResetError)):
                        continue  # the server had closed the idle connection: once more on a new one
                    raise TransportError(f"{type(exc).__name__}: {exc}") from exc
                except BaseException:
                    if conn:
                        conn.close()  # cancelled mid-exchange: the connection is in an unknown state
                    raise
                if reusable:
                    self.idle.append(conn)
                else:
                    conn.close()
                return reply
            raise AssertionError("unreachable")
        finally:
            self.slots.release()

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()


@lru_cache(maxsize=16384)  # one endpoint per device: parsed once, not once per message
def _route(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"URL not sendable: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)  # a bad port is a ValueError too
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return parts.scheme, parts.hostname, port, target


class PushTransport:
    """POSTs with at most ``per_origin`` requests in flight (and connections open) per origin."""

    def __init__(self, per_origin: int = PER_ORIGIN, tls: ssl.SSLContext | None = None):
        self.per_origin = per_origin
        self._tls = tls
        self._origins: dict[tuple[str, str, int], _Origin] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def _origin(self, scheme: str, host: str, port: int) -> _Origin:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # Connections and semaphores belong to one event loop; a new loop starts afresh.
            self._origins, self._loop = {}, loop
        key = (scheme, host, port)
        if key not in self._origins:
            self._origins[key] = _Origin(
                scheme, host, port, self.per_origin, self._context() if scheme == "https" else None
            )
        return self._origins[key]

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()  # system CAs, hostname checks; built on first https use
        return self._tls

    async def post(
        self, url: str, headers: dict[str, str], body: Body, *, timeout: float = 10.0, start_by: float | None = None
    ) -> Reply:
        """``body`` may be a function making it: it is called once a connection is free, so a sender
        encrypts a message just before it goes out and that CPU work overlaps the push service's
        work on the messages in flight (made up front, a round's encryption ran while the service sat
        idle, then the service worked while the sender sat idle).

        ``timeout`` bounds the exchange once it has a connection; ``start_by`` (event-loop time), if
        given, is when waiting for a free connection gives up with TransportError, nothing sent. A URL,
        target or header that cannot be sent as given is a ValueError (trying again will not help)."""
        scheme, host, port, target = _route(url)
        return await self._origin(scheme, host, port).post(target, headers, body, timeout, start_by)

    async def aclose(self) -> None:
        for origin in self._origins.values():
            origin.close()
        self._origins = {}
