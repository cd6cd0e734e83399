"""Sending a photo derivative over HTTP (the owner's progress page and the staff API share it)."""

from __future__ import annotations

import anyio
from litestar import Request, Response
from litestar.response import Stream

from server.photos.derivatives import Derivatives


async def derivative_response(
    request: Request, derivatives: Derivatives, sha: str, size: str, *, cache_control: str
) -> Response | Stream:
    """The ``size`` derivative of photo ``sha`` (rendered on first use), or 304 for a matching
    ``If-None-Match``. Raises the store's ``DomainError`` (404) while the photo has not arrived.

    The bytes are streamed from the store (local file or object storage) in blocks, read in a worker
    thread, rather than held whole in memory."""
    file = await anyio.to_thread.run_sync(derivatives.get, sha, size)
    headers = {"ETag": file.etag, "Cache-Control": cache_control, "X-Content-Type-Options": "nosniff"}
    if file.etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(b"", status_code=304, headers=headers)
    headers["Content-Length"] = str(file.length)
    return Stream(file.chunks(), media_type=file.content_type, headers=headers)
