"""HTTP/1.1 POSTs to push services: a small pool of keep-alive connections per origin (h11 framing over
asyncio streams, TLS for https).

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
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11

IDLE_LIMIT = 50.0  # seconds a connection may wait unused (servers close idle ones after 60 s or more)
MAX_ANSWER = 64 * 1024  # bytes of answer body read at most (push services answer with little or none)


class TransportError(Exception):
    """The request did not get an HTTP answer (connect failure, reset, timeout, malformed answer)."""


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self.h11 = h11.Connection(h11.CLIENT)
        self.idle_since = time.monotonic()
        self.answered = False  # any byte of the current answer received

    def usable(self) -> bool:
        return (
            not self.writer.is_closing()
            and not self.reader.at_eof()
            and time.monotonic() - self.idle_since < IDLE_LIMIT
        )

    async def exchange(self, target: str, headers: list[tuple[str, str]], body: bytes) -> Reply:
        self.answered = False
        conn = self.h11
        self.writer.write(
            conn.send(h11.Request(method="POST", target=target, headers=headers))
            + conn.send(h11.Data(data=body))
            + conn.send(h11.EndOfMessage())
        )
        await self.writer.drain()
        reply, size = None, 0
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await self.reader.read(65536)
                self.answered = self.answered or bool(data)
                conn.receive_data(data)
            elif isinstance(event, h11.Response):
                reply = Reply(event.status_code, {k.decode(): v.decode("latin-1") for k, v in event.headers})
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if size > MAX_ANSWER:
                    raise TransportError(f"answer body over {MAX_ANSWER} bytes")
            elif isinstance(event, h11.EndOfMessage):
                return reply
            elif isinstance(event, h11.ConnectionClosed):
                raise TransportError("connection closed before the answer")
            # InformationalResponse (1xx): keep reading

    def reusable(self) -> bool:
        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
            self.idle_since = time.monotonic()
            return True
        return False

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

    async def post(self, target: str, headers: dict[str, str], body: bytes, timeout: float) -> Reply:
        wire = [("host", self.authority), ("content-length", str(len(body))), *headers.items()]
        async with self.slots:
            for _ in range(2):
                conn = self._reuse()
                reused = conn is not None
                try:
                    async with asyncio.timeout(timeout):
                        conn = conn or await self._connect()
                        reply = await conn.exchange(target, wire, body)
                except TimeoutError as exc:  # before OSError, of which it is a subclass
                    if conn:
                        conn.close()
                    raise TransportError(f"no answer within {timeout:g} s") from exc
                except (OSError, EOFError, h11.ProtocolError, TransportError) as exc:
                    if conn:
                        conn.close()
                    if reused and not conn.answered:
                        continue  # the server had closed the idle connection: once more on a new one
                    raise TransportError(f"{type(exc).__name__}: {exc}") from exc
                except BaseException:
                    if conn:
                        conn.close()  # cancelled mid-exchange: the connection is in an unknown state
                    raise
                if conn.reusable():
                    self.idle.append(conn)
                else:
                    conn.close()
                return reply
        raise AssertionError("unreachable")

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()


class PushTransport:
    """POSTs with at most ``per_origin`` requests in flight (and connections open) per origin."""

    def __init__(self, per_origin: int = 16, tls: ssl.SSLContext | None = None):
        self.per_origin = per_origin
        self.tls = tls or ssl.create_default_context()
        self._origins: dict[tuple[str, str, int], _Origin] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def _origin(self, scheme: str, host: str, port: int) -> _Origin:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # Connections and semaphores belong to one event loop; a new loop starts afresh.
            self._origins, self._loop = {}, loop
        key = (scheme, host, port)
        if key not in self._origins:
            self._origins[key] = _Origin(scheme, host, port, self.per_origin, self.tls if scheme == "https" else None)
        return self._origins[key]

    async def post(self, url: str, headers: dict[str, str], body: bytes, *, timeout: float = 10.0) -> Reply:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransportError(f"not an http(s) URL: {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        return await self._origin(parts.scheme, parts.hostname, port).post(target, headers, body, timeout)

    async def aclose(self) -> None:
        for origin in self._origins.values():
            origin.close()
        self._origins = {}
