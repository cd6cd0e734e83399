"""Compressed answers: brotli or gzip, as the client's ``Accept-Encoding`` allows, for text only.

A 1,000-change pull page is ~540 KB of JSON and ~56 KB gzipped; on a 1.6 Mbit/s phone link the
difference is seconds per page. Litestar's compression middleware does the encoding (brotli through
the ``brotli`` package, gzip as the fallback); this module decides *what* it may touch:

- only text that compresses: JSON, HTML, JavaScript, CSS, SVG, the web manifest, plain text and
  CSV. Never photos (JPEG, PNG, WebP are compressed already: recompressing costs CPU and gains
  nothing) and never the board's event stream (each event must leave as it happens; a compressor
  in the way holds bytes back and gains little on small events);
- never an answer that already carries a ``Content-Encoding`` (a precompressed static file);
- ``Vary: Accept-Encoding`` on every compressible answer, compressed or not, so that a shared cache
  never hands a brotli body to a client that did not ask for it (or a plain one to all).

Negotiation honours ``q=0`` (RFC 9110 §12.5.3): ``br;q=0`` means no brotli, whatever substring
the header holds.

The PWA's static files are served precompressed (:func:`precompressed`): the build writes
``.br`` and ``.gz`` next to each text file (brotli at its best quality, which is too slow to run
per request), and the ``/app/`` router answers with them when accepted.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

import anyio
from litestar.config.compression import CompressionConfig
from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.enums import CompressionEncoding
from litestar.middleware.compression import CompressionMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

COMPRESSIBLE = (
    "application/json",
    "application/javascript",
    "application/manifest+json",
    "application/problem+json",
    "text/html",
    "text/javascript",
    "text/css",
    "text/plain",
    "text/csv",
    "image/svg+xml",
)
#: Below this, the headers and the encoder's framing cost more than they save.
MINIMUM_SIZE = 512


def _compressible(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() in COMPRESSIBLE


def accepted_encodings(header: str) -> set[str]:
    """The codings ``Accept-Encoding`` allows (``q=0`` refuses one; ``*`` is not taken as brotli)."""
    out = set()
    for part in header.split(","):
        name, *params = (x.strip() for x in part.split(";"))
        q = 1.0
        for param in params:
            if param.lower().startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        if name and q > 0:
            out.add(name.lower())
    return out


class TextCompression(CompressionMiddleware):
    """Litestar's middleware, applied only where this module says (see the module doc)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        accepted = accepted_encodings(Headers.from_scope(scope).get("accept-encoding", ""))
        encoding = None
        if CompressionEncoding.BROTLI in accepted:
            encoding = CompressionEncoding.BROTLI
        elif CompressionEncoding.GZIP in accepted:
            encoding = CompressionEncoding.GZIP
        compressing = self.create_compression_send_wrapper(_one_vary(send), encoding, scope) if encoding else None
        chosen: Send | None = None

        async def choose(message: Message) -> None:
            nonlocal chosen
            if chosen is None and message["type"] == "http.response.start":
                headers = MutableScopeHeaders(message)
                text = _compressible(headers.get("content-type", ""))
                if text:
                    _vary(headers)
                chosen = send
                if text and compressing is not None and "content-encoding" not in headers:
                    chosen = compressing
            await (chosen or send)(message)

        await self.app(scope, receive, choose)


def _vary(headers: MutableScopeHeaders) -> None:
    if "accept-encoding" not in headers.get("vary", "").lower():
        headers.extend_header_value("vary", "Accept-Encoding")


def _one_vary(send: Send) -> Send:
    """The parent adds ``Vary: Accept-Encoding`` when it compresses; ``choose`` added it already."""

    async def deduplicated(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableScopeHeaders(message)
            vary = [v.strip() for v in headers.get("vary", "").split(",") if v.strip()]
            if vary:
                headers["vary"] = ", ".join(dict.fromkeys(vary))
        await send(message)

    return deduplicated


def compression_config() -> CompressionConfig:
    return CompressionConfig(
        backend="brotli",
        brotli_gzip_fallback=True,
        minimum_size=MINIMUM_SIZE,
        # Quality 4 and gzip level 6: per request, the CPU matters as much as the bytes; a 540 KB
        # pull page shrinks ~10x either way. The static files get the best quality at build time.
        brotli_quality=4,
        gzip_compress_level=6,
        middleware_class=TextCompression,
    )


_ENCODED_SUFFIX = {"br": ".br", "gzip": ".gz"}


def precompressed(dist: Path, mount: str = "/app"):
    """Middleware for the static router: ``/app/x.js`` answered from ``x.js.br`` (or ``.gz``) when
    the client accepts it and the build made it, with the original file's type and the static
    router's caching (``no-cache`` with an ETag; ``If-None-Match`` answers 304). Anything else (no
    such file, not accepted, not text) goes to the static router as before."""
    root = dist.resolve()

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
                await app(scope, receive, send)
                return
            rel = scope["path"][len(mount) :].lstrip("/")
            target = (root / rel) if rel else root
            if target.is_dir():
                target = target / "index.html"
            content_type = mimetypes.guess_type(target.name)[0] or ""
            chosen = None
            if _compressible(content_type):
                accepted = accepted_encodings(Headers.from_scope(scope).get("accept-encoding", ""))
                for name, suffix in _ENCODED_SUFFIX.items():
                    encoded = target.with_name(target.name + suffix).resolve()
                    if name in accepted and encoded.is_relative_to(root) and encoded.is_file():
                        chosen = name, encoded
                        break
            if chosen is None:
                await app(scope, receive, send)
                return
            encoding, encoded = chosen
            await _send_file(scope, send, encoded, content_type, encoding)

        return middleware

    return factory


async def _send_file(scope: Scope, send: Send, path: Path, content_type: str, encoding: str) -> None:
    stat = path.stat()
    etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}-{encoding}"'
    if content_type.startswith("text/") or content_type.endswith(("javascript", "json")):
        content_type += "; charset=utf-8"
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-encoding", encoding.encode()),
        (b"vary", b"Accept-Encoding"),
        (b"etag", etag.encode()),
        # As the static router answers (server/web/pwa.py): the service worker holds the offline copy.
        (b"cache-control", b"no-cache"),
    ]
    if_none_match = Headers.from_scope(scope).get("if-none-match", "")
    if etag in (x.strip() for x in if_none_match.split(",")):
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    body = await anyio.Path(path).read_bytes()
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
