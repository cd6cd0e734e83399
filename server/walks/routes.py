"""HTTP for walk-abouts (thin: parse, call the services, render). Walks, visits and findings are
written by phones through sync (``walk.*`` mutations); this API sets up routes and checkpoints,
prints their labels and reads walks, coverage and the daily log."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Annotated, Literal

import anyio
from litestar import Response, Router, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.scope import Actor
from server.errors import NotFound
from server.progress import qr
from server.sites.models import Estate, Grid
from server.walks import coverage, labels, service, views
from server.walks.models import Checkpoint, Walk, WalkRoute
from server.walks.schemas import CheckpointIn, CheckpointPatch, RouteIn
from server.web import dates
from server.web.context import AppContext

Q = QueryParameter
PRIVATE = {"Cache-Control": "no-store"}
CODE = re.compile(r"^[A-Z2-9]{10}$")


def _csv(text: str, name: str) -> Response:
    return Response(
        "\ufeff" + text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"', **PRIVATE},
    )


@post("/routes", status_code=201)
async def create_route(
    data: JSONBody[RouteIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    route = await service.create_route(tx, actor, data.grid_id, data.name, now=ctx.clock.now())
    await tx.commit()
    [row] = [r for r in await views.list_routes(tx, actor, route.grid_id) if r["id"] == str(route.id)]
    return row


@get("/routes")
async def list_routes(
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    grid_id: Annotated[uuid.UUID | None, Q(name="grid_id")] = None,
) -> list[dict]:
    service.require_reader(actor)
    if grid_id is not None:
        await service.visible_grid(db, actor, grid_id)
    return await views.list_routes(db, actor, grid_id)


@get("/routes/{route_id:uuid}/labels", media_type="text/html")
async def route_labels(
    route_id: FromPath[uuid.UUID],
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> Response:
    service.require_reader(actor)
    route = await db.get(WalkRoute, route_id)
    if route is None or not actor.sees_grid(route.estate_id, route.grid_id):
        raise NotFound("route")
    [row] = [r for r in await views.list_routes(db, actor, route.grid_id) if r["id"] == str(route.id)]
    estate, grid = await db.get(Estate, route.estate_id), await db.get(Grid, route.grid_id)
    page = labels.label_sheet(
        base_url=ctx.settings.base_url,
        estate=estate.name,
        grid=grid.name,
        route=route.name,
        checkpoints=[c for c in row["checkpoints"] if c["active"]],
    )
    return Response(page, media_type="text/html", headers={**PRIVATE, "Content-Security-Policy": labels.LABEL_CSP})


@post("/checkpoints", status_code=201)
async def create_checkpoint(
    data: JSONBody[CheckpointIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    cp = await service.create_checkpoint(
        tx,
        actor,
        data.route_id,
        name=data.name,
        location=data.location,
        checklist_type=data.checklist_type,
        checklist=[{"key": i.key, "label": i.label} for i in data.checklist] if data.checklist else None,
        frequency=data.frequency.as_dict(),
        now=ctx.clock.now(),
    )
    await tx.commit()
    [row] = await views.checkpoints_by_id(tx, [cp.id])
    return row


@patch("/checkpoints/{checkpoint_id:uuid}")
async def update_checkpoint(
    checkpoint_id: FromPath[uuid.UUID],
    data: JSONBody[CheckpointPatch],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    cp = await service.update_checkpoint(tx, actor, checkpoint_id, data.changes(), now=ctx.clock.now())
    await tx.commit()
    [row] = await views.checkpoints_by_id(tx, [cp.id])
    return row


@get("/checkpoints/{checkpoint_id:uuid}/qr.png")
async def checkpoint_qr(
    checkpoint_id: FromPath[uuid.UUID],
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> Response:
    service.require_reader(actor)
    cp = await db.get(Checkpoint, checkpoint_id)
    if cp is None or not actor.sees_grid(cp.estate_id, cp.grid_id):
        raise NotFound("checkpoint")
    body = await anyio.to_thread.run_sync(qr.png, labels.checkpoint_url(ctx.settings.base_url, cp.code), cp.code)
    return Response(body, media_type="image/png", headers=PRIVATE)


@get("/")
async def list_walks(
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
    grid_id: Annotated[uuid.UUID | None, Q(name="grid_id")] = None,
    steward_id: Annotated[uuid.UUID | None, Q(name="steward_id")] = None,
    day: Annotated[date | None, dates.day_query("day")] = None,
) -> list[dict]:
    service.require_reader(actor)
    if grid_id is not None:
        await service.visible_grid(db, actor, grid_id)
    start = end = None
    if dates.day(day, "day") is not None:
        start, end = coverage.period_bounds("day", day)
    return await views.list_walks(db, actor, grid_id=grid_id, steward_id=steward_id, start=start, end=end)


@get("/{walk_id:uuid}")
async def get_walk(
    walk_id: FromPath[uuid.UUID], actor: NamedDependency[Actor], db: NamedDependency[AsyncSession]
) -> dict:
    service.require_reader(actor)
    walk = await db.get(Walk, walk_id)
    if walk is None or not actor.sees_grid(walk.estate_id, walk.grid_id):
        raise NotFound("walk")
    return await views.walk_detail(db, walk)


Period = Literal["day", "week"]


async def _coverage(actor, db, ctx, grid_id, steward_id, period, day) -> dict:
    return await coverage.coverage(
        db, actor, now=ctx.clock.now(), grid_id=grid_id, steward_id=steward_id, period=period, day=dates.day(day, "day")
    )


@get("/coverage")
async def coverage_json(
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
    grid_id: Annotated[uuid.UUID | None, Q(name="grid_id")] = None,
    steward_id: Annotated[uuid.UUID | None, Q(name="steward_id")] = None,
    period: Annotated[Period, Q(name="period")] = "day",
    day: Annotated[date | None, dates.day_query("day")] = None,
) -> dict:
    return await _coverage(actor, db, ctx, grid_id, steward_id, period, day)


@get("/coverage.csv", media_type="text/csv")
async def coverage_csv(
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
    grid_id: Annotated[uuid.UUID | None, Q(name="grid_id")] = None,
    steward_id: Annotated[uuid.UUID | None, Q(name="steward_id")] = None,
    period: Annotated[Period, Q(name="period")] = "day",
    day: Annotated[date | None, dates.day_query("day")] = None,
) -> Response:
    report = await _coverage(actor, db, ctx, grid_id, steward_id, period, day)
    return _csv(coverage.coverage_csv(report), f"coverage-{period}-{report['day']}")


@get("/daily-log")
async def daily_log(
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
    steward_id: Annotated[uuid.UUID | None, Q(name="steward_id")] = None,
    day: Annotated[date | None, dates.day_query("day")] = None,
) -> dict:
    return await coverage.daily_log(db, actor, now=ctx.clock.now(), steward_id=steward_id, day=dates.day(day, "day"))


@get("/daily-log.csv", media_type="text/csv")
async def daily_log_csv(
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
    steward_id: Annotated[uuid.UUID | None, Q(name="steward_id")] = None,
    day: Annotated[date | None, dates.day_query("day")] = None,
) -> Response:
    log = await coverage.daily_log(db, actor, now=ctx.clock.now(), steward_id=steward_id, day=dates.day(day, "day"))
    return _csv(coverage.daily_log_csv(log), f"daily-log-{log['day']}")


@get("/c/{code:str}", include_in_schema=False)
async def checkpoint_link(code: FromPath[str]) -> Redirect:
    """A label's QR opens the app at the checkpoint. Public and data-free (labels hang in public):
    the code is not even looked up, so the answer says nothing about whether it exists."""
    if not CODE.match(code):
        raise NotFound("checkpoint")
    return Redirect(f"/app/#/walks/checkpoint/{code}", status_code=302, headers=PRIVATE)


walks_router = Router(
    path="/api/walks",
    route_handlers=[
        create_route,
        list_routes,
        route_labels,
        create_checkpoint,
        update_checkpoint,
        checkpoint_qr,
        list_walks,
        get_walk,
        coverage_json,
        coverage_csv,
        daily_log,
        daily_log_csv,
    ],
    tags=["walks"],
)
