"""The HTTP/1.1 framing the push transport needs (RFC 9112): write one POST, read one answer.

Only what a client of a push service meets: answers framed by Content-Length, chunked coding or the
connection's end, 1xx interim answers, ``Connection: close``. The answer body is read and dropped
(push services say what they mean in the status and headers). A hand-written codec because h11,
the obvious library, spent more CPU validating our own few headers per message than the AES-GCM
encryption of the message cost.
"""

from __future__ import annotations

import asyncio
import re

MAX_BODY = 64 * 1024  # bytes of answer body read at most
_TARGET = re.compile(r"[!-~]+")  # visible ASCII: no spaces, no CR/LF, nothing to smuggle a header in
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e]*")
_FIELD_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class ProtocolError(Exception):
    """A malformed or oversized answer."""


class NoAnswer(ProtocolError):
    """The connection ended before any byte of an answer: the request can safely go again."""


def request(authority: str, target: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    """A POST with a Content-Length. Refuses (ValueError) a target or field that could break framing."""
    if not _TARGET.fullmatch(target):
        raise ValueError(f"request target not sendable: {target!r}")
    lines = [f"POST {target} HTTP/1.1", f"host: {authority}", f"content-length: {len(body)}"]
    for name, value in headers:
        if not (_FIELD_NAME.fullmatch(name) and _FIELD_VALUE.fullmatch(value)):
            raise ValueError(f"header not sendable: {name!r}")
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


async def _head(reader: asyncio.StreamReader, first: bool) -> bytes:
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if first and not exc.partial:
            raise NoAnswer("connection closed before any answer") from None
        raise ProtocolError("connection closed in the middle of the answer's head") from None
    except asyncio.LimitOverrunError:
        raise ProtocolError("answer head too long") from None
    except (ConnectionResetError, BrokenPipeError) as exc:
        if first:
            raise NoAnswer(f"{type(exc).__name__} before any answer") from None
        raise


def _parse_head(head: bytes) -> tuple[bytes, int, dict[str, str]]:
    status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
    version, _, rest = status_line.partition(" ")
    code = rest[:3]
    if version not in ("HTTP/1.1", "HTTP/1.0") or not (code.isdigit() and len(code) == 3):
        raise ProtocolError(f"not an HTTP/1.x status line: {status_line[:80]!r}")
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep or not _FIELD_NAME.fullmatch(name):
            raise ProtocolError(f"malformed header line: {line[:80]!r}")  # also obs-fold continuations
        name, value = name.lower(), value.strip(" \t")
        if name == "content-length" and name in headers and headers[name] != value:
            raise ProtocolError("conflicting content-length")
        headers[name] = f"{headers[name]}, {value}" if name in headers and name != "content-length" else value
    return version.encode(), int(code), headers


async def _chunked(reader: asyncio.StreamReader) -> None:
    size_total = 0
    while True:
        line = await reader.readuntil(b"\r\n")
        digits = line.split(b";", 1)[0].strip()
        try:
            size = int(digits, 16)
        except ValueError:
            raise ProtocolError(f"bad chunk size {digits[:20]!r}") from None
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailer fields, dropped
                pass
            return
        size_total += size
        if size_total > MAX_BODY:
            raise ProtocolError(f"answer body over {MAX_BODY} bytes")
        await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise ProtocolError("chunk not followed by CRLF")


async def _body(reader: asyncio.StreamReader, status: int, headers: dict[str, str]) -> bool:
    """Reads the body away; returns False when the connection's end delimits it (no reuse)."""
    if status in (204, 304):
        return True
    if "transfer-encoding" in headers:
        if headers["transfer-encoding"].rsplit(",", 1)[-1].strip().lower() != "chunked":
            await _until_close(reader)
            return False
        await _chunked(reader)
        return True
    if "content-length" in headers:
        length = headers["content-length"]
        if not length.isdigit():
            raise ProtocolError(f"bad content-length {length[:20]!r}")
        if int(length) > MAX_BODY:
            raise ProtocolError(f"answer body over {MAX_BODY} bytes")
        await reader.readexactly(int(length))
        return True
    await _until_close(reader)
    return False


async def _until_close(reader: asyncio.StreamReader) -> None:
    size = 0
    while chunk := await reader.read(65536):
        size += len(chunk)
        if size > MAX_BODY:
            raise ProtocolError(f"answer body over {MAX_BODY} bytes")


async def response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bool]:
    """Status, headers (lower-case names) and whether the connection may carry another request."""
    first = True
    while True:
        try:
            version, status, headers = _parse_head(await _head(reader, first))
            first = False
            if 100 <= status < 200:
                if status == 101:
                    raise ProtocolError("unexpected 101 Switching Protocols")
                continue  # interim answer (100 Continue, 103 Early Hints): the real one follows
            reusable = await _body(reader, status, headers)
        except asyncio.IncompleteReadError:
            raise ProtocolError("connection closed in the middle of the answer") from None
        except asyncio.LimitOverrunError:
            raise ProtocolError("answer line too long") from None
        close = "close" in (t.strip().lower() for t in headers.get("connection", "").split(","))
        return status, headers, reusable and version == b"HTTP/1.1" and not close
