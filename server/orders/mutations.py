"""Order intents a phone may push (PROTOCOL.md §4). Each calls the same service as the HTTP API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from server.orders import feedback, lifecycle, steps
from server.orders.lifecycle import Origin
from server.syncing.mutations import MutationContext, batched, registry
from sync.registry import Args


class GpsArgs(Args):
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lng: Annotated[float, msgspec.Meta(ge=-180, le=180)]
    accuracy_m: Annotated[float, msgspec.Meta(ge=0)] | None = None


class OrderRef(Args):
    order_id: uuid.UUID


class DepartArgs(OrderRef):
    eta: datetime | None = None


class ArriveArgs(OrderRef):
    gps: GpsArgs | None = None


class PauseArgs(OrderRef):
    reason: Literal["waiting_owner", "parts_on_order", "other"]
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""


class CompleteArgs(OrderRef):
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class CallbackArgs(OrderRef):
    result: Literal["reached_satisfied", "reached_unsatisfied", "unreachable"]
    note: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    retry_at: datetime | None = None  # 未联系上: when to call again


class EtaArgs(OrderRef):
    eta: datetime


class MaterialArgs(Args):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    quantity: Annotated[float, msgspec.Meta(gt=0, le=100000)]
    unit: Annotated[str, msgspec.Meta(max_length=10)] = "个"


class StepArgs(Args):
    id: uuid.UUID
    order_id: uuid.UUID
    note: Annotated[str, msgspec.Meta(max_length=2000)]
    captured_at: datetime
    materials: Annotated[list[MaterialArgs], msgspec.Meta(max_length=30)] = []
    photos: Annotated[list[Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]], msgspec.Meta(max_length=9)] = []
    gps: GpsArgs | None = None


def _origin(ctx: MutationContext) -> Origin:
    return Origin(source="sync", client_time=ctx.client_time, clock_offset_ms=ctx.clock_offset_ms)


def _gps(g: GpsArgs | None) -> dict | None:
    return None if g is None else {"lat": g.lat, "lng": g.lng, "accuracy_m": g.accuracy_m}


async def _fire(ctx: MutationContext, order_id: uuid.UUID, action: str, note: str = "", **data) -> None:
    await lifecycle.transition(
        ctx.session,
        ctx.actor,
        order_id,
        action,
        now=ctx.now,
        origin=_origin(ctx),
        note=note,
        data={k: v for k, v in data.items() if v is not None},
    )


@registry.mutation("order.accept", OrderRef)
async def accept(ctx: MutationContext, args: OrderRef) -> None:
    await _fire(ctx, args.order_id, "accept")


@registry.mutation("order.take", OrderRef)
async def take(ctx: MutationContext, args: OrderRef) -> None:
    await _fire(ctx, args.order_id, "take")


@registry.mutation("order.depart", DepartArgs)
async def depart(ctx: MutationContext, args: DepartArgs) -> None:
    await _fire(ctx, args.order_id, "depart", eta=args.eta)


@registry.mutation("order.arrive", ArriveArgs)
async def arrive(ctx: MutationContext, args: ArriveArgs) -> None:
    await _fire(ctx, args.order_id, "arrive", gps=_gps(args.gps))


@registry.mutation("order.pause", PauseArgs)
async def pause(ctx: MutationContext, args: PauseArgs) -> None:
    await _fire(ctx, args.order_id, "pause", note=args.note, reason=args.reason)


@registry.mutation("order.resume", OrderRef)
async def resume(ctx: MutationContext, args: OrderRef) -> None:
    await _fire(ctx, args.order_id, "resume")


@registry.mutation("order.complete", CompleteArgs)
async def complete(ctx: MutationContext, args: CompleteArgs) -> None:
    await _fire(ctx, args.order_id, "complete", note=args.note)


@registry.mutation("order.callback", CallbackArgs)
async def callback(ctx: MutationContext, args: CallbackArgs) -> None:
    await feedback.record_callback(
        ctx.session,
        ctx.actor,
        args.order_id,
        args.result,
        args.note,
        now=ctx.now,
        origin=_origin(ctx),
        retry_at=args.retry_at,
    )


@registry.mutation("order.set_eta", EtaArgs)
async def set_eta(ctx: MutationContext, args: EtaArgs) -> None:
    await lifecycle.set_eta(ctx.session, ctx.actor, args.order_id, args.eta, now=ctx.now, origin=_origin(ctx))


async def prepare_steps(ctx: MutationContext, batch: list[StepArgs]) -> None:
    await steps.prepare_steps(ctx.session, ctx.batch, {a.order_id for a in batch}, {a.id for a in batch})


@registry.mutation("step.add", StepArgs, prepare=prepare_steps)
@batched
async def add_step(ctx: MutationContext, args: StepArgs) -> None:
    new = steps.NewStep(
        id=args.id,
        note=args.note,
        captured_at=args.captured_at,
        photos=list(args.photos),
        gps=_gps(args.gps),
        materials=[{"name": m.name, "quantity": m.quantity, "unit": m.unit} for m in args.materials],
    )
    await steps.add_step_batched(
        ctx.session, ctx.batch, ctx.actor, args.order_id, new, now=ctx.now, origin=_origin(ctx)
    )
