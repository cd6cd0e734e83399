"""JSON endpoints read only JSON: a body sent as ``text/plain`` (or anything else) is 415.

A ``text/plain`` POST is a "simple" cross-origin request that a browser sends without a preflight;
parsing it as JSON anyway widened what another site could make a browser do. Every handler that takes
a ``JSONBody`` requires ``Content-Type: application/json`` (a ``charset`` parameter is fine) whenever
a body is sent. The refusal is the usual ``{code, message}`` shape. (``/sync/push`` decodes its body
itself, after authenticating, under the sync protocol's own error rules; it is not covered here.)
"""

from __future__ import annotations

from litestar import Request
from litestar.enums import RequestEncodingType

from server.errors import DomainError

JSON_TYPES = ("application/json",)


def takes_json(handler) -> bool:
    data = handler.parsed_fn_signature.parameters.get("data")
    kwarg = data.kwarg_definition if data is not None else None
    return getattr(kwarg, "media_type", None) is RequestEncodingType.JSON


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return (length is not None and length.strip() != "0") or "transfer-encoding" in request.headers


async def require_json(request: Request) -> None:
    """``before_request`` hook of the app."""
    if request.method in ("GET", "HEAD", "OPTIONS", "DELETE") or not _has_body(request):
        return
    if not takes_json(request.route_handler):
        return
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in JSON_TYPES:
        raise DomainError(
            "unsupported_media_type",
            f"send this body as application/json (got {media_type or 'no Content-Type'})",
            status=415,
        )
