"""Repair steps (处理步骤): ordered, append-only, with materials and photo references."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.scope import Actor
from server.errors import Conflict, DomainError, Forbidden
from server.ids import uuid7
from server.orders import evidence, sla
from server.orders.lifecycle import HTTP_ORIGIN, Origin, publish, visible_order
from server.orders.models import Step
from server.orders.transitions import STEP_STATUSES

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_PHOTOS = 9


@dataclass
class NewStep:
    note: str
    captured_at: datetime
    materials: list[dict[str, Any]] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)
    gps: dict[str, Any] | None = None
    id: uuid.UUID | None = None


def _check(new: NewStep) -> None:
    if not new.note.strip() and not new.photos:
        raise DomainError("empty_step", "a step needs a note or a photo", status=422)
    if len(new.photos) > MAX_PHOTOS:
        raise DomainError("too_many_photos", f"a step holds at most {MAX_PHOTOS} photos", status=422)
    for sha in new.photos:
        if not SHA256.match(sha):
            raise DomainError("invalid_photo_ref", f"not a sha256: {sha!r}", status=422)
    for m in new.materials:
        if not str(m.get("name", "")).strip() or not isinstance(m.get("quantity"), int | float) or m["quantity"] <= 0:
            raise DomainError("invalid_material", "each material needs a name and a positive quantity", status=422)


async def add_step(
    session: AsyncSession,
    actor: Actor,
    order_id: uuid.UUID,
    new: NewStep,
    *,
    now: datetime,
    origin: Origin = HTTP_ORIGIN,
) -> Step:
    order = await visible_order(session, actor, order_id, lock=True)
    if order.assignee_id != actor.staff_id:
        raise Forbidden("only the assigned person records steps", code="not_assignee")
    if order.status not in STEP_STATUSES:
        raise Conflict(
            "illegal_transition",
            f"cannot add a step to an order that is {order.status.value}",
            details={"status": order.status.value, "action": "step.add"},
        )
    _check(new)
    if new.id is not None and await session.get(Step, new.id) is not None:
        raise Conflict("duplicate_id", "a step with this id exists")
    position = (await session.scalar(select(func.max(Step.position)).where(Step.order_id == order.id)) or 0) + 1
    step = Step(
        id=new.id or uuid7(),
        order_id=order.id,
        position=position,
        note=new.note.strip(),
        materials=new.materials,
        photos=list(dict.fromkeys(new.photos)),
        gps=new.gps,
        author_id=actor.staff_id,
        captured_at=new.captured_at,
        received_at=now,
        clock_offset_ms=origin.clock_offset_ms,
        skew_flag=origin.skewed(),
    )
    evidence.append(order, step)
    session.add(step)
    order.last_update_at = now
    order.updated_at = now
    sla.on_progress(order, await sla.policy_for(session, order.estate_id, order.kind), now)
    await session.flush()
    await publish(session, order, ("steps", [step.id]))
    return step
