"""Who may upload photos: signed-in staff, with a one-second memory of each token that passed.

A photo is five requests (status, chunks, finish). Authenticating each one costs three queries and
a session, ~2 ms of CPU: a quarter of the server's work per photo. A token that passed the full
check is trusted again for :data:`TRUST` without the database. The price: a token revoked (sign-out,
password change) or expired can still send photo bytes for at most that long. Those bytes are
content-addressed, verified and inert until a mutation references them, and mutations go through
``/sync/push`` with the full check on every request.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from litestar import Request

from server.accounts.scope import Actor
from server.web.context import AppContext
from server.web.deps import bearer_token, provide_actor

TRUST = timedelta(seconds=1)
_MAX_TOKENS = 4096


class UploaderCache:
    def __init__(self) -> None:
        self._passed: dict[str, tuple[Actor, datetime]] = {}

    async def actor(self, request: Request, ctx: AppContext) -> Actor:
        token = bearer_token(request)
        now = ctx.clock.now()
        hit = self._passed.get(token)
        if hit is not None and now - hit[1] < TRUST and now >= hit[1]:
            return hit[0]
        actor = await provide_actor(request, ctx)  # raises for an unknown, revoked or expired token
        if len(self._passed) >= _MAX_TOKENS:
            self._passed.clear()
        self._passed[token] = (actor, now)
        return actor


async def uploader(request: Request, ctx: AppContext) -> Actor:
    """The actor of a photo request (raises 401 like every other endpoint)."""
    cache = ctx.services.setdefault("photo_uploaders", UploaderCache())
    return await cache.actor(request, ctx)
