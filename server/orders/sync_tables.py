"""The order records phones replicate (see server/syncing/tables.py)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.scope import Actor
from server.orders.access import can_see
from server.orders.models import Order
from server.orders.views import callbacks_by_id, events_by_id, orders_by_id, ratings_by_id, steps_by_id

SYNC_TABLES = {
    "orders": orders_by_id,
    "order_events": events_by_id,
    "steps": steps_by_id,
    "ratings": ratings_by_id,
    "callbacks": callbacks_by_id,
}


async def visible(session: AsyncSession, actor: Actor, table: str, records: list[dict]) -> set[str]:
    """An order record, or a record of an order, is served only while the actor may see that order."""
    key = "id" if table == "orders" else "order_id"
    order_ids = {uuid.UUID(k) for k in {r[key] for r in records}}  # a page holds many steps of few orders
    orders = (await session.scalars(select(Order).where(Order.id.in_(order_ids)))).all()
    seen = {str(o.id) for o in orders if can_see(actor, o)}
    return {r["id"] for r in records if r[key] in seen}
