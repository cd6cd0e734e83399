"""Walk intents a phone may push (PROTOCOL.md §4). Each calls the same service as the HTTP API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from server.orders.lifecycle import Origin
from server.orders.models import Category
from server.orders.mutations import GpsArgs
from server.syncing.mutations import MutationContext, registry
from server.walks import service
from sync.registry import Args

Sha = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
Photos = Annotated[list[Sha], msgspec.Meta(max_length=9)]
RaisableKind = Literal["repair", "complaint", "convenience", "emergency", "inquiry"]


class StartArgs(Args):
    id: uuid.UUID
    grid_id: uuid.UUID
    started_at: datetime


class AnswerArgs(Args):
    item: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    ok: bool
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""
    photos: Photos = []


class VisitArgs(Args):
    id: uuid.UUID
    walk_id: uuid.UUID
    checkpoint_id: uuid.UUID
    method: Literal["scan", "manual"]
    visited_at: datetime
    answers: Annotated[list[AnswerArgs], msgspec.Meta(max_length=30)]


class LocationArgs(Args):
    building_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    household_id: uuid.UUID | None = None
    text: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    gps: GpsArgs | None = None


class FindingArgs(Args):
    id: uuid.UUID
    grid_id: uuid.UUID
    category: Category
    note: Annotated[str, msgspec.Meta(max_length=2000)]
    captured_at: datetime
    photos: Photos = []
    walk_id: uuid.UUID | None = None
    location: LocationArgs | None = None


class ToOrderArgs(Args):
    finding_id: uuid.UUID
    order_id: uuid.UUID
    kind: RaisableKind
    category: Category
    household_id: uuid.UUID | None = None
    description: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class EndArgs(Args):
    walk_id: uuid.UUID
    ended_at: datetime


def _origin(ctx: MutationContext) -> Origin:
    return Origin(source="sync", client_time=ctx.client_time, clock_offset_ms=ctx.clock_offset_ms)


def _location(loc: LocationArgs | None) -> dict | None:
    if loc is None:
        return None
    out = {k: str(v) for k in ("building_id", "unit_id", "household_id") if (v := getattr(loc, k)) is not None}
    if loc.text:
        out["text"] = loc.text
    if loc.gps is not None:
        out["gps"] = {"lat": loc.gps.lat, "lng": loc.gps.lng, "accuracy_m": loc.gps.accuracy_m}
    return out or None


@registry.mutation("walk.start", StartArgs)
async def start(ctx: MutationContext, args: StartArgs) -> None:
    await service.start_walk(
        ctx.session, ctx.actor, args.id, args.grid_id, args.started_at, now=ctx.now, origin=_origin(ctx)
    )


@registry.mutation("walk.checkpoint.visit", VisitArgs)
async def visit(ctx: MutationContext, args: VisitArgs) -> None:
    await service.visit_checkpoint(
        ctx.session,
        ctx.actor,
        visit_id=args.id,
        walk_id=args.walk_id,
        checkpoint_id=args.checkpoint_id,
        method=args.method,
        visited_at=args.visited_at,
        answers=[service.Answer(a.item, a.ok, a.note, list(a.photos)) for a in args.answers],
        now=ctx.now,
        origin=_origin(ctx),
    )


@registry.mutation("walk.finding.add", FindingArgs)
async def add_finding(ctx: MutationContext, args: FindingArgs) -> None:
    await service.add_finding(
        ctx.session,
        ctx.actor,
        finding_id=args.id,
        grid_id=args.grid_id,
        category=args.category,
        note=args.note,
        photos=list(args.photos),
        captured_at=args.captured_at,
        walk_id=args.walk_id,
        location=_location(args.location),
        now=ctx.now,
        origin=_origin(ctx),
    )


@registry.mutation("walk.finding.to_order", ToOrderArgs)
async def to_order(ctx: MutationContext, args: ToOrderArgs) -> None:
    from server.orders.models import Kind

    await service.finding_to_order(
        ctx.session,
        ctx.actor,
        args.finding_id,
        order_id=args.order_id,
        kind=Kind(args.kind),
        category=args.category,
        household_id=args.household_id,
        description=args.description,
        now=ctx.now,
        origin=_origin(ctx),
    )


@registry.mutation("walk.end", EndArgs)
async def end(ctx: MutationContext, args: EndArgs) -> None:
    await service.end_walk(ctx.session, ctx.actor, args.walk_id, args.ended_at, now=ctx.now, origin=_origin(ctx))
