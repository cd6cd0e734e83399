"""The live dispatch board of one estate: what waits, who works on what, what is late.

Columns by workflow state (each open order is in exactly one): ``unassigned`` (new, or dispatched
to a department queue), ``in_progress`` grouped by assignee (dispatched to a person, accepted,
en route, on site; every active technician of the estate has a lane, idle ones too, so the desk
sees who is free), ``paused``. Two cross-cutting columns list the orders whose earliest deadline
has passed (``overdue``, red) or falls within 30 minutes (``due_soon``); these include completed
orders whose callback (回访) is due, which have no workflow column.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts import guard
from server.accounts.models import Role, Staff
from server.accounts.scope import ESTATE_STAFF, Actor
from server.board.summaries import DUE_SOON, FINAL, summaries
from server.orders.models import Order, Status

WORKING = (Status.dispatched, Status.accepted, Status.en_route, Status.on_site)
OPEN = (Status.new, *WORKING, Status.paused)
MAX_ORDERS = 5000  # an estate's open work; far above a real shift, a guard against a runaway query


async def board_estate(session: AsyncSession, actor: Actor, estate_id: uuid.UUID | None) -> uuid.UUID:
    """The estate whose board the actor asks for (estate staff: their own; admin: must name one)."""
    actor.require_role(*ESTATE_STAFF)
    return await guard.estate_asked(session, actor, estate_id)


async def board(
    session: AsyncSession, estate_id: uuid.UUID, now: datetime, *, department: str | None = None, limit: int = 300
) -> dict[str, Any]:
    where = [
        Order.estate_id == estate_id,
        Order.status.not_in(FINAL),
        or_(Order.status.in_(OPEN), Order.due_at.is_not(None)),
    ]
    if department is not None:
        where.append(Order.department == department)
    orders = list(
        (
            await session.scalars(
                select(Order)
                .where(*where)
                .order_by(Order.due_at.is_(None), Order.due_at, Order.created_at)
                .limit(MAX_ORDERS)
            )
        ).all()
    )
    cards = dict(zip((o.id for o in orders), await summaries(session, orders, now), strict=True))

    unassigned, paused, overdue, due_soon = [], [], [], []
    lanes: dict[uuid.UUID, dict[str, Any]] = {}
    technicians = await session.execute(
        select(Staff.id, Staff.name)
        .where(
            Staff.estate_id == estate_id,
            Staff.role == Role.technician,
            Staff.active.is_(True),
            *([Staff.department == department] if department else []),
        )
        .order_by(Staff.name)
    )
    for staff_id, name in technicians:
        lanes[staff_id] = {"assignee_id": str(staff_id), "assignee_name": name, "orders": []}
    for o in orders:
        card = cards[o.id]
        if o.status is Status.new or (o.status is Status.dispatched and o.assignee_id is None):
            unassigned.append(card)
        elif o.status in WORKING and o.assignee_id is not None:
            lane = lanes.setdefault(
                o.assignee_id, {"assignee_id": str(o.assignee_id), "assignee_name": card["assignee_name"], "orders": []}
            )
            lane["orders"].append(card)
        elif o.status is Status.paused:
            paused.append(card)
        if card["sla"] == "overdue":
            overdue.append(card)
        elif card["sla"] == "due_soon":
            due_soon.append(card)
    in_progress = sorted(lanes.values(), key=lambda lane: (-len(lane["orders"]), lane["assignee_name"]))
    columns = {
        "unassigned": unassigned[:limit],
        "in_progress": in_progress,
        "paused": paused[:limit],
        "overdue": overdue[:limit],
        "due_soon": due_soon[:limit],
    }
    counts = {
        "unassigned": len(unassigned),
        "in_progress": sum(len(lane["orders"]) for lane in in_progress),
        "paused": len(paused),
        "overdue": len(overdue),
        "due_soon": len(due_soon),
    }
    return {
        "estate_id": str(estate_id),
        "now": now.isoformat(),
        "due_soon_minutes": int(DUE_SOON.total_seconds() // 60),
        "columns": columns,
        "counts": counts,
    }


def stream_filter(estate_id: uuid.UUID):
    """Which bus messages a board stream forwards (and in what shape): this estate's orders, resyncs
    (the bus also carries the device streams' messages, which are not the board's business)."""
    estate = str(estate_id)

    def keep(message: dict[str, Any]) -> dict[str, Any] | None:
        if message.get("type") == "resync":
            return message
        if message.get("type") != "order":
            return None
        if message.get("estate_id") != estate:
            return None
        return {k: message.get(k) for k in ("type", "id", "status", "assignee_id", "version")}

    return keep
