"""Staff looking at photos: who may see which one.

A photo is visible to a staff member when at least one record referencing it is: a repair step of an
order they can see (``server.orders.access.can_see``), the owner's report-form photos of such an order
(its ``report_photos`` event), or a checkpoint visit or finding of a grid
they read (``server.walks.service.may_read``). The references come from ``photo_refs``, which the
database keeps (migration 0008); steps, visits and findings are append-only, so a reference never
outlives its record's photo list. A photo nobody visible references is answered as missing, whether
it exists or not: a technician cannot probe another order's photos by hash.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.scope import Actor
from server.orders.access import can_see
from server.orders.models import Order, OrderEvent, Step
from server.photos.models import photo_refs
from server.walks.models import CheckpointVisit, Finding
from server.walks.service import may_read

# Built once; run with {"sha": …}.
_ORDERS = select(Order).join(Step, Step.order_id == Order.id).where(Step.id.in_(photo_refs("steps")))
_REPORTED = (
    select(Order)
    .join(OrderEvent, OrderEvent.order_id == Order.id)
    .where(OrderEvent.id.in_(photo_refs("report_photos")))
)
_WALK_RECORDS = [
    select(model.estate_id, model.grid_id).where(model.id.in_(photo_refs(table))).distinct()
    for model, table in ((CheckpointVisit, "checkpoint_visits"), (Finding, "findings"))
]


async def may_view(session: AsyncSession, actor: Actor, sha: str) -> bool:
    for statement in (_ORDERS, _REPORTED):
        orders = (await session.scalars(statement, {"sha": sha})).all()
        if any(can_see(actor, order) for order in orders):
            return True
    for statement in _WALK_RECORDS:
        places = (await session.execute(statement, {"sha": sha})).all()
        if any(may_read(actor, estate_id, grid_id) for estate_id, grid_id in places):
            return True
    return False
