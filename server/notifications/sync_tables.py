"""The in-app notification feed travels with every pull."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.notifications.models import Notification


def notification_dict(n: Notification) -> dict:
    return {
        "id": str(n.id),
        "kind": n.kind,
        "title": n.title,
        "body": n.body,
        "data": n.data or {},
        "order_id": str(n.order_id) if n.order_id else None,
        "urgency": n.urgency,
        "created_at": n.created_at.isoformat(),
        "read_at": n.read_at.isoformat() if n.read_at else None,
    }


async def notifications_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> list[dict]:
    rows = (await session.scalars(select(Notification).where(Notification.id.in_(ids)))).all()
    return [notification_dict(n) for n in rows]


SYNC_TABLES = {"notifications": notifications_by_id}


async def visible(session: AsyncSession, actor, table: str, records: list[dict]) -> set[str]:
    """Notifications are only ever logged to their recipient's own audience."""
    ids = [uuid.UUID(r["id"]) for r in records]
    mine = (
        await session.scalars(
            select(Notification.id).where(Notification.id.in_(ids), Notification.staff_id == actor.staff_id)
        )
    ).all()
    return {str(i) for i in mine}
