"""The request class of the app: body decoding that fails only as a client error.

msgspec raises RecursionError (not a DecodeError) for a body nested deeper than the interpreter's
recursion limit (``{"phone":[[[…]]]}`` a thousand deep); Litestar lets that through as a 500 with a
traceback, before any route or authentication runs. Here it is a 400 ``malformed_json``.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException

TOO_DEEP = "malformed JSON: the body is nested deeper than the server accepts"


class WuyeRequest(Request):
    async def json(self) -> Any:
        try:
            return await super().json()
        except RecursionError:
            raise ClientException(TOO_DEEP) from None

    async def msgpack(self) -> Any:
        try:
            return await super().msgpack()
        except RecursionError:
            raise ClientException(TOO_DEEP) from None
