"""Desk and supervisor views over HTTP (thin): the live board and its event stream, the household
finder and history, KPI drill-down and the steward scorecard."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from sqlalchemy import and_
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.scope import Actor
from server.accounts.service import authenticate
from server.board import desk, drilldown, scorecard, service, tickets
from server.board.live import live_for
from server.errors import Unauthorized
from server.orders import kpi
from server.orders.kpi_routes import provide_scopes
from server.orders.models import Category, Kind
from server.web import dates
from server.web.context import AppContext
from server.web.deps import bearer_token

HEARTBEAT_SECONDS = 15.0  # a comment line this often keeps proxies from closing an idle stream
RETRY_MS = 3000

Q = QueryParameter


# --- the board -------------------------------------------------------------------------------------------


@get("/")
async def get_board(
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
    estate_id: Annotated[uuid.UUID | None, Q(name="estate_id")] = None,
    department: Annotated[str | None, Q(name="department", max_length=20)] = None,
) -> dict:
    estate = await service.board_estate(db, actor, estate_id)
    return await service.board(db, estate, ctx.clock.now(), department=department)


@post("/ticket", status_code=200)
async def stream_ticket(actor: NamedDependency[Actor], ctx: NamedDependency[AppContext]) -> dict:
    """A 60-second ticket for ``GET /api/board/events?ticket=…`` (EventSource cannot send headers)."""
    ticket, expires = tickets.issue(ctx.settings.secret, actor, ctx.clock.now())
    return {"ticket": ticket, "expires_at": expires.isoformat()}


async def _stream_actor(request: Request, ctx: AppContext, ticket: str | None) -> Actor:
    async with ctx.db.reader() as session:
        if request.headers.get("authorization"):
            return await authenticate(session, bearer_token(request), ctx.clock)
        if ticket:
            return await tickets.redeem(session, ctx.settings.secret, ticket, ctx.clock.now())
    raise Unauthorized("sign in required (Authorization: Bearer <token>, or ?ticket= from POST /api/board/ticket)")


@get("/events", opt={"auth": "optional"})  # a bearer token, or ?ticket=
async def board_events(
    request: Request,
    ctx: NamedDependency[AppContext],
    estate_id: Annotated[uuid.UUID | None, Q(name="estate_id")] = None,
    ticket: Annotated[str | None, Q(name="ticket", max_length=200)] = None,
) -> ServerSentEvent:
    """Server-Sent Events: first ``{"type": "hello"}``, then ``{"type": "order", "id", "status",
    "assignee_id", "version"}`` for every committed change to an order of the estate, and
    ``{"type": "resync"}`` when changes may have been missed (reload the board)."""
    actor = await _stream_actor(request, ctx, ticket)
    async with ctx.db.reader() as session:
        estate = await service.board_estate(session, actor, estate_id)
    keep = service.stream_filter(estate)
    live = live_for(ctx)

    async def events() -> AsyncIterator[ServerSentEventMessage]:
        async with live.subscription() as sub:
            yield ServerSentEventMessage(data=json.dumps({"type": "hello", "estate_id": str(estate)}), retry=RETRY_MS)
            while True:
                message = await sub.next(timeout=HEARTBEAT_SECONDS)
                if message is None:
                    yield ServerSentEventMessage(comment="keep-alive", data=None)
                elif (out := keep(message)) is not None:
                    yield ServerSentEventMessage(data=json.dumps(out))

    return ServerSentEvent(events())


board_router = Router(path="/api/board", route_handlers=[get_board, stream_ticket, board_events], tags=["board"])


# --- front desk ------------------------------------------------------------------------------------------


@get("/desk/households")
async def find_households(
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
    q: Annotated[str, Q(min_length=1, max_length=50)],
    limit: Annotated[int, Q(ge=1, le=100)] = 20,
) -> list[dict]:
    return await desk.find(db, actor, q, ctx.clock.now(), limit=limit)


@get("/households/{household_id:uuid}/history")
async def household_history(
    household_id: FromPath[uuid.UUID],
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    return await desk.history(db, actor, household_id, ctx.clock.now())


desk_router = Router(path="/api", route_handlers=[find_households, household_history], tags=["desk"])


# --- KPI drill-down and scorecard ------------------------------------------------------------------------

Metric = Literal[
    "complaint_timeliness",
    "repeat_complaint_rate",
    "satisfaction",
    "callback_rate",
    "response",
    "resolution",
    "volume",
    "interaction_rate",
    "convenience_coverage",
    "response_speedup",
]


@get("/kpi/orders", dependencies={"scopes": Provide(provide_scopes)})
async def kpi_orders(
    scopes: NamedDependency[tuple],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
    metric: Annotated[Metric, Q(name="metric")],
    outcome: Annotated[Literal["bad", "all"], Q(name="outcome")] = "bad",
    kind: Annotated[Kind | None, Q(name="kind")] = None,
    category: Annotated[Category | None, Q(name="category")] = None,
    shift: Annotated[Literal["office", "after_hours"] | None, Q(name="shift")] = None,
    limit: Annotated[int, Q(ge=1, le=2000)] = 500,
) -> dict:
    """The orders behind a KPI figure (same query parameters as ``GET /api/kpi/``)."""
    period, current, _previous = scopes
    if metric == "convenience_coverage":  # counted over the 365 days up to the period's end
        current = kpi.Scope(
            current.estate_id, current.end - kpi.COVERAGE_WINDOW, current.end, current.grid_id, current.department
        )
    where = drilldown.from_scope(current)
    if shift is not None:
        after = kpi.after_hours_clause(db.bind.dialect.name)
        where = and_(where, after if shift == "after_hours" else ~after)
    result = await drilldown.orders_behind(
        db,
        where,
        metric,
        bad=outcome == "bad",
        now=ctx.clock.now(),
        kind=kind,
        category=category,
        limit=limit,
    )
    return {"period": period, "start": current.start.isoformat(), "end": current.end.isoformat(), **result}


@get("/stewards/{steward_id:uuid}/scorecard")
async def steward_scorecard(
    steward_id: FromPath[uuid.UUID],
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
    month: Annotated[str | None, dates.month_query()] = None,
) -> dict:
    """``month`` as YYYY-MM (China time); the current month by default."""
    first = dates.month(month) or ctx.clock.now().astimezone(kpi.CHINA).date()
    return await scorecard.scorecard(db, actor, steward_id, first.year, first.month, ctx.clock.now())


reports_router = Router(path="/api", route_handlers=[kpi_orders, steward_scorecard], tags=["kpi"])
