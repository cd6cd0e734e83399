"""Enqueue notifications. The row is the in-app feed entry and the outbox entry for the senders."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from server.notifications.models import Notification
from server.syncing import changelog

# Other channels (Web Push deliveries, webhooks) register a hook that runs in the same transaction.
ENQUEUE_HOOKS: list[Callable[[AsyncSession, Notification], Awaitable[None]]] = []


async def notify(
    session: AsyncSession,
    *,
    staff_id: uuid.UUID,
    kind: str,
    title: str,
    body: str,
    now: datetime,
    order_id: uuid.UUID | None = None,
    urgency: str = "normal",
    topic: str | None = None,
    data: dict | None = None,
) -> Notification:
    note = Notification(
        staff_id=staff_id,
        kind=kind,
        title=title[:100],
        body=body,
        order_id=order_id,
        urgency=urgency,
        topic=topic,
        data=data,
        created_at=now,
        read_at=None,
    )
    session.add(note)
    await session.flush()
    await changelog.record(session, "notifications", [note.id], [changelog.staff_audience(staff_id)])
    for hook in ENQUEUE_HOOKS:
        await hook(session, note)
    return note
