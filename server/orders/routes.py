"""Staff HTTP API for work orders (thin: parse, authorise, call, render)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import Role
from server.accounts.scope import Actor
from server.orders import feedback, lifecycle, steps, views
from server.orders.lifecycle import NewOrder, Origin
from server.orders.models import Status
from server.orders.schemas import ActionIn, CallbackIn, EtaIn, NoteIn, OrderCreateIn, RatingIn, StepIn
from server.web.context import AppContext

CREATORS = (Role.front_desk, Role.team_lead, Role.supervisor, Role.admin, Role.steward)


def _origin(request: Request, client_time=None) -> Origin:
    return Origin(source="http", client_time=client_time, ip=request.client.host if request.client else None)


async def _detail(session: AsyncSession, actor: Actor, order_id: uuid.UUID) -> dict[str, Any]:
    order = await lifecycle.visible_order(session, actor, order_id)
    [row] = await views.orders_by_id(session, [order.id])
    if actor.role is not Role.technician:
        row["internal_note"] = order.internal_note
    return {
        "order": row,
        "timeline": await views.timeline(session, order),
        "allowed_actions": lifecycle.allowed_actions(actor, order),
    }


@post("/")
async def create_order(
    request: Request,
    data: JSONBody[OrderCreateIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    actor.require_role(*CREATORS)
    new = NewOrder(**{f: getattr(data, f) for f in data.__struct_fields__})
    order = await lifecycle.create_order(tx, actor, new, now=ctx.clock.now(), origin=_origin(request))
    await tx.commit()
    return await _detail(tx, actor, order.id)


@get("/")
async def list_orders(
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    status: Annotated[list[Status] | None, QueryParameter(name="status")] = None,
    open_only: Annotated[bool, QueryParameter(name="open")] = False,
    assignee_id: Annotated[uuid.UUID | None, QueryParameter(name="assignee_id")] = None,
    household_id: Annotated[uuid.UUID | None, QueryParameter(name="household_id")] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
) -> list[dict]:
    return await views.list_orders(
        db, actor, status=status, assignee_id=assignee_id, household_id=household_id, limit=limit, open_only=open_only
    )


@get("/{order_id:uuid}")
async def get_order(
    order_id: FromPath[uuid.UUID], actor: NamedDependency[Actor], db: NamedDependency[AsyncSession]
) -> dict:
    return await _detail(db, actor, order_id)


@post("/{order_id:uuid}/actions/{action:str}", status_code=200)
async def fire_action(
    request: Request,
    order_id: FromPath[uuid.UUID],
    action: FromPath[str],
    data: JSONBody[ActionIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    payload = {k: v for k in ("assignee_id", "department", "reason", "eta") if (v := getattr(data, k)) is not None}
    await lifecycle.transition(
        tx,
        actor,
        order_id,
        action,
        now=ctx.clock.now(),
        note=data.note,
        data=payload,
        origin=_origin(request, data.client_time),
    )
    await tx.commit()
    return await _detail(tx, actor, order_id)


@post("/{order_id:uuid}/steps", status_code=201)
async def add_step(
    request: Request,
    order_id: FromPath[uuid.UUID],
    data: JSONBody[StepIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    new = steps.NewStep(
        note=data.note,
        captured_at=data.captured_at,
        photos=list(data.photos),
        id=data.id,
        materials=[{"name": m.name, "quantity": m.quantity, "unit": m.unit} for m in data.materials],
        gps={"lat": data.gps.lat, "lng": data.gps.lng, "accuracy_m": data.gps.accuracy_m} if data.gps else None,
    )
    step = await steps.add_step(
        tx, actor, order_id, new, now=ctx.clock.now(), origin=_origin(request, data.captured_at)
    )
    await tx.commit()
    [row] = await views.steps_by_id(tx, [step.id])
    return row


@post("/{order_id:uuid}/eta", status_code=200)
async def set_eta(
    request: Request,
    order_id: FromPath[uuid.UUID],
    data: JSONBody[EtaIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    await lifecycle.set_eta(tx, actor, order_id, data.eta, now=ctx.clock.now(), origin=_origin(request))
    await tx.commit()
    return await _detail(tx, actor, order_id)


@post("/{order_id:uuid}/note", status_code=200)
async def set_note(
    order_id: FromPath[uuid.UUID],
    data: JSONBody[NoteIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    await lifecycle.set_internal_note(tx, actor, order_id, data.internal_note, now=ctx.clock.now())
    await tx.commit()
    return await _detail(tx, actor, order_id)


@post("/{order_id:uuid}/rating", status_code=201)
async def staff_rating(
    order_id: FromPath[uuid.UUID],
    data: JSONBody[RatingIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    """A rating the owner gave by phone, entered by the desk (owners rate on the progress page)."""
    actor.require_role(Role.front_desk, Role.team_lead, Role.supervisor, Role.steward, Role.admin)
    await lifecycle.visible_order(tx, actor, order_id)
    rating = await feedback.rate(tx, order_id, data.level, data.comment, now=ctx.clock.now(), source="staff")
    await tx.commit()
    return views.rating_dict(rating)


@post("/{order_id:uuid}/callbacks", status_code=201)
async def add_callback(
    order_id: FromPath[uuid.UUID],
    data: JSONBody[CallbackIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    cb = await feedback.record_callback(
        tx, actor, order_id, data.result, data.note, now=ctx.clock.now(), retry_at=data.retry_at
    )
    await tx.commit()
    return {"id": str(cb.id), "result": cb.result}


@get("/callbacks")
async def due_callbacks(
    actor: NamedDependency[Actor], db: NamedDependency[AsyncSession], ctx: NamedDependency[AppContext]
) -> list[dict]:
    """待回访 within the caller's scope, earliest due first (server/orders/feedback.py)."""
    actor.require_role(Role.steward, Role.front_desk, Role.team_lead, Role.supervisor, Role.admin)
    return await feedback.due_callbacks(db, actor, now=ctx.clock.now())


@get("/{order_id:uuid}/evidence")
async def evidence_report(
    order_id: FromPath[uuid.UUID],
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    from server.orders import evidence

    order = await lifecycle.visible_order(db, actor, order_id)
    photo_ok = ctx.services.get("photo_ok", lambda sha: None)
    report = await evidence.verify(db, order, photo_ok)
    return {
        "order_id": str(order.id),
        "intact": report.intact,
        "records": report.records,
        "first_broken": report.first_broken,
        "photos_checked": report.photos_checked,
        "photos_pending": report.photos_pending,
    }


orders_router = Router(
    path="/api/orders",
    route_handlers=[
        create_order,
        list_orders,
        get_order,
        fire_action,
        add_step,
        set_eta,
        set_note,
        staff_rating,
        add_callback,
        due_callbacks,
        evidence_report,
    ],
    tags=["orders"],
)
