"""The device stream over HTTP (thin; see ``server/syncing/live.py`` and PROTOCOL.md §7a).

``EventSource`` cannot send an Authorization header and the PWA signs in with a bearer token (no
cookie), so the phone asks ``POST /sync/ticket`` (with its token) for a 60-second signed ticket
naming its session and opens ``GET /sync/events?ticket=…&client_id=…``. A bearer header works too
(other clients, the benchmark)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from server.accounts.scope import Actor
from server.accounts.service import authenticate
from server.board import tickets
from server.errors import Unauthorized
from server.syncing import live
from server.syncing.store import audiences_of
from server.web.context import AppContext
from server.web.deps import bearer_token

PURPOSE = "device"


@post("/ticket", status_code=200)
async def device_ticket(actor: NamedDependency[Actor], ctx: NamedDependency[AppContext]) -> dict:
    """A 60-second ticket for ``GET /sync/events?ticket=…``."""
    ticket, expires = tickets.issue(ctx.settings.secret, actor, ctx.clock.now(), PURPOSE)
    return {"ticket": ticket, "expires_at": expires.isoformat()}


def _last_event_id(request: Request, query: str | None) -> int | None:
    raw = request.headers.get("last-event-id") or query
    if raw is None or not raw.strip().isdigit() or len(raw.strip()) > 18:
        return None  # unknown: the phone pulls on its own when it (re)connects without one
    return int(raw.strip())


@get("/events", opt={"auth": "optional"})  # a bearer token, or ?ticket=
async def device_events(
    request: Request,
    ctx: NamedDependency[AppContext],
    ticket: Annotated[str | None, QueryParameter(name="ticket", max_length=200)] = None,
    client_id: Annotated[str | None, QueryParameter(name="client_id", max_length=36)] = None,
    last_event_id: Annotated[str | None, QueryParameter(name="last_event_id", max_length=20)] = None,
) -> ServerSentEvent:
    """Server-Sent Events: ``{"type": "hello", "top"}`` first, then ``{"type": "changed", "top"}``
    whenever a change enters the caller's pull scope (pull now), ``{"type": "bye", "reason"}`` when
    the server ends the stream (reconnect with a new ticket unless ``signed_out``), and an
    ``event: ping`` every 15 s. Event ids are change-log positions: a reconnect with ``Last-Event-ID`` (or
    ``?last_event_id=``) hears ``changed`` at once if anything came for the caller meanwhile."""
    async with ctx.db.reader() as session:
        if request.headers.get("authorization"):
            actor = await authenticate(session, bearer_token(request), ctx.clock)
        elif ticket:
            actor = await tickets.redeem(session, ctx.settings.secret, ticket, ctx.clock.now(), PURPOSE)
        else:
            raise Unauthorized("sign in required (Authorization: Bearer <token>, or ?ticket= from POST /sync/ticket)")
        audiences = await audiences_of(session, actor)
    since = _last_event_id(request, last_event_id)

    async def stream() -> AsyncIterator[ServerSentEventMessage]:
        async for out in live.events(ctx, actor, audiences, since, client_id):
            yield ServerSentEventMessage(
                data=json.dumps(out["data"]),
                event=out.get("event"),
                id=str(out["id"]) if "id" in out else None,
                retry=out.get("retry"),
            )

    # nginx buffers proxied answers unless told not to; caches and transforms would hold events back.
    return ServerSentEvent(stream(), headers={"X-Accel-Buffering": "no", "Cache-Control": "no-cache, no-transform"})


stream_router = Router(path="/sync", route_handlers=[device_ticket, device_events], tags=["sync"])
