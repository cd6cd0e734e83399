"""Strict decoding of JSON request bodies.

Litestar converts a request body into its ``data`` Struct in msgspec's lax mode (``strict=False``,
which query strings need): ``{"eta": 0}`` became 1970-01-01 and ``{"active": 0}`` became ``False``.
Bodies are JSON and carry their own types, so they are decoded strictly here first (a
``before_request`` hook; the body bytes are cached on the request, so Litestar reads them again for
free) and a wrong type is the usual 400 ``validation_error`` that changes nothing.
"""

from __future__ import annotations

import typing
from functools import cache

import msgspec
from litestar import Request

from server.errors import DomainError
from server.wire import Wire

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _is_wire(tp) -> bool:
    if isinstance(tp, type) and issubclass(tp, Wire):
        return True
    return any(_is_wire(arg) for arg in typing.get_args(tp))


@cache
def body_type(handler) -> object | None:
    field = handler.parsed_fn_signature.parameters.get("data")
    if field is None:
        return None
    tp = field.annotation
    return tp if _is_wire(tp) else None


async def strict_body(request: Request) -> None:
    target = body_type(request.route_handler)
    if target is None or request.content_type[0] in FORM_TYPES:
        return
    body = await request.body()
    if not body:
        return  # Litestar answers the missing body itself
    try:
        msgspec.json.decode(body, type=target, strict=True)
    except msgspec.ValidationError as exc:
        # Typed decoding stops at the first wrong field: a body that is not JSON at all after it
        # is malformed first (checked on this error path only).
        _well_formed(body)
        code = "unknown_field" if "unknown field" in str(exc) else "validation_error"
        raise DomainError(code, str(exc)) from None
    except (msgspec.DecodeError, RecursionError) as exc:
        raise _malformed(exc) from None


def _malformed(exc: Exception) -> DomainError:
    return DomainError("malformed_json", f"the request body is not valid JSON: {exc}")


def _well_formed(body: bytes) -> None:
    try:
        msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise _malformed(exc) from None
